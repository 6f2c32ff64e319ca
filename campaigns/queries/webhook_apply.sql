-- Applying a Stripe event: the payment's lock, the stored event, and the events that wait
-- for a gift (deferred).

-- LockPayment serialises every event about one payment intent across transactions and
-- instances, until the transaction ends.
-- name: LockPayment :exec
SELECT pg_advisory_xact_lock(hashtextextended(@payment_intent::text, 0));

-- LockPaymentCheckStored takes the payment's lock (none for an empty payment intent) and,
-- with check_stored, asks in the same statement whether the event is already stored.
-- name: LockPaymentCheckStored :one
SELECT (@check_stored::boolean AND EXISTS (SELECT 1 FROM stripe_events WHERE id = @id))::boolean AS stored
FROM (SELECT CASE WHEN @payment_intent::text <> '' THEN pg_advisory_xact_lock(hashtextextended(@payment_intent::text, 0)) END) AS lock;

-- InsertStripeEvent stores an event once by id; no row is affected when it is already
-- stored. An event without a creation time (never from Stripe) is dated by the transaction.
-- name: InsertStripeEvent :execrows
INSERT INTO stripe_events (id, type, api_version, livemode, created, payload, outcome, detail, defer_key, applied_at)
VALUES (@id, @type, @api_version, @livemode, COALESCE(sqlc.narg(created)::timestamptz, now()), @payload, @outcome, @detail,
    NULLIF(@defer_key::text, ''), CASE WHEN @outcome IN ('applied', 'unmatched', 'ignored') THEN now() END)
ON CONFLICT (id) DO NOTHING;

-- DeferredEvents are the events waiting for the gift on a payment intent, in Stripe's order.
-- name: DeferredEvents :many
SELECT payload FROM stripe_events WHERE outcome = 'deferred' AND defer_key = @defer_key::text
ORDER BY created, received_at;

-- WaitingPayments are those of the payment intents given that have events waiting for
-- their gift (a batch of events asks once for all of its payments).
-- name: WaitingPayments :many
SELECT DISTINCT defer_key FROM stripe_events WHERE outcome = 'deferred' AND defer_key = ANY(@payment_intents::text[]);

-- MarkDeferredEventDone stores what applying a waiting event did.
-- name: MarkDeferredEventDone :exec
UPDATE stripe_events SET outcome = @outcome, detail = @detail,
    applied_at = CASE WHEN @outcome IN ('applied', 'unmatched', 'ignored') THEN now() END WHERE id = @id;


-- LockPayments takes the locks of every payment intent a batch's events name, in the
-- order given (sorted: two batches never wait for each other in a cycle).
-- name: LockPayments :exec
SELECT count(pg_advisory_xact_lock(hashtextextended(p, 0)))
FROM unnest(@payment_intents::text[]) WITH ORDINALITY AS l (p, n);

-- InsertStripeEvents stores, with one statement, the events of deliveries that arrived
-- together (payments/gather.go), each as InsertStripeEvent would (outcome 'queued', or
-- 'malformed' or 'wrong_mode' for review; created 0: none, dated by the statement), and
-- returns the ids it stored: an id not returned was already stored.
-- name: InsertStripeEvents :many
INSERT INTO stripe_events (id, type, api_version, livemode, created, payload, outcome, detail)
SELECT u.id, u.type, u.api_version, u.livemode, CASE WHEN u.created = 0 THEN now() ELSE to_timestamp(u.created) END,
    u.payload, u.outcome, u.detail
FROM ROWS FROM (unnest(@ids::text[]), unnest(@types::text[]), unnest(@api_versions::text[]),
        unnest(@livemodes::boolean[]), unnest(@created::bigint[]), unnest(@payloads::bytea[]),
        unnest(@outcomes::text[]), unnest(@details::text[]))
    WITH ORDINALITY AS u (id, type, api_version, livemode, created, payload, outcome, detail, i)
ORDER BY u.i
ON CONFLICT (id) DO NOTHING
RETURNING id;
