-- A donor's annual statement for a UK tax year (campaigns/donors/statement.go), and the
-- yearly email that tells her it is ready. A tax year is named by the calendar year it
-- starts in: 2025 is 6 April 2025 to 5 April 2026, London time; from_at and until_at are its
-- bounds (until_at excluded).

-- StatementDonor is the donor record a statement is for.
-- name: StatementDonor :one
SELECT r.id::text AS id, COALESCE(r.email, '')::text AS email, r.name, (r.erased_at IS NOT NULL)::boolean AS erased
FROM donors r WHERE r.id = sqlc.arg(donor_id)::uuid;

-- StatementEntries is every ledger entry of the donor's donations in the tax year, oldest
-- first: gifts, refunds and dispute entries (a fee entry moves no money of hers: left out).
-- name: StatementEntries :many
SELECT e.id, e.occurred_at, e.kind, e.amount, e.gift_aid_base, e.frequency = 'monthly' AS monthly,
    a.name AS appeal_name, COALESCE(f.title, '')::text AS fundraiser_title, a.gift_aid_rate
FROM ledger_entries e
JOIN donations d ON d.id = e.donation_id
JOIN appeals a ON a.id = e.appeal_id
LEFT JOIN fundraisers f ON f.id = e.fundraiser_id
WHERE d.donor_id = sqlc.arg(donor_id)::uuid AND e.kind <> 'fee'
  AND e.occurred_at >= sqlc.arg(from_at)::timestamptz AND e.occurred_at < sqlc.arg(until_at)::timestamptz
ORDER BY e.occurred_at, e.id;

-- StatementYears lists the tax years in which the donor gave, latest first.
-- name: StatementYears :many
SELECT DISTINCT extract(year FROM ((e.occurred_at AT TIME ZONE 'Europe/London')::date - 5 - interval '3 months'))::integer AS tax_year
FROM ledger_entries e JOIN donations d ON d.id = e.donation_id
WHERE d.donor_id = sqlc.arg(donor_id)::uuid AND e.kind = 'gift'
ORDER BY tax_year DESC;

-- StatementMailsDue lists donors with an address who gave in the tax year and have not yet
-- been emailed its statement, a batch at a time.
-- name: StatementMailsDue :many
SELECT r.id::text AS id FROM donors r
WHERE r.email IS NOT NULL
  AND EXISTS (SELECT 1 FROM donations d JOIN ledger_entries e ON e.donation_id = d.id
              WHERE d.donor_id = r.id AND e.kind = 'gift'
                AND e.occurred_at >= sqlc.arg(from_at)::timestamptz AND e.occurred_at < sqlc.arg(until_at)::timestamptz)
  AND NOT EXISTS (SELECT 1 FROM statement_mails m WHERE m.donor_id = r.id AND m.tax_year = sqlc.arg(tax_year)::integer)
ORDER BY r.id
LIMIT sqlc.arg(batch)::integer;

-- ClaimStatementMail records that the donor's statement email for the tax year is queued;
-- 0 rows when it already was.
-- name: ClaimStatementMail :execrows
INSERT INTO statement_mails (donor_id, tax_year, queued_at)
VALUES (sqlc.arg(donor_id)::uuid, sqlc.arg(tax_year)::integer, sqlc.arg(now)::timestamptz)
ON CONFLICT DO NOTHING;

-- StatementMonthlyGift is the donor's running monthly gift, latest first, for a fresh
-- manage link in her statement email; none for a one-off donor.
-- name: StatementMonthlyGift :many
SELECT d.id::text AS id FROM donations d
WHERE d.donor_id = sqlc.arg(donor_id)::uuid AND d.frequency = 'monthly' AND d.subscription_id IS NOT NULL
  AND d.status IN ('active', 'past_due') AND d.erased_at IS NULL
ORDER BY d.created_at DESC, d.id
LIMIT 1;
