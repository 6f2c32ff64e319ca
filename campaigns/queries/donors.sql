-- A donor's records: their export and their erasure (campaigns/donors).
-- A donor's donations are those with their email (normalised) and every donation sharing a
-- Stripe customer with them. The ForUpdate forms lock what erasure changes; each pair
-- returns the same columns.

-- name: DonorDonations :many
WITH by_email AS (
    SELECT id, customer_id FROM donations WHERE email <> '' AND lower(btrim(email)) = sqlc.arg(email)::text)
SELECT d.id::text AS id, a.slug AS appeal, COALESCE(f.slug, '')::text AS fundraiser, d.amount, d.cover_fee, d.frequency = 'monthly' AS monthly,
    d.status, d.display_name, d.message, d.hide_name, d.hide_amount, d.email,
    COALESCE(d.gift_aid_declaration_id::text, '')::text AS declaration_id, COALESCE(d.checkout_session_id, '')::text AS session_id,
    COALESCE(d.payment_intent_id, '')::text AS payment_intent, COALESCE(d.subscription_id, '')::text AS subscription_id, COALESCE(d.customer_id, '')::text AS customer_id,
    d.cancel_at_period_end, d.unmatched, d.review_note, d.created_at, d.updated_at, d.erased_at AS personal_data_erased
FROM donations d JOIN appeals a ON a.id = d.appeal_id LEFT JOIN fundraisers f ON f.id = d.fundraiser_id
WHERE d.id IN (SELECT m.id FROM donations m WHERE m.id IN (SELECT id FROM by_email)
       OR m.customer_id IN (SELECT customer_id FROM by_email WHERE customer_id IS NOT NULL))
ORDER BY d.created_at, d.id;

-- name: DonorDonationsForUpdate :many
WITH by_email AS (
    SELECT id, customer_id FROM donations WHERE email <> '' AND lower(btrim(email)) = sqlc.arg(email)::text)
SELECT d.id::text AS id, a.slug AS appeal, COALESCE(f.slug, '')::text AS fundraiser, d.amount, d.cover_fee, d.frequency = 'monthly' AS monthly,
    d.status, d.display_name, d.message, d.hide_name, d.hide_amount, d.email,
    COALESCE(d.gift_aid_declaration_id::text, '')::text AS declaration_id, COALESCE(d.checkout_session_id, '')::text AS session_id,
    COALESCE(d.payment_intent_id, '')::text AS payment_intent, COALESCE(d.subscription_id, '')::text AS subscription_id, COALESCE(d.customer_id, '')::text AS customer_id,
    d.cancel_at_period_end, d.unmatched, d.review_note, d.created_at, d.updated_at, d.erased_at AS personal_data_erased
FROM donations d JOIN appeals a ON a.id = d.appeal_id LEFT JOIN fundraisers f ON f.id = d.fundraiser_id
WHERE d.id IN (SELECT m.id FROM donations m WHERE m.id IN (SELECT id FROM by_email)
       OR m.customer_id IN (SELECT customer_id FROM by_email WHERE customer_id IS NOT NULL))
ORDER BY d.created_at, d.id FOR UPDATE OF d;

-- name: DonorDeclarations :many
SELECT g.id::text AS id, g.title, g.first_name, g.last_name, g.house, g.postcode, g.scope,
    g.wording_version, g.wording, g.declared_at, g.cancelled_at, g.erasure_requested_at, g.erased_at,
    (SELECT max(e.occurred_at) FROM ledger_entries e JOIN donations d2 ON d2.id = e.donation_id
      WHERE e.kind = 'gift' AND (d2.gift_aid_declaration_id = g.id
        OR (g.scope <> 'this' AND d2.donor_id = g.donor_id AND e.occurred_at >= g.effective_from
            AND (g.cancelled_at IS NULL OR e.occurred_at < g.cancelled_at)))) AS last_gift
