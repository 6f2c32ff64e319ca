-- Gift Aid declarations of a donor (campaigns/giftaid/cancel.go).

-- DonorDeclarationsInForce lists the declarations of the donor with this email that are
-- not cancelled on or before at, oldest first.
-- name: DonorDeclarationsInForce :many
SELECT g.id::text AS id, g.scope, g.declared_at, g.effective_from
FROM gift_aid_declarations g JOIN donors r ON r.id = g.donor_id
WHERE r.email = lower(btrim(sqlc.arg(email)::text)) AND (g.cancelled_at IS NULL OR g.cancelled_at > sqlc.arg(at)::timestamptz)
ORDER BY g.declared_at, g.id;

-- CancelDonorDeclarations cancels from a date every declaration of the donor with this
-- email still in force then (one cancelled later is brought forward); the rows are kept.
-- name: CancelDonorDeclarations :many
UPDATE gift_aid_declarations g
SET cancelled_at = sqlc.arg(cancel_from)::timestamptz, cancelled_by = sqlc.arg(cancelled_by)::text,
    cancel_reason = sqlc.arg(reason)::text
FROM donors r
WHERE r.id = g.donor_id AND r.email = lower(btrim(sqlc.arg(email)::text))
  AND (g.cancelled_at IS NULL OR g.cancelled_at > sqlc.arg(cancel_from)::timestamptz)
RETURNING g.id::text AS id, r.email::text AS email, r.name;
