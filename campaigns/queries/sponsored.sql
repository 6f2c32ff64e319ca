-- Sponsored events on fundraiser pages (campaigns/pages/sponsored.go).

-- name: PageSponsorship :one
SELECT f.sponsored_event, f.sponsored_charity_pays_costs, f.sponsored_checked_at,
    COALESCE(f.owner_id, 0)::bigint AS owner_id, COALESCE(u.email, '')::text AS owner_email
FROM fundraisers f LEFT JOIN users u ON u.id = f.owner_id
WHERE f.id = @id;

-- SetOwnSponsorship is the fundraiser's choice on her page form: a page newly marked, or
-- whose cost answer changed, waits for an admin's check again; unmarked, it is 'no'.
-- name: SetOwnSponsorship :one
UPDATE fundraisers SET
    sponsored_event = CASE
        WHEN NOT @sponsored::boolean THEN 'no'
        WHEN sponsored_event = 'approved' AND sponsored_charity_pays_costs = @charity_pays_costs::boolean THEN 'approved'
        ELSE 'requested' END,
    sponsored_charity_pays_costs = @charity_pays_costs::boolean AND @sponsored::boolean,
    sponsored_checked_by = CASE WHEN @sponsored::boolean AND sponsored_event = 'approved'
        AND sponsored_charity_pays_costs = @charity_pays_costs::boolean THEN sponsored_checked_by END,
    sponsored_checked_at = CASE WHEN @sponsored::boolean AND sponsored_event = 'approved'
        AND sponsored_charity_pays_costs = @charity_pays_costs::boolean THEN sponsored_checked_at END
WHERE id = @id AND owner_id = @owner_id::bigint
RETURNING sponsored_event;

-- CheckSponsorship is an admin's decision on a page marked a sponsored event.
-- name: CheckSponsorship :one
UPDATE fundraisers SET sponsored_event = @decision::text, sponsored_checked_by = @checked_by::bigint,
    sponsored_checked_at = sqlc.arg(checked_at)::timestamptz
WHERE id = @id AND sponsored_event <> 'no'
RETURNING slug, title;

-- SponsoredWaiting lists the pages whose sponsored event waits for an admin's check.
-- name: SponsoredWaiting :many
SELECT f.id, f.slug, f.title, f.sponsored_charity_pays_costs, COALESCE(u.display_name, '')::text AS owner_name
FROM fundraisers f LEFT JOIN users u ON u.id = f.owner_id
WHERE f.sponsored_event = 'requested' ORDER BY f.id;
