-- name: QueueSubscriptionCancel :exec
INSERT INTO subscription_cancels (subscription_id, donation_id, reason)
VALUES (@subscription_id, @donation_id, @reason)
ON CONFLICT (subscription_id) DO NOTHING;

-- StartSubscriptionCancel marks an attempt under way (until its timeout), for the dashboard,
-- and returns the cancellation while it is still to do.
-- name: StartSubscriptionCancel :one
UPDATE subscription_cancels SET attempts = @attempt, claimed_until = @until
WHERE subscription_id = @subscription_id AND done_at IS NULL
RETURNING subscription_id, donation_id, reason, queued_at, attempts;

-- The outcome is recorded only by the newest attempt: one that overran its timeout has been
-- superseded by a newer attempt.
-- name: FinishSubscriptionCancel :exec
UPDATE subscription_cancels SET last_error = '', done_at = sqlc.arg(now)::timestamptz, claimed_until = NULL
WHERE subscription_id = @subscription_id AND attempts = @attempts;

-- name: PostponeSubscriptionCancel :exec
UPDATE subscription_cancels SET last_error = left(@last_error, 500), claimed_until = NULL,
    next_attempt_at = @next_attempt_at
WHERE subscription_id = @subscription_id AND attempts = @attempts;

-- name: SubscriptionCancels :many
SELECT subscription_id, donation_id, reason, queued_at, attempts, last_error, done_at,
    coalesce(claimed_until > sqlc.arg(now)::timestamptz, false)::boolean AS in_flight
FROM subscription_cancels WHERE done_at IS NULL OR done_at > sqlc.arg(now)::timestamptz - @shown_for::interval
ORDER BY done_at IS NOT NULL, queued_at DESC LIMIT 500;
