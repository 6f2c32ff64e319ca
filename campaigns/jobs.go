package campaigns

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// Background work (sending mail, cancelling a disputed monthly gift at Stripe) runs as River
// jobs: rows in PostgreSQL that any instance's River client works, with River's retries,
// backoff and rescue of jobs whose worker died. A job is inserted in the transaction of the
// change that causes it, so it exists exactly when that change commits.

// The queues, and how many jobs of each one instance works at once.
const (
	JobQueueMail   = "mail"   // the outbox
	JobQueueStripe = "stripe" // calls to Stripe's API
)

// JobQueues is the River queue configuration every instance runs.
func JobQueues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{JobQueueMail: {MaxWorkers: 2}, JobQueueStripe: {MaxWorkers: 1}}
}

// MailJob sends one message of the outbox (mail_outbox.id).
type MailJob struct {
	MailID int64 `json:"mail_id"`
}

func (MailJob) Kind() string { return "send_mail" }

// InsertOpts: about two days of retries at RetryBackoff's pace (up to an hour apart)
// before a message is given up; a refusal for good stops at once.
func (MailJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: JobQueueMail, MaxAttempts: 60}
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
	return river.InsertOpts{Queue: JobQueueStripe, MaxAttempts: 110, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// jobInserter inserts jobs inside a caller's transaction. An insert-only River client holds
// no connection, no worker and nothing that changes, only its fixed configuration, so one
// serves every store in the process; the clients that work jobs are built by the command
// that runs them (NewJobClient).
var jobInserter = func() *river.Client[pgx.Tx] {
	c, err := river.NewClient(riverpgxv5.New(nil), &river.Config{})
	if err != nil {
		panic(err) // an empty configuration cannot be invalid: only a broken build gets here
	}
	return c
}()

// InsertJob adds a job to tx: it is worked only if tx commits.
func InsertJob(ctx context.Context, tx pgx.Tx, args river.JobArgs) error {
	if _, err := jobInserter.InsertTx(ctx, tx, args, nil); err != nil {
		return fmt.Errorf("queue %s job: %w", args.Kind(), err)
	}
	return nil
}

// retryAfter is when a failed job's next attempt is due: RetryBackoff after now.
func retryAfter(now time.Time, attempt int) time.Time { return now.Add(RetryBackoff(attempt)) }

// NewJobClient builds the River client that works jobs in this process: the given workers
// (each command registers those whose dependencies it has, such as the mail sender and
// the Stripe client), plus the hourly pruning of sent mail. River fetches and completes
// jobs on jobsPool (a pool of its own in the service, so background work never takes the
// connections that answer donors); the workers use the store's.
func (s *Store) NewJobClient(jobsPool *pgxpool.Pool, log *slog.Logger, workers *river.Workers) (*river.Client[pgx.Tx], error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	river.AddWorker(workers, &PruneMailWorker{Store: s})
	prune := river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return PruneMailJob{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})
	c, err := river.NewClient(riverpgxv5.New(jobsPool), &river.Config{
		Queues:       JobQueues(),
		Workers:      workers,
		PeriodicJobs: []*river.PeriodicJob{prune},
		Logger:       log,
	})
	if err != nil {
		return nil, fmt.Errorf("background jobs: %w", err)
	}
	return c, nil
}
