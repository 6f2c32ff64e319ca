-- Reconciliation with Stripe (payments/reconcile.go).

-- ReconcileStoredEventIDs are those of the listed events already stored.
-- name: ReconcileStoredEventIDs :many
SELECT id FROM stripe_events WHERE id = ANY(@ids::text[]);

-- ReconcileEntriesTouching is every Stripe ledger entry touching a listed payment intent,
-- charge or object.
-- name: ReconcileEntriesTouching :many
SELECT kind, source_ref, COALESCE(charge_id, '')::text AS charge_id, COALESCE(payment_intent, '')::text AS payment_intent,
    amount, fee, occurred_at FROM ledger_entries
WHERE source = 'stripe'
  AND (payment_intent = ANY(@payment_intents::text[]) OR charge_id = ANY(@charges::text[]) OR source_ref = ANY(@objects::text[]));

-- ReconcileGiftsBetween is the Stripe gifts that occurred in [since, until) (offline money
-- is not Stripe's to confirm).
-- name: ReconcileGiftsBetween :many
SELECT kind, source_ref, COALESCE(charge_id, '')::text AS charge_id, COALESCE(payment_intent, '')::text AS payment_intent,
    amount, fee, occurred_at FROM ledger_entries
WHERE source = 'stripe' AND kind = 'gift' AND occurred_at >= @since::timestamptz AND occurred_at < @until::timestamptz ORDER BY occurred_at, id;
