-- Log-in failures, sign-up and reset requests, and device cookies (campaigns/accounts/lockout.go).

-- name: RecordAttempt :one
INSERT INTO login_attempts (kind, email, client, device) VALUES (@kind, @email, @client, sqlc.narg(device))
RETURNING id;

-- name: ForgetAttempt :exec
DELETE FROM login_attempts WHERE id = @id;

-- LoginPressure is, for one log-in attempt, the times that decide whether it may go ahead:
-- the (offset+1)-th most recent other failure from the client, the client's latest
-- failure, the MaxLoginFailures-th and the cap-th most recent failure for the email made
-- without a device cookie, and the MaxLoginFailures-th most recent failure made with the
-- attempt's own device cookie. A missing one is the epoch, long outside any window.
-- name: LoginPressure :one
SELECT
    COALESCE((SELECT a.at FROM login_attempts a WHERE a.kind = 'login' AND a.client = @client AND a.id <> @id
        AND a.at > now() - @time_window::interval ORDER BY a.at DESC OFFSET @max_failures_offset::int LIMIT 1), 'epoch'::timestamptz)::timestamptz AS client_nth,
    COALESCE((SELECT a.at FROM login_attempts a WHERE a.kind = 'login' AND a.client = @client AND a.id <> @id
        AND a.at > now() - @time_window::interval ORDER BY a.at DESC LIMIT 1), 'epoch'::timestamptz)::timestamptz AS client_last,
    COALESCE((SELECT a.at FROM login_attempts a WHERE a.kind = 'login' AND a.email = @email AND a.device IS NULL AND a.id <> @id
        AND a.at > now() - @time_window::interval ORDER BY a.at DESC OFFSET @max_failures_offset::int LIMIT 1), 'epoch'::timestamptz)::timestamptz AS email_nth,
    COALESCE((SELECT a.at FROM login_attempts a WHERE a.kind = 'login' AND a.email = @email AND a.device IS NULL AND a.id <> @id
        AND a.at > now() - @time_window::interval ORDER BY a.at DESC OFFSET @cap_offset::int LIMIT 1), 'epoch'::timestamptz)::timestamptz AS email_cap,
    COALESCE((SELECT a.at FROM login_attempts a WHERE a.kind = 'login' AND a.device = sqlc.narg(device) AND a.id <> @id
        AND a.at > now() - @time_window::interval ORDER BY a.at DESC OFFSET @max_failures_offset::int LIMIT 1), 'epoch'::timestamptz)::timestamptz AS device_nth,
    now()::timestamptz AS now;

-- RequestPressure is the (offset+1)-th most recent other request of a kind from a client in
-- the window, or the epoch.
-- name: RequestPressure :one
SELECT
    COALESCE((SELECT a.at FROM login_attempts a WHERE a.kind = @kind AND a.client = @client AND a.id <> @id
        AND a.at > now() - @time_window::interval ORDER BY a.at DESC OFFSET @max_requests_offset::int LIMIT 1), 'epoch'::timestamptz)::timestamptz AS client_nth,
    now()::timestamptz AS now;

-- LockMailTo serialises, until the transaction ends, the requests that may email one address.
-- name: LockMailTo :exec
SELECT pg_advisory_xact_lock(hashtextextended('giving mail to ' || @kind::text || ' ' || @email::text, 0));

-- name: MailedInWindow :one
SELECT EXISTS (SELECT 1 FROM login_attempts WHERE kind = @kind AND email = @email AND mailed
    AND at > now() - @time_window::interval);

-- name: MarkMailed :exec
UPDATE login_attempts SET mailed = true WHERE id = @id;

-- A successful log-in forgives the owner's own typos: the email's failed log-ins made with
-- this device cookie, or without a cookie, from this address. Strangers' failures stay, so
-- their addresses stay limited.
-- name: ForgiveLogins :exec
DELETE FROM login_attempts WHERE id = @id
    OR (kind = 'login' AND email = @email AND CASE WHEN sqlc.narg(device)::bytea IS NULL
        THEN device IS NULL AND client = @client ELSE device = sqlc.narg(device) END);

-- name: DeviceUser :one
SELECT d.user_id FROM login_devices d JOIN users u ON u.id = d.user_id
WHERE d.token_hash = @token_hash AND d.expires_at > now() AND u.email = @email;

-- name: AddDevice :exec
INSERT INTO login_devices (token_hash, user_id, expires_at) VALUES (@token_hash, @user_id, now() + @lifetime::interval);

-- name: DropDevice :exec
DELETE FROM login_devices WHERE token_hash = @token_hash OR (user_id = @user_id AND expires_at < now());

-- name: DropUserDevices :exec
DELETE FROM login_devices WHERE user_id = @user_id;

-- name: WithdrawConfirmations :execrows
UPDATE email_confirmations SET used_at = now() WHERE user_id = @user_id AND used_at IS NULL;
