-- The outbox: one row per message, queued with a River job (MailJob) in the transaction that
-- causes the email. River hands the job to one worker at a time and retries it; the row keeps
-- what the developer's /dev/outbox and the metrics show. The worker passes the time from its
-- store's clock, so tests move it instead of sleeping.

-- QueueMails adds messages to the outbox with one statement (one element of each array per
-- message) and returns their ids.
-- name: QueueMails :many
INSERT INTO mail_outbox (to_address, subject, body, html)
SELECT u.to_address, u.subject, u.body, u.html
FROM ROWS FROM (unnest(@to_addresses::text[]), unnest(@subjects::text[]), unnest(@bodies::text[]),
        unnest(@htmls::text[])) WITH ORDINALITY AS u (to_address, subject, body, html, i)
ORDER BY u.i
RETURNING id;

-- MailToSend is the message of a job, while it is still to be sent.
-- name: MailToSend :one
SELECT id, to_address, subject, body, html FROM mail_outbox WHERE id = @id AND status = 'queued';

-- The outcomes touch a row only while it is queued: a late duplicate attempt (a rescued job
-- whose first worker was only slow) cannot undo what the other recorded.
-- A kept row keeps the message as sent, footer included (MailWorker.Footer).
-- name: MailSent :exec
UPDATE mail_outbox SET status = 'sent', sent_at = sqlc.arg(now)::timestamptz, delivered_via = @via, attempts = @attempt,
    last_error = '', body = CASE WHEN @keep_body::boolean THEN @sent_body::text ELSE '' END,
    html = CASE WHEN @keep_body::boolean THEN @sent_html::text ELSE '' END
WHERE id = @id AND status = 'queued';

-- name: MailFailed :exec
UPDATE mail_outbox SET status = 'failed', attempts = @attempt, last_error = @last_error
WHERE id = @id AND status = 'queued';

-- name: MailRetry :exec
UPDATE mail_outbox SET attempts = @attempt, last_error = @last_error, next_attempt_at = @next_attempt_at
WHERE id = @id AND status = 'queued';

-- name: PruneSentMail :exec
DELETE FROM mail_outbox WHERE status = 'sent' AND sent_at < sqlc.arg(now)::timestamptz - @kept_for::interval;

-- name: Outbox :many
SELECT id, to_address, subject, body, html, status, delivered_via, last_error, attempts, created_at, sent_at
FROM mail_outbox ORDER BY id DESC LIMIT @max_rows;

-- name: OutboxHTML :one
SELECT subject, body, html FROM mail_outbox WHERE id = @id;
