-- name: TOTPState :one
SELECT coalesce(totp_secret, '')::text AS secret, totp_last_step FROM users WHERE id = @user_id;

-- name: EnableTOTP :execrows
UPDATE users SET totp_secret = @secret, totp_enabled_at = now(), totp_last_step = 0
WHERE id = @user_id AND totp_enabled_at IS NULL;

-- name: UseTOTPStep :execrows
UPDATE users SET totp_last_step = @step WHERE id = @user_id AND totp_last_step < @step;

-- name: DeleteRecoveryCodes :exec
DELETE FROM recovery_codes WHERE user_id = @user_id;

-- name: InsertRecoveryCode :exec
INSERT INTO recovery_codes (user_id, code_hash) VALUES (@user_id, @code_hash);

-- name: UseRecoveryCode :execrows
UPDATE recovery_codes SET used_at = now() WHERE user_id = @user_id AND code_hash = @code_hash AND used_at IS NULL;

-- name: RecoveryCodesLeft :one
SELECT count(*) FROM recovery_codes WHERE user_id = @user_id AND used_at IS NULL;
