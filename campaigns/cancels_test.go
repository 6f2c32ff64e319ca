package campaigns_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
)

// The cancellation worker holds a queued cancellation by a lease, not an open transaction:
// while the provider is being called the row is not locked and no other worker takes it; a
// worker that died mid-call is superseded once its lease expires; and an attempt that
// overran its lease cannot overwrite the newer attempt's outcome.
func TestSubscriptionCancelLease(t *testing.T) {
	t.Parallel()
	s, appeal := newStore(t)
	ctx := context.Background()
	d, err := s.CreateDonation(ctx, campaigns.NewDonation{AppealID: appeal.ID, Amount: decimal.RequireFromString("10.00"), Monthly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.InTx(ctx, func(tx pgx.Tx) error {
		return campaigns.QueueSubscriptionCancel(ctx, tx, d.ID, "sub_lease", "disputed: dp_1")
	}); err != nil {
		t.Fatal(err)
	}
	state := func() (attempts int, lastError string, claimed, done bool) {
		t.Helper()
		if err := s.Pool().QueryRow(ctx, `SELECT attempts, last_error, claimed_until IS NOT NULL, done_at IS NOT NULL
			FROM subscription_cancels WHERE subscription_id = 'sub_lease'`).Scan(&attempts, &lastError, &claimed, &done); err != nil {
			t.Fatal(err)
		}
		return
	}

	// Attempt 1: during the call the row is leased but not locked, and a second worker
	// finds nothing to do. The provider refuses.
	refusal := errors.New("made-up refusal")
	tried, err := s.CancelDue(ctx, func(ctx context.Context, c campaigns.SubscriptionCancel) error {
		if c.SubscriptionID != "sub_lease" || c.Attempts != 1 || c.Reason != "disputed: dp_1" {
			t.Errorf("claimed %+v", c)
		}
		var id string
		if err := s.Pool().QueryRow(ctx, `SELECT subscription_id FROM subscription_cancels FOR UPDATE NOWAIT`).Scan(&id); err != nil {
			t.Errorf("row locked while the provider is called: %v", err)
		}
		if n, err := s.CancelDue(ctx, func(context.Context, campaigns.SubscriptionCancel) error {
			t.Error("a second worker took a leased cancellation")
			return nil
		}); err != nil || n != 0 {
			t.Errorf("second worker: tried %d, %v", n, err)
		}
		if _, _, claimed, _ := state(); !claimed {
			t.Error("no lease recorded during the call")
		}
		return refusal
	})
	if err != nil || tried != 1 {
		t.Fatalf("CancelDue: tried %d, %v", tried, err)
	}
	if attempts, lastError, claimed, done := state(); attempts != 1 || lastError != "made-up refusal" || claimed || done {
		t.Fatalf("after a refusal: attempts %d, last error %q, claimed %v, done %v", attempts, lastError, claimed, done)
	}

	// Attempt 2 is due (backoff passed) but its worker overruns: its lease expires, and
	// attempt 3 cancels it. Attempt 2's late failure must not undo that.
	if _, err := s.Pool().Exec(ctx, `UPDATE subscription_cancels SET next_attempt_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	tried, err = s.CancelDue(ctx, func(ctx context.Context, c campaigns.SubscriptionCancel) error {
		if c.Attempts != 2 {
			t.Errorf("attempt %d, want 2", c.Attempts)
			return nil
		}
		if _, err := s.Pool().Exec(ctx, `UPDATE subscription_cancels SET claimed_until = now() - interval '1 second'`); err != nil {
			t.Fatal(err)
		}
		n, err := s.CancelDue(ctx, func(_ context.Context, c campaigns.SubscriptionCancel) error {
			if c.Attempts != 3 {
				t.Errorf("superseding attempt %d, want 3", c.Attempts)
			}
			return nil
		})
		if err != nil || n != 1 {
			t.Errorf("superseding worker: tried %d, %v", n, err)
		}
		return refusal
	})
	if err != nil || tried != 1 {
		t.Fatalf("CancelDue: tried %d, %v", tried, err)
	}
	if attempts, lastError, claimed, done := state(); attempts != 3 || lastError != "" || claimed || !done {
		t.Fatalf("after the superseding attempt: attempts %d, last error %q, claimed %v, done %v; want 3, none, false, done",
			attempts, lastError, claimed, done)
	}
	if n, err := s.CancelDue(ctx, func(context.Context, campaigns.SubscriptionCancel) error {
		t.Error("a done cancellation was tried again")
		return nil
	}); err != nil || n != 0 {
		t.Fatalf("after done: tried %d, %v", n, err)
	}
}