FROM gift_aid_declarations g WHERE g.id = ANY(sqlc.arg(ids)::uuid[]) ORDER BY g.declared_at, g.id;

-- name: DonorDeclarationsForUpdate :many
SELECT g.id::text AS id, g.title, g.first_name, g.last_name, g.house, g.postcode, g.scope,
    g.wording_version, g.wording, g.declared_at, g.cancelled_at, g.erasure_requested_at, g.erased_at,
    (SELECT max(e.occurred_at) FROM ledger_entries e JOIN donations d2 ON d2.id = e.donation_id
      WHERE e.kind = 'gift' AND (d2.gift_aid_declaration_id = g.id
        OR (g.scope <> 'this' AND d2.donor_id = g.donor_id AND e.occurred_at >= g.effective_from
            AND (g.cancelled_at IS NULL OR e.occurred_at < g.cancelled_at)))) AS last_gift
FROM gift_aid_declarations g WHERE g.id = ANY(sqlc.arg(ids)::uuid[]) ORDER BY g.declared_at, g.id FOR UPDATE OF g;

-- name: DonorLedger :many
SELECT e.id, e.donation_id::text AS donation_id, e.kind, e.amount, e.fee, e.gift_aid_base, e.source, e.source_ref,
    COALESCE(e.charge_id, '')::text AS charge_id, COALESCE(e.payment_intent, '')::text AS payment_intent, e.occurred_at,
    COALESCE(c.claim_id, 0)::bigint AS claim_id
FROM ledger_entries e LEFT JOIN gift_aid_claim_items c ON c.ledger_entry_id = e.id
WHERE e.donation_id = ANY(sqlc.arg(donation_ids)::uuid[]) ORDER BY e.occurred_at, e.id;

-- EventsMentioning returns the stored Stripe events whose raw payload names any of ids as a
-- JSON string, oldest first. It reads every stored payload: an occasional administrative
-- search, not a hot path.
-- name: EventsMentioning :many
SELECT e.id, e.type, e.created, e.received_at, e.outcome, e.payload FROM stripe_events e
WHERE EXISTS (SELECT 1 FROM unnest(sqlc.arg(ids)::text[]) AS i (id)
              WHERE position(convert_to('"' || i.id || '"', 'UTF8') IN e.payload) > 0)
ORDER BY e.created, e.received_at, e.id;

-- name: EventsMentioningForUpdate :many
SELECT e.id, e.type, e.created, e.received_at, e.outcome, e.payload FROM stripe_events e
WHERE EXISTS (SELECT 1 FROM unnest(sqlc.arg(ids)::text[]) AS i (id)
              WHERE position(convert_to('"' || i.id || '"', 'UTF8') IN e.payload) > 0)
ORDER BY e.created, e.received_at, e.id FOR UPDATE;

-- name: EraseDonations :execresult
UPDATE donations SET email = '', display_name = '', message = '', hide_name = true,
    erased_at = COALESCE(erased_at, sqlc.arg(now)::timestamptz), updated_at = now() WHERE id = ANY(sqlc.arg(ids)::uuid[]);

-- DeleteDonorMail removes mail to the donor: queued mail is not sent, sent mail is not kept.
-- name: DeleteDonorMail :execresult
DELETE FROM mail_outbox WHERE lower(to_address) = sqlc.arg(email)::text;

-- name: MarkDeclarationForErasure :exec
UPDATE gift_aid_declarations SET erasure_requested_at = COALESCE(erasure_requested_at, sqlc.arg(now)::timestamptz)
WHERE id = sqlc.arg(id)::uuid;

-- name: EraseDeclaration :exec
UPDATE gift_aid_declarations SET title = '', first_name = '', last_name = '', house = '',
    postcode = '', erasure_requested_at = COALESCE(erasure_requested_at, sqlc.arg(now)::timestamptz), erased_at = sqlc.arg(now)::timestamptz
WHERE id = sqlc.arg(id)::uuid;

