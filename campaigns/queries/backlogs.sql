-- name: Backlogs :one
SELECT (SELECT count(*) FROM stripe_events WHERE outcome = 'queued')::bigint AS events_queued,
    coalesce((SELECT extract(epoch FROM now() - min(received_at)) FROM stripe_events WHERE outcome = 'queued'), 0)::float8 AS oldest_queued_seconds,
    (SELECT count(*) FROM mail_outbox WHERE status = 'queued')::bigint AS mail_queued,
    (SELECT count(*) FROM mail_outbox WHERE status = 'failed')::bigint AS mail_failed,
    (SELECT count(*) FROM subscription_cancels WHERE done_at IS NULL)::bigint AS subscription_cancels_pending;

-- name: EventsForReview :many
SELECT outcome, count(*)::bigint AS n FROM stripe_events
WHERE outcome IN ('unmatched', 'malformed', 'error', 'deferred', 'wrong_mode', 'review')
GROUP BY outcome;

-- name: StoredEvents :many
SELECT id, type, outcome, detail, received_at FROM stripe_events
WHERE outcome = ANY(@outcomes::text[]) ORDER BY received_at DESC, id LIMIT @max_rows;
