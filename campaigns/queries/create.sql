-- Creating a donation before the donor pays (campaigns/donations/create.go).

-- LockFormToken serialises submissions of one donate form.
-- name: LockFormToken :exec
SELECT pg_advisory_xact_lock(hashtextextended(sqlc.arg(form_token)::text, 1));

-- name: DonationByFormToken :one
SELECT id::text FROM donations WHERE form_token = sqlc.arg(form_token)::text;

-- name: InsertDeclaration :one
-- effective_from: the start of the gifts it covers, four years back for "the past four years".
INSERT INTO gift_aid_declarations (title, first_name, last_name, house, postcode, scope, wording_version, wording,
    own_money_confirmed, declared_at, effective_from)
VALUES (@title, @first_name, @last_name, @house, @postcode, @scope, @wording_version, @wording,
    @own_money_confirmed, sqlc.arg(declared_at)::timestamptz,
    CASE WHEN @scope::text = 'this_future_and_past'
        THEN ((sqlc.arg(declared_at)::timestamptz AT TIME ZONE 'Europe/London') - interval '4 years') AT TIME ZONE 'Europe/London'
        ELSE sqlc.arg(declared_at)::timestamptz END) RETURNING id::text;

-- name: InsertDonation :one
INSERT INTO donations (appeal_id, fundraiser_id, tier_id, amount, cover_fee, frequency,
    display_name, message, hide_name, hide_amount, email, gift_aid_declaration_id, form_token, payment_method)
VALUES (@appeal_id, NULLIF(sqlc.arg(fundraiser_id)::bigint, 0), NULLIF(sqlc.arg(tier_id)::bigint, 0), @amount, @cover_fee, @frequency,
    @display_name, @message, @hide_name, @hide_amount, @email, sqlc.narg(declaration_id)::text::uuid, NULLIF(sqlc.arg(form_token)::text, ''),
    sqlc.arg(payment_method)::text)
RETURNING id::text;

-- name: SetCheckoutSession :exec
UPDATE donations SET checkout_session_id = sqlc.arg(session_id)::text, updated_at = now() WHERE id = sqlc.arg(id)::uuid;

-- name: DeclarationByID :one
SELECT title, first_name, last_name, house, postcode, scope, wording_version, wording, own_money_confirmed
FROM gift_aid_declarations WHERE id = sqlc.arg(id)::uuid;
