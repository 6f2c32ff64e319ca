-- Fundraiser pages written by fundraisers (campaigns/pages): their addresses, editing,
-- the gifts they received and thank-you notes, and offline money with its review. A page is
-- read with the columns of campaigns.Fundraiser; an offline taking with its page and the
-- email of the fundraiser who entered it.

-- PageSlugsLike lists the addresses a new one would collide with: base itself and base-N.
-- name: PageSlugsLike :many
SELECT slug FROM fundraisers WHERE slug = @base OR slug LIKE @numbered;

-- name: InsertOwnPage :one
INSERT INTO fundraisers (appeal_id, slug, title, story, target, status, owner_id)
VALUES (@appeal_id, @slug, @title, @story, @target, 'pending', @owner_id::bigint) ON CONFLICT (slug) DO NOTHING RETURNING id;

-- name: PageByID :one
SELECT id, appeal_id, slug, title, story, target, status, COALESCE(owner_id, 0)::bigint AS owner_id,
    EXISTS (SELECT 1 FROM fundraiser_photos p WHERE p.fundraiser_id = fundraisers.id) AS has_photo
FROM fundraisers WHERE id = @id;

-- name: OwnPageByID :one
SELECT id, appeal_id, slug, title, story, target, status, COALESCE(owner_id, 0)::bigint AS owner_id,
    EXISTS (SELECT 1 FROM fundraiser_photos p WHERE p.fundraiser_id = fundraisers.id) AS has_photo
FROM fundraisers WHERE id = @id AND owner_id = @owner_id::bigint;

-- name: LockOwnPage :one
SELECT id, appeal_id, slug, title, story, target, status, COALESCE(owner_id, 0)::bigint AS owner_id,
    EXISTS (SELECT 1 FROM fundraiser_photos p WHERE p.fundraiser_id = fundraisers.id) AS has_photo
FROM fundraisers
WHERE id = @id AND owner_id = @owner_id::bigint FOR UPDATE;

-- name: OwnPagesNewestFirst :many
SELECT id, appeal_id, slug, title, story, target, status, COALESCE(owner_id, 0)::bigint AS owner_id,
    EXISTS (SELECT 1 FROM fundraiser_photos p WHERE p.fundraiser_id = fundraisers.id) AS has_photo
FROM fundraisers WHERE owner_id = @owner_id::bigint ORDER BY created_at DESC, id DESC;

-- name: PageBySlug :one
SELECT id, appeal_id, slug, title, story, target, status, COALESCE(owner_id, 0)::bigint AS owner_id,
    EXISTS (SELECT 1 FROM fundraiser_photos p WHERE p.fundraiser_id = fundraisers.id) AS has_photo
FROM fundraisers WHERE slug = @slug;

-- UpdateOwnPage changes her page unless another page has the address; no row when it does.
-- name: UpdateOwnPage :execrows
UPDATE fundraisers SET slug = @slug, title = @title, story = @story, target = @target, updated_at = now()
WHERE fundraisers.id = @id AND fundraisers.owner_id = @owner_id::bigint AND NOT EXISTS (SELECT 1 FROM fundraisers o WHERE o.slug = @slug AND o.id <> @id);

-- PageMainPhoto is the widest copy of a page's photo.
-- name: PageMainPhoto :one
SELECT content_type, data, width, height, sha256, updated_at FROM fundraiser_photos
WHERE fundraiser_id = @fundraiser_id;

-- OwnPageGifts is every gift that reached one of her pages, newest first.
-- name: OwnPageGifts :many
SELECT d.id::text AS donation_id, f.id AS page_id, f.title AS page_title, d.display_name, d.hide_name, d.amount, d.hide_amount,
    d.message, (d.frequency = 'monthly')::boolean AS monthly, g.at::timestamptz AS given_at,
    (d.message_hidden_at IS NOT NULL)::boolean AS message_hidden,
    (t.donation_id IS NOT NULL)::boolean AS thanked, (d.email <> '')::boolean AS reachable
FROM fundraisers f
JOIN donations d ON d.fundraiser_id = f.id
CROSS JOIN LATERAL (SELECT min(e.occurred_at) AS at FROM ledger_entries e
    WHERE e.donation_id = d.id AND e.kind = 'gift') g
LEFT JOIN gift_thanks t ON t.donation_id = d.id
WHERE f.owner_id = @owner_id::bigint AND g.at IS NOT NULL
ORDER BY g.at DESC, d.id LIMIT @max_rows;

