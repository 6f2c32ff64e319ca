-- Two-factor sign-in (TOTP, RFC 6238) for accounts that enrol: the shared secret, when it
-- was confirmed, and the last time step used to log in, so a code is good for one log-in
-- only. Recovery codes are stored as SHA-256 hashes (each is 50 random bits: a slow hash
-- adds nothing) and are used up once.
ALTER TABLE users
    ADD COLUMN totp_secret text,
    ADD COLUMN totp_enabled_at timestamptz,
    ADD COLUMN totp_last_step bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT users_totp_check CHECK ((totp_enabled_at IS NULL) = (totp_secret IS NULL));

CREATE TABLE recovery_codes (
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    made_at   timestamptz NOT NULL DEFAULT now(),
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);
