-- Fundraisers sign themselves up and reset forgotten passwords by email; every email goes
-- through a durable outbox so it is sent only once the change that caused it has committed.

-- The name a fundraiser signs up with; trustees and admins added on the command line have none.
ALTER TABLE users ADD COLUMN display_name text NOT NULL DEFAULT ''
    CHECK (char_length(display_name) <= 60);

-- Password reset links. Only the SHA-256 of the token is kept, so a copy of this table
-- cannot be used to reset anyone's password. A link works once, for an hour.
CREATE TABLE password_resets (
    token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX password_resets_user ON password_resets (user_id);
CREATE INDEX password_resets_expires ON password_resets (expires_at);

-- The outbox. A row is queued in the transaction that causes the email; the mail worker
-- claims due rows with FOR UPDATE SKIP LOCKED and a lease (claimed_until), so a worker
-- that dies mid-send leaves the row to be retried once the lease ends. A row is never
-- deleted before it is sent (or has failed for good); sent rows are pruned after 30 days.
CREATE TABLE mail_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    to_address      text NOT NULL CHECK (to_address LIKE '%_@_%' AND to_address !~ '[\r\n]'),
    subject         text NOT NULL CHECK (subject !~ '[\r\n]'),
    -- Plain text. Blanked once sent over SMTP, so reset links do not linger here.
    body            text NOT NULL,
    status          text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    -- Where a sent row went: 'smtp', or 'local outbox' when no SMTP_URL is set.
    delivered_via   text NOT NULL DEFAULT '',
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_until   timestamptz,
    claim           text NOT NULL DEFAULT '',
    sent_at         timestamptz
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX mail_outbox_sent ON mail_outbox (sent_at) WHERE status = 'sent';
