package donations_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
)

// A cancellation is queued with a River job in the transaction of the dispute (once, however
// often it is queued). Each attempt marks itself under way without locking the row while
// the provider is called, records a refusal for a retry, and an attempt that overran (River
// rescued its job and a newer attempt ran) cannot overwrite the newer attempt's outcome.
func TestSubscriptionCancelAttempts(t *testing.T) {
	t.Parallel()
	s, appeal := campaignstest.Seeded(t, 8)
	ctx := context.Background()
	d, err := donations.Create(ctx, s, donations.NewDonation{AppealID: appeal.ID, Amount: decimal.RequireFromString("10.00"), Monthly: true})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.InTx(ctx, func(tx pgx.Tx) error {
			return donations.QueueSubscriptionCancel(ctx, tx, d.ID, "sub_lease", "disputed: dp_1")
		}); err != nil {
			t.Fatal(err)
		}
	}
	var jobs int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1 AND args->>'subscription_id' = 'sub_lease'`,
		donations.SubscriptionCancelJob{}.Kind()).Scan(&jobs); err != nil || jobs != 1 {
		t.Fatalf("%d cancellation jobs (%v), want 1", jobs, err)
	}
	state := func() (attempts int, lastError string, done bool) {
		t.Helper()
		if err := s.Pool().QueryRow(ctx, `SELECT attempts, last_error, done_at IS NOT NULL
			FROM subscription_cancels WHERE subscription_id = 'sub_lease'`).Scan(&attempts, &lastError, &done); err != nil {
			t.Fatal(err)
		}
		return
	}
	inFlight := func() bool {
		t.Helper()
		all, err := donations.SubscriptionCancels(ctx, s)
		if err != nil || len(all) != 1 {
			t.Fatalf("cancellations %+v, %v", all, err)
		}
		return all[0].InFlight
	}

	// Attempt 1: during the call the row is not locked and the dashboard says Stripe is
	// being asked. The provider refuses.
	refusal := errors.New("made-up refusal")
	err = donations.CancelSubscription(ctx, s, "sub_lease", 1, time.Minute, func(ctx context.Context, c donations.SubscriptionCancel) error {
		if c.SubscriptionID != "sub_lease" || c.Attempts != 1 || c.Reason != "disputed: dp_1" {
			t.Errorf("attempt %+v", c)
		}
		var id string
		if err := s.Pool().QueryRow(ctx, `SELECT subscription_id FROM subscription_cancels FOR UPDATE NOWAIT`).Scan(&id); err != nil {
			t.Errorf("row locked while the provider is called: %v", err)
		}
		if !inFlight() {
			t.Error("the dashboard does not show the attempt under way")
		}
		return refusal
	})
	if !errors.Is(err, refusal) {
		t.Fatalf("attempt 1: %v, want the refusal for River to retry", err)
	}
	if attempts, lastError, done := state(); attempts != 1 || lastError != "made-up refusal" || done || inFlight() {
		t.Fatalf("after a refusal: attempts %d, last error %q, done %v", attempts, lastError, done)
	}

	// Attempt 2 overruns; meanwhile attempt 3 cancels it. Attempt 2's late failure must not
	// undo that.
	err = donations.CancelSubscription(ctx, s, "sub_lease", 2, time.Minute, func(ctx context.Context, c donations.SubscriptionCancel) error {
		if err := donations.CancelSubscription(ctx, s, "sub_lease", 3, time.Minute, func(context.Context, donations.SubscriptionCancel) error {
			return nil
		}); err != nil {
			t.Errorf("superseding attempt: %v", err)
		}
		return refusal
	})
	if !errors.Is(err, refusal) {
		t.Fatalf("attempt 2: %v", err)
	}
	if attempts, lastError, done := state(); attempts != 3 || lastError != "" || !done {
		t.Fatalf("after the superseding attempt: attempts %d, last error %q, done %v; want 3, none, done", attempts, lastError, done)
	}
	if err := donations.CancelSubscription(ctx, s, "sub_lease", 4, time.Minute, func(context.Context, donations.SubscriptionCancel) error {
		t.Error("a done cancellation was tried again")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
