-- Replay (payments/replay.go) rebuilds the ledger from the stored events in a scratch
-- schema. Creating and dropping that schema and copying tables into it build names at run
-- time and stay in Go; these statements are static.

-- ReplayQueuedCount counts the stored events not yet applied live.
-- name: ReplayQueuedCount :one
SELECT count(*) FROM stripe_events WHERE outcome = 'queued';

-- ReplayTotals sums each scope's totals over its shards, in the order of totalsFields.
-- name: ReplayTotals :many
SELECT scope, scope_id, ARRAY[sum(gross), sum(refunded), sum(disputed), sum(lost),
    sum(fees), sum(gift_aid_base), sum(gifts), sum(donors)]::numeric[] AS sums FROM totals GROUP BY scope, scope_id;

-- ReplayDropOwnerFK frees the scratch schema's pages from their owners' accounts, which are
-- not copied (money does not depend on who owns a page). Run it on a connection whose
-- search_path is the scratch schema.
-- name: ReplayDropOwnerFK :exec
ALTER TABLE fundraisers DROP CONSTRAINT fundraisers_owner_fk;
