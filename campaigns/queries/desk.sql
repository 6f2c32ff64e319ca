-- The admins' desk (campaigns/pages/queue.go): pages waiting for approval with who wrote
-- them, the addresses told when one starts waiting, and a page's status read under lock
-- before it changes, so each change is emailed once.

-- PagesWaiting lists an appeal's pending pages, the longest waiting first, with the name
-- and address of the fundraiser who wrote each ('' for a page made without an owner).
-- name: PagesWaiting :many
SELECT f.id, f.slug, f.title, f.created_at,
    COALESCE(u.display_name, '')::text AS author_name, COALESCE(u.email, '')::text AS author_email
FROM fundraisers f LEFT JOIN users u ON u.id = f.owner_id
WHERE f.appeal_id = @appeal_id AND f.status = 'pending'
ORDER BY f.created_at, f.id LIMIT sqlc.arg(max_rows)::bigint;

-- AdminAddresses are the addresses of the enabled admin accounts.
-- name: AdminAddresses :many
SELECT email FROM users WHERE role = 'admin' AND NOT disabled ORDER BY id;

-- LockPageStatus reads a page's status and owner before an admin changes it.
-- name: LockPageStatus :one
SELECT f.status, f.slug, f.title,
    COALESCE(u.display_name, '')::text AS owner_name, COALESCE(u.email, '')::text AS owner_email,
    COALESCE(u.disabled, false)::boolean AS owner_disabled
FROM fundraisers f LEFT JOIN users u ON u.id = f.owner_id
WHERE f.id = @id FOR UPDATE OF f;
