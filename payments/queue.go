package payments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
	"giving/campaigns/donations"
	"giving/campaigns/ledger"
)

// Appliers is how many goroutines Run uses to apply the events left queued. One is enough:
// a batch applies its gifts set-wise, so a second applier mostly waits for the first's
// totals rows and takes the CPU the answers need. In full givingbench runs on two cores,
// one applier answered 0.60 and 0.64 of the one-INSERT ceiling against 0.51 and 0.41 with
// two, applied as fast (2,362 and 2,353 events/s against 2,310 and 2,640), and three
// instances applied 0.87 and 0.66 of one's rate against 0.73 and 0.77.
const Appliers = 1

// orphanAge is how old a queued event must be before the pollers take it without being
// woken: older than any inline apply still in progress, so a request that stored an event
// normally applies it itself.
const orphanAge = time.Second

// ingest stores a verified delivery with one statement. An event to apply is stored as
// "queued"; one that is malformed or from the wrong mode is stored with that outcome for
// review. A redelivery of a stored event is "duplicate".
func (h *Webhooks) ingest(ctx context.Context, ev event, body []byte, parseErr error) (string, error) {
	outcome, detail := h.storedAs(ev, parseErr)
	err := insertEvent(ctx, h.store.Pool(), ev, body, outcome, detail, "")
	if errors.Is(err, errDuplicate) {
		h.metrics.Duplicates.Inc()
		return "duplicate", nil
	}
	return outcome, err
}

// storedAs is the outcome a verified delivery is stored with: "queued" for one to apply,
// or "malformed" or "wrong_mode" (with the reason) for review.
func (h *Webhooks) storedAs(ev event, parseErr error) (outcome, detail string) {
	outcome, detail = h.classify(ev, parseErr)
	if outcome == "" {
		outcome = "queued"
	}
	return outcome, detail
}

// applyInline applies the event just stored when the service is quiet, and returns what
// became of it; "queued" when it is left to the appliers (which it wakes). Quiet means
// this is the instance's only webhook request in flight (so at most one request applies
// inline at a time): a lone delivery (the sandbox's, a donor's) is answered with its gift already in every total,
// while under load every request answers as soon as its event is stored, because applying
// in the request would hold a client connection and compete for the CPU the answers need.
func (h *Webhooks) applyInline(ctx context.Context, id string) string {
	if h.inFlight.Load() > 1 {
		h.poke()
		return "queued"
	}
	outcome, found, err := h.applyQueued(ctx, id, 0)
	if err != nil || !found {
		// Stored all the same: an applier takes it (or already has).
		h.poke()
		return "queued"
	}
	return outcome
}

// InFlight is how many webhook requests this instance is serving now.
func (h *Webhooks) InFlight() int64 { return h.inFlight.Load() }

func (h *Webhooks) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Run applies queued events until ctx ends: at once when a request leaves one queued,
// and every second any left by a crash, a lost connection or another instance.
func (h *Webhooks) Run(ctx context.Context) {
	done := make(chan struct{})
	for range Appliers {
		go func() {
			defer func() { done <- struct{}{} }()
			tick := time.NewTicker(orphanAge)
			defer tick.Stop()
			for {
				minAge := time.Duration(0)
				select {
				case <-ctx.Done():
					return
				case <-h.wake:
				case <-tick.C:
					minAge = orphanAge
				}
				if _, err := h.drain(ctx, minAge); err != nil && ctx.Err() == nil {
					h.log.Warn("applying queued webhook events paused; will try again", "err", err)
				}
			}
		}()
	}
	for range Appliers {
		<-done
	}
}

// Drain applies every queued event and returns how many it applied: for tests, and for
// commands that must see every stored event applied.
func (h *Webhooks) Drain(ctx context.Context) (int, error) {
	return h.drain(ctx, 0)
}

func (h *Webhooks) drain(ctx context.Context, minAge time.Duration) (int, error) {
	n := 0
	for ctx.Err() == nil {
		k, err := h.applyBatch(ctx, minAge)
		n += k
		if err != nil || k == 0 {
			return n, err
		}
		if k == h.maxBatch() {
			h.poke() // share a long queue with the other appliers
		}
	}
	return n, ctx.Err()
}

// BatchSize is the most queued events one applier's transaction applies (and the most
// deliveries one statement stores, gather.go). A batch's statements and its commit cost
// about the same for 64 gifts as for 512, so a burst's backlog drains faster in large
// batches: in full givingbench runs, alternating, applying sustained 0.50 and 0.50 of the
// one-INSERT ceiling at 512, 0.45 to 0.49 at 256 and 0.37 at 64.
const BatchSize = 512

// maxBatch is MaxBatch, or BatchSize when it is not set.
func (h *Webhooks) maxBatch() int {
	if h.MaxBatch > 0 {
		return h.MaxBatch
	}
	return BatchSize
}

