-- A donor manages her monthly gift without an account, through an emailed link.
--
-- manage_links: one row per link sent. Only the SHA-256 of the link's 32 random bytes is
-- kept, so the table cannot be read back into working links; a link works for one purpose
-- (managing one monthly gift, the donation) until expires_at, and no longer once revoked
-- (the gift ended, or the donor's data was erased).
CREATE TABLE manage_links (
    token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    purpose     text NOT NULL DEFAULT 'monthly_gift' CHECK (purpose = 'monthly_gift'),
    donation_id uuid NOT NULL REFERENCES donations (id),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL CHECK (expires_at > created_at),
    revoked_at  timestamptz
);
CREATE INDEX manage_links_donation ON manage_links (donation_id);

-- manage_requests: each change a donor (through a link) or an admin asked for, from the
-- request to Stripe's confirmation. sent_at: Stripe accepted the call; confirmed_at: an
-- event from Stripe shows the change made (only then is it shown as done); failed_at: the
-- call was given up. At most one change other than a card update is open per gift, so
-- two changes never race at Stripe.
CREATE TABLE manage_requests (
    id                bigserial PRIMARY KEY,
    donation_id       uuid NOT NULL REFERENCES donations (id),
    subscription_id   text NOT NULL CHECK (subscription_id <> ''),
    kind              text NOT NULL CHECK (kind IN ('cancel', 'pause', 'resume', 'amount', 'card')),
    actor             text NOT NULL CHECK (actor IN ('donor', 'admin')),
    actor_user_id     bigint REFERENCES users (id),
    reason            text NOT NULL DEFAULT '' CHECK (char_length(reason) <= 500),
    -- The site's public address when asked, for the links in the confirmation email.
    site              text NOT NULL DEFAULT '',
    old_amount        numeric(12,2),
    new_amount        numeric(12,2) CHECK (new_amount > 0),
    resumes_at        timestamptz,
    setup_session_id  text UNIQUE,
    payment_method_id text NOT NULL DEFAULT '',
    requested_at      timestamptz NOT NULL,
    attempts          integer NOT NULL DEFAULT 0,
    last_error        text NOT NULL DEFAULT '',
    sent_at           timestamptz,
    confirmed_at      timestamptz,
    failed_at         timestamptz,
    CHECK (kind <> 'amount' OR new_amount IS NOT NULL),
    CHECK (kind <> 'pause' OR resumes_at IS NOT NULL)
);
CREATE INDEX manage_requests_donation ON manage_requests (donation_id, id);
CREATE UNIQUE INDEX manage_requests_one_open ON manage_requests (donation_id)
    WHERE confirmed_at IS NULL AND failed_at IS NULL AND kind <> 'card';

-- What Stripe last confirmed about a monthly gift: paused until when, and who ended it
-- (the donor, an admin, a dispute, failed payments, or someone at Stripe).
ALTER TABLE donations
    ADD COLUMN paused_until timestamptz,
    ADD COLUMN ended_by text CHECK (ended_by IN ('donor', 'admin', 'dispute', 'payment_failed', 'stripe'));

-- Requests for manage links by email are limited like reset requests.
ALTER TABLE login_attempts DROP CONSTRAINT login_attempts_kind_check;
ALTER TABLE login_attempts ADD CONSTRAINT login_attempts_kind_check CHECK (kind IN ('login', 'signup', 'reset', 'manage'));
