-- Stripe payouts and the balance transactions they paid out (campaigns/payouts), matched
-- to the ledger by charge.

-- name: InsertPayout :execrows
INSERT INTO payouts (id, amount, arrival_date, status, sandbox, recorded_at)
VALUES (@id, @amount, @arrival_date, @status, @sandbox, @recorded_at)
ON CONFLICT (id) DO NOTHING;

-- name: InsertPayoutLine :exec
INSERT INTO payout_lines (txn_id, payout_id, type, source_ref, charge_id, ledger_entry_id, description, amount, fee, created_at)
VALUES (@txn_id, @payout_id, @type, @source_ref, @charge_id, sqlc.narg(ledger_entry_id), @description, @amount, @fee, @created_at)
ON CONFLICT (txn_id) DO NOTHING;

-- PayoutsArriving lists the payouts that reached the bank in [from, to), oldest first.
-- name: PayoutsArriving :many
SELECT id, amount, arrival_date, status, sandbox FROM payouts
WHERE arrival_date >= @from_day::date AND arrival_date < @to_day::date
ORDER BY arrival_date, id;

-- PayoutLines lists a payout's lines with the ledger entries each matches: a sandbox line
-- the entry it was made from; otherwise, by its charge, a charge its gift, a refund the
-- refunds of its charge, a dispute the dispute's hold or release. The appeal named is the
-- fund the money belongs to ('' when nothing matched).
-- name: PayoutLines :many
SELECT l.txn_id, l.payout_id, l.type, l.source_ref, l.charge_id, l.description, l.amount, l.fee, l.created_at,
    (CASE WHEN l.ledger_entry_id IS NOT NULL THEN 1 ELSE COALESCE(m.entries, 0) END)::bigint AS matched_entries,
    COALESCE(sa.name, m.appeal, '')::text AS appeal
FROM payout_lines l
LEFT JOIN ledger_entries se ON se.id = l.ledger_entry_id
LEFT JOIN appeals sa ON sa.id = se.appeal_id
LEFT JOIN LATERAL (
    SELECT count(*) AS entries, min(a.name) AS appeal
    FROM ledger_entries e JOIN appeals a ON a.id = e.appeal_id
    WHERE l.ledger_entry_id IS NULL AND e.source = 'stripe' AND e.charge_id = l.charge_id AND l.charge_id <> ''
      AND ((l.type = 'charge' AND e.kind = 'gift') OR (l.type = 'refund' AND e.kind = 'refund')
        OR (l.type = 'dispute' AND e.kind IN ('dispute_hold', 'dispute_release')))
) m ON true
WHERE l.payout_id = ANY(sqlc.arg(payout_ids)::text[])
ORDER BY l.payout_id, l.created_at, l.txn_id;

-- LockSandboxPayouts makes sandbox payouts (the daily one, a trustee's "pay out now") take
-- turns: the second reads what is left once the first has committed.
-- name: LockSandboxPayouts :exec
SELECT pg_advisory_xact_lock(hashtextextended('giving:sandbox-payouts', 0));

-- SandboxUnpaid lists the Stripe-sourced ledger entries the sandbox has not yet paid out:
-- what a sandbox payout pays.
-- name: SandboxUnpaid :many
SELECT e.id, e.kind, e.source_ref, COALESCE(e.charge_id, '')::text AS charge_id, e.amount, e.fee, e.occurred_at
FROM ledger_entries e
WHERE e.source = 'stripe' AND e.kind IN ('gift', 'refund', 'dispute_hold', 'dispute_release', 'fee')
  AND NOT EXISTS (SELECT 1 FROM payout_lines l WHERE l.ledger_entry_id = e.id)
ORDER BY e.id
LIMIT 5000;

-- name: InsertGiftAidRepayment :execrows
INSERT INTO gift_aid_repayments (claim_id, paid_on, amount, recorded_by, recorded_at)
VALUES (@claim_id, @paid_on, @amount, @recorded_by, @recorded_at)
ON CONFLICT (claim_id) DO NOTHING;
