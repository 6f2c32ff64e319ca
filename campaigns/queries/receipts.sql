-- The emails a donor is sent about her money (campaigns/donations/receipts.go).

-- ClaimDonorMails records that the emails about the given facts (donation, kind, fact, at:
-- one element of each array per fact) are being queued, with one statement, and returns
-- the facts claimed now; a fact already claimed (a duplicate delivery, a redelivery under
-- a new event id, a second copy in the same list) is not returned.
-- name: ClaimDonorMails :many
INSERT INTO donor_mail_facts (donation_id, kind, fact, occurred_at)
SELECT u.donation_id, u.kind, u.fact, u.occurred_at
FROM ROWS FROM (unnest(sqlc.arg(donation_ids)::uuid[]), unnest(@kinds::text[]), unnest(@facts::text[]),
        unnest(sqlc.arg(occurred_ats)::timestamptz[]))
    WITH ORDINALITY AS u (donation_id, kind, fact, occurred_at, i)
ORDER BY u.i
ON CONFLICT DO NOTHING
RETURNING donation_id::text, kind, fact;

-- DonorMailDetails is what a donor's email says about each of the donations ids, as at
-- the time of the same place in ats (i: that place, from 1; a donation not found is left
-- out): where the address came from (the donation, as Stripe last gave it), her name on
-- the card, the appeal and page, and the Gift Aid declaration she agreed to, word for word.
-- name: DonorMailDetails :many
SELECT x.i::integer AS i, d.email, COALESCE(r.name, '')::text AS donor_name, d.amount, d.cover_fee, d.frequency = 'monthly' AS monthly,
    a.name AS appeal_name, a.slug AS appeal_slug, a.gift_aid_rate,
    COALESCE(f.title, '')::text AS page_title, COALESCE(f.slug, '')::text AS page_slug,
    COALESCE(g.wording, '')::text AS gift_aid_wording, COALESCE(g.scope, '')::text AS gift_aid_scope,
    g.declared_at AS gift_aid_declared_at, g.cancelled_at AS gift_aid_cancelled_at, COALESCE(t.impact, '')::text AS impact,
    -- another declaration of hers ("future", "past four years") in force at the gift's time
    -- covers it too (campaigns/giftaid/doc.go), though its donation carried none
    EXISTS (SELECT 1 FROM gift_aid_declarations o
        WHERE o.donor_id = d.donor_id AND o.scope <> 'this' AND o.id IS DISTINCT FROM d.gift_aid_declaration_id
          AND o.effective_from <= (sqlc.arg(ats)::timestamptz[])[x.i]
          AND (o.cancelled_at IS NULL OR o.cancelled_at > (sqlc.arg(ats)::timestamptz[])[x.i]))::boolean AS other_declaration_covers,
    d.payment_method
FROM unnest(sqlc.arg(ids)::uuid[]) WITH ORDINALITY AS x (id, i)
    JOIN donations d ON d.id = x.id
    JOIN appeals a ON a.id = d.appeal_id
    LEFT JOIN tiers t ON t.id = d.tier_id
    LEFT JOIN fundraisers f ON f.id = d.fundraiser_id
    LEFT JOIN donors r ON r.id = d.donor_id AND r.erased_at IS NULL
    LEFT JOIN gift_aid_declarations g ON g.id = d.gift_aid_declaration_id
ORDER BY x.i;

-- DonationGifts is what a donation has given so far: its gifts, as paid, in number and sum,
-- and when the first was paid (otherwise, when none has been yet).
-- name: DonationGifts :one
SELECT count(*)::bigint AS gifts, COALESCE(sum(amount), 0)::numeric AS given,
    COALESCE(min(occurred_at), sqlc.arg(otherwise)::timestamptz)::timestamptz AS first_at
FROM ledger_entries WHERE donation_id = sqlc.arg(donation_id)::uuid AND kind = 'gift';