// claimedEvent is one event of a batch: as claimed, and what applying it did.
type claimedEvent struct {
	id       string
	attempts int32
	ev       event
	names    names // what in ev says which other events it can meet
	outcome  string
}

// applyBatch claims up to BatchSize queued events (each at least minAge old, none another
// transaction holds or waiting for a later try), applies them in order and records their
// outcomes, all in one transaction, and returns how many it claimed (0: none left).
//
// Every promise of applying one event at a time holds. The payment locks of all the
// batch's events are taken first, sorted, and the totals, distinct donors and dashboard
// summary rows are written once, at the end, each sorted by key (ledger.Batch): two
// batches, or a batch and a lone event, never wait for each other in a cycle. A refund or
// dispute that arrives before its gift waits as "deferred" (stored at once, inside the
// batch) and is applied by whichever transaction records the gift, in this batch or a
// later one. When an event cannot be applied the transaction is rolled back and each
// event of the batch is applied on its own (applyQueued), so the one at fault is set aside
// with its reason and the others are applied all the same; a deadlock or serialization
// failure is tried again; a database out of reach leaves them all queued.
func (h *Webhooks) applyBatch(ctx context.Context, minAge time.Duration) (int, error) {
	applyCtx := withDonorMail(withBounds(ctx, h.GiftMax), h.DonorMail)
	var batch []claimedEvent
	var lags []float64
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		batch, lags = nil, nil
		err = h.store.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			batch, lags, err = h.applyClaimed(applyCtx, tx, minAge)
			return err
		})
		if !retryable(err) {
			break
		}
		h.metrics.Retries.Inc()
		select {
		case <-ctx.Done():
			return 0, err
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
	switch {
	case err == nil:
	case len(batch) == 0 || (transient(ctx, err) && !retryable(err)):
		return 0, err
	default:
		// One event spoiled the batch (or the batch kept meeting deadlocks): each on its own.
		for _, c := range batch {
			if _, _, err := h.applyQueued(ctx, c.id, 0); err != nil {
				return 0, err
			}
		}
		return len(batch), nil
	}
	for _, lag := range lags {
		h.metrics.ApplyLag.Observe(lag)
	}
	for _, c := range batch {
		h.metrics.Applied.WithLabelValues(c.outcome).Inc()
		if c.outcome == "applied" || c.outcome == "deferred" || c.outcome == "unmatched" {
			h.learnFee(ctx, c.ev)
		}
	}
	return len(batch), nil
}

// applyClaimed is applyBatch's transaction. It returns the events it claimed even when
// applying one of them fails, and how long each waited since it was received.
func (h *Webhooks) applyClaimed(ctx context.Context, tx pgx.Tx, minAge time.Duration) ([]claimedEvent, []float64, error) {
	q := dbq.New(tx)
	rows, err := q.ClaimQueuedEvents(ctx, dbq.ClaimQueuedEventsParams{MinAge: minAge, Now: h.store.Now(), N: int32(h.maxBatch())})
	if err != nil || len(rows) == 0 {
		return nil, nil, err
	}
	batch := make([]claimedEvent, len(rows))
	locked := map[string]bool{}
	for i, r := range rows {
		batch[i] = claimedEvent{id: r.ID, attempts: r.Attempts}
	}
	for i, r := range rows {
		ev, err := parseEvent(r.Payload)
		if err != nil {
			return batch, nil, badEvent("stored event %s no longer parses: %v", r.ID, err)
		}
		batch[i].ev, batch[i].names = ev, namesOf(ev)
		if pi := batch[i].names.payment; pi != "" {
			locked[pi] = true
		}
	}
	pis := make([]string, 0, len(locked))
	for pi := range locked {
		pis = append(pis, pi)
	}
	slices.Sort(pis)
	if err := q.LockPayments(ctx, pis); err != nil {
		return batch, nil, err
	}
	ctx, waits, err := askWaiting(ctx, tx, pis)
	if err != nil {
		return batch, nil, err
	}
	ctx, gathered, err := ledger.BeginBatch(context.WithValue(ctx, lockedPayment{}, locked), tx)
	if err != nil {
		return batch, nil, err
	}
	ctx, mails := donations.BeginMailBatch(ctx)
	ids := make([]string, 0, len(batch))
	outcomes := make([]string, 0, len(batch))
	var lags []float64
	if err := applyPaidCheckouts(ctx, tx, batch, waits); err != nil {
		return batch, nil, err
	}
	for i := range batch {
		c := &batch[i]
		if c.outcome != "" { // applied with the batch's other paid checkouts
			ids, outcomes = append(ids, c.id), append(outcomes, c.outcome)
			continue
		}
		var deferKey string
		if c.outcome, deferKey, err = apply(ctx, tx, c.ev); err != nil {
			return batch, nil, fmt.Errorf("event %s: %w", c.id, err)
		}
		if c.outcome != "deferred" {
			ids, outcomes = append(ids, c.id), append(outcomes, c.outcome)
			continue
		}
		// Stored as waiting at once: a gift later in the batch looks for it.
		waits.waiting[deferKey] = true
		lag, err := q.MarkQueuedEventDone(ctx, dbq.MarkQueuedEventDoneParams{ID: c.id, Outcome: c.outcome, DeferKey: deferKey})
		if err != nil {
			return batch, nil, err
		}
		lags = append(lags, lag)
	}
	// The receipts first: their messages' jobs are written with the batch's others.
	if err := mails.Flush(ctx, tx); err != nil {
		return batch, nil, err
	}
	if err := gathered.Flush(ctx, tx); err != nil {
		return batch, nil, err
	}
	done, err := q.MarkQueuedEventsDone(ctx, dbq.MarkQueuedEventsDoneParams{Ids: ids, Outcomes: outcomes})
	if err != nil {
		return batch, nil, err
	}
	return batch, append(lags, done...), nil
}

