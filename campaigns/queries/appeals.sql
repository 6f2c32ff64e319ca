-- Appeals and their tiers (campaigns/appeals).

-- The three ways to read an appeal return the same columns, so their rows convert to one
-- another (appealFromRow).
-- name: AppealBySlug :one
SELECT id, slug, name, summary, story, currency, target, gift_aid_rate, is_default,
       status, fund_code, fund_restricted, surplus_statement, COALESCE(preselected_tier_id, 0)::bigint AS preselected_tier_id,
       EXISTS (SELECT 1 FROM appeal_photos p WHERE p.appeal_id = appeals.id) AS has_photo
FROM appeals WHERE slug = @slug;

-- name: AppealByID :one
SELECT id, slug, name, summary, story, currency, target, gift_aid_rate, is_default,
       status, fund_code, fund_restricted, surplus_statement, COALESCE(preselected_tier_id, 0)::bigint AS preselected_tier_id,
       EXISTS (SELECT 1 FROM appeal_photos p WHERE p.appeal_id = appeals.id) AS has_photo
FROM appeals WHERE id = @id;

-- name: DefaultAppeal :one
SELECT id, slug, name, summary, story, currency, target, gift_aid_rate, is_default,
       status, fund_code, fund_restricted, surplus_statement, COALESCE(preselected_tier_id, 0)::bigint AS preselected_tier_id,
       EXISTS (SELECT 1 FROM appeal_photos p WHERE p.appeal_id = appeals.id) AS has_photo
FROM appeals WHERE is_default;

-- ActiveTiers are the tiers donors choose from, cheapest first.
-- name: ActiveTiers :many
SELECT id, amount, title, impact, position FROM tiers
WHERE appeal_id = @appeal_id AND active ORDER BY amount;

-- SeedAppeal creates the seeded appeal unless an appeal has its slug (then no row).
-- name: SeedAppeal :one
INSERT INTO appeals (slug, name, summary, story, target, fund_code, fund_restricted, surplus_statement, is_default)
VALUES (@slug, @name, @summary, @story, @target, @fund_code, @fund_restricted, @surplus_statement,
        NOT EXISTS (SELECT 1 FROM appeals WHERE is_default))
ON CONFLICT (slug) DO NOTHING RETURNING id;

-- name: SeedTier :exec
INSERT INTO tiers (appeal_id, amount, title, impact, position)
VALUES (@appeal_id, @amount, @title, @impact, @position) ON CONFLICT (appeal_id, amount) DO NOTHING;

-- AppealGiftAidRate is the Gift Aid rate of an appeal (tax reclaimed per pound given).
-- name: AppealGiftAidRate :one
SELECT gift_aid_rate FROM appeals WHERE id = @id;

-- AppealWall lists the latest gifts to an appeal, through any of its pages, as Wall does
-- for one page; money Stripe reported for an unknown object is not a supporter's gift.
-- name: AppealWall :many
SELECT d.display_name, d.hide_name, d.amount, d.hide_amount, (CASE WHEN d.message_hidden_at IS NULL THEN d.message ELSE '' END)::text AS message, d.frequency = 'monthly' AS monthly, g.given_at
FROM donations d
CROSS JOIN LATERAL (SELECT min(e.occurred_at)::timestamptz AS given_at FROM ledger_entries e WHERE e.donation_id = d.id AND e.kind = 'gift') g
WHERE d.appeal_id = sqlc.arg(appeal_id)::bigint AND NOT d.unmatched AND g.given_at IS NOT NULL
ORDER BY d.created_at DESC LIMIT sqlc.arg(max_rows)::bigint;

-- ListAppeals is every appeal, the default first, then open before closed, newest first.
-- name: ListAppeals :many
SELECT id, slug, name, summary, story, currency, target, gift_aid_rate, is_default,
       status, fund_code, fund_restricted, surplus_statement, COALESCE(preselected_tier_id, 0)::bigint AS preselected_tier_id,
       EXISTS (SELECT 1 FROM appeal_photos p WHERE p.appeal_id = appeals.id) AS has_photo
FROM appeals ORDER BY is_default DESC, status = 'open' DESC, created_at DESC, id DESC;

-- InsertAppeal creates an appeal (open, not the default); a slug already taken is a
-- unique violation.
-- name: InsertAppeal :one
INSERT INTO appeals (slug, name, summary, story, target, fund_code, fund_restricted, surplus_statement, created_at)
VALUES (@slug, @name, @summary, @story, @target, @fund_code, @fund_restricted, @surplus_statement, @created_at)
RETURNING id;

-- LockAppeal reads what an edit's audit row names, locking the appeal.
-- name: LockAppeal :one
SELECT slug, target, status, fund_code, fund_restricted, is_default FROM appeals WHERE id = @id FOR UPDATE;

-- name: SetAppealStatus :exec
UPDATE appeals SET status = @status WHERE id = @id;

-- SetPreselectedTier sets the tier a fresh form starts on (0: the middle tier); only an
-- active tier of the same appeal (else no row).
-- name: SetPreselectedTier :execresult
UPDATE appeals a SET preselected_tier_id = NULLIF(@tier_id::bigint, 0)
WHERE a.id = @id AND (@tier_id::bigint = 0 OR EXISTS (SELECT 1 FROM tiers t WHERE t.id = @tier_id::bigint AND t.appeal_id = a.id AND t.active));

-- An appeal's photo, as copies at the widths pages show (campaigns/pages/photo.go makes them).
-- name: DeleteAppealPhotos :exec
DELETE FROM appeal_photos WHERE appeal_id = @appeal_id;

-- name: SaveAppealPhoto :exec
INSERT INTO appeal_photos (appeal_id, width, height, content_type, data, sha256, updated_at)
VALUES (@appeal_id, @width, @height, @content_type, @data, @sha256, @updated_at);

-- AppealPhotoWidths lists the copies of an appeal's photo, narrowest first.
-- name: AppealPhotoWidths :many
SELECT width, height FROM appeal_photos WHERE appeal_id = @appeal_id ORDER BY width;

-- AppealPhoto is the copy of the appeal's photo that wide, or the widest for width 0.
-- name: AppealPhoto :one
SELECT p.content_type, p.data, p.width, p.height, p.sha256, p.updated_at
FROM appeal_photos p JOIN appeals a ON a.id = p.appeal_id
WHERE a.slug = @slug AND (@width::int = 0 OR p.width = @width::int)
ORDER BY p.width DESC LIMIT 1;
