package reports

import (
	"context"
	"fmt"

	"giving/campaigns"
	"giving/campaigns/dbq"
	"giving/campaigns/donors"
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
	// outcome: "error" (could not be applied), "review" (Stripe's data cannot be true for
	// this charity: a refund larger than its charge, an absurd amount, a NUL byte),
	// "malformed", "wrong_mode", "unmatched"
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
var ReviewOutcomes = []string{"error", "review", "malformed", "wrong_mode", "unmatched", "deferred"}

// ReadBacklogs reads every backlog: the counts in one statement, the events for review by
// outcome in another.
func ReadBacklogs(ctx context.Context, s *campaigns.Store) (Backlogs, error) {
	q := dbq.New(s.Pool())
	row, err := q.Backlogs(ctx)
	if err != nil {
		return Backlogs{}, fmt.Errorf("read backlogs: %w", err)
	}
	review, err := q.EventsForReview(ctx)
	if err != nil {
		return Backlogs{}, fmt.Errorf("read events for review: %w", err)
	}
	b := Backlogs{EventsQueued: row.EventsQueued, OldestQueuedSeconds: row.OldestQueuedSeconds, MailQueued: row.MailQueued,
		MailFailed: row.MailFailed, SubscriptionCancelsPending: row.SubscriptionCancelsPending,
		EventsForReview: make(map[string]int64, len(ReviewOutcomes))}
	for _, o := range ReviewOutcomes {
		b.EventsForReview[o] = 0
	}
	for _, r := range review {
		b.EventsForReview[r.Outcome] = r.N
	}
	return b, nil
}

// StoredEvents lists the newest stored events with one of outcomes, at most limit, without
// their payloads.
func StoredEvents(ctx context.Context, s *campaigns.Store, outcomes []string, limit int) ([]donors.StoredEvent, error) {
	rows, err := dbq.New(s.Pool()).StoredEvents(ctx, dbq.StoredEventsParams{Outcomes: outcomes, MaxRows: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("list stored events: %w", err)
	}
	out := make([]donors.StoredEvent, len(rows))
	for i, r := range rows {
		out[i] = donors.StoredEvent{ID: r.ID, Type: r.Type, Outcome: r.Outcome, Detail: r.Detail, ReceivedAt: r.ReceivedAt}
	}
	return out, nil
}
