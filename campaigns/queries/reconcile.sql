-- Reconciliation with Stripe (payments/reconcile.go); the ledger's side is read through
-- campaigns/ledger (StripeEntriesTouching, StripeGiftsBetween).

-- ReconcileStoredEventIDs are those of the listed events already stored.
-- name: ReconcileStoredEventIDs :many
SELECT id FROM stripe_events WHERE id = ANY(@ids::text[]);
