-- Accounts: creating, reading and authenticating users (campaigns/accounts), sign-up,
-- email confirmation and password reset links (campaigns/accounts/signup.go). Every query that
-- reads an account returns the same user columns, so each generated row converts to
-- userColumns (campaigns/accounts/users.go).

-- name: CreateUser :one
INSERT INTO users (email, password_hash, role, email_confirmed_at)
VALUES (@email, @password_hash, @role, now())
RETURNING id, email, role, created_at, disabled, session_epoch, display_name,
    (email_confirmed_at IS NOT NULL)::boolean AS email_confirmed, (totp_enabled_at IS NOT NULL)::boolean AS two_factor;

-- name: UserByID :one
SELECT id, email, role, created_at, disabled, session_epoch, display_name,
    (email_confirmed_at IS NOT NULL)::boolean AS email_confirmed, (totp_enabled_at IS NOT NULL)::boolean AS two_factor
FROM users WHERE id = @id;

-- AuthenticateUser is the account with email and its password hash.
-- name: AuthenticateUser :one
SELECT id, email, role, created_at, disabled, session_epoch, display_name,
    (email_confirmed_at IS NOT NULL)::boolean AS email_confirmed, (totp_enabled_at IS NOT NULL)::boolean AS two_factor,
    password_hash
FROM users WHERE email = @email;

-- name: PruneLoginAttempts :exec
DELETE FROM login_attempts WHERE id IN (SELECT id FROM login_attempts
    WHERE at < now() - @time_window::interval LIMIT 1000 FOR UPDATE SKIP LOCKED);

-- name: PruneSessions :exec
DELETE FROM sessions WHERE token IN (SELECT token FROM sessions
    WHERE expiry < now() LIMIT 1000 FOR UPDATE SKIP LOCKED);

-- name: BumpSessionEpoch :execrows
UPDATE users SET session_epoch = session_epoch + 1 WHERE id = @id;

-- SignUpUser creates a fundraiser's account; no row when the email has one already.
-- name: SignUpUser :one
INSERT INTO users (email, password_hash, role, display_name)
VALUES (@email, @password_hash, 'fundraiser', @display_name) ON CONFLICT (email) DO NOTHING
RETURNING id, email, role, created_at, disabled, session_epoch, display_name,
    (email_confirmed_at IS NOT NULL)::boolean AS email_confirmed, (totp_enabled_at IS NOT NULL)::boolean AS two_factor;

-- name: LockUserByEmail :one
SELECT id, email, role, created_at, disabled, session_epoch, display_name,
    (email_confirmed_at IS NOT NULL)::boolean AS email_confirmed, (totp_enabled_at IS NOT NULL)::boolean AS two_factor
FROM users WHERE email = @email FOR UPDATE;

-- name: EnabledUserByEmail :one
SELECT id, email, role, created_at, disabled, session_epoch, display_name,
    (email_confirmed_at IS NOT NULL)::boolean AS email_confirmed, (totp_enabled_at IS NOT NULL)::boolean AS two_factor
FROM users WHERE email = @email AND NOT disabled;

-- Expired and used links are kept no longer than needed.
-- name: PruneEmailConfirmations :exec
DELETE FROM email_confirmations WHERE expires_at < now() - interval '1 day';

-- name: InsertEmailConfirmation :exec
INSERT INTO email_confirmations (token_hash, user_id, password_hash, display_name, expires_at)
VALUES (@token_hash, @user_id, @password_hash, @display_name, now() + @lifetime::interval);

-- UnconfirmedUserSignUp is the password hash and name an unconfirmed account has now.
-- name: UnconfirmedUserSignUp :one
SELECT password_hash, display_name FROM users
WHERE id = @id AND email_confirmed_at IS NULL FOR UPDATE;

-- name: ConfirmationUser :one
SELECT u.id, u.email, u.role, u.created_at, u.disabled, u.session_epoch, u.display_name,
    (u.email_confirmed_at IS NOT NULL)::boolean AS email_confirmed, (u.totp_enabled_at IS NOT NULL)::boolean AS two_factor
FROM email_confirmations c
JOIN users u ON u.id = c.user_id
WHERE c.token_hash = @token_hash AND c.used_at IS NULL AND c.expires_at > now() AND NOT u.disabled
AND u.email_confirmed_at IS NULL;

-- ClaimEmailConfirmation uses up a confirmation link and returns the sign-up it carries.
-- name: ClaimEmailConfirmation :one
UPDATE email_confirmations SET used_at = now()
WHERE token_hash = @token_hash AND used_at IS NULL AND expires_at > now()
RETURNING user_id, password_hash, display_name;

-- A confirmed account keeps its password: only an enabled, unconfirmed one is confirmed.
-- name: ConfirmUser :one
UPDATE users SET email_confirmed_at = now(), password_hash = @password_hash, display_name = @display_name
WHERE id = @id AND NOT disabled AND email_confirmed_at IS NULL
RETURNING id, email, role, created_at, disabled, session_epoch, display_name,
    (email_confirmed_at IS NOT NULL)::boolean AS email_confirmed, (totp_enabled_at IS NOT NULL)::boolean AS two_factor;

-- ForgiveAllLogins forgets every failed log-in for email.
-- name: ForgiveAllLogins :exec
DELETE FROM login_attempts WHERE kind = 'login' AND email = @email;

-- Expired and used links are kept no longer than needed.
-- name: PrunePasswordResets :exec
DELETE FROM password_resets WHERE expires_at < now() - interval '1 day';

-- name: InsertPasswordReset :exec
INSERT INTO password_resets (token_hash, user_id, expires_at)
VALUES (@token_hash, @user_id, now() + @lifetime::interval);

-- name: PasswordResetUser :one
SELECT u.id, u.email, u.role, u.created_at, u.disabled, u.session_epoch, u.display_name,
    (u.email_confirmed_at IS NOT NULL)::boolean AS email_confirmed, (u.totp_enabled_at IS NOT NULL)::boolean AS two_factor
FROM password_resets r
JOIN users u ON u.id = r.user_id
WHERE r.token_hash = @token_hash AND r.used_at IS NULL AND r.expires_at > now() AND NOT u.disabled;

-- ClaimPasswordReset uses up a reset link and returns its account.
-- name: ClaimPasswordReset :one
UPDATE password_resets SET used_at = now()
WHERE token_hash = @token_hash AND used_at IS NULL AND expires_at > now() RETURNING user_id;

-- name: SetPassword :execrows
UPDATE users SET password_hash = @password_hash WHERE id = @id AND NOT disabled;

-- name: UseUpPasswordResets :exec
UPDATE password_resets SET used_at = now() WHERE user_id = @user_id AND used_at IS NULL;

-- name: ConfirmEmailByReset :execrows
UPDATE users SET email_confirmed_at = now() WHERE id = @id AND email_confirmed_at IS NULL;

-- EndSession deletes one browser session (scs's row) at log-out.
-- name: EndSession :exec
DELETE FROM sessions WHERE token = @token;
