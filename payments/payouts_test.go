package payments_test

import (
	"context"
	"testing"
	"time"

	"giving/campaigns/accounts"
	"giving/payments/paymentstest"
)

// TestFetchPayoutsRequestsAreValidAtStripeMock checks the payouts list and the balance
// transactions list by payout (with their sources expanded) against Stripe's own API
// description: stripe-mock refuses unknown parameters and expansions. Its fixture payout is
// not in pounds: its lines are read, and nothing is recorded.
func TestFetchPayoutsRequestsAreValidAtStripeMock(t *testing.T) {
	t.Parallel()
	w := newRecWorld(t)
	rec := w.reconciler(paymentstest.StripeMockURL(t))
	n, err := rec.FetchPayouts(context.Background(), accounts.CommandLine(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("fetch payouts: %v", err)
	}
	if n != 0 {
		t.Errorf("%d payouts recorded from stripe-mock's, which is not in pounds", n)
	}
}
