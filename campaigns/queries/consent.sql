-- Marketing consent (campaigns/donors/consent.go). A donor's standing per channel is her
-- latest answer: a row of one of her donations' forms, or a withdrawal stored against her
-- record.

-- name: InsertFormConsent :exec
INSERT INTO marketing_consents (donation_id, channel, granted, mode, wording, wording_version, contact, answered_at)
VALUES (sqlc.arg(donation_id)::uuid, @channel, @granted, @mode, @wording, @wording_version, @contact, sqlc.arg(answered_at)::timestamptz)
ON CONFLICT (donation_id, channel) DO NOTHING;

-- name: InsertWithdrawal :exec
INSERT INTO marketing_consents (donor_id, channel, granted, mode, wording, wording_version, answered_at)
VALUES (sqlc.arg(donor_id)::uuid, @channel, false, 'withdrawal', @wording, @wording_version, sqlc.arg(answered_at)::timestamptz);

-- DonorConsents is every answer of one donor record, oldest first.
-- name: DonorConsents :many
SELECT c.id, COALESCE(c.donation_id::text, '')::text AS donation_id, c.channel, c.granted, c.mode, c.wording,
    c.wording_version, c.contact, c.answered_at
FROM marketing_consents c LEFT JOIN donations d ON d.id = c.donation_id
WHERE c.donor_id = sqlc.arg(donor_id)::uuid OR d.donor_id = sqlc.arg(donor_id)::uuid
ORDER BY c.answered_at, c.id;

-- DonorConsentsOfDonations is every answer carried by the donations, or stored against
-- the records linking them, oldest first: a donor's data export.
-- name: DonorConsentsOfDonations :many
SELECT c.id, COALESCE(c.donation_id::text, '')::text AS donation_id, c.channel, c.granted, c.mode, c.wording,
    c.wording_version, c.contact, c.answered_at
FROM marketing_consents c
WHERE c.donation_id = ANY(sqlc.arg(donation_ids)::uuid[])
   OR c.donor_id IN (SELECT donor_id FROM donations WHERE id = ANY(sqlc.arg(donation_ids)::uuid[]) AND donor_id IS NOT NULL)
ORDER BY c.answered_at, c.id;

-- ConsentedContacts are the donors whose latest answer for the channel is yes, with the
-- time and words of that answer: never an erased donor (her record has no email).
-- name: ConsentedContacts :many
WITH answers AS (
    SELECT DISTINCT ON (COALESCE(c.donor_id, d.donor_id)) COALESCE(c.donor_id, d.donor_id) AS donor_id,
        c.granted, c.mode, c.wording, c.wording_version, c.contact, c.answered_at
    FROM marketing_consents c LEFT JOIN donations d ON d.id = c.donation_id
    WHERE c.channel = @channel AND COALESCE(c.donor_id, d.donor_id) IS NOT NULL
    ORDER BY COALESCE(c.donor_id, d.donor_id), c.answered_at DESC, c.id DESC)
SELECT r.id::text AS donor_id, r.email::text AS email, r.name, a.mode, a.wording, a.wording_version, a.contact, a.answered_at
FROM answers a JOIN donors r ON r.id = a.donor_id
WHERE a.granted AND r.erased_at IS NULL AND r.email IS NOT NULL
ORDER BY lower(r.name), r.email;

-- EraseConsentContacts blanks the postal addresses and phone numbers given with the
-- donations, or stored against the records linking them (donor erasure).
-- name: EraseConsentContacts :execrows
UPDATE marketing_consents SET contact = ''
WHERE contact <> '' AND (donation_id = ANY(sqlc.arg(donation_ids)::uuid[])
   OR donor_id IN (SELECT donor_id FROM donations WHERE id = ANY(sqlc.arg(donation_ids)::uuid[]) AND donor_id IS NOT NULL));

-- name: LinkKey :one
SELECT key FROM link_keys WHERE name = @name;

-- name: InsertLinkKey :exec
INSERT INTO link_keys (name, key) VALUES (@name, @key) ON CONFLICT (name) DO NOTHING;

-- DonorForLink is a donor record a signed link names, erased or not.
-- name: DonorForLink :one
SELECT id::text AS id, COALESCE(email, '')::text AS email, name, erased_at FROM donors WHERE id = sqlc.arg(id)::uuid;

-- DonorIDByEmail is the (unerased) donor record of a normalised address: the footer of
-- each email sent to her.
-- name: DonorIDByEmail :one
SELECT id::text AS id FROM donors WHERE email = lower(btrim(@email::text));
