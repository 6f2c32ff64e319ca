-- The trustee dashboard reads one repeatable-read snapshot: the appeal, the ledger summary
-- of the period (migration 0004), its tiers and pages, monthly giving and unmatched money.

-- name: DashboardAppeal :one
SELECT target, gift_aid_rate FROM appeals WHERE id = @appeal_id;

-- DashboardSummary sums the summary rows of the period: whole months from the month grain,
-- the days before the first whole month and after the last from the day grain.
-- name: DashboardSummary :many
SELECT dim, dim_id, frequency, kind,
       (CASE WHEN dim = 'tier' THEN to_char(starts, 'YYYY-MM') ELSE '' END)::text AS month,
       sum(amount)::numeric AS amount, sum(fee)::numeric AS fee, sum(gift_aid_base)::numeric AS gift_aid_base,
       sum(claimed)::numeric AS claimed, sum(entries)::bigint AS entries
FROM ledger_summary
WHERE appeal_id = @appeal_id AND (
      (grain = 'month' AND starts >= @months_from::date AND starts < @months_to::date)
   OR (grain = 'day' AND ((starts >= @head_from::date AND starts < @head_to::date)
                       OR (starts >= @tail_from::date AND starts < @tail_to::date))))
GROUP BY 1, 2, 3, 4, 5;

-- name: DashboardTiers :many
SELECT id, title, amount, active, position FROM tiers WHERE appeal_id = @appeal_id;

-- name: DashboardPages :many
SELECT f.id, f.slug, f.title, f.status, f.target, COALESCE(t.raised, 0)::numeric AS raised_to_date
FROM fundraisers f
LEFT JOIN LATERAL (SELECT sum(gross - refunded - disputed - lost) AS raised
                   FROM totals WHERE scope = 'fundraiser' AND scope_id = f.id) t ON true
WHERE f.appeal_id = @appeal_id;

-- name: DashboardMonthly :one
SELECT count(*) FILTER (WHERE status IN ('active', 'past_due')) AS active,
       COALESCE(sum(amount + cover_fee) FILTER (WHERE status IN ('active', 'past_due')), 0)::numeric AS income,
       count(*) FILTER (WHERE status = 'past_due') AS past_due,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled
FROM donations WHERE appeal_id = @appeal_id AND frequency = 'monthly' AND status IN ('active', 'past_due', 'cancelled');

-- DashboardUnmatched: flagged donations are few, and gifts with no donation at all rarer
-- still: both are found through indexes, never by scanning the appeal's ledger.
-- name: DashboardUnmatched :one
SELECT count(*) AS gifts, COALESCE(sum(u.amount), 0)::numeric AS amount FROM (
    SELECT e.amount FROM donations d JOIN ledger_entries e ON e.donation_id = d.id
    WHERE d.appeal_id = @appeal_id AND d.unmatched AND e.appeal_id = @appeal_id AND e.kind = 'gift'
      AND e.occurred_at >= @from_at::timestamptz AND e.occurred_at < @to_at::timestamptz
    UNION ALL
    SELECT e.amount FROM ledger_entries e
    WHERE e.donation_id IS NULL AND e.appeal_id = @appeal_id AND e.kind = 'gift'
      AND e.source = 'stripe' -- verified offline takings are not unmatched
      AND e.occurred_at >= @from_at::timestamptz AND e.occurred_at < @to_at::timestamptz) u;

-- DashboardSummaryDifferences recomputes the summary from the ledger and lists the rows that
-- disagree (any is a bug).
-- name: DashboardSummaryDifferences :many
WITH ledger AS (
    SELECT appeal_id, grain, starts, dim, dim_id, frequency, kind, shard,
           sum(amount) AS amount, sum(fee) AS fee, sum(gift_aid_base) AS gift_aid_base,
           sum(claimed) AS claimed, count(*) AS entries
    FROM ledger_summary_source GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
)
SELECT format('%s %s %s %s %s %s %s shard %s', COALESCE(l.appeal_id, s.appeal_id), COALESCE(l.grain, s.grain),
           COALESCE(l.starts, s.starts), COALESCE(l.dim, s.dim), COALESCE(l.dim_id, s.dim_id),
           COALESCE(l.frequency, s.frequency), COALESCE(l.kind, s.kind), COALESCE(l.shard, s.shard))::text AS row_key,
       format('amount %s fee %s gift_aid_base %s claimed %s entries %s',
           s.amount, s.fee, s.gift_aid_base, s.claimed, s.entries)::text AS stored,
       format('amount %s fee %s gift_aid_base %s claimed %s entries %s',
           l.amount, l.fee, l.gift_aid_base, l.claimed, l.entries)::text AS from_ledger
FROM ledger l FULL OUTER JOIN ledger_summary s USING (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard)
WHERE (l.amount, l.fee, l.gift_aid_base, l.claimed, l.entries)
      IS DISTINCT FROM (s.amount, s.fee, s.gift_aid_base, s.claimed, s.entries)
  -- a summary row every entry of which is now unclaimed, or never was, is still right
  AND NOT (l.appeal_id IS NULL AND s.amount = 0 AND s.fee = 0 AND s.gift_aid_base = 0
           AND s.claimed = 0 AND s.entries = 0)
ORDER BY 1;

-- DashboardByFund sums the period's summary rows of every appeal (the tier dimension, which
-- counts each entry once) by the appeal's fund: an appeal's fund is fixed once it has money
-- (migration 0032), so this is the ledger's total by each entry's own fund.
-- name: DashboardByFund :many
SELECT a.fund_code, a.fund_restricted,
       string_agg(DISTINCT a.name, ', ' ORDER BY a.name)::text AS appeals,
       COALESCE(sum(s.amount) FILTER (WHERE s.kind = 'gift'), 0)::numeric AS gross,
       COALESCE(sum(s.amount), 0)::numeric AS raised,
       COALESCE(sum(s.fee), 0)::numeric AS fees,
       COALESCE(sum(s.entries) FILTER (WHERE s.kind = 'gift'), 0)::bigint AS gifts
FROM ledger_summary s JOIN appeals a ON a.id = s.appeal_id
WHERE s.dim = 'tier' AND (
      (s.grain = 'month' AND s.starts >= @months_from::date AND s.starts < @months_to::date)
   OR (s.grain = 'day' AND ((s.starts >= @head_from::date AND s.starts < @head_to::date)
                         OR (s.starts >= @tail_from::date AND s.starts < @tail_to::date))))
GROUP BY a.fund_code, a.fund_restricted
ORDER BY a.fund_code;