-- InsertOwnOffline records offline money on her own page; no row when the page is not hers.
-- name: InsertOwnOffline :one
INSERT INTO offline_takings (fundraiser_id, submitted_by, amount, received_on, kind, note)
SELECT f.id, @submitted_by::bigint, @amount::numeric, @received_on::date, @kind::text, @note::text
FROM fundraisers f WHERE f.id = @fundraiser_id AND f.owner_id = @submitted_by::bigint RETURNING id;

-- name: OwnOffline :many
SELECT o.id, o.fundraiser_id, f.title AS page_title, f.slug AS page_slug, f.appeal_id, u.email AS submitted_by, o.amount,
    o.received_on, o.kind, o.note, o.status, o.created_at, o.reversed_at, o.reversal_reason
FROM offline_takings o JOIN fundraisers f ON f.id = o.fundraiser_id JOIN users u ON u.id = o.submitted_by
WHERE f.owner_id = @owner_id::bigint ORDER BY o.created_at DESC, o.id DESC;

-- name: PendingOffline :many
SELECT o.id, o.fundraiser_id, f.title AS page_title, f.slug AS page_slug, f.appeal_id, u.email AS submitted_by, o.amount,
    o.received_on, o.kind, o.note, o.status, o.created_at, o.reversed_at, o.reversal_reason
FROM offline_takings o JOIN fundraisers f ON f.id = o.fundraiser_id JOIN users u ON u.id = o.submitted_by
WHERE o.status = 'pending' ORDER BY o.created_at, o.id LIMIT @max_rows;

-- DecidedOffline is the money admins verified (and any since reversed), most recently
-- decided first.
-- name: DecidedOffline :many
SELECT o.id, o.fundraiser_id, f.title AS page_title, f.slug AS page_slug, f.appeal_id, u.email AS submitted_by, o.amount,
    o.received_on, o.kind, o.note, o.status, o.created_at, o.reversed_at, o.reversal_reason
FROM offline_takings o JOIN fundraisers f ON f.id = o.fundraiser_id JOIN users u ON u.id = o.submitted_by
WHERE o.status IN ('verified', 'reversed')
ORDER BY COALESCE(o.reversed_at, o.decided_at) DESC, o.id DESC LIMIT @max_rows;

-- VerifiedOffline is every taking that reached the ledger, for replay.
-- name: VerifiedOffline :many
SELECT o.id, o.fundraiser_id, f.title AS page_title, f.slug AS page_slug, f.appeal_id, u.email AS submitted_by, o.amount,
    o.received_on, o.kind, o.note, o.status, o.created_at, o.reversed_at, o.reversal_reason
FROM offline_takings o JOIN fundraisers f ON f.id = o.fundraiser_id JOIN users u ON u.id = o.submitted_by
WHERE o.status IN ('verified', 'reversed') ORDER BY o.id;

-- name: LockOffline :one
SELECT o.id, o.fundraiser_id, f.title AS page_title, f.slug AS page_slug, f.appeal_id, u.email AS submitted_by, o.amount,
    o.received_on, o.kind, o.note, o.status, o.created_at, o.reversed_at, o.reversal_reason
FROM offline_takings o JOIN fundraisers f ON f.id = o.fundraiser_id JOIN users u ON u.id = o.submitted_by
WHERE o.id = @id FOR UPDATE OF o;

-- name: ReverseOffline :one
UPDATE offline_takings SET status = 'reversed', reversed_by = NULLIF(@reversed_by::bigint, 0), reversed_at = now(), reversal_reason = @reason
WHERE id = @id RETURNING reversed_at;

-- name: DecideOffline :exec
UPDATE offline_takings SET status = @status, decided_by = @decided_by::bigint, decided_at = now() WHERE id = @id;

-- GiftToThank is a gift to one of her pages, locked, with the donor's address.
-- name: GiftToThank :one
SELECT d.email, f.title, f.id AS page_id FROM donations d JOIN fundraisers f ON f.id = d.fundraiser_id
WHERE d.id = @donation_id::uuid AND f.owner_id = @owner_id::bigint
  AND EXISTS (SELECT 1 FROM ledger_entries e WHERE e.donation_id = d.id AND e.kind = 'gift')
FOR UPDATE OF d;

-- name: RecordThanks :execrows
INSERT INTO gift_thanks (donation_id, fundraiser_id, thanked_by) VALUES (@donation_id::uuid, @fundraiser_id, @thanked_by)
ON CONFLICT (donation_id) DO NOTHING;
