package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/donations"
	"giving/campaigns/ledger"
	"giving/payments"
)

// webhookSpec sizes the webhook runs.
type webhookSpec struct {
	Load      loadSpec // closed loop, for both the ceiling and the real endpoint
	PacedRate int      // events a second
	PacedDur  time.Duration
}

// PacedTotal is how many events the paced run sends.
func (s webhookSpec) PacedTotal() int {
	return max(1, int(float64(s.PacedRate)*s.PacedDur.Seconds()))
}

// webhookResult holds the three webhook runs, the memory they took and the totals check.
type webhookResult struct {
	Ceiling, Real loadResult
	Paced         pacedResult
	EventBytes    int // average size of one event body
	Mem           memResult
	Sent          int // events answered 2xx by the real endpoint, closed loop plus paced
	// Backlog is how many stored events were still queued when the load ended, and
	// Settle how long the appliers then took to apply them all.
	Backlog int
	Settle  time.Duration
	// ClosedBacklog and ClosedSettle are the same after the closed-loop run, which the
	// paced run waits for, so that it measures 1,000 events/s from an empty queue.
	ClosedBacklog int
	ClosedSettle  time.Duration
	Gifts         int64 // the appeal's gift count afterwards
	Diffs         []ledger.Difference
	// Lag is, for each gift of the paced run, the time from its delivery leaving the
	// sender to the appeal's total (its totals rows, before the site's one-second cache)
	// counting it. Gifts are taken as counted in the order they were sent: the appliers
	// take the queue oldest first.
	Lag []time.Duration
}

// ApplyRate is the closed loop's events over the time from its first delivery until the
// last of them was applied: applying, sustained, whatever the answers left queued.
func (r webhookResult) ApplyRate() float64 {
	return ratio(float64(r.Real.Completed), (r.Real.Elapsed + r.ClosedSettle).Seconds())
}

// Retries is how many 503s the real endpoint answered (and the sender resent).
func (r webhookResult) Retries() int { return r.Real.Retries + r.Paced.Retries }

// Ratio is the real endpoint's throughput as a share of the bare-INSERT ceiling's.
func (r webhookResult) Ratio() float64 { return ratio(r.Real.PerSecond(), r.Ceiling.PerSecond()) }

// memResult is this process's memory around the webhook load.
type memResult struct {
	PeakReset          bool   // VmHWM was reset just before the load (/proc/self/clear_refs)
	RSSBefore          uint64 // bytes
	HWMBefore          uint64
	HWMAfter           uint64
	HeapInusePeak      uint64 // sampled every 100 ms during the load
	HeapInuseAfter     uint64
	ProcStatusReadable bool
}

// procStatus reads VmRSS and VmHWM (bytes) from /proc/self/status.
func procStatus() (rss, hwm uint64, ok bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, found := strings.Cut(sc.Text(), ":")
		if !found || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		if k == "VmRSS" {
			rss = n * 1024
		} else {
			hwm = n * 1024
		}
	}
	return rss, hwm, rss > 0 && hwm > 0
}

// resetPeakRSS sets VmHWM back to the current RSS (Linux 4.0+), so the peak read later is
// the webhook load's, not that of an earlier phase.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// heapSampler records the largest HeapInuse it sees until stopped.
func heapSampler() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak.Load() {
			peak.Store(ms.HeapInuse)
		}
	}
	wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		sample()
		return peak.Load()
	}
}

// createDonations makes n pending £3 donations to the appeal through donations.Create,
// eight at a time.
func createDonations(ctx context.Context, store *campaigns.Store, appealID int64, n int) ([]string, error) {
	ids := make([]string, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				d, err := donations.Create(ctx, store, donations.NewDonation{
					AppealID: appealID, Amount: decimal.RequireFromString("3.00"),
					DisplayName: "Bench donor", Email: fmt.Sprintf("bench%d@example.com", i),
				})
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("create donation: %w", err) })
					return
				}
				ids[i] = d.ID
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return ids, firstErr
}

// buildEvents makes one paid checkout.session.completed event per donation, each with its
// own event, session, payment intent and customer ids. They are signed when sent.
//
// The bodies are copied into memory mapped outside the Go heap: they still count in the
// process's RSS, but not toward the garbage collector's heap goal, which would otherwise
// let the heap grow by their size again and charge the service for the load generator.
func buildEvents(donations []string, tag string) ([][]byte, error) {
	out := make([][]byte, len(donations))
	size := 0
	for i, id := range donations {
		b := payments.EventBuilder{}.WithEventID(fmt.Sprintf("evt_bench_%s_%d", tag, i))
		out[i] = b.CheckoutSessionCompleted(
			fmt.Sprintf("cs_test_bench_%s_%d", tag, i), fmt.Sprintf("pi_bench_%s_%d", tag, i),
			fmt.Sprintf("cus_bench_%s_%d", tag, i), 300, "paid",
			payments.Meta{DonationID: id, Campaign: appeals.DefaultAppealSlug})
		size += len(out[i])
	}
	if size == 0 {
		return out, nil
	}
	// Never unmapped: the process ends soon after the run.
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("map memory for %d prebuilt events: %w", len(out), err)
	}
	for i, e := range out {
		n := copy(mem, e)
		out[i], mem = mem[:n:n], mem[n:]
	}
	return out, nil
}

