-- The webhook appliers' queue: stored Stripe events waiting in stripe_events as 'queued'.

-- ClaimQueuedEvent locks one queued event by id for the transaction that applies it; no row
-- when another transaction holds it or it is no longer queued.
-- name: ClaimQueuedEvent :one
SELECT id, payload, attempts FROM stripe_events
WHERE outcome = 'queued' AND id = @id
FOR UPDATE SKIP LOCKED;

-- ClaimOldestQueuedEvent locks the oldest queued event at least min_age old that no one
-- else holds and that is not waiting for a later try after a failure (next_attempt_at, on
-- the service's clock, as FailQueuedEvent set it): an event that failed never holds up the
-- ones behind it.
-- name: ClaimOldestQueuedEvent :one
SELECT id, payload, attempts FROM stripe_events
WHERE outcome = 'queued' AND received_at <= now() - @min_age::interval
    AND (next_attempt_at IS NULL OR next_attempt_at <= @now::timestamptz)
ORDER BY received_at LIMIT 1
FOR UPDATE SKIP LOCKED;

-- FailQueuedEvent records failed try number attempts + 1 of a queued event: it stays queued
-- until retry_at (the caller's backoff for that try), until max_tries have failed; then it
-- is set aside as 'error'. The reason is kept in detail either way. attempts is the count
-- the claim read: a row another applier has failed meanwhile is left alone.
-- name: FailQueuedEvent :one
UPDATE stripe_events SET attempts = attempts + 1,
    outcome = CASE WHEN attempts + 1 >= @max_tries::integer THEN 'error' ELSE outcome END,
    next_attempt_at = CASE WHEN attempts + 1 >= @max_tries::integer THEN NULL ELSE @retry_at::timestamptz END,
    detail = left(CASE WHEN attempts + 1 >= @max_tries::integer
        THEN format('failed %s tries: %s', attempts + 1, @reason::text)
        ELSE format('try %s of %s failed, will try again: %s', attempts + 1, @max_tries::integer, @reason::text) END, 2000)
WHERE id = @id AND outcome = 'queued' AND attempts = @attempts
RETURNING outcome, attempts;

-- SetAsideQueuedEvent stores a queued event that must not be applied as it stands with
-- outcome 'error' (the event itself is wrong: retrying will not help) or 'review' (its data
-- cannot be true for this charity), with the reason.
-- name: SetAsideQueuedEvent :execrows
UPDATE stripe_events SET outcome = @outcome, detail = left(@reason::text, 2000), attempts = attempts + 1,
    next_attempt_at = NULL
WHERE id = @id AND outcome = 'queued';

-- RequeueEvent puts an event set aside ('error' or 'review') back in the queue for one more
-- round of tries, once its cause is fixed.
-- name: RequeueEvent :exec
UPDATE stripe_events SET outcome = 'queued', detail = '', attempts = 0, next_attempt_at = NULL
WHERE id = @id;

-- MarkQueuedEventDone stores what applying a claimed event did (applied_at is set for the
-- outcomes that moved or settled it) and returns how long it waited since it was received,
-- in seconds.
-- name: MarkQueuedEventDone :one
UPDATE stripe_events SET outcome = @outcome, defer_key = NULLIF(@defer_key::text, ''), detail = '',
    next_attempt_at = NULL, applied_at = CASE WHEN @outcome IN ('applied', 'unmatched', 'ignored') THEN now() END
WHERE id = @id RETURNING extract(epoch FROM clock_timestamp() - received_at)::float8 AS lag_seconds;

-- LockEventOutcome reads a stored event's outcome and locks it for the transaction (retry).
-- name: LockEventOutcome :one
SELECT outcome FROM stripe_events WHERE id = @id FOR UPDATE;

-- name: EventOutcome :one
SELECT outcome, detail FROM stripe_events WHERE id = @id;

-- ScrubEventPayload replaces a stored event's payload with its scrubbed copy (erasure).
-- name: ScrubEventPayload :exec
UPDATE stripe_events SET payload = @payload WHERE id = @id;

-- ClaimQueuedEvents locks up to n queued events for one batch (payments/queue.go), as
-- ClaimOldestQueuedEvent does one, oldest first.
-- name: ClaimQueuedEvents :many
SELECT id, payload, attempts FROM stripe_events
WHERE outcome = 'queued' AND received_at <= now() - @min_age::interval
    AND (next_attempt_at IS NULL OR next_attempt_at <= @now::timestamptz)
ORDER BY received_at LIMIT @n::integer
FOR UPDATE SKIP LOCKED;

-- MarkQueuedEventsDone stores what applying each event of a batch did (as
-- MarkQueuedEventDone) and returns how long each waited since it was received, in seconds.
-- name: MarkQueuedEventsDone :many
UPDATE stripe_events e SET outcome = d.outcome, defer_key = NULL, detail = '', next_attempt_at = NULL,
    applied_at = CASE WHEN d.outcome IN ('applied', 'unmatched', 'ignored') THEN now() END
FROM ROWS FROM (unnest(@ids::text[]), unnest(@outcomes::text[])) AS d (id, outcome)
WHERE e.id = d.id
RETURNING extract(epoch FROM clock_timestamp() - e.received_at)::float8 AS lag_seconds;
