-- Accounts: trustees and admins now, fundraisers later; browser sessions kept in the
-- database so any instance can serve any request; an append-only audit log; failed log-ins
-- for a rate limit shared by every instance.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Stored lower-case and trimmed, so one address is one account however it is typed.
    email         text NOT NULL UNIQUE CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
    -- argon2id in PHC form: $argon2id$v=19$m=...,t=...,p=...$salt$hash
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('fundraiser', 'trustee', 'admin')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled      boolean NOT NULL DEFAULT false,
    -- Every session records the epoch it began in; "log out everywhere" bumps it, and a
    -- session from an older epoch is refused.
    session_epoch bigint NOT NULL DEFAULT 0
);

-- The table github.com/alexedwards/scs/pgxstore reads and writes.
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- Who did what, for trustees. Rows are never changed or removed.
CREATE TABLE audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    actor_user_id bigint REFERENCES users (id),
    actor_email   text NOT NULL DEFAULT '',
    action        text NOT NULL,
    detail        text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: record a new entry instead';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
-- TRUNCATE skips row triggers; refuse it too.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- Failed log-ins (and ones being checked) in the last 15 minutes, per email and per client
-- address. Instances keep no state, so the limit lives here.
CREATE TABLE login_attempts (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email  text NOT NULL,
    client text NOT NULL DEFAULT '',
    at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email ON login_attempts (email, at);
CREATE INDEX login_attempts_client ON login_attempts (client, at);
