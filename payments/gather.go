package payments

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"giving/campaigns"
	"giving/campaigns/dbq"
)

// Gathering. Under a burst, what limits how fast deliveries are answered is storing them:
// one INSERT and one commit each, every commit waiting for the disk, while the appliers
// need the same database and CPU to apply what was stored. So deliveries that arrive
// while this instance is already storing others wait for that statement to finish and are
// then stored together, up to BatchSize at a time, with one statement and one commit:
// each is still answered only once it is durable, and the appliers get the time saved.
// A lone delivery is stored (and applied) on its own, as before.

// storers is how many gathered statements one instance runs at once: one can be filling
// while the other waits for its commit.
const storers = 2

// storeTimeout bounds one gathered statement; past it, its deliveries are answered 503.
const storeTimeout = 10 * time.Second

// delivery is one verified webhook delivery waiting to be stored with others.
type delivery struct {
	ev      event
	body    []byte
	outcome string // "queued", or "malformed" or "wrong_mode" for review
	detail  string
	done    chan gatherResult // buffered: the storer never waits for its reader
}

// gatherResult is what storing a delivery did: its outcome ("queued", "malformed",
// "wrong_mode" or "duplicate"), or why it was not stored: with transient, because the
// database is out of reach (it is answered 503 at once); otherwise it is stored on its own.
type gatherResult struct {
	outcome   string
	err       error
	transient bool
}

// gathering holds the deliveries waiting to be stored, and how many statements are running.
type gathering struct {
	mu      sync.Mutex
	pending []*delivery
	storing int
}

// storeGathered stores a verified delivery together with the others arriving beside it
// and returns its outcome as ingest does; on any failure of the gathered statement it is
// stored on its own (ingest), so one delivery the database refuses never costs the others.
func (h *Webhooks) storeGathered(ctx context.Context, ev event, body []byte, parseErr error) (string, error) {
	outcome, detail := h.storedAs(ev, parseErr)
	d := &delivery{ev: ev, body: body, outcome: outcome, detail: detail, done: make(chan gatherResult, 1)}
	g := &h.gathering
	g.mu.Lock()
	g.pending = append(g.pending, d)
	start := g.storing < storers
	if start {
		g.storing++
	}
	g.mu.Unlock()
	if start {
		// The storer outlives this request if it must: others may be waiting on it.
		go h.storeWaiting(context.WithoutCancel(ctx))
	}
	limit := h.GatherWait
	if limit <= 0 {
		limit = campaigns.DefaultAcquireWait
	}
	wait := time.NewTimer(limit)
	defer wait.Stop()
	for {
		select {
		case r := <-d.done:
			return h.stored(ctx, ev, body, parseErr, r)
		case <-wait.C:
			// No storer has taken it in the time a request may wait for a connection:
			// both are held up (the database is slow or locked), so it is answered as if
			// no connection were free. One already taken is waited for.
			if g.withdraw(d) {
				return "", errors.New("webhook deliveries waiting: no connection to store them")
			}
		case <-ctx.Done():
			return "", ctx.Err() // it may still be stored: a redelivery is then a duplicate
		}
	}
}

// withdraw takes d out of the waiting deliveries, and says whether it was still there.
func (g *gathering) withdraw(d *delivery) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	i := slices.Index(g.pending, d)
	if i < 0 {
		return false
	}
	g.pending = slices.Delete(g.pending, i, i+1)
	return true
}

// stored is the outcome storeGathered answers with, given what storing d did.
func (h *Webhooks) stored(ctx context.Context, ev event, body []byte, parseErr error, r gatherResult) (string, error) {
	switch {
	case r.err == nil:
		if r.outcome == "duplicate" {
			h.metrics.Duplicates.Inc()
		}
		return r.outcome, nil
	case r.transient:
		return "", r.err // the database is out of reach: Stripe retries
	}
	h.log.Warn("webhook deliveries not stored together: storing each on its own", "event", ev.ID, "err", r.err)
	return h.ingest(ctx, ev, body, parseErr)
}

// storeWaiting stores the waiting deliveries, BatchSize at a time, until none is left.
// When the database is out of reach, every delivery waiting is told so at once, rather
// than each waiting for a connection in turn.
func (h *Webhooks) storeWaiting(ctx context.Context) {
	g := &h.gathering
	var fail *gatherResult
	for {
		g.mu.Lock()
		n := min(len(g.pending), BatchSize)
		if fail != nil {
			n = len(g.pending)
		}
		if n == 0 {
			g.storing--
			g.mu.Unlock()
			return
		}
		ds := g.pending[:n:n]
		g.pending = slices.Clone(g.pending[n:])
		g.mu.Unlock()
		if fail != nil {
			for _, d := range ds {
				d.done <- *fail
			}
			continue
		}
		if r := h.storeTogether(ctx, ds); r.transient {
			fail = &r
		}
	}
}

// storeTogether stores ds with one statement and tells each delivery what became of it;
// it returns the failure it told them, if any.
func (h *Webhooks) storeTogether(ctx context.Context, ds []*delivery) gatherResult {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	var p dbq.InsertStripeEventsParams
	// In id order, so two statements storing the same events (redelivered at once) never
	// wait for each other in a cycle; a delivery repeated within ds is a duplicate.
	sorted := slices.SortedFunc(slices.Values(ds), func(a, b *delivery) int { return strings.Compare(a.ev.ID, b.ev.ID) })
	for i, d := range sorted {
		if i > 0 && sorted[i-1].ev.ID == d.ev.ID {
			continue
		}
		p.Ids, p.Types, p.ApiVersions = append(p.Ids, d.ev.ID), append(p.Types, d.ev.typ()), append(p.ApiVersions, d.ev.APIVersion)
		p.Livemodes, p.Created, p.Payloads = append(p.Livemodes, d.ev.Livemode), append(p.Created, d.ev.Created), append(p.Payloads, d.body)
		p.Outcomes, p.Details = append(p.Outcomes, d.outcome), append(p.Details, d.detail)
	}
	stored, err := dbq.New(h.store.Pool()).InsertStripeEvents(ctx, p)
	if err != nil {
		fail := gatherResult{err: fmt.Errorf("store %d events together: %w", len(p.Ids), err), transient: transient(ctx, err)}
		for _, d := range ds {
			d.done <- fail
		}
		return fail
	}
	h.metrics.Gathered.Observe(float64(len(ds)))
	fresh := make(map[string]bool, len(stored))
	for _, id := range stored {
		fresh[id] = true
	}
	for _, d := range ds {
		outcome := d.outcome
		if !fresh[d.ev.ID] {
			outcome = "duplicate"
		}
		delete(fresh, d.ev.ID) // its repeats within ds are duplicates
		d.done <- gatherResult{outcome: outcome}
	}
	return gatherResult{}
}
