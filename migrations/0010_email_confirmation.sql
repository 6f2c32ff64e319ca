-- Fundraisers who sign themselves up confirm their email address before their first log-in,
-- so the sign-up form can answer the same whether or not an address has an account.

-- NULL until the address is confirmed, by the emailed link or by a password reset link
-- (either proves the mailbox). Every account made before now, and every account made on
-- the command line, counts as confirmed.
ALTER TABLE users ADD COLUMN email_confirmed_at timestamptz;
UPDATE users SET email_confirmed_at = now();

-- Confirmation links. Only the SHA-256 of the token is kept, as for password_resets. Each
-- link carries the password hash and name of the sign-up (or log-in) that asked for it, and
-- confirming applies them: whoever signed up first with someone else's address cannot have
-- the owner confirm an account whose password the first one knows. A link works once, for
-- 48 hours; confirming uses up every link of the account.
CREATE TABLE email_confirmations (
    token_hash    bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash text NOT NULL,
    display_name  text NOT NULL CHECK (char_length(display_name) <= 60),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz
);
CREATE INDEX email_confirmations_user ON email_confirmations (user_id);
CREATE INDEX email_confirmations_expires ON email_confirmations (expires_at);
