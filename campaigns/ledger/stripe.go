package ledger

import (
	"context"
	"time"

	"giving/campaigns/dbq"
)

// Reading the entries Stripe's money made, for reconciliation with Stripe's own records
// (offline money never went through Stripe, so it is never among them).

// StripeEntriesTouching is every entry from Stripe that touches one of the payment intents,
// charges or other objects (invoices, disputes), read in db.
func StripeEntriesTouching(ctx context.Context, db dbq.DBTX, paymentIntents, charges, objects []string) ([]Entry, error) {
	rows, err := dbq.New(db).StripeEntriesTouching(ctx, dbq.StripeEntriesTouchingParams{PaymentIntents: paymentIntents, Charges: charges, Objects: objects})
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, len(rows))
	for i, r := range rows {
		entries[i] = stripeEntry(r)
	}
	return entries, nil
}

// StripeGiftsBetween is the gifts from Stripe that occurred in [since, until), in the order
// they occurred, read in db.
func StripeGiftsBetween(ctx context.Context, db dbq.DBTX, since, until time.Time) ([]Entry, error) {
	rows, err := dbq.New(db).StripeGiftsBetween(ctx, dbq.StripeGiftsBetweenParams{Since: since, Until: until})
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, len(rows))
	for i, r := range rows {
		entries[i] = stripeEntry(dbq.StripeEntriesTouchingRow(r))
	}
	return entries, nil
}

func stripeEntry(r dbq.StripeEntriesTouchingRow) Entry {
	return Entry{Kind: Kind(r.Kind), Source: SourceStripe, SourceRef: r.SourceRef, ChargeID: r.ChargeID,
		PaymentIntent: r.PaymentIntent, Amount: r.Amount, Fee: r.Fee, OccurredAt: r.OccurredAt, AppealID: r.AppealID}
}
