package payments

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stripe/stripe-go/v76"

	"giving/campaigns"
	"giving/campaigns/payouts"
)

// Payouts are recorded when Stripe pays them: payout.paid is applied like any other event
// (stored once, replayed with the rest) by queueing, in its own transaction, a River job
// that reads the payout and its balance transactions back from Stripe and records them
// (RecordPayoutWorker). The event moves no ledger money, so replay has nothing to rebuild
// from it. The trustees' "Fetch payouts from Stripe" stays as a catch-up for a payout
// whose event never came.

// RecordPayoutJob records one Stripe payout (payouts.id) with the lines it paid out.
type RecordPayoutJob struct {
	PayoutID string `json:"payout_id"`
}

func (RecordPayoutJob) Kind() string { return "record_payout" }

// InsertOpts: one job per payout, however often its event is delivered or recovered; tried
// for about two days at RetryBackoff's pace while Stripe cannot be reached.
func (RecordPayoutJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: campaigns.JobQueueStripe, MaxAttempts: 60, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// applyPayout queues the recording of a payout Stripe has paid.
func applyPayout(ctx context.Context, tx pgx.Tx, ev event) (string, error) {
	var po stripe.Payout
	if err := decode(ev, &po); err != nil {
		return "", err
	}
	if po.ID == "" {
		return "", badEvent("%s names no payout", ev.Type)
	}
	if err := campaigns.InsertJob(ctx, tx, RecordPayoutJob{PayoutID: po.ID}); err != nil {
		return "", err
	}
	return "payout_queued", nil
}

// payoutTimeout bounds one job: the payout and every page of its balance transactions.
const payoutTimeout = 2 * time.Minute

// RecordPayoutWorker works RecordPayoutJob with the Reconciler's Stripe client. A payout
// already recorded records nothing; Stripe's error is the job's, so River retries it.
type RecordPayoutWorker struct {
	river.WorkerDefaults[RecordPayoutJob]
	Reconciler *Reconciler
	Log        *slog.Logger
}

func (w *RecordPayoutWorker) Timeout(*river.Job[RecordPayoutJob]) time.Duration { return payoutTimeout }

// NextRetry is campaigns.RetryBackoff after the failed attempt, on the store's clock.
func (w *RecordPayoutWorker) NextRetry(job *river.Job[RecordPayoutJob]) time.Time {
	return campaigns.RetryAfter(w.Reconciler.Store.Now(), job.Attempt)
}

func (w *RecordPayoutWorker) Work(ctx context.Context, job *river.Job[RecordPayoutJob]) error {
	added, err := w.Reconciler.RecordPayout(ctx, payouts.StripeActor, job.Args.PayoutID)
	if err != nil {
		w.log().Error("a payout is not yet recorded; will retry", "payout", job.Args.PayoutID, "attempt", job.Attempt, "err", err)
		return fmt.Errorf("record payout %s: %w", job.Args.PayoutID, err)
	}
	if added {
		w.log().Info("recorded a payout", "payout", job.Args.PayoutID)
	}
	return nil
}

func (w *RecordPayoutWorker) log() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}

// PayoutWorker is the worker that records the payouts Stripe announces, with this
// Reconciler's client.
func (r *Reconciler) PayoutWorker(log *slog.Logger) *RecordPayoutWorker {
	return &RecordPayoutWorker{Reconciler: r, Log: log}
}
