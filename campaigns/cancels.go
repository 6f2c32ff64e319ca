package campaigns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// QueueSubscriptionCancel records, inside tx, that a monthly gift's subscription must be
// cancelled at the payment provider. The row commits with whatever made the decision (a
// dispute), so the cancellation cannot be forgotten; queuing it twice changes nothing.
func QueueSubscriptionCancel(ctx context.Context, tx pgx.Tx, donationID, subscriptionID, reason string) error {
	if subscriptionID == "" {
		return nil // never linked to a subscription: nothing at Stripe to stop
	}
	_, err := tx.Exec(ctx, `INSERT INTO subscription_cancels (subscription_id, donation_id, reason)
		VALUES ($1, $2::uuid, $3) ON CONFLICT (subscription_id) DO NOTHING`, subscriptionID, donationID, reason)
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
	for ctx.Err() == nil {
		var c SubscriptionCancel
		err := s.pool.QueryRow(ctx, `UPDATE subscription_cancels SET attempts = attempts + 1, claimed_until = now() + $1::interval
			WHERE subscription_id = (SELECT subscription_id FROM subscription_cancels
				WHERE done_at IS NULL AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
				ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
			RETURNING subscription_id, donation_id::text, reason, queued_at, attempts`, CancelLease.String()).
			Scan(&c.SubscriptionID, &c.DonationID, &c.Reason, &c.QueuedAt, &c.Attempts)
		if errors.Is(err, pgx.ErrNoRows) {
			return tried, nil
		} else if err != nil {
			return tried, fmt.Errorf("claim a subscription to cancel: %w", err)
		}
		tried++
		// The outcome is recorded only by the attempt that holds the lease: one that
		// overran it has been superseded by a newer attempt.
		if callErr := cancel(ctx, c); callErr == nil {
			_, err = s.pool.Exec(ctx, `UPDATE subscription_cancels SET last_error = '', done_at = now(), claimed_until = NULL
				WHERE subscription_id = $1 AND attempts = $2`, c.SubscriptionID, c.Attempts)
		} else {
			_, err = s.pool.Exec(ctx, `UPDATE subscription_cancels SET last_error = left($3, 500), claimed_until = NULL,
				next_attempt_at = now() + $4::interval WHERE subscription_id = $1 AND attempts = $2`,
				c.SubscriptionID, c.Attempts, callErr.Error(), RetryBackoff(c.Attempts).String())
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
	rows, err := s.pool.Query(ctx, `SELECT subscription_id, donation_id::text, reason, queued_at, attempts, last_error, done_at,
			COALESCE(claimed_until > now(), false)
		FROM subscription_cancels WHERE done_at IS NULL OR done_at > now() - $1::interval
		ORDER BY done_at IS NOT NULL, queued_at DESC LIMIT 500`, CancelsShownFor.String())
	if err != nil {
		return nil, fmt.Errorf("subscription cancellations: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (SubscriptionCancel, error) {
		var c SubscriptionCancel
		err := row.Scan(&c.SubscriptionID, &c.DonationID, &c.Reason, &c.QueuedAt, &c.Attempts, &c.LastError, &c.DoneAt, &c.InFlight)
		return c, err
	})
}
