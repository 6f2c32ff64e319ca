-- The charity's settings and page texts (campaigns/charity).

-- name: CharitySettings :one
SELECT consent_mode, privacy_text, contact_text, complaints_text, updated_at FROM charity_settings WHERE id;

-- name: SetConsentMode :execrows
UPDATE charity_settings SET consent_mode = @consent_mode, updated_at = sqlc.arg(now)::timestamptz
WHERE id AND consent_mode <> @consent_mode;

-- name: SetPrivacyText :execrows
UPDATE charity_settings SET privacy_text = @body, updated_at = sqlc.arg(now)::timestamptz WHERE id AND privacy_text <> @body;

-- name: SetContactText :execrows
UPDATE charity_settings SET contact_text = @body, updated_at = sqlc.arg(now)::timestamptz WHERE id AND contact_text <> @body;

-- name: SetComplaintsText :execrows
UPDATE charity_settings SET complaints_text = @body, updated_at = sqlc.arg(now)::timestamptz WHERE id AND complaints_text <> @body;
