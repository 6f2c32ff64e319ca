-- The metrics scrape counts mail given up on; this keeps that count off the sent rows.
CREATE INDEX mail_outbox_failed ON mail_outbox (created_at) WHERE status = 'failed';
