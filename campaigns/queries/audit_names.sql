-- The audit log as people read it (campaigns/audit/names.go): filtered by who and what,
-- and the names of the things its entries mention.

-- name: AuditLogFiltered :many
SELECT id, at, coalesce(actor_user_id, 0)::bigint AS actor_user_id, actor_email, action, detail
FROM audit_log
WHERE (sqlc.arg(actor)::text = '' OR actor_email = sqlc.arg(actor)::text)
  AND (sqlc.arg(action)::text = '' OR action = sqlc.arg(action)::text)
ORDER BY id DESC LIMIT sqlc.arg(max_rows)::int;

-- AuditActors and AuditActions are the choices of the log's filter.
-- name: AuditActors :many
SELECT DISTINCT actor_email FROM audit_log ORDER BY actor_email;

-- name: AuditActions :many
SELECT DISTINCT action FROM audit_log ORDER BY action;

-- name: AuditPageTitles :many
SELECT id, title FROM fundraisers WHERE id = ANY(sqlc.arg(ids)::bigint[]);

-- name: AuditDonationEmails :many
SELECT id::text AS id, email FROM donations WHERE id = ANY(sqlc.arg(ids)::uuid[]);

-- name: AuditClaims :many
SELECT id, created_at FROM gift_aid_claims WHERE id = ANY(sqlc.arg(ids)::bigint[]);