// applyQueued claims one queued event (id, or the oldest at least minAge old that no one
// else holds and that is not waiting for a later try), applies it and records its outcome,
// all in one transaction. found is false when there was nothing to claim.
//
// What becomes of a failure depends on its cause. A deadlock or serialization failure is
// simply tried again at once; the database being unreachable leaves the event queued and is
// returned (nothing else can be applied either). An event that is itself wrong is set aside
// as "error", and one whose data cannot be true for this charity as "review", each with
// the reason. Any other failure is tried again later, the wait doubling each time, and after
// ApplyTries tries the event is set aside as "error": meanwhile the appliers pass over it,
// so it never holds up the events behind it.
func (h *Webhooks) applyQueued(ctx context.Context, id string, minAge time.Duration) (outcome string, found bool, err error) {
	var ev event
	var claimed string
	var attempts int32 // the claimed event's failed tries so far
	var lag float64
	applyCtx := withDonorMail(withBounds(ctx, h.GiftMax), h.DonorMail)
	for attempt := 0; attempt < 4; attempt++ {
		found = false
		err = h.store.InTx(ctx, func(tx pgx.Tx) error {
			var body []byte
			q := dbq.New(tx)
			if id != "" {
				row, err := q.ClaimQueuedEvent(ctx, id)
				claimed, body, attempts = row.ID, row.Payload, row.Attempts
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				} else if err != nil {
					return err
				}
			} else {
				row, err := q.ClaimOldestQueuedEvent(ctx, dbq.ClaimOldestQueuedEventParams{MinAge: minAge, Now: h.store.Now()})
				claimed, body, attempts = row.ID, row.Payload, row.Attempts
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				} else if err != nil {
					return err
				}
			}
			found = true
			var perr error
			if ev, perr = parseEvent(body); perr != nil {
				return badEvent("stored event %s no longer parses: %v", claimed, perr)
			}
			var deferKey string
			var err error
			if outcome, deferKey, err = applyLocked(applyCtx, tx, ev, false); err != nil {
				return err
			}
			lag, err = q.MarkQueuedEventDone(ctx, dbq.MarkQueuedEventDoneParams{ID: claimed, Outcome: outcome, DeferKey: deferKey})
			return err
		})
		if !retryable(err) {
			break
		}
		h.metrics.Retries.Inc()
		select {
		case <-ctx.Done():
			return "", found, err
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
	switch {
	case err == nil && !found:
		return "", false, nil
	case err == nil:
	case !found || transient(ctx, err):
		return "", found, err
	default:
		outcome, err = h.setAside(ctx, claimed, attempts, ev, err)
		return outcome, true, err
	}
	h.metrics.Applied.WithLabelValues(outcome).Inc()
	h.metrics.ApplyLag.Observe(lag)
	if outcome == "applied" || outcome == "deferred" || outcome == "unmatched" {
		h.learnFee(ctx, ev)
	}
	return outcome, true, nil
}

