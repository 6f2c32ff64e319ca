-- Appeals and their tiers (campaigns/appeals).

-- The three ways to read an appeal return the same columns, so their rows convert to one
-- another (appealFromRow).
-- name: AppealBySlug :one
SELECT id, slug, name, summary, story, currency, target, gift_aid_rate, is_default FROM appeals WHERE slug = @slug;

-- name: AppealByID :one
SELECT id, slug, name, summary, story, currency, target, gift_aid_rate, is_default FROM appeals WHERE id = @id;

-- name: DefaultAppeal :one
SELECT id, slug, name, summary, story, currency, target, gift_aid_rate, is_default FROM appeals WHERE is_default;

-- ActiveTiers are the tiers donors choose from, cheapest first.
-- name: ActiveTiers :many
SELECT id, amount, title, impact, position FROM tiers
WHERE appeal_id = @appeal_id AND active ORDER BY amount;

-- SeedAppeal creates the seeded appeal unless an appeal has its slug (then no row).
-- name: SeedAppeal :one
INSERT INTO appeals (slug, name, summary, story, target, is_default)
VALUES (@slug, @name, @summary, @story, @target, NOT EXISTS (SELECT 1 FROM appeals WHERE is_default))
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
