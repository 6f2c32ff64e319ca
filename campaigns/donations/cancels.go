package donations

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"giving/campaigns"
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
	return campaigns.InsertJob(ctx, tx, SubscriptionCancelJob{SubscriptionID: subscriptionID})
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

// CancelSubscription makes one attempt (River's job attempt, from 1) at a queued
// cancellation: it marks the attempt under way for the dashboard, calls cancel, and records
// the outcome, done or due again after RetryBackoff; cancel's error is returned for River
// to retry. A cancellation already done is left alone. No transaction or connection is held
// while the provider answers, which timeout bounds.
func CancelSubscription(ctx context.Context, s *campaigns.Store, subscriptionID string, attempt int, timeout time.Duration,
	cancel func(ctx context.Context, c SubscriptionCancel) error) error {
	q := dbq.New(s.Pool())
	until := s.Now().Add(timeout)
	row, err := q.StartSubscriptionCancel(ctx, dbq.StartSubscriptionCancelParams{Attempt: int32(attempt), Until: &until, SubscriptionID: subscriptionID})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // done already (a duplicate job) or never queued
	} else if err != nil {
		return fmt.Errorf("start cancelling %s: %w", subscriptionID, err)
	}
	c := SubscriptionCancel{SubscriptionID: row.SubscriptionID, DonationID: row.DonationID, Reason: row.Reason,
		QueuedAt: row.QueuedAt, Attempts: int(row.Attempts)}
	callCtx, stop := context.WithTimeout(ctx, timeout)
	callErr := cancel(callCtx, c)
	stop()
	keep := context.WithoutCancel(ctx) // record what the provider said, even during shutdown
	if callErr == nil {
		err = q.FinishSubscriptionCancel(keep, dbq.FinishSubscriptionCancelParams{Now: s.Now(), SubscriptionID: c.SubscriptionID, Attempts: row.Attempts})
	} else {
		err = q.PostponeSubscriptionCancel(keep, dbq.PostponeSubscriptionCancelParams{SubscriptionID: c.SubscriptionID, Attempts: row.Attempts,
			LastError: callErr.Error(), NextAttemptAt: campaigns.RetryAfter(s.Now(), attempt)})
	}
	if err != nil {
		return fmt.Errorf("record the outcome of cancelling %s: %w", c.SubscriptionID, err)
	}
	return callErr
}

// CancelsShownFor is how long a finished cancellation stays on the dashboard.
const CancelsShownFor = 90 * 24 * time.Hour

// SubscriptionCancels lists every cancellation still to do and those done in the last
// CancelsShownFor: those still waiting first, then the newest.
func SubscriptionCancels(ctx context.Context, s *campaigns.Store) ([]SubscriptionCancel, error) {
	rows, err := dbq.New(s.Pool()).SubscriptionCancels(ctx, dbq.SubscriptionCancelsParams{Now: s.Now(), ShownFor: CancelsShownFor})
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

// SubscriptionCancelJob cancels a disputed monthly gift's subscription at the provider
// (subscription_cancels.subscription_id).
type SubscriptionCancelJob struct {
	SubscriptionID string `json:"subscription_id"`
}

func (SubscriptionCancelJob) Kind() string { return "cancel_subscription" }

// InsertOpts: one job per subscription while one is waiting or running; tried for about
// four days (a card must not be charged again, so it is never given up lightly: the
// dashboard and an alert show one still waiting).
func (SubscriptionCancelJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: campaigns.JobQueueStripe, MaxAttempts: 110, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}
