-- A donor's monthly gift managed through an emailed link (campaigns/donations/manage.go).

-- name: InsertManageLink :exec
INSERT INTO manage_links (token_hash, donation_id, created_at, expires_at)
VALUES (@token_hash, sqlc.arg(donation_id)::uuid, sqlc.arg(now)::timestamptz, sqlc.arg(now)::timestamptz + sqlc.arg(lifetime)::interval);

-- Expired links are kept a week (the page can still say "expired"), then forgotten.
-- name: PruneManageLinks :exec
DELETE FROM manage_links WHERE expires_at < sqlc.arg(now)::timestamptz - interval '7 days';

-- ManageLink is the link with this hash and the monthly gift it manages.
-- name: ManageLink :one
SELECT l.donation_id::text AS donation_id, l.expires_at, l.revoked_at
FROM manage_links l WHERE l.token_hash = @token_hash AND l.purpose = 'monthly_gift';

-- name: RevokeManageLinks :exec
UPDATE manage_links SET revoked_at = sqlc.arg(now)::timestamptz WHERE donation_id = sqlc.arg(donation_id)::uuid AND revoked_at IS NULL;

-- MonthlyGiftsByEmail are the monthly gifts, still running at Stripe, given from an address.
-- name: MonthlyGiftsByEmail :many
SELECT id::text AS id FROM donations
WHERE lower(email) = lower(sqlc.arg(email)::text) AND frequency = 'monthly' AND subscription_id IS NOT NULL
    AND status IN ('active', 'past_due') AND erased_at IS NULL
ORDER BY created_at LIMIT 20;

-- ManagedGift is what the manage page shows of a monthly gift.
-- name: ManagedGift :one
SELECT d.id::text AS id, d.amount, d.cover_fee, d.status, d.email, COALESCE(d.subscription_id, '')::text AS subscription_id,
    d.paused_until, COALESCE(d.ended_by, '')::text AS ended_by, d.created_at, a.name AS appeal_name,
    COALESCE(f.title, '')::text AS fundraiser_title, d.frequency = 'monthly' AS monthly, (d.erased_at IS NOT NULL)::boolean AS erased
FROM donations d JOIN appeals a ON a.id = d.appeal_id LEFT JOIN fundraisers f ON f.id = d.fundraiser_id
WHERE d.id = sqlc.arg(id)::uuid;

-- name: InsertManageRequest :one
INSERT INTO manage_requests (donation_id, subscription_id, kind, actor, actor_user_id, reason, site, old_amount, new_amount, resumes_at, requested_at)
VALUES (sqlc.arg(donation_id)::uuid, @subscription_id, @kind, @actor, sqlc.narg(actor_user_id), @reason, @site, NULLIF(sqlc.arg(old_amount)::numeric, 0), NULLIF(sqlc.arg(new_amount)::numeric, 0),
    sqlc.narg(resumes_at), sqlc.arg(now)::timestamptz)
ON CONFLICT DO NOTHING
RETURNING id;

-- name: LatestManageRequest :one
SELECT COALESCE(max(id), 0)::bigint FROM manage_requests WHERE donation_id = sqlc.arg(donation_id)::uuid;

-- name: ManageRequestsFor :many
SELECT id, kind, actor, reason, COALESCE(old_amount, 0)::numeric AS old_amount, COALESCE(new_amount, 0)::numeric AS new_amount, resumes_at, COALESCE(setup_session_id, '')::text AS setup_session_id, payment_method_id, requested_at,
    sent_at, confirmed_at, failed_at, last_error
FROM manage_requests WHERE donation_id = sqlc.arg(donation_id)::uuid ORDER BY id DESC LIMIT 20;

-- name: OpenManageRequests :many
SELECT id, kind, actor, COALESCE(actor_user_id, 0)::bigint AS actor_user_id, reason, COALESCE(old_amount, 0)::numeric AS old_amount, COALESCE(new_amount, 0)::numeric AS new_amount, resumes_at, payment_method_id, requested_at, site
FROM manage_requests WHERE donation_id = sqlc.arg(donation_id)::uuid AND confirmed_at IS NULL AND failed_at IS NULL
ORDER BY id FOR UPDATE;

-- StartManageRequest counts an attempt at a request still open, and returns it.
-- name: StartManageRequest :one
UPDATE manage_requests r SET attempts = @attempt
FROM donations d
WHERE r.id = @id AND d.id = r.donation_id AND r.confirmed_at IS NULL AND r.failed_at IS NULL
RETURNING r.id, r.donation_id::text AS donation_id, r.subscription_id, r.kind, r.actor, r.reason, COALESCE(r.new_amount, 0)::numeric AS new_amount, r.resumes_at,
    COALESCE(r.setup_session_id, '')::text AS setup_session_id, r.payment_method_id, COALESCE(d.customer_id, '')::text AS customer_id;

