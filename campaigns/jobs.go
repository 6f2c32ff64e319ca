package campaigns

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
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

// InsertJob adds a job to tx: it is worked only if tx commits. Under a JobBatch's context
// the job is gathered instead and written with the batch's others when it is flushed.
func InsertJob(ctx context.Context, tx pgx.Tx, args river.JobArgs) error {
	if b, ok := ctx.Value(jobBatchKey{}).(*JobBatch); ok && !uniqueJob(args) {
		b.jobs = append(b.jobs, river.InsertManyParams{Args: args})
		return nil
	}
	if _, err := jobInserter.InsertTx(ctx, tx, args, nil); err != nil {
		return fmt.Errorf("queue %s job: %w", args.Kind(), err)
	}
	return nil
}

// JobBatch gathers the jobs one transaction inserts while it applies many changes (the
// webhook appliers' batches: a receipt's mail job for each gift) and writes them all with
// one statement at its end, instead of an insert and a notification for each. Jobs with
// uniqueness options are inserted at once all the same, so River can check them.
type JobBatch struct{ jobs []river.InsertManyParams }

type jobBatchKey struct{}

// BeginJobBatch returns the context under which InsertJob gathers into a new batch.
func BeginJobBatch(ctx context.Context) (context.Context, *JobBatch) {
	b := &JobBatch{}
	return context.WithValue(ctx, jobBatchKey{}, b), b
}

// JobBatchOf is the batch ctx gathers into, or nil.
func JobBatchOf(ctx context.Context) *JobBatch {
	b, _ := ctx.Value(jobBatchKey{}).(*JobBatch)
	return b
}

// Len is how many jobs the batch holds; Truncate(n) forgets those gathered after it held n
// (the work of a savepoint rolled back). Both are safe on a nil batch.
func (b *JobBatch) Len() int {
	if b == nil {
		return 0
	}
	return len(b.jobs)
}

func (b *JobBatch) Truncate(n int) {
	if b != nil && n < len(b.jobs) {
		b.jobs = b.jobs[:n]
	}
}

// Flush writes the gathered jobs into tx, in one statement; call it last, before commit.
func (b *JobBatch) Flush(ctx context.Context, tx pgx.Tx) error {
	if b.Len() == 0 {
		return nil
	}
	if _, err := jobInserter.InsertManyFastTx(ctx, tx, b.jobs); err != nil {
		return fmt.Errorf("queue %d jobs: %w", len(b.jobs), err)
	}
	b.jobs = nil
	return nil
}

// uniqueJob reports whether args asks River for uniqueness, which only a lone insert checks
// here.
func uniqueJob(args river.JobArgs) bool {
	o, ok := args.(river.JobArgsWithInsertOpts)
	return ok && !reflect.ValueOf(o.InsertOpts().UniqueOpts).IsZero()
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
