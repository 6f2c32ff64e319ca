-- Direct Debit: how donors may pay, the way each donation is paid, and the money still
-- on its way (campaigns/donations/directdebit.go, campaigns/reports).

-- name: PaymentSettings :one
SELECT direct_debit_monthly, direct_debit_one_off FROM payment_settings WHERE id;

-- name: SetPaymentSettings :execrows
UPDATE payment_settings SET direct_debit_monthly = @direct_debit_monthly, direct_debit_one_off = @direct_debit_one_off,
    updated_at = now()
WHERE id AND (direct_debit_monthly, direct_debit_one_off) IS DISTINCT FROM (@direct_debit_monthly::boolean, @direct_debit_one_off::boolean);

-- name: DonationPaymentMethod :one
SELECT payment_method FROM donations WHERE id = sqlc.arg(id)::uuid;

-- DashboardProcessing: the appeal's donations whose money is on its way (a Direct Debit
-- set up, not yet collected), as the donor will pay it.
-- name: DashboardProcessing :one
SELECT count(*)::bigint AS gifts, COALESCE(sum(amount + cover_fee), 0)::numeric AS amount
FROM donations WHERE appeal_id = @appeal_id AND status = 'processing';

-- TrusteeAddresses are the addresses of the enabled trustee and admin accounts.
-- name: TrusteeAddresses :many
SELECT email FROM users WHERE role IN ('trustee', 'admin') AND NOT disabled ORDER BY id;

-- WaitingDirectDebits: Direct Debits set up and not yet collected, newest first, among
-- the sessions whose ids start with the prefix (the sandbox's own).
-- name: WaitingDirectDebits :many
SELECT id::text AS id, (amount + cover_fee)::numeric AS total, frequency = 'monthly' AS monthly, email,
    COALESCE(status_event_at, created_at)::timestamptz AS since
FROM donations
WHERE status = 'processing' AND payment_method = 'bacs_debit'
  AND checkout_session_id LIKE sqlc.arg(session_prefix)::text || '%'
ORDER BY created_at DESC, id LIMIT 50;
