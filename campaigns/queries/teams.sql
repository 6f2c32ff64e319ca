-- A page's lifecycle (an end date, or the person it remembers), teams of pages, and the
-- updates a fundraiser posts on her page (campaigns/pages: lifecycle.go, teams.go,
-- updates.go). Times are the store's clock, passed in.

-- PageLifecycle is a page's end date and memorial name; no row: neither.
-- name: PageLifecycle :one
SELECT ends_on, in_memory_of FROM page_lifecycle WHERE fundraiser_id = @fundraiser_id;

-- name: SetPageLifecycle :exec
INSERT INTO page_lifecycle (fundraiser_id, ends_on, in_memory_of, updated_at)
VALUES (@fundraiser_id, sqlc.narg(ends_on)::date, @in_memory_of, @at)
ON CONFLICT (fundraiser_id) DO UPDATE SET ends_on = EXCLUDED.ends_on, in_memory_of = EXCLUDED.in_memory_of,
    updated_at = EXCLUDED.updated_at;

-- name: InsertTeam :one
INSERT INTO teams (appeal_id, slug, name, target, captain_id, join_code, created_at)
VALUES (@appeal_id, @slug, @name, @target, @captain_id, @join_code, @at)
ON CONFLICT (slug) DO NOTHING RETURNING id;

-- name: TeamSlugsLike :many
SELECT slug FROM teams WHERE slug = @base OR slug LIKE @numbered;

-- name: TeamBySlug :one
SELECT id, appeal_id, slug, name, target, captain_id, join_code, created_at FROM teams WHERE slug = @slug;

-- name: TeamByJoinCode :one
SELECT id, appeal_id, slug, name, target, captain_id, join_code, created_at FROM teams WHERE join_code = @join_code;

-- name: TeamsOfCaptain :many
SELECT id, appeal_id, slug, name, target, captain_id, join_code, created_at FROM teams
WHERE captain_id = @captain_id ORDER BY created_at DESC, id DESC;

-- JoinTeam puts a page in a team unless it is in one already (no row then).
-- name: JoinTeam :one
INSERT INTO team_members (fundraiser_id, team_id, joined_at) VALUES (@fundraiser_id, @team_id, @at)
ON CONFLICT (fundraiser_id) DO NOTHING RETURNING team_id;

-- PageTeam is the team a page is in; no row: none.
-- name: PageTeam :one
SELECT t.id, t.appeal_id, t.slug, t.name, t.target, t.captain_id, t.join_code, t.created_at
FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.fundraiser_id = @fundraiser_id;

-- TeamLeaderboard is a team's live member pages, the most raised first, each with what it
-- has raised from the ledger's totals (gifts less refunds, open and lost disputes).
-- name: TeamLeaderboard :many
SELECT f.id, f.slug, f.title, COALESCE(u.display_name, '')::text AS owner_name,
    COALESCE(s.raised, 0)::numeric AS raised, COALESCE(s.gifts, 0)::bigint AS gifts
FROM team_members m
JOIN fundraisers f ON f.id = m.fundraiser_id
LEFT JOIN users u ON u.id = f.owner_id
LEFT JOIN LATERAL (SELECT sum(t.gross - t.refunded - t.disputed - t.lost) AS raised, sum(t.gifts) AS gifts
    FROM totals t WHERE t.scope = 'fundraiser' AND t.scope_id = f.id) s ON true
WHERE m.team_id = @team_id AND f.status = 'approved'
ORDER BY raised DESC, m.joined_at, f.id;

-- name: InsertPageUpdate :one
INSERT INTO page_updates (fundraiser_id, author_id, body, posted_at) VALUES (@fundraiser_id, @author_id, @body, @at)
RETURNING id;

-- name: PageUpdates :many
SELECT id, body, posted_at FROM page_updates
WHERE fundraiser_id = @fundraiser_id AND deleted_at IS NULL
ORDER BY posted_at DESC, id DESC LIMIT @max_rows;

-- DeleteOwnUpdate takes an update off her own page; no row when it is not hers or gone.
-- name: DeleteOwnUpdate :one
UPDATE page_updates u SET deleted_at = @at::timestamptz
FROM fundraisers f
WHERE u.id = @id AND u.fundraiser_id = f.id AND f.owner_id = @owner_id::bigint AND u.deleted_at IS NULL
RETURNING u.fundraiser_id;

-- TeamDonors counts the distinct donors across a team's live pages: one person who gave on
-- two members' pages is one donor.
-- name: TeamDonors :one
SELECT count(DISTINCT d.donor_key)::bigint FROM total_donors d
JOIN team_members m ON m.fundraiser_id = d.scope_id JOIN fundraisers f ON f.id = m.fundraiser_id
WHERE d.scope = 'fundraiser' AND m.team_id = @team_id AND f.status = 'approved';
