-- Gift Aid claims (campaigns/giftaid/claims.go).

-- ClaimableGifts finds the gifts a claim may include: a ledger gift the ledger marked as
-- Gift Aid-able (never offline or unmatched money), of a donation whose declaration was
-- not cancelled on or before the gift, and not already in a claim. Refunds and disputes on
-- the same charge or payment intent are netted; an open dispute keeps the gift back until
-- it is decided.
-- name: ClaimableGifts :many
SELECT e.id, e.appeal_id, a.gift_aid_rate, (e.amount + r.returned)::numeric AS net, e.occurred_at,
       e.frequency = 'monthly' AS monthly,
       g.id::text AS declaration_id, g.title, g.first_name, g.last_name, g.house, g.postcode,
       r.ids::bigint[] AS related, r.open_dispute::boolean AS open_dispute
FROM ledger_entries e
JOIN appeals a ON a.id = e.appeal_id
JOIN donations d ON d.id = e.donation_id
JOIN gift_aid_declarations g ON g.id = d.gift_aid_declaration_id
CROSS JOIN LATERAL (
    SELECT COALESCE(sum(x.amount) FILTER (WHERE x.kind IN ('refund', 'dispute_lost')), 0) AS returned,
           COALESCE(sum(x.amount) FILTER (WHERE x.kind IN ('dispute_hold', 'dispute_release')), 0) < 0 AS open_dispute,
           COALESCE(array_agg(x.id ORDER BY x.id), '{}') AS ids
    FROM ledger_entries x
    WHERE x.kind IN ('refund', 'dispute_hold', 'dispute_release', 'dispute_lost')
      AND ((e.payment_intent IS NOT NULL AND x.payment_intent = e.payment_intent)
        OR (e.charge_id IS NOT NULL AND x.charge_id = e.charge_id))
) r
WHERE e.kind = 'gift' AND e.gift_aid_base > 0 AND NOT d.unmatched
  AND (g.cancelled_at IS NULL OR e.occurred_at < g.cancelled_at)
  AND (sqlc.narg(upto)::timestamptz IS NULL OR e.occurred_at < sqlc.narg(upto))
  AND NOT EXISTS (SELECT 1 FROM gift_aid_claim_items c WHERE c.ledger_entry_id = e.id)
ORDER BY e.occurred_at, e.id;

-- PendingAdjustments reads the queued adjustments, oldest first.
-- name: PendingAdjustments :many
SELECT a.id, a.refund_entry_id, a.gift_entry_id, r.occurred_at AS refunded_at, a.tax_amount, a.note
FROM gift_aid_adjustments a JOIN ledger_entries r ON r.id = a.refund_entry_id
WHERE a.claim_id IS NULL ORDER BY a.created_at, a.id;

-- PendingAdjustmentsForUpdate is PendingAdjustments locking the adjustments (MakeClaim).
-- name: PendingAdjustmentsForUpdate :many
SELECT a.id, a.refund_entry_id, a.gift_entry_id, r.occurred_at AS refunded_at, a.tax_amount, a.note
FROM gift_aid_adjustments a JOIN ledger_entries r ON r.id = a.refund_entry_id
WHERE a.claim_id IS NULL ORDER BY a.created_at, a.id FOR UPDATE OF a;

-- LockClaims makes claims run one at a time (the exclusive side of claimLockKey).
-- name: LockClaims :exec
SELECT pg_advisory_xact_lock(sqlc.arg(key)::bigint);

-- BlockClaims holds claims off until the transaction ends (the shared side).
-- name: BlockClaims :exec
SELECT pg_advisory_xact_lock_shared(sqlc.arg(key)::bigint);

-- name: InsertClaim :one
INSERT INTO gift_aid_claims (created_by, total) VALUES (@created_by, @total) RETURNING id, created_at;

-- name: InsertClaimItems :exec
INSERT INTO gift_aid_claim_items (ledger_entry_id, claim_id)
SELECT DISTINCT unnest(sqlc.arg(entry_ids)::bigint[]), sqlc.arg(claim_id)::bigint;

-- name: AttachAdjustments :exec
UPDATE gift_aid_adjustments SET claim_id = sqlc.arg(claim_id)::bigint WHERE id = ANY(sqlc.arg(ids)::bigint[]) AND claim_id IS NULL;
