-- Page photos are stored as copies at the widths pages show (campaigns/pages/photo.go): the widest in
-- fundraiser_photos, the narrower ones in fundraiser_photo_sizes.

-- name: SavePagePhoto :exec
INSERT INTO fundraiser_photos (fundraiser_id, content_type, data, width, height, sha256)
VALUES (@fundraiser_id, @content_type, @data, @width, @height, @sha256)
ON CONFLICT (fundraiser_id) DO UPDATE SET content_type = EXCLUDED.content_type, data = EXCLUDED.data,
    width = EXCLUDED.width, height = EXCLUDED.height, sha256 = EXCLUDED.sha256, updated_at = now();

-- name: DeletePhotoSizes :exec
DELETE FROM fundraiser_photo_sizes WHERE fundraiser_id = @fundraiser_id;

-- name: SavePhotoSize :exec
INSERT INTO fundraiser_photo_sizes (fundraiser_id, width, height, content_type, data, sha256)
VALUES (@fundraiser_id, @width, @height, @content_type, @data, @sha256);

-- PhotoWidths lists the copies of a page's photo, narrowest first; the last is the one
-- /f/{slug}/photo serves.
-- name: PhotoWidths :many
SELECT width, height FROM (
    SELECT p.width, p.height FROM fundraiser_photos p WHERE p.fundraiser_id = @fundraiser_id
    UNION
    SELECT s.width, s.height FROM fundraiser_photo_sizes s WHERE s.fundraiser_id = @fundraiser_id
) c ORDER BY width;

-- name: PhotoSize :one
SELECT content_type, data, width, height, sha256, updated_at FROM fundraiser_photo_sizes
WHERE fundraiser_id = @fundraiser_id AND width = @width;

-- The quota: one fundraiser's pages and the bytes of their photos. Locking her account row
-- makes two uploads at once count one after the other.
-- name: LockAccount :exec
SELECT id FROM users WHERE id = @id FOR UPDATE;

-- name: OwnPageCount :one
SELECT count(*) FROM fundraisers WHERE owner_id = @owner_id::bigint;

-- OwnPhotoBytes is what the photos of her pages take, but the page whose photo is being
-- replaced.
-- name: OwnPhotoBytes :one
SELECT (COALESCE((SELECT sum(octet_length(p.data)) FROM fundraiser_photos p JOIN fundraisers f ON f.id = p.fundraiser_id
        WHERE f.owner_id = @owner_id::bigint AND f.id <> @except_page), 0)
    + COALESCE((SELECT sum(octet_length(s.data)) FROM fundraiser_photo_sizes s JOIN fundraisers f ON f.id = s.fundraiser_id
        WHERE f.owner_id = @owner_id::bigint AND f.id <> @except_page), 0))::bigint AS bytes;

-- The admin page's list of an appeal's pages, pending first, then newest first.
-- name: AppealPageCount :one
SELECT count(*) FROM fundraisers WHERE appeal_id = @appeal_id;

-- name: AppealPages :many
SELECT f.id, f.appeal_id, f.slug, f.title, f.story, f.target, f.status, COALESCE(f.owner_id, 0)::bigint AS owner_id,
    EXISTS (SELECT 1 FROM fundraiser_photos p WHERE p.fundraiser_id = f.id) AS has_photo
FROM fundraisers f WHERE f.appeal_id = @appeal_id
ORDER BY f.status = 'pending' DESC, f.created_at DESC, f.id DESC
LIMIT @max_rows OFFSET @skip;
