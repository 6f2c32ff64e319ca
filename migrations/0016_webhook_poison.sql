-- A stored event that fails to apply for a reason that is not transient (anything but the
-- database being unreachable, a serialization failure or a deadlock) is tried a bounded
-- number of times, later each time, and then set aside as 'error' with the reason. While
-- it waits for its next try the appliers pass over it, so it never holds up the events
-- behind it. 'review' is an event whose data cannot be true for this charity (a refund
-- larger than its charge, an absurd amount, text with a NUL byte): kept for a person.
ALTER TABLE stripe_events
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz;
DROP INDEX stripe_events_review;
CREATE INDEX stripe_events_review ON stripe_events (received_at)
    WHERE outcome IN ('unmatched', 'malformed', 'error', 'deferred', 'wrong_mode', 'review');
