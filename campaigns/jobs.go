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

// RetryAfter is when a failed job's next attempt is due: RetryBackoff after now.
func RetryAfter(now time.Time, attempt int) time.Time { return now.Add(RetryBackoff(attempt)) }

// NewJobClient builds the River client that works jobs in this process: the given workers
// (each command registers those whose dependencies it has, such as the mail sender and
// the Stripe client) and periodic jobs (such as outbox.Prune's). River fetches and
// completes jobs on jobsPool (a pool of its own in the service, so background work never
// takes the connections that answer donors); the workers use the store's.
func (s *Store) NewJobClient(jobsPool *pgxpool.Pool, log *slog.Logger, workers *river.Workers, periodic ...*river.PeriodicJob) (*river.Client[pgx.Tx], error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := river.NewClient(riverpgxv5.New(jobsPool), &river.Config{
		Queues:       JobQueues(),
		Workers:      workers,
		PeriodicJobs: periodic,
		Logger:       log,
	})
	if err != nil {
		return nil, fmt.Errorf("background jobs: %w", err)
	}
	return c, nil
}

// Backoff is how long work that failed waits before its next try: First after the first
// failure, doubling with each one after, never more than Max. Every queue in the service
// uses it: River's jobs (JobBackoff) and the stored webhook events (payments).
type Backoff struct {
	First, Max time.Duration
}

// Delay is the wait after failed try n (1 for the first).
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.First
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// JobBackoff paces work that calls another server (sending mail, cancelling at Stripe):
// 30 s, 1 min, 2 min, ... up to an hour between attempts.
var JobBackoff = Backoff{First: 30 * time.Second, Max: time.Hour}

// RetryBackoff is JobBackoff's wait before retry n, for River's NextRetry.
func RetryBackoff(attempt int) time.Duration { return JobBackoff.Delay(attempt) }
