-- Monthly giving health and the cumulative line on the trustee dashboard
-- (campaigns/reports/health.go), read in the dashboard's snapshot.

-- HealthMonthlyGifts lists the appeal's monthly gifts that ever paid: when the first
-- payment came, and when and why the gift ended (cancelled ones only; a gift a dispute
-- ended is known by its queued cancellation), with its amount and pause as they stand now.
-- A cancelled gift ended when the event that cancelled it happened (status_event_at).
-- name: HealthMonthlyGifts :many
SELECT d.id::text AS donation_id, d.status, (d.amount + d.cover_fee)::numeric AS amount, d.paused_until,
    f.first_paid AS started_at,
    d.status_event_at, d.updated_at,
    (CASE WHEN d.status <> 'cancelled' THEN ''
          WHEN d.ended_by IS NOT NULL THEN d.ended_by
          WHEN EXISTS (SELECT 1 FROM subscription_cancels c WHERE c.donation_id = d.id) THEN 'dispute'
          ELSE 'stripe' END)::text AS ended_by
FROM donations d
JOIN LATERAL (SELECT e.occurred_at AS first_paid FROM ledger_entries e
              WHERE e.donation_id = d.id AND e.kind = 'gift' ORDER BY e.occurred_at LIMIT 1) f ON true
WHERE d.appeal_id = @appeal_id AND d.frequency = 'monthly' AND d.status IN ('active', 'past_due', 'cancelled');

-- HealthPauses lists when Stripe confirmed a pause of one of the appeal's monthly gifts.
-- name: HealthPauses :many
SELECT r.confirmed_at::timestamptz AS paused_at
FROM manage_requests r JOIN donations d ON d.id = r.donation_id
WHERE d.appeal_id = @appeal_id AND r.kind = 'pause' AND r.confirmed_at IS NOT NULL
  AND r.confirmed_at < sqlc.arg(to_at)::timestamptz;

-- HealthFailures lists the failed payments of the appeal's monthly gifts before a time.
-- name: HealthFailures :many
SELECT d.id::text AS donation_id, ev.created::timestamptz AS failed_at
FROM stripe_events ev
JOIN donations d ON d.subscription_id = COALESCE(
    convert_from(ev.payload, 'UTF8')::jsonb -> 'data' -> 'object' -> 'subscription' ->> 'id',
    convert_from(ev.payload, 'UTF8')::jsonb -> 'data' -> 'object' ->> 'subscription')
WHERE ev.type = 'invoice.payment_failed' AND ev.created IS NOT NULL AND ev.created < sqlc.arg(to_at)::timestamptz
  AND d.appeal_id = @appeal_id;

-- HealthPaymentsOf lists the payments of the given monthly gifts before a time.
-- name: HealthPaymentsOf :many
SELECT e.donation_id::text AS donation_id, e.occurred_at
FROM ledger_entries e
WHERE e.donation_id = ANY(sqlc.arg(ids)::uuid[]) AND e.kind = 'gift' AND e.occurred_at < sqlc.arg(to_at)::timestamptz;

-- RaisedBefore is what the appeal raised before a London day (the day grain of the
-- dashboard summary): the cumulative line's starting point.
-- name: RaisedBefore :one
SELECT COALESCE(sum(amount), 0)::numeric AS raised
FROM ledger_summary
WHERE appeal_id = @appeal_id AND grain = 'day' AND dim = 'tier' AND starts < sqlc.arg(before)::date;
