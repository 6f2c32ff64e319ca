package payments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
)

// Appliers is how many goroutines Run uses to apply the events left queued.
const Appliers = 2

// orphanAge is how old a queued event must be before the pollers take it without being
// woken: older than any inline apply still in progress, so a request that stored an event
// normally applies it itself.
const orphanAge = time.Second

// ingest stores a verified delivery with one statement. An event to apply is stored as
// "queued"; one that is malformed or from the wrong mode is stored with that outcome for
// review. A redelivery of a stored event is "duplicate".
func (h *Webhooks) ingest(ctx context.Context, ev event, body []byte, parseErr error) (string, error) {
	outcome, detail := h.classify(ev, parseErr)
	if outcome == "" {
		outcome = "queued"
	}
	err := insertEvent(ctx, h.store.Pool(), ev, body, outcome, detail, "")
	if errors.Is(err, errDuplicate) {
		h.metrics.Duplicates.Inc()
		return "duplicate", nil
	}
	return outcome, err
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
		_, found, err := h.applyQueued(ctx, "", minAge)
		if err != nil || !found {
			return n, err
		}
		n++
		if n%64 == 0 {
			h.poke() // share a long queue with the other appliers
		}
	}
	return n, ctx.Err()
}

// applyQueued claims one queued event (id, or the oldest at least minAge old that no one
// else holds), applies it and records its outcome, all in one transaction. found is false
// when there was nothing to claim. A deadlock is simply tried again; an event that cannot
// be applied is marked "error" for review.
func (h *Webhooks) applyQueued(ctx context.Context, id string, minAge time.Duration) (outcome string, found bool, err error) {
	var ev event
	var claimed string
	var lag float64
	for attempt := 0; attempt < 4; attempt++ {
		found = false
		err = h.store.InTx(ctx, func(tx pgx.Tx) error {
			var body []byte
			q := `SELECT id, payload FROM stripe_events WHERE outcome = 'queued' AND id = $1 FOR UPDATE SKIP LOCKED`
			args := []any{id}
			if id == "" {
				q = `SELECT id, payload FROM stripe_events WHERE outcome = 'queued' AND received_at <= now() - $1::interval
					ORDER BY received_at LIMIT 1 FOR UPDATE SKIP LOCKED`
				args = []any{minAge.String()}
			}
			if err := tx.QueryRow(ctx, q, args...).Scan(&claimed, &body); errors.Is(err, pgx.ErrNoRows) {
				return nil
			} else if err != nil {
				return err
			}
			found = true
			var perr error
			if ev, perr = parseEvent(body); perr != nil {
				return badEvent("stored event %s no longer parses: %v", claimed, perr)
			}
			var deferKey string
			var err error
			if outcome, deferKey, err = applyLocked(ctx, tx, ev, false); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `UPDATE stripe_events SET outcome = $2, defer_key = NULLIF($3, ''),
				applied_at = CASE WHEN $2 IN ('applied', 'unmatched', 'ignored') THEN now() END
				WHERE id = $1 RETURNING extract(epoch FROM clock_timestamp() - received_at)::float8`,
				claimed, outcome, deferKey).Scan(&lag)
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
	var bad *badEventError
	switch {
	case errors.As(err, &bad):
		h.log.Error("webhook could not be applied: stored for review", "event", claimed, "type", ev.Type, "err", err)
		_, err = h.store.Pool().Exec(ctx, `UPDATE stripe_events SET outcome = 'error', detail = $2 WHERE id = $1 AND outcome = 'queued'`,
			claimed, err.Error())
		return "error", true, err
	case err != nil || !found:
		return "", found, err
	}
	h.metrics.Applied.WithLabelValues(outcome).Inc()
	h.metrics.ApplyLag.Observe(lag)
	if outcome == "applied" || outcome == "deferred" || outcome == "unmatched" {
		h.learnFee(ctx, ev)
	}
	return outcome, true, nil
}

// ErrNotRetryable says a stored event is not one that failed to apply: only an event stored
// as "error" is retried (a malformed body never parses; an event from the wrong mode must
// not count; the rest are applied, or waiting on purpose).
var ErrNotRetryable = errors.New("only an event that failed to apply (outcome error) can be retried")

// Retry applies again a stored event that failed to apply ("error"), typically after the
// fix for whatever stopped it has been deployed: it is put back in the queue (audited, in
// the same transaction) and applied at once through the same idempotent path as every
// delivery. It returns the new outcome, "error" again (with the reason in detail) if it
// still cannot be applied. campaigns.ErrNotFound: no such event; ErrNotRetryable: it did
// not fail.
func (h *Webhooks) Retry(ctx context.Context, by campaigns.User, id string) (outcome, detail string, err error) {
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		var was string
		if err := tx.QueryRow(ctx, `SELECT outcome FROM stripe_events WHERE id = $1 FOR UPDATE`, id).Scan(&was); errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("stored event %q: %w", id, campaigns.ErrNotFound)
		} else if err != nil {
			return err
		}
		if was != "error" {
			return fmt.Errorf("event %s is %q: %w", id, was, ErrNotRetryable)
		}
		if _, err := tx.Exec(ctx, `UPDATE stripe_events SET outcome = 'queued', detail = '' WHERE id = $1`, id); err != nil {
			return err
		}
		return campaigns.Audit(ctx, tx, by, "webhook event retried", id)
	})
	if err != nil {
		return "", "", err
	}
	// If an applier got there first this finds nothing to claim; either way the stored
	// outcome is read back below.
	if _, _, err := h.applyQueued(ctx, id, 0); err != nil {
		return "", "", err
	}
	if err := h.store.Pool().QueryRow(ctx, `SELECT outcome, detail FROM stripe_events WHERE id = $1`, id).Scan(&outcome, &detail); err != nil {
		return "", "", err
	}
	return outcome, detail, nil
}
