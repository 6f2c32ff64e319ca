-- Gift Aid claims (campaigns/giftaid/claims.go).

-- ClaimableGifts finds the gifts a claim may include: a ledger gift of Stripe money (never
-- offline takings or unmatched money), not already in a claim, that a Gift Aid declaration
-- in force at the moment the gift was made covers (campaigns/giftaid/doc.go): the
-- declaration its own donation carries, or a "this and future" / "this, future and past four
-- years" declaration of the same donor effective on the gift's date; a declaration covers
-- nothing from its cancellation date. It reads the declarations as they are now, not the
-- ledger's gift_aid_base (what was known when the gift was recorded), so a later declaration
-- that reaches back takes in the earlier gifts. One declaration is chosen per gift (its own
-- donation's first, else the latest made), so a gift two declarations cover is claimed once;
-- its name and address fill the row. A gift made on a fundraiser page an admin checked as a
-- sponsored event is a sponsored gift. Refunds and disputes on the same charge or payment
-- intent are netted; an open dispute keeps the gift back until it is decided.
-- name: ClaimableGifts :many
SELECT e.id, e.appeal_id, a.gift_aid_rate, (e.amount + r.returned)::numeric AS net, e.occurred_at,
       e.frequency = 'monthly' AS monthly,
       g.id::text AS declaration_id, g.title, g.first_name, g.last_name, g.house, g.postcode,
       r.ids::bigint[] AS related, r.open_dispute::boolean AS open_dispute,
       COALESCE(f.sponsored_event = 'approved', false)::boolean AS sponsored
FROM ledger_entries e
JOIN appeals a ON a.id = e.appeal_id
JOIN donations d ON d.id = e.donation_id
LEFT JOIN fundraisers f ON f.id = d.fundraiser_id
JOIN LATERAL (
    SELECT x.id, x.title, x.first_name, x.last_name, x.house, x.postcode
    FROM gift_aid_declarations x
    WHERE (x.cancelled_at IS NULL OR e.occurred_at < x.cancelled_at)
      AND (x.id = d.gift_aid_declaration_id
        OR (d.donor_id IS NOT NULL AND x.donor_id = d.donor_id
            AND x.scope IN ('this_and_future', 'this_future_and_past') AND e.occurred_at >= x.effective_from))
    ORDER BY x.id IS NOT DISTINCT FROM d.gift_aid_declaration_id DESC, x.declared_at DESC, x.id
    LIMIT 1
) g ON true
CROSS JOIN LATERAL (
    SELECT COALESCE(sum(x.amount) FILTER (WHERE x.kind IN ('refund', 'dispute_lost')), 0) AS returned,
           COALESCE(sum(x.amount) FILTER (WHERE x.kind IN ('dispute_hold', 'dispute_release')), 0) < 0 AS open_dispute,
           COALESCE(array_agg(x.id ORDER BY x.id), '{}') AS ids
    FROM ledger_entries x
    WHERE x.kind IN ('refund', 'dispute_hold', 'dispute_release', 'dispute_lost')
      AND ((e.payment_intent IS NOT NULL AND x.payment_intent = e.payment_intent)
        OR (e.charge_id IS NOT NULL AND x.charge_id = e.charge_id))
) r
WHERE e.kind = 'gift' AND e.source = 'stripe' AND NOT d.unmatched
  AND (sqlc.narg(upto)::timestamptz IS NULL OR e.occurred_at < sqlc.narg(upto))
  AND (sqlc.arg(appeal_id)::bigint = 0 OR e.appeal_id = sqlc.arg(appeal_id)::bigint)
  AND NOT EXISTS (SELECT 1 FROM gift_aid_claim_items c WHERE c.ledger_entry_id = e.id)
ORDER BY e.occurred_at, e.id;

-- PendingAdjustments reads the queued adjustments, oldest first.
-- name: PendingAdjustments :many
SELECT a.id, a.refund_entry_id, a.gift_entry_id, r.occurred_at AS refunded_at, a.tax_amount, a.note
FROM gift_aid_adjustments a JOIN ledger_entries r ON r.id = a.refund_entry_id
WHERE a.claim_id IS NULL AND (sqlc.arg(appeal_id)::bigint = 0 OR r.appeal_id = sqlc.arg(appeal_id)::bigint)
ORDER BY a.created_at, a.id;

-- PendingAdjustmentsForUpdate is PendingAdjustments locking the adjustments (MakeClaim).
-- name: PendingAdjustmentsForUpdate :many
SELECT a.id, a.refund_entry_id, a.gift_entry_id, r.occurred_at AS refunded_at, a.tax_amount, a.note
FROM gift_aid_adjustments a JOIN ledger_entries r ON r.id = a.refund_entry_id
WHERE a.claim_id IS NULL AND (sqlc.arg(appeal_id)::bigint = 0 OR r.appeal_id = sqlc.arg(appeal_id)::bigint)
ORDER BY a.created_at, a.id FOR UPDATE OF a;

-- LockClaims makes claims run one at a time (the exclusive side of claimLockKey).
-- name: LockClaims :exec
SELECT pg_advisory_xact_lock(sqlc.arg(key)::bigint);

-- BlockClaims holds claims off until the transaction ends (the shared side).
-- name: BlockClaims :exec
SELECT pg_advisory_xact_lock_shared(sqlc.arg(key)::bigint);

-- InsertClaim records a claim, made at created_at (the store's clock), with what it asks
-- HMRC for: the tax on its gifts less the adjustments it carries.
-- name: InsertClaim :one
INSERT INTO gift_aid_claims (created_at, created_by, total, tax, adjustment_total)
VALUES (@created_at, @created_by, @total, @tax, @adjustment_total) RETURNING id, created_at;

-- name: InsertClaimItems :exec
INSERT INTO gift_aid_claim_items (ledger_entry_id, claim_id)
SELECT DISTINCT unnest(sqlc.arg(entry_ids)::bigint[]), sqlc.arg(claim_id)::bigint;

-- name: AttachAdjustments :exec
UPDATE gift_aid_adjustments SET claim_id = sqlc.arg(claim_id)::bigint WHERE id = ANY(sqlc.arg(ids)::bigint[]) AND claim_id IS NULL;

-- ClaimForRepayment reads a claim and any repayment recorded for it, locking the claim so
-- two trustees recording HMRC's repayment at once are taken one after the other.
-- name: ClaimForRepayment :one
SELECT c.id, c.created_at, (r.claim_id IS NOT NULL)::boolean AS repaid, r.paid_on,
    COALESCE(r.amount, 0)::numeric AS repaid_amount
FROM gift_aid_claims c LEFT JOIN gift_aid_repayments r ON r.claim_id = c.id
WHERE c.id = @id
FOR UPDATE OF c;

-- ClaimsMade lists every claim made, newest first: the gifts it claimed on (ledger gifts,
-- not schedule rows), what it asked HMRC for and HMRC's repayment where recorded.
-- name: ClaimsMade :many
SELECT c.id, c.created_at, c.created_by, c.total, c.tax, c.adjustment_total,
    COALESCE(g.gifts, 0)::bigint AS gifts,
    (r.claim_id IS NOT NULL)::boolean AS repaid, r.paid_on,
    COALESCE(r.amount, 0)::numeric AS repaid_amount, COALESCE(r.recorded_by, '')::text AS repaid_by
FROM gift_aid_claims c
LEFT JOIN (
    SELECT i.claim_id, count(*) AS gifts
    FROM gift_aid_claim_items i JOIN ledger_entries e ON e.id = i.ledger_entry_id
    WHERE e.kind = 'gift'
    GROUP BY i.claim_id
) g ON g.claim_id = c.id
LEFT JOIN gift_aid_repayments r ON r.claim_id = c.id
ORDER BY c.id DESC;
