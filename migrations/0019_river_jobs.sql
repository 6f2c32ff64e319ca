-- Mail and the cancellation of disputed monthly gifts at Stripe are now River jobs (River's
-- tables are created by its own migrations, which `giving migrate` applies before these
-- files). A job is inserted with the change that causes it; this gives every message still
-- queued and every cancellation still to do a job of its own, so nothing waiting at the
-- upgrade is forgotten, and drops the outbox's home-made claim.
INSERT INTO river_job (args, kind, max_attempts, queue)
SELECT jsonb_build_object('mail_id', id), 'send_mail', 60, 'mail'
FROM mail_outbox WHERE status = 'queued' ORDER BY id;

INSERT INTO river_job (args, kind, max_attempts, queue)
SELECT jsonb_build_object('subscription_id', subscription_id), 'cancel_subscription', 110, 'stripe'
FROM subscription_cancels WHERE done_at IS NULL ORDER BY queued_at;

DROP INDEX mail_outbox_due;
ALTER TABLE mail_outbox DROP COLUMN claimed_until, DROP COLUMN claim;
DROP INDEX subscription_cancels_due;
