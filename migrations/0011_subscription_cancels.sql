-- A disputed monthly gift must not go on charging the card. Applying the dispute marks the
-- gift cancelled here and queues its subscription in this table, in the same transaction;
-- a worker then cancels it at Stripe, retrying with backoff until Stripe confirms, so a
-- crash or an outage between the two cannot leave the donor being charged every month.
CREATE TABLE subscription_cancels (
    subscription_id text PRIMARY KEY CHECK (subscription_id <> ''),
    donation_id     uuid NOT NULL REFERENCES donations (id),
    -- Why, in words a trustee reads and Stripe keeps as the cancellation comment.
    reason          text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 500),
    queued_at       timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- Set once Stripe has cancelled it (or reports it already cancelled).
    done_at         timestamptz
);
CREATE INDEX subscription_cancels_due ON subscription_cancels (next_attempt_at) WHERE done_at IS NULL;
