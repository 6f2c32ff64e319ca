-- name: QueueSubscriptionCancel :exec
INSERT INTO subscription_cancels (subscription_id, donation_id, reason)
VALUES (@subscription_id, @donation_id, @reason)
ON CONFLICT (subscription_id) DO NOTHING;

-- ClaimSubscriptionCancel leases the next due cancellation that no other worker holds.
-- name: ClaimSubscriptionCancel :one
UPDATE subscription_cancels SET attempts = attempts + 1, claimed_until = now() + @lease::interval
WHERE subscription_id = (SELECT c.subscription_id FROM subscription_cancels c
    WHERE c.done_at IS NULL AND c.next_attempt_at <= now() AND (c.claimed_until IS NULL OR c.claimed_until < now())
    ORDER BY c.next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING subscription_id, donation_id, reason, queued_at, attempts;

-- The outcome is recorded only by the attempt that holds the lease.
-- name: FinishSubscriptionCancel :exec
UPDATE subscription_cancels SET last_error = '', done_at = now(), claimed_until = NULL
WHERE subscription_id = @subscription_id AND attempts = @attempts;

-- name: PostponeSubscriptionCancel :exec
UPDATE subscription_cancels SET last_error = left(@last_error, 500), claimed_until = NULL,
    next_attempt_at = now() + @backoff::interval
WHERE subscription_id = @subscription_id AND attempts = @attempts;

-- name: SubscriptionCancels :many
SELECT subscription_id, donation_id, reason, queued_at, attempts, last_error, done_at,
    coalesce(claimed_until > now(), false)::boolean AS in_flight
FROM subscription_cancels WHERE done_at IS NULL OR done_at > now() - @shown_for::interval
ORDER BY done_at IS NOT NULL, queued_at DESC LIMIT 500;