// poster sends events[i], signed with secret at the moment it leaves.
func poster(url, secret string, events [][]byte) requestFunc {
	return func(ctx context.Context, i int) (*http.Request, error) {
		body := events[i]
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Stripe-Signature", payments.SignPayload(body, secret, time.Now()))
		return req, nil
	}
}

// ceilingHandler is the least any webhook endpoint must do: read the body and make it
// durable with one INSERT, then answer 200.
func ceilingHandler(pool *pgxpool.Pool) http.Handler {
	var seq atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, payments.MaxWebhookBody))
		if err != nil {
			http.Error(w, "could not read body", http.StatusBadRequest)
			return
		}
		id := "ceiling_" + strconv.FormatInt(seq.Add(1), 10)
		if _, err := pool.Exec(r.Context(), `INSERT INTO bench_ceiling (id, payload) VALUES ($1, $2)`, id, body); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"received":true}` + "\n"))
	})
}

// measureWebhooks runs the bare-INSERT ceiling and the real POST /webhooks/stripe with the
// same closed-loop load, then the real endpoint paced, watching this process's memory; it
// ends by reading the appeal's gift count and comparing every total with the ledger.
func measureWebhooks(ctx context.Context, store *campaigns.Store, dsn string, appealID int64, siteURL, secret string, spec webhookSpec) (webhookResult, error) {
	var res webhookResult
	donations, err := createDonations(ctx, store, appealID, spec.Load.Total+spec.PacedTotal())
	if err != nil {
		return res, err
	}
	tag := randomTag()
	closed, err := buildEvents(donations[:spec.Load.Total], tag+"c")
	if err != nil {
		return res, err
	}
	paced, err := buildEvents(donations[spec.Load.Total:], tag+"p")
	if err != nil {
		return res, err
	}
	total := 0
	for _, e := range closed {
		total += len(e)
	}
	res.EventBytes = total / len(closed)

	// The ceiling: its own table and a pool sized like the service's, on its own listener.
	if _, err := store.Pool().Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_ceiling (id text PRIMARY KEY, payload bytea NOT NULL)`); err != nil {
		return res, fmt.Errorf("create bench_ceiling: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return res, err
	}
	cfg.MaxConns = 20
	cpool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer cpool.Close()
	log := benchLogger()
	ceiling, err := serveLoopback(ceilingHandler(cpool), log)
	if err != nil {
		return res, err
	}
	defer ceiling.Close()

	// Hand the earlier phases' freed heap back to the kernel before the peak is reset, so
	// the peak is what the webhook load needs, not pages the runtime has merely kept.
	debug.FreeOSMemory()
	res.Mem.PeakReset = resetPeakRSS()
	res.Mem.RSSBefore, res.Mem.HWMBefore, res.Mem.ProcStatusReadable = procStatus()
	stopHeap := heapSampler()

	// The ceiling and the endpoint take turns, closedRounds times, each turn on a quiet
	// database (the last turn's queue applied, dead rows vacuumed, written back), so that
	// background work and the noise of a shared 2-core machine fall on both sides alike
	// rather than on whichever ran first.
	per := (len(closed) + closedRounds - 1) / closedRounds
	for round := 0; round*per < len(closed); round++ {
		events := closed[round*per : min((round+1)*per, len(closed))]
		if err := quiet(ctx, store.Pool()); err != nil {
			stopHeap()
			return res, err
		}
		ceilingSpec := spec.Load
		ceilingSpec.Total, ceilingSpec.Retry503 = len(events), 0 // the ceiling has no reason to answer 503
		c, err := runLoad(ctx, ceilingSpec, poster(ceiling.URL+"/", secret, events))
		if err != nil {
			stopHeap()
			return res, fmt.Errorf("bare-INSERT ceiling: %w", err)
		}
		realSpec := spec.Load
		realSpec.Total = len(events)
		r, err := runLoad(ctx, realSpec, poster(siteURL+"/webhooks/stripe", secret, events))
		if err != nil {
			stopHeap()
			return res, fmt.Errorf("POST /webhooks/stripe: %w", err)
		}
		backlog, took, err := settle(ctx, store.Pool())
		if err != nil {
			stopHeap()
			return res, err
		}
		res.Ceiling, res.Real = res.Ceiling.merge(c), res.Real.merge(r)
		res.ClosedBacklog, res.ClosedSettle = res.ClosedBacklog+backlog, res.ClosedSettle+took
	}
	pacedCap := spec.PacedDur + max(spec.Load.Cap, 5*time.Second) // then queued events are dropped
	pctx, cancel := context.WithTimeout(ctx, pacedCap+60*time.Second)
	defer cancel()
	senders := max(64, spec.PacedRate/10) // 100 ms of sends in flight before any queueing
	sentAt := make([]atomic.Int64, len(paced))
	post := poster(siteURL+"/webhooks/stripe", secret, paced)
	watch, err := watchTotal(ctx, store, appealID)
	if err != nil {
		stopHeap()
		return res, err
	}
	res.Paced, err = runPaced(pctx, spec.PacedRate, len(paced), senders, spec.Load.Retry503, pacedCap, func(ctx context.Context, i int) (*http.Request, error) {
		sentAt[i].CompareAndSwap(0, time.Now().UnixNano()) // the first try: a resend is still the same delivery
		return post(ctx, i)
	})
	if err != nil {
		watch.stop()
		stopHeap()
		return res, fmt.Errorf("paced POST /webhooks/stripe: %w", err)
	}

	res.Mem.HeapInusePeak = stopHeap()
	_, res.Mem.HWMAfter, _ = procStatus()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.Mem.HeapInuseAfter = ms.HeapInuse

	res.Sent = res.Real.Completed + res.Paced.Sent
	if res.Backlog, res.Settle, err = settle(ctx, store.Pool()); err != nil {
		watch.stop()
		return res, err
	}
	res.Lag = watch.lags(sentAt)
	t, err := appeals.AppealTotals(ctx, store, appealID)
	if err != nil {
		return res, err
	}
	res.Gifts = t.Gifts
	if res.Diffs, err = ledger.CompareTotals(ctx, store); err != nil {
		return res, err
	}
	return res, nil
}

