-- HideableMessage locks a gift whose message someone may hide or show again: any gift to a
-- fundraiser page owned by owner_id, or, when any_page, any gift at all (a trustee's or
-- an admin's). No row: not theirs to touch.
-- name: HideableMessage :one
SELECT d.id::text AS donation_id, d.fundraiser_id, (d.message_hidden_at IS NOT NULL)::boolean AS hidden
FROM donations d
LEFT JOIN fundraisers f ON f.id = d.fundraiser_id
WHERE d.id = @donation_id::uuid AND (@any_page::boolean OR f.owner_id = @owner_id::bigint)
FOR UPDATE OF d;

-- SetMessageHidden hides a gift's message from the public walls (hidden_by set) or shows
-- it again (hidden_by NULL).
-- name: SetMessageHidden :exec
UPDATE donations SET
    message_hidden_at = CASE WHEN sqlc.narg(hidden_by)::bigint IS NULL THEN NULL ELSE @at::timestamptz END,
    message_hidden_by = sqlc.narg(hidden_by)::bigint
WHERE id = @donation_id::uuid;

-- PageMessages lists the messages left with gifts to a page, newest first, hidden or not:
-- what a trustee or an admin moderates on the page's preview.
-- name: PageMessages :many
SELECT d.id::text AS donation_id, d.display_name, d.message, (d.message_hidden_at IS NOT NULL)::boolean AS hidden
FROM donations d
WHERE d.fundraiser_id = @fundraiser_id::bigint AND d.message <> ''
    AND EXISTS (SELECT 1 FROM ledger_entries e WHERE e.donation_id = d.id AND e.kind = 'gift')
ORDER BY d.created_at DESC LIMIT @max_rows::bigint;
