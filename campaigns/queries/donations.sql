-- Donations as Stripe events find and change them (campaigns/donations).

-- The lookups FindDonation tries in order, each locking the donation (FOR UPDATE). They
-- return the same columns, so their rows convert to one another (donationFromRow).

-- DonationsByIDForUpdate finds donations by their ids, locked in the order of their ids (a
-- batch's, or one); an id not found is left out.
-- name: DonationsByIDForUpdate :many
SELECT d.id::text AS id, d.appeal_id, COALESCE(d.fundraiser_id, 0)::bigint AS fundraiser_id, COALESCE(d.tier_id, 0)::bigint AS tier_id, d.amount,
    d.cover_fee, d.frequency = 'monthly' AS monthly, d.status, d.display_name, d.message, d.hide_name, d.hide_amount,
    COALESCE(d.gift_aid_declaration_id::text, '')::text AS declaration_id, d.email, COALESCE(d.checkout_session_id, '')::text AS session_id,
    COALESCE(d.payment_intent_id, '')::text AS payment_intent, COALESCE(d.subscription_id, '')::text AS subscription_id, COALESCE(d.customer_id, '')::text AS customer_id,
    d.unmatched, d.created_at, g.cancelled_at AS gift_aid_cancelled_at
FROM donations d LEFT JOIN gift_aid_declarations g ON g.id = d.gift_aid_declaration_id
WHERE d.id = ANY(sqlc.arg(ids)::uuid[]) ORDER BY d.id FOR UPDATE OF d;

-- DonationBySessionForUpdate finds a donation by its Checkout session.
-- name: DonationBySessionForUpdate :one
SELECT d.id::text AS id, d.appeal_id, COALESCE(d.fundraiser_id, 0)::bigint AS fundraiser_id, COALESCE(d.tier_id, 0)::bigint AS tier_id, d.amount,
    d.cover_fee, d.frequency = 'monthly' AS monthly, d.status, d.display_name, d.message, d.hide_name, d.hide_amount,
    COALESCE(d.gift_aid_declaration_id::text, '')::text AS declaration_id, d.email, COALESCE(d.checkout_session_id, '')::text AS session_id,
    COALESCE(d.payment_intent_id, '')::text AS payment_intent, COALESCE(d.subscription_id, '')::text AS subscription_id, COALESCE(d.customer_id, '')::text AS customer_id,
    d.unmatched, d.created_at, g.cancelled_at AS gift_aid_cancelled_at
FROM donations d LEFT JOIN gift_aid_declarations g ON g.id = d.gift_aid_declaration_id
WHERE d.checkout_session_id = sqlc.arg(session_id)::text FOR UPDATE OF d;

-- DonationByPaymentIntentForUpdate finds a donation by its payment intent.
-- name: DonationByPaymentIntentForUpdate :one
SELECT d.id::text AS id, d.appeal_id, COALESCE(d.fundraiser_id, 0)::bigint AS fundraiser_id, COALESCE(d.tier_id, 0)::bigint AS tier_id, d.amount,
    d.cover_fee, d.frequency = 'monthly' AS monthly, d.status, d.display_name, d.message, d.hide_name, d.hide_amount,
    COALESCE(d.gift_aid_declaration_id::text, '')::text AS declaration_id, d.email, COALESCE(d.checkout_session_id, '')::text AS session_id,
    COALESCE(d.payment_intent_id, '')::text AS payment_intent, COALESCE(d.subscription_id, '')::text AS subscription_id, COALESCE(d.customer_id, '')::text AS customer_id,
    d.unmatched, d.created_at, g.cancelled_at AS gift_aid_cancelled_at
FROM donations d LEFT JOIN gift_aid_declarations g ON g.id = d.gift_aid_declaration_id
WHERE d.payment_intent_id = sqlc.arg(payment_intent)::text FOR UPDATE OF d;

-- DonationBySubscriptionForUpdate finds a donation by its subscription.
-- name: DonationBySubscriptionForUpdate :one
SELECT d.id::text AS id, d.appeal_id, COALESCE(d.fundraiser_id, 0)::bigint AS fundraiser_id, COALESCE(d.tier_id, 0)::bigint AS tier_id, d.amount,
    d.cover_fee, d.frequency = 'monthly' AS monthly, d.status, d.display_name, d.message, d.hide_name, d.hide_amount,
    COALESCE(d.gift_aid_declaration_id::text, '')::text AS declaration_id, d.email, COALESCE(d.checkout_session_id, '')::text AS session_id,
    COALESCE(d.payment_intent_id, '')::text AS payment_intent, COALESCE(d.subscription_id, '')::text AS subscription_id, COALESCE(d.customer_id, '')::text AS customer_id,
    d.unmatched, d.created_at, g.cancelled_at AS gift_aid_cancelled_at
FROM donations d LEFT JOIN gift_aid_declarations g ON g.id = d.gift_aid_declaration_id
WHERE d.subscription_id = sqlc.arg(subscription_id)::text FOR UPDATE OF d;

-- DonationByGiftPaymentIntentForUpdate finds a donation through a gift in the ledger with the payment intent.
-- name: DonationByGiftPaymentIntentForUpdate :one
SELECT d.id::text AS id, d.appeal_id, COALESCE(d.fundraiser_id, 0)::bigint AS fundraiser_id, COALESCE(d.tier_id, 0)::bigint AS tier_id, d.amount,
    d.cover_fee, d.frequency = 'monthly' AS monthly, d.status, d.display_name, d.message, d.hide_name, d.hide_amount,
    COALESCE(d.gift_aid_declaration_id::text, '')::text AS declaration_id, d.email, COALESCE(d.checkout_session_id, '')::text AS session_id,
    COALESCE(d.payment_intent_id, '')::text AS payment_intent, COALESCE(d.subscription_id, '')::text AS subscription_id, COALESCE(d.customer_id, '')::text AS customer_id,
    d.unmatched, d.created_at, g.cancelled_at AS gift_aid_cancelled_at
FROM donations d LEFT JOIN gift_aid_declarations g ON g.id = d.gift_aid_declaration_id
WHERE d.id = (SELECT donation_id FROM ledger_entries WHERE payment_intent = sqlc.arg(payment_intent)::text AND kind = 'gift' LIMIT 1) FOR UPDATE OF d;

-- DonationByGiftChargeForUpdate finds a donation through a gift in the ledger with the charge.
-- name: DonationByGiftChargeForUpdate :one
SELECT d.id::text AS id, d.appeal_id, COALESCE(d.fundraiser_id, 0)::bigint AS fundraiser_id, COALESCE(d.tier_id, 0)::bigint AS tier_id, d.amount,
    d.cover_fee, d.frequency = 'monthly' AS monthly, d.status, d.display_name, d.message, d.hide_name, d.hide_amount,
    COALESCE(d.gift_aid_declaration_id::text, '')::text AS declaration_id, d.email, COALESCE(d.checkout_session_id, '')::text AS session_id,
    COALESCE(d.payment_intent_id, '')::text AS payment_intent, COALESCE(d.subscription_id, '')::text AS subscription_id, COALESCE(d.customer_id, '')::text AS customer_id,
    d.unmatched, d.created_at, g.cancelled_at AS gift_aid_cancelled_at
FROM donations d LEFT JOIN gift_aid_declarations g ON g.id = d.gift_aid_declaration_id
WHERE d.id = (SELECT donation_id FROM ledger_entries WHERE charge_id = sqlc.arg(charge_id)::text AND kind = 'gift' LIMIT 1) FOR UPDATE OF d;

-- UpsertUnmatchedOneOff finds or creates the flagged donation for one-off money, keyed by its
-- payment intent; UpsertUnmatchedMonthly the same for monthly money, keyed by its subscription.
-- name: UpsertUnmatchedOneOff :one
INSERT INTO donations (appeal_id, fundraiser_id, amount, frequency, status, payment_intent_id,
    checkout_session_id, customer_id, email, unmatched)
VALUES (
    COALESCE((SELECT id FROM appeals WHERE slug = sqlc.arg(appeal_slug)::text), (SELECT id FROM appeals WHERE is_default)),
    (SELECT f.id FROM fundraisers f JOIN appeals a ON a.id = f.appeal_id
      WHERE f.slug = sqlc.arg(fundraiser_slug)::text AND a.id = COALESCE((SELECT id FROM appeals WHERE slug = sqlc.arg(appeal_slug)::text), (SELECT id FROM appeals WHERE is_default))),
    sqlc.arg(amount)::numeric, sqlc.arg(frequency)::text, 'pending', sqlc.arg(key)::text, NULLIF(sqlc.arg(session_id)::text, ''), NULLIF(sqlc.arg(customer_id)::text, ''), sqlc.arg(email)::text, true)
ON CONFLICT (payment_intent_id) DO UPDATE SET updated_at = now()
RETURNING id::text;

-- name: UpsertUnmatchedMonthly :one
INSERT INTO donations (appeal_id, fundraiser_id, amount, frequency, status, subscription_id,
    checkout_session_id, customer_id, email, unmatched)
VALUES (
    COALESCE((SELECT id FROM appeals WHERE slug = sqlc.arg(appeal_slug)::text), (SELECT id FROM appeals WHERE is_default)),
    (SELECT f.id FROM fundraisers f JOIN appeals a ON a.id = f.appeal_id
      WHERE f.slug = sqlc.arg(fundraiser_slug)::text AND a.id = COALESCE((SELECT id FROM appeals WHERE slug = sqlc.arg(appeal_slug)::text), (SELECT id FROM appeals WHERE is_default))),
    sqlc.arg(amount)::numeric, sqlc.arg(frequency)::text, 'pending', sqlc.arg(key)::text, NULLIF(sqlc.arg(session_id)::text, ''), NULLIF(sqlc.arg(customer_id)::text, ''), sqlc.arg(email)::text, true)
ON CONFLICT (subscription_id) DO UPDATE SET updated_at = now()
RETURNING id::text;

-- UpdateDonations records, for each donation of ids (one element of each array per
-- donation, a donation at most once), the Stripe ids and contact details an event brings
-- (empty fields keep what is stored) and, when its status is not empty, moves it to that
-- status if its current status is one of from_statuses (comma-separated; any, when empty)
-- and the event is not older than the one that set the current status. For each donation
-- found (i: its place, from 1) it reports whether the status is now the one asked for.
-- name: UpdateDonations :many
UPDATE donations d SET
    checkout_session_id = COALESCE(NULLIF(u.session_id, ''), d.checkout_session_id),
    payment_intent_id = COALESCE(NULLIF(u.payment_intent, ''), d.payment_intent_id),
    subscription_id = COALESCE(NULLIF(u.subscription_id, ''), d.subscription_id),
    customer_id = COALESCE(NULLIF(u.customer_id, ''), d.customer_id),
    email = CASE WHEN u.email <> '' THEN u.email ELSE d.email END,
    status = CASE WHEN u.ok THEN u.status ELSE d.status END,
    status_event_at = CASE WHEN u.ok THEN u.event_at ELSE d.status_event_at END,
    updated_at = now()
FROM (SELECT a.i, x.id, a.session_id, a.payment_intent, a.subscription_id, a.customer_id, a.email, a.status, a.event_at,
        a.status <> '' AND (a.from_status = '' OR x.status = ANY(string_to_array(a.from_status, ',')))
            AND (x.status_event_at IS NULL OR x.status_event_at <= a.event_at) AS ok
      -- unnest, not generate_subscripts: its estimate of a few rows keeps the join on the key;
      -- and the arrays side by side, not subscripted, which walks a text array from its start
      FROM ROWS FROM (unnest(sqlc.arg(ids)::uuid[]), unnest(@session_ids::text[]),
              unnest(@payment_intents::text[]), unnest(@subscription_ids::text[]), unnest(@customer_ids::text[]),
              unnest(@emails::text[]), unnest(@statuses::text[]), unnest(sqlc.arg(event_ats)::timestamptz[]),
              unnest(@from_statuses::text[]))
          WITH ORDINALITY AS a (id, session_id, payment_intent, subscription_id, customer_id, email, status, event_at, from_status, i)
        JOIN donations x ON x.id = a.id) u
WHERE d.id = u.id
RETURNING u.i::integer AS i, u.ok::boolean AS ok;

-- name: SetCancelAtPeriodEnd :exec
UPDATE donations SET cancel_at_period_end = sqlc.arg(cancel_at_period_end)::boolean, updated_at = now() WHERE id = sqlc.arg(id)::uuid;

-- RefundedSoFar is what the ledger already holds as refunded for a charge.
-- name: RefundedSoFar :one
SELECT COALESCE(-sum(amount), 0)::numeric AS refunded FROM ledger_entries WHERE kind = 'refund' AND charge_id = sqlc.arg(charge_id)::text;

-- FindGift returns the gift recorded for a payment intent or a charge.
-- name: FindGift :one
SELECT e.id, e.amount, e.gift_aid_base, EXISTS (SELECT 1 FROM gift_aid_claim_items c WHERE c.ledger_entry_id = e.id) AS claimed,
    e.occurred_at
FROM ledger_entries e WHERE e.kind = 'gift'
  AND ((e.payment_intent = sqlc.arg(payment_intent)::text AND sqlc.arg(payment_intent)::text <> '')
    OR (e.charge_id = sqlc.arg(charge_id)::text AND sqlc.arg(charge_id)::text <> ''))
ORDER BY e.id LIMIT 1;

-- QueueGiftAidAdjustment records the tax to give back on the next claim, never more than was claimed.
-- name: QueueGiftAidAdjustment :exec
INSERT INTO gift_aid_adjustments (refund_entry_id, gift_entry_id, tax_amount, note)
VALUES (sqlc.arg(refund_entry_id)::bigint, sqlc.arg(gift_entry_id)::bigint,
    LEAST(sqlc.arg(tax)::numeric, (SELECT round(amount * sqlc.arg(rate)::numeric, 2) FROM ledger_entries WHERE id = sqlc.arg(gift_entry_id)::bigint)),
    sqlc.arg(note)::text)
ON CONFLICT (refund_entry_id) DO NOTHING;
