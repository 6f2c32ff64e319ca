package campaigns

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Backlogs is the work the service still owes, read at each metrics scrape so an alert can
// fire while something is stuck: each figure is a count of rows waiting for a worker or a
// person, read through a partial index, so the cost does not grow with the ledger.
type Backlogs struct {
	// EventsQueued are stored webhook events not yet applied to the totals;
	// OldestQueuedSeconds is how long the oldest of them has waited (0 when none).
	EventsQueued        int64
	OldestQueuedSeconds float64
	// EventsForReview counts stored events a trustee or developer must look at, by
	// outcome: "error" (could not be applied), "malformed", "wrong_mode", "unmatched"
	// (money for something the service never created) and "deferred" (a refund, dispute
	// or fee still waiting for its gift). Every outcome is present, zero or not.
	EventsForReview map[string]int64
	// MailQueued and MailFailed are outbox rows not yet sent and those given up on.
	MailQueued, MailFailed int64
	// SubscriptionCancelsPending are disputed monthly gifts Stripe has not yet confirmed
	// cancelled: each is a donor whose card may be charged again.
	SubscriptionCancelsPending int64
}

// ReviewOutcomes are the stored-event outcomes that wait for a person, in the order the
// dashboard and the metrics list them.
var ReviewOutcomes = []string{"error", "malformed", "wrong_mode", "unmatched", "deferred"}

// Backlogs reads every backlog in one statement.
func (s *Store) Backlogs(ctx context.Context) (Backlogs, error) {
	b := Backlogs{EventsForReview: make(map[string]int64, len(ReviewOutcomes))}
	for _, o := range ReviewOutcomes {
		b.EventsForReview[o] = 0
	}
	var outcomes []string
	var counts []int64
	err := s.pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM stripe_events WHERE outcome = 'queued'),
		       COALESCE((SELECT extract(epoch FROM now() - min(received_at)) FROM stripe_events WHERE outcome = 'queued'), 0)::float8,
		       r.outcomes, r.counts,
		       (SELECT count(*) FROM mail_outbox WHERE status = 'queued'),
		       (SELECT count(*) FROM mail_outbox WHERE status = 'failed'),
		       (SELECT count(*) FROM subscription_cancels WHERE done_at IS NULL)
		FROM (SELECT COALESCE(array_agg(outcome), '{}') AS outcomes, COALESCE(array_agg(n), '{}') AS counts
		      FROM (SELECT outcome, count(*) AS n FROM stripe_events
		            WHERE outcome IN ('unmatched', 'malformed', 'error', 'deferred', 'wrong_mode') GROUP BY outcome) g) r`,
	).Scan(&b.EventsQueued, &b.OldestQueuedSeconds, &outcomes, &counts, &b.MailQueued, &b.MailFailed, &b.SubscriptionCancelsPending)
	if err != nil {
		return Backlogs{}, fmt.Errorf("read backlogs: %w", err)
	}
	for i, o := range outcomes {
		b.EventsForReview[o] = counts[i]
	}
	return b, nil
}

// StoredEvents lists the newest stored events with one of outcomes, at most limit, without
// their payloads.
func (s *Store) StoredEvents(ctx context.Context, outcomes []string, limit int) ([]StoredEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, type, outcome, detail, received_at FROM stripe_events
		WHERE outcome = ANY($1) ORDER BY received_at DESC, id LIMIT $2`, outcomes, limit)
	if err != nil {
		return nil, fmt.Errorf("list stored events: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (StoredEvent, error) {
		var e StoredEvent
		err := row.Scan(&e.ID, &e.Type, &e.Outcome, &e.Detail, &e.ReceivedAt)
		return e, err
	})
}
