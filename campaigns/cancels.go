package campaigns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"giving/campaigns/dbq"
)

// QueueSubscriptionCancel records, inside tx, that a monthly gift's subscription must be
// cancelled at the payment provider. The row commits with whatever made the decision (a
// dispute), so the cancellation cannot be forgotten; queuing it twice changes nothing.
func QueueSubscriptionCancel(ctx context.Context, tx pgx.Tx, donationID, subscriptionID, reason string) error {
	if subscriptionID == "" {
		return nil // never linked to a subscription: nothing at Stripe to stop
	}
	err := dbq.New(tx).QueueSubscriptionCancel(ctx, dbq.QueueSubscriptionCancelParams{
		SubscriptionID: subscriptionID, DonationID: donationID, Reason: reason})
	if err != nil {
		return fmt.Errorf("queue cancellation of %s: %w", subscriptionID, err)
	}
	return nil
}

// SubscriptionCancel is one queued cancellation.
type SubscriptionCancel struct {
	SubscriptionID string
	DonationID     string
	Reason         string
	QueuedAt       time.Time
	Attempts       int
	LastError      string
	DoneAt         *time.Time
	// InFlight: a worker is asking Stripe now (its lease has not expired).
	InFlight bool
}

// CancelLease is how long a worker holds a cancellation while it calls the provider; the
// call must be bounded well under it. A worker that dies mid-call leaves the lease to
// expire, and the row is tried again (as a new attempt).
const CancelLease = 2 * time.Minute

// CancelDue claims the cancellations that are due, one at a time, calls cancel for each and
// records the outcome: done, or a retry after RetryBackoff(attempts). It returns how many
// it tried. A claim is a lease committed before the call (FOR UPDATE SKIP LOCKED picks the
// row, so any number of instances may run it), so no transaction or connection is held
// while the provider answers.
func (s *Store) CancelDue(ctx context.Context, cancel func(ctx context.Context, c SubscriptionCancel) error) (tried int, err error) {
	q := dbq.New(s.pool)
	for ctx.Err() == nil {
		row, err := q.ClaimSubscriptionCancel(ctx, CancelLease)
		if errors.Is(err, pgx.ErrNoRows) {
			return tried, nil
		} else if err != nil {
			return tried, fmt.Errorf("claim a subscription to cancel: %w", err)
		}
		tried++
		c := SubscriptionCancel{SubscriptionID: row.SubscriptionID, DonationID: row.DonationID, Reason: row.Reason,
			QueuedAt: row.QueuedAt, Attempts: int(row.Attempts)}
		// The outcome is recorded only by the attempt that holds the lease: one that
		// overran it has been superseded by a newer attempt.
		if callErr := cancel(ctx, c); callErr == nil {
			err = q.FinishSubscriptionCancel(ctx, dbq.FinishSubscriptionCancelParams{SubscriptionID: c.SubscriptionID, Attempts: row.Attempts})
		} else {
			err = q.PostponeSubscriptionCancel(ctx, dbq.PostponeSubscriptionCancelParams{SubscriptionID: c.SubscriptionID, Attempts: row.Attempts,
				LastError: callErr.Error(), Backoff: RetryBackoff(c.Attempts)})
		}
		if err != nil {
			return tried, fmt.Errorf("record the outcome of cancelling %s: %w", c.SubscriptionID, err)
		}
	}
	return tried, ctx.Err()
}

// CancelsShownFor is how long a finished cancellation stays on the dashboard.
const CancelsShownFor = 90 * 24 * time.Hour

// SubscriptionCancels lists every cancellation still to do and those done in the last
// CancelsShownFor: those still waiting first, then the newest.
func (s *Store) SubscriptionCancels(ctx context.Context) ([]SubscriptionCancel, error) {
	rows, err := dbq.New(s.pool).SubscriptionCancels(ctx, CancelsShownFor)
	if err != nil {
		return nil, fmt.Errorf("subscription cancellations: %w", err)
	}
	out := make([]SubscriptionCancel, len(rows))
	for i, r := range rows {
		out[i] = SubscriptionCancel{SubscriptionID: r.SubscriptionID, DonationID: r.DonationID, Reason: r.Reason, QueuedAt: r.QueuedAt,
			Attempts: int(r.Attempts), LastError: r.LastError, DoneAt: r.DoneAt, InFlight: r.InFlight}
	}
	return out, nil
}