// closedRounds is how many turns the ceiling and the endpoint take in the closed loop.
const closedRounds = 2

// quiet vacuums and analyses the tables the webhook load writes and checkpoints, so a
// turn does not meet the previous turn's dead rows or autovacuum arriving in the middle.
// CHECKPOINT needs superuser or pg_checkpoint; without them the turn runs anyway.
func quiet(ctx context.Context, pool *pgxpool.Pool) error {
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) stripe_events, bench_ceiling, donations, ledger_entries, totals`); err != nil {
		return fmt.Errorf("vacuum before a webhook turn: %w", err)
	}
	_, _ = pool.Exec(ctx, `CHECKPOINT`)
	return nil
}

// settle waits (at most five minutes) until the appliers have applied every stored event,
// and says how many were queued when it began and how long they took.
func settle(ctx context.Context, pool *pgxpool.Pool) (backlog int, took time.Duration, err error) {
	start := time.Now()
	for n := 0; ; n++ {
		var queued int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM stripe_events WHERE outcome = 'queued'`).Scan(&queued); err != nil {
			return backlog, time.Since(start), fmt.Errorf("count queued events: %w", err)
		}
		if n == 0 {
			backlog = queued
		}
		if queued == 0 {
			return backlog, time.Since(start), nil
		}
		if time.Since(start) > 5*time.Minute {
			return backlog, time.Since(start), fmt.Errorf("%d events still queued after five minutes", queued)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// totalWatch reads the appeal's gift count every few milliseconds, noting when each count
// was first seen.
type totalWatch struct {
	base  int64
	stop  func()
	mu    sync.Mutex
	seen  []time.Time // seen[k]: when the count first reached base+k+1
	store *campaigns.Store
}

func watchTotal(ctx context.Context, store *campaigns.Store, appealID int64) (*totalWatch, error) {
	t, err := ledger.ReadTotals(ctx, store.Pool(), ledger.AppealScope(appealID))
	if err != nil {
		return nil, err
	}
	w := &totalWatch{base: t.Gifts, store: store}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-tick.C:
			}
			t, err := ledger.ReadTotals(wctx, store.Pool(), ledger.AppealScope(appealID))
			if err != nil {
				continue
			}
			at := time.Now()
			w.mu.Lock()
			for int64(len(w.seen)) < t.Gifts-w.base {
				w.seen = append(w.seen, at)
			}
			w.mu.Unlock()
		}
	}()
	var once sync.Once
	w.stop = func() { once.Do(func() { cancel(); <-done }) }
	return w, nil
}

// lags stops the watch and pairs the k-th delivery sent with the k-th gift counted.
func (w *totalWatch) lags(sentAt []atomic.Int64) []time.Duration {
	w.stop()
	var sent []int64
	for i := range sentAt {
		if t := sentAt[i].Load(); t != 0 {
			sent = append(sent, t)
		}
	}
	slices.Sort(sent)
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []time.Duration
	for k, t := range sent {
		if k < len(w.seen) {
			out = append(out, w.seen[k].Sub(time.Unix(0, t)))
		}
	}
	return out
}
