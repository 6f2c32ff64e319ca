-- name: InsertAudit :exec
INSERT INTO audit_log (actor_user_id, actor_email, action, detail)
VALUES (sqlc.narg(actor_user_id), @actor_email, @action, @detail);

-- name: AuditLog :many
SELECT id, at, coalesce(actor_user_id, 0)::bigint AS actor_user_id, actor_email, action, detail
FROM audit_log ORDER BY id DESC LIMIT @max_rows;