// setAside records why a claimed event, which had failed attempts tries before, could not be
// applied (see applyQueued) and returns its outcome now: "error", "review", or "queued"
// while it waits for another try, ApplyBackoff's delay for this try away on the store's
// clock.
func (h *Webhooks) setAside(ctx context.Context, id string, attempts int32, ev event, cause error) (string, error) {
	q := dbq.New(h.store.Pool())
	outcome := setAsideOutcome(cause)
	if outcome == "" {
		tries := h.ApplyTries
		if tries <= 0 {
			tries = DefaultApplyTries
		}
		backoff := campaigns.Backoff{First: h.ApplyBackoff, Max: maxApplyBackoff}
		if backoff.First <= 0 {
			backoff.First = DefaultApplyBackoff
		}
		retryAt := h.store.Now().Add(backoff.Delay(int(attempts) + 1))
		row, err := q.FailQueuedEvent(ctx, dbq.FailQueuedEventParams{ID: id, Attempts: attempts, MaxTries: int32(tries),
			RetryAt: retryAt, Reason: cause.Error()})
		if errors.Is(err, pgx.ErrNoRows) {
			return "queued", nil // retried or applied by someone else meanwhile
		} else if err != nil {
			return "", err
		}
		if row.Outcome == "queued" {
			h.metrics.ApplyFailures.WithLabelValues("later").Inc()
			h.log.Warn("webhook could not be applied: will try again later", "event", id, "type", ev.Type,
				"try", row.Attempts, "of", tries, "err", cause)
			return "queued", nil
		}
		outcome = row.Outcome
		cause = fmt.Errorf("failed %d tries: %w", row.Attempts, cause)
	} else if _, err := q.SetAsideQueuedEvent(ctx, dbq.SetAsideQueuedEventParams{ID: id, Outcome: outcome, Reason: cause.Error()}); err != nil {
		return "", err
	}
	h.metrics.ApplyFailures.WithLabelValues(outcome).Inc()
	if outcome == "review" {
		h.log.Warn("webhook data cannot be true for this charity: stored for review", "event", id, "type", ev.Type, "reason", cause)
	} else {
		h.log.Error("webhook could not be applied: stored for review", "event", id, "type", ev.Type, "err", cause)
	}
	return outcome, nil
}

// setAsideOutcome is "review" for an event whose data fails a sanity bound, "error" for one
// that is itself wrong (retrying cannot help), and "" for any other failure.
func setAsideOutcome(err error) string {
	var rev *reviewError
	var bad *badEventError
	switch {
	case errors.As(err, &rev):
		return "review"
	case errors.As(err, &bad):
		return "error"
	}
	return ""
}

// DefaultApplyTries and DefaultApplyBackoff: an event failing for a reason that is not
// transient is tried 5 times, 1, 2, 4 and 8 s apart, before it is set aside as "error"
// (about 15 s: long enough to outlast a lock or a race, short enough that the alert on
// events for review tells a person the same minute).
const (
	DefaultApplyTries   = 5
	DefaultApplyBackoff = time.Second
	maxApplyBackoff     = time.Hour // only with ApplyTries raised far above the default
)

// transient reports whether an apply failed for a reason that is not the event's: the
// database unreachable (no connection, a connection lost or shut down), or a serialization
// failure or deadlock. Anything else, an error PostgreSQL answered about the data or one
// from this code, would fail the same way next time.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil || retryable(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"): // connection exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", pgErr.Code == "53300":
			// shut down, crashed, starting up; too many connections
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.Timeout(err) || pgconn.SafeToRetry(err)
}

// ErrNotRetryable says a stored event is not one that failed to apply: only an event stored
// as "error" or "review" is retried (a malformed body never parses; an event from the wrong mode must
// not count; the rest are applied, or waiting on purpose).
var ErrNotRetryable = errors.New("only an event that failed to apply (outcome error) or was held for review can be retried")

// Retry applies again a stored event that failed to apply ("error") or was held for review
// ("review"), typically after the fix for whatever stopped it has been deployed or the bound
// it failed has been raised: it is put back in the queue (audited, in
// the same transaction) and applied at once through the same idempotent path as every
// delivery. It returns the new outcome, "error" again (with the reason in detail) if it
// still cannot be applied. campaigns.ErrNotFound: no such event; ErrNotRetryable: it did
// not fail.
func (h *Webhooks) Retry(ctx context.Context, by accounts.User, id string) (outcome, detail string, err error) {
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		was, err := dbq.New(tx).LockEventOutcome(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("stored event %q: %w", id, campaigns.ErrNotFound)
		} else if err != nil {
			return err
		}
		if was != "error" && was != "review" {
			return fmt.Errorf("event %s is %q: %w", id, was, ErrNotRetryable)
		}
		if err := dbq.New(tx).RequeueEvent(ctx, id); err != nil {
			return err
		}
		return audit.Write(ctx, tx, by, "webhook event retried", id)
	})
	if err != nil {
		return "", "", err
	}
	// If an applier got there first this finds nothing to claim; either way the stored
	// outcome is read back below.
	if _, _, err := h.applyQueued(ctx, id, 0); err != nil {
		return "", "", err
	}
	row, err := dbq.New(h.store.Pool()).EventOutcome(ctx, id)
	if err != nil {
		return "", "", err
	}
	return row.Outcome, row.Detail, nil
}
