-- Fundraiser pages as donors and admins read them (campaigns/pages/fundraisers.go).
-- The page queries return the same columns, so their rows convert to one another
-- (fundraiserFromRow).

-- name: PublicFundraiser :one
SELECT id, appeal_id, slug, title, story, target, status, COALESCE(owner_id, 0)::bigint AS owner_id,
    EXISTS (SELECT 1 FROM fundraiser_photos p WHERE p.fundraiser_id = fundraisers.id) AS has_photo
FROM fundraisers WHERE slug = @slug AND status = 'approved';

-- name: FundraiserByID :one
SELECT id, appeal_id, slug, title, story, target, status, COALESCE(owner_id, 0)::bigint AS owner_id,
    EXISTS (SELECT 1 FROM fundraiser_photos p WHERE p.fundraiser_id = fundraisers.id) AS has_photo
FROM fundraisers WHERE id = @id;

-- Wall lists the gifts that reached a page, newest first: only donations with money in the ledger.
-- given_at is when the first payment of the gift reached the ledger.
-- name: Wall :many
SELECT d.display_name, d.hide_name, d.amount, d.hide_amount, (CASE WHEN d.message_hidden_at IS NULL THEN d.message ELSE '' END)::text AS message, d.frequency = 'monthly' AS monthly, g.given_at
FROM donations d
CROSS JOIN LATERAL (SELECT min(e.occurred_at)::timestamptz AS given_at FROM ledger_entries e WHERE e.donation_id = d.id AND e.kind = 'gift') g
WHERE d.fundraiser_id = sqlc.arg(fundraiser_id)::bigint AND g.given_at IS NOT NULL
ORDER BY d.created_at DESC LIMIT sqlc.arg(max_rows)::bigint;

-- PageOwnerName is the display name of a page's owner ('' for a page without one).
-- name: PageOwnerName :one
SELECT COALESCE((SELECT u.display_name FROM fundraisers f JOIN users u ON u.id = f.owner_id WHERE f.id = @fundraiser_id), '')::text AS display_name;