-- name: ManageRequestSent :exec
UPDATE manage_requests SET sent_at = COALESCE(sent_at, sqlc.arg(now)::timestamptz), last_error = '',
    payment_method_id = CASE WHEN sqlc.arg(payment_method_id)::text <> '' THEN sqlc.arg(payment_method_id)::text ELSE payment_method_id END
WHERE id = @id;

-- name: ManageRequestError :exec
UPDATE manage_requests SET last_error = left(sqlc.arg(last_error)::text, 500) WHERE id = @id;

-- name: ManageRequestFailed :exec
UPDATE manage_requests SET failed_at = sqlc.arg(now)::timestamptz, last_error = left(sqlc.arg(last_error)::text, 500)
WHERE id = @id AND confirmed_at IS NULL;

-- name: ManageRequestConfirmed :exec
UPDATE manage_requests SET confirmed_at = sqlc.arg(now)::timestamptz WHERE id = @id;

-- name: SetManageSetupSession :exec
UPDATE manage_requests SET setup_session_id = @setup_session_id, sent_at = sqlc.arg(now)::timestamptz WHERE id = @id;

-- name: ManageRequestBySetupSession :one
SELECT id, donation_id::text AS donation_id FROM manage_requests
WHERE setup_session_id = @setup_session_id AND confirmed_at IS NULL AND failed_at IS NULL FOR UPDATE;

-- name: SetManagedAmount :exec
UPDATE donations SET amount = @amount, cover_fee = 0, updated_at = now() WHERE id = sqlc.arg(id)::uuid;

-- name: SetPausedUntil :exec
UPDATE donations SET paused_until = sqlc.narg(paused_until) WHERE id = sqlc.arg(id)::uuid;

-- name: SetEndedBy :exec
UPDATE donations SET ended_by = COALESCE(ended_by, sqlc.arg(ended_by)::text) WHERE id = sqlc.arg(id)::uuid;

-- name: DisputeCancelled :one
SELECT EXISTS (SELECT 1 FROM subscription_cancels WHERE donation_id = sqlc.arg(donation_id)::uuid);

-- DashboardMonthlyEnds counts the appeal's ended and paused monthly gifts as they stand now.
-- A gift a dispute ended is known by its queued cancellation before Stripe confirms it.
-- name: DashboardMonthlyEnds :one
SELECT
    count(*) FILTER (WHERE d.status = 'cancelled' AND d.ended_by = 'donor') AS by_donor,
    count(*) FILTER (WHERE d.status = 'cancelled' AND d.ended_by = 'admin') AS by_admin,
    count(*) FILTER (WHERE d.status = 'cancelled' AND (d.ended_by = 'dispute'
        OR (d.ended_by IS NULL AND EXISTS (SELECT 1 FROM subscription_cancels c WHERE c.donation_id = d.id)))) AS by_dispute,
    count(*) FILTER (WHERE d.status = 'cancelled' AND d.ended_by = 'payment_failed') AS by_payment_failure,
    count(*) FILTER (WHERE d.status IN ('active', 'past_due') AND d.paused_until > sqlc.arg(now)::timestamptz) AS paused,
    COALESCE(sum(d.amount + d.cover_fee) FILTER (WHERE d.status IN ('active', 'past_due') AND d.paused_until > sqlc.arg(now)::timestamptz), 0)::numeric AS paused_income
FROM donations d WHERE d.appeal_id = @appeal_id AND d.frequency = 'monthly' AND d.status IN ('active', 'past_due', 'cancelled');

-- DashboardAmountChanges counts the monthly amounts Stripe confirmed changed in a period.
-- name: DashboardAmountChanges :one
SELECT count(*) FILTER (WHERE r.new_amount > r.old_amount) AS up,
       count(*) FILTER (WHERE r.new_amount < r.old_amount) AS down
FROM manage_requests r JOIN donations d ON d.id = r.donation_id
WHERE d.appeal_id = @appeal_id AND r.kind = 'amount' AND r.confirmed_at >= sqlc.arg(from_at)::timestamptz AND r.confirmed_at < sqlc.arg(to_at)::timestamptz;

-- name: MonthlyGiftsForAdmin :many
SELECT d.id::text AS id, (d.amount + d.cover_fee)::numeric AS amount, d.status, d.email, d.paused_until, d.created_at,
    EXISTS (SELECT 1 FROM manage_requests r WHERE r.donation_id = d.id AND r.confirmed_at IS NULL AND r.failed_at IS NULL AND r.kind <> 'card') AS waiting
FROM donations d
WHERE d.frequency = 'monthly' AND d.subscription_id IS NOT NULL AND d.status IN ('active', 'past_due') AND d.erased_at IS NULL
    AND (sqlc.arg(email)::text = '' OR lower(d.email) = lower(sqlc.arg(email)::text))
ORDER BY d.created_at DESC LIMIT 50;

-- name: SetManagePaymentMethod :exec
UPDATE manage_requests SET payment_method_id = @payment_method_id WHERE id = @id AND kind = 'card';

-- name: ManageAttemptEmail :one
SELECT email FROM login_attempts WHERE id = @id AND kind = 'manage';
