-- Replay (payments/replay.go) rebuilds the ledger from the stored events in a scratch
-- schema. Creating and dropping that schema and copying tables into it build names at run
-- time and stay in Go; these statements are static.

-- ReplayQueuedCount counts the stored events not yet applied live.
-- name: ReplayQueuedCount :one
SELECT count(*) FROM stripe_events WHERE outcome = 'queued';

-- ReplayDropOwnerFK frees the scratch schema's pages from their owners' accounts, which are
-- not copied (money does not depend on who owns a page). Run it on a connection whose
-- search_path is the scratch schema.
-- name: ReplayDropOwnerFK :exec
ALTER TABLE fundraisers DROP CONSTRAINT fundraisers_owner_fk;

-- ReplayEventsPage is one page of the stored events that moved money live (not queued, not
-- set aside), in Stripe's order, after the last event of the previous page: replay reads
-- them page by page in one snapshot, so its memory does not grow with the event log. An
-- event without a creation time (a malformed one) sorts last, as ORDER BY created would put it.
-- name: ReplayEventsPage :many
SELECT id, COALESCE(created, '9999-12-31 23:59:59+00'::timestamptz)::timestamptz AS sort_created, received_at, payload FROM stripe_events
WHERE outcome NOT IN ('queued', 'error', 'review')
  AND (COALESCE(created, '9999-12-31 23:59:59+00'::timestamptz), received_at, id) > (@after_created::timestamptz, @after_received::timestamptz, @after_id::text)
ORDER BY COALESCE(created, '9999-12-31 23:59:59+00'::timestamptz), received_at, id
LIMIT @page_size;
