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
}

// CancelDue claims the cancellations that are due, one at a time (FOR UPDATE SKIP LOCKED, so
// any number of instances may run it), calls cancel for each while holding its row, and
// records the outcome: done, or a retry after RetryBackoff(attempts). It returns how many
// it tried. The row is held for the length of one call, which the caller bounds.
func (s *Store) CancelDue(ctx context.Context, cancel func(ctx context.Context, c SubscriptionCancel) error) (tried int, err error) {
	for ctx.Err() == nil {
		found := false
		err = s.InTx(ctx, func(tx pgx.Tx) error {
			var c SubscriptionCancel
			err := tx.QueryRow(ctx, `SELECT subscription_id, donation_id::text, reason, queued_at, attempts
				FROM subscription_cancels WHERE done_at IS NULL AND next_attempt_at <= now()
				ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED`).
				Scan(&c.SubscriptionID, &c.DonationID, &c.Reason, &c.QueuedAt, &c.Attempts)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			} else if err != nil {
				return err
			}
			found = true
			c.Attempts++
			callErr := cancel(ctx, c)
			if callErr == nil {
				_, err = tx.Exec(ctx, `UPDATE subscription_cancels SET attempts = $2, last_error = '', done_at = now()
					WHERE subscription_id = $1`, c.SubscriptionID, c.Attempts)
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE subscription_cancels SET attempts = $2, last_error = left($3, 500),
				next_attempt_at = now() + $4::interval WHERE subscription_id = $1`,
				c.SubscriptionID, c.Attempts, callErr.Error(), RetryBackoff(c.Attempts).String())
			return err
		})
		if err != nil || !found {
			return tried, err
		}
		tried++
	}
	return tried, ctx.Err()
}

// SubscriptionCancels lists the queued cancellations, those still waiting first, then the
// newest.
func (s *Store) SubscriptionCancels(ctx context.Context) ([]SubscriptionCancel, error) {
	rows, err := s.pool.Query(ctx, `SELECT subscription_id, donation_id::text, reason, queued_at, attempts, last_error, done_at
		FROM subscription_cancels ORDER BY done_at IS NOT NULL, queued_at DESC LIMIT 500`)
	if err != nil {
		return nil, fmt.Errorf("subscription cancellations: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (SubscriptionCancel, error) {
		var c SubscriptionCancel
		err := row.Scan(&c.SubscriptionID, &c.DonationID, &c.Reason, &c.QueuedAt, &c.Attempts, &c.LastError, &c.DoneAt)
		return c, err
	})
}

// PendingSubscriptionCancels counts the cancellations Stripe has not yet confirmed: each is
// a donor whose card may be charged again.
func (s *Store) PendingSubscriptionCancels(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM subscription_cancels WHERE done_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("pending subscription cancellations: %w", err)
	}
	return n, nil
}
