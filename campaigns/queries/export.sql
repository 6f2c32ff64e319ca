-- GiftsExportPage is one page of the gifts export: the ledger in the order money moved,
-- after the (occurred_at, id) of the last row of the previous page. The export reads page
-- after page in one snapshot, so it costs the same memory at 100 entries or 10 million.
-- name: GiftsExportPage :many
SELECT e.id, e.occurred_at, a.name AS appeal, COALESCE(f.title, '')::text AS page, e.kind, e.frequency, e.amount, e.fee,
       (e.gift_aid_base <> 0)::boolean AS gift_aid_eligible,
       (CASE WHEN d.id IS NULL THEN '' WHEN d.hide_name THEN 'Anonymous' ELSE d.display_name END)::text AS donor_name,
       COALESCE(d.message, '')::text AS message, e.source, e.source_ref, COALESCE(d.id::text, '')::text AS donation_id,
       COALESCE(d.unmatched, false)::boolean AS unmatched, e.fund_code, a.fund_restricted
FROM ledger_entries e
JOIN appeals a ON a.id = e.appeal_id
LEFT JOIN fundraisers f ON f.id = e.fundraiser_id
LEFT JOIN donations d ON d.id = e.donation_id
WHERE e.occurred_at >= @from_at::timestamptz AND e.occurred_at < @to_at::timestamptz
  AND (@appeal_id::bigint = 0 OR e.appeal_id = @appeal_id::bigint)
  AND e.kind IN ('gift', 'refund', 'dispute_hold', 'dispute_release', 'dispute_lost', 'fee')
  AND (e.occurred_at, e.id) > (@after_at::timestamptz, @after_id::bigint)
ORDER BY e.occurred_at, e.id
LIMIT @page_size;
