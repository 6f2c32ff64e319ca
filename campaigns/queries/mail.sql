-- name: QueueMail :exec
INSERT INTO mail_outbox (to_address, subject, body) VALUES (@to_address, @subject, @body);

-- ClaimMail takes due rows for one worker under a fresh claim id: SKIP LOCKED lets
-- concurrent workers take different rows; the lease keeps a row from being taken again
-- while its worker sends, and lets it be taken once that worker has vanished.
-- name: ClaimMail :many
UPDATE mail_outbox SET claimed_until = sqlc.arg(now)::timestamptz + @lease::interval, claim = @claim, attempts = attempts + 1
WHERE id IN (SELECT m.id FROM mail_outbox m
    WHERE m.status = 'queued' AND m.next_attempt_at <= sqlc.arg(now)::timestamptz AND (m.claimed_until IS NULL OR m.claimed_until < sqlc.arg(now)::timestamptz)
    ORDER BY m.next_attempt_at, m.id LIMIT @max_rows FOR UPDATE SKIP LOCKED)
RETURNING id, attempts, to_address, subject, body;

-- The outcomes touch a row only while the worker's claim holds.
-- name: ReleaseMail :exec
UPDATE mail_outbox SET claimed_until = NULL, attempts = attempts - 1
WHERE id = ANY(@ids::bigint[]) AND claim = @claim;

-- name: MailSent :exec
UPDATE mail_outbox SET status = 'sent', sent_at = sqlc.arg(now)::timestamptz, delivered_via = @via,
    claimed_until = NULL, last_error = '', body = CASE WHEN @keep_body::boolean THEN body ELSE '' END
WHERE id = @id AND claim = @claim;

-- name: MailFailed :exec
UPDATE mail_outbox SET status = 'failed', claimed_until = NULL, last_error = @last_error
WHERE id = @id AND claim = @claim;

-- name: MailRetry :exec
UPDATE mail_outbox SET claimed_until = NULL, last_error = @last_error, next_attempt_at = sqlc.arg(now)::timestamptz + @backoff::interval
WHERE id = @id AND claim = @claim;

-- name: PruneSentMail :exec
DELETE FROM mail_outbox WHERE status = 'sent' AND sent_at < sqlc.arg(now)::timestamptz - @kept_for::interval;

-- name: Outbox :many
SELECT id, to_address, subject, body, status, delivered_via, last_error, attempts, created_at, sent_at
FROM mail_outbox ORDER BY id DESC LIMIT @max_rows;