-- last_gift comes back untyped from sqlc (a scalar subquery): lastGift reads it. It is the
-- last gift the declaration covers (campaigns/giftaid/doc.go): its own donation's, and for a
-- "future" or "past four years" declaration every gift of its donor while it was in force,
-- so a declaration is kept six years after the last gift it could have been claimed on.
-- DueDeclarationErasures are the declarations whose erasure was asked for and not yet
-- done, with their last gift, locked.
-- name: DueDeclarationErasures :many
SELECT g.id::text AS id,
    (SELECT max(e.occurred_at) FROM ledger_entries e JOIN donations d ON d.id = e.donation_id
      WHERE e.kind = 'gift' AND (d.gift_aid_declaration_id = g.id
        OR (g.scope <> 'this' AND d.donor_id = g.donor_id AND e.occurred_at >= g.effective_from
            AND (g.cancelled_at IS NULL OR e.occurred_at < g.cancelled_at)))) AS last_gift
FROM gift_aid_declarations g WHERE g.erasure_requested_at IS NOT NULL AND g.erased_at IS NULL
ORDER BY g.id FOR UPDATE OF g;

-- ---- Donor records (campaigns/donors/records.go) ----

-- name: DonorRecordByEmail :one
SELECT id::text AS id, COALESCE(email, '')::text AS email, name, created_at FROM donors WHERE email = sqlc.arg(email)::text;

-- name: DonorRecordByDonation :one
SELECT r.id::text AS id, COALESCE(r.email, '')::text AS email, r.name, r.created_at
FROM donors r JOIN donations d ON d.donor_id = r.id WHERE d.id = sqlc.arg(donation_id)::uuid;

-- DonorRecordLinks are the donations a record links, oldest first, with any Gift Aid
-- declaration each carries.
-- name: DonorRecordLinks :many
SELECT d.id::text AS donation_id, COALESCE(d.gift_aid_declaration_id::text, '')::text AS declaration_id
FROM donations d WHERE d.donor_id = sqlc.arg(donor_id)::uuid ORDER BY d.created_at, d.id;

-- SetDonorNames keeps the names on the cards from checkouts on the donations' donor records,
-- with one statement (one element of each array per checkout, in the order they were
-- noted): when two name the same record, the one noted last is kept.
-- name: SetDonorNames :exec
UPDATE donors r SET name = n.name, updated_at = now()
FROM (SELECT DISTINCT ON (d.donor_id) d.donor_id, a.name
      FROM ROWS FROM (unnest(sqlc.arg(donation_ids)::uuid[]),
              unnest(@names::text[])) WITH ORDINALITY AS a (id, name, i)
      JOIN donations d ON d.id = a.id
      WHERE d.donor_id IS NOT NULL
      ORDER BY d.donor_id, a.i DESC) n
WHERE r.id = n.donor_id AND r.erased_at IS NULL AND r.name <> n.name;

-- EraseDonorRecords scrubs the records of a donor being erased: the one with her address
-- and every one linking a donation erased with her. The rows stay, anonymous.
-- name: EraseDonorRecords :execrows
UPDATE donors SET email = NULL, name = '', erased_at = sqlc.arg(now)::timestamptz, updated_at = now()
WHERE erased_at IS NULL AND (email = sqlc.arg(email)::text
    OR id IN (SELECT donor_id FROM donations WHERE id = ANY(sqlc.arg(donation_ids)::uuid[]) AND donor_id IS NOT NULL));

-- DonorRecordsOfDonations are the donor records linking any of the donations, for a
-- donor's export.
-- name: DonorRecordsOfDonations :many
SELECT r.id::text AS id, COALESCE(r.email, '')::text AS email, r.name, r.created_at, r.erased_at
FROM donors r WHERE r.id IN (SELECT donor_id FROM donations WHERE id = ANY(sqlc.arg(donation_ids)::uuid[]))
ORDER BY r.created_at, r.id;
