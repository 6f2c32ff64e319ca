package payments_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"giving/campaigns/ledger"
	"giving/campaigns/testwait"
	"giving/payments"
)

// busyInstance is a webhook handler with its own metrics and appliers, kept busy by a
// delivery whose body never finishes arriving, so every other delivery takes the busy path.
type busyInstance struct {
	hooks *payments.Webhooks
	m     *payments.Metrics
	url   string
}

// gatherWait is how long a delivery may wait for a storer (payments.Webhooks.GatherWait).
func newBusyInstance(t *testing.T, w *world, gatherWait time.Duration) *busyInstance {
	t.Helper()
	m := payments.NewMetrics(prometheus.NewRegistry())
	h := payments.NewWebhooks(w.store(), []string{secret}, false, discard(), m)
	h.GatherWait = gatherWait
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })

	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pw.CloseWithError(io.ErrUnexpectedEOF) }) // before the server's cleanup
	go func() {
		if resp, err := http.Post(srv.URL, "application/json", pr); err == nil {
			resp.Body.Close()
		}
	}()
	testwait.Eventually(t, "the slow delivery in flight", func() bool { return h.InFlight() == 1 })
	return &busyInstance{hooks: h, m: m, url: srv.URL}
}

// heldUpStorers starts a world with a busy instance whose two storers each wait on an
// event another transaction is inserting, so deliveries sent now wait for a storer, at most
// gatherWait, until release; first brings the two held deliveries' answers.
func heldUpStorers(t *testing.T, gatherWait time.Duration) (w *world, busy *busyInstance, release func(), first chan []answer) {
	t.Helper()
	w = newWorld(t, 1)
	busy = newBusyInstance(t, w, gatherWait)
	release = holdEventIDs(t, w, "evt_first", "evt_second")
	return w, busy, release, busy.occupyStorers(t, w)
}

// occupyStorers sends two deliveries whose ids another transaction is inserting, one
// after the other, so each of the instance's two storers waits at its INSERT until
// release; it returns their answers once they come.
func (bi *busyInstance) occupyStorers(t *testing.T, w *world) chan []answer {
	t.Helper()
	first := make(chan []answer, 2)
	for i, id := range []string{"evt_first", "evt_second"} {
		d := w.donation("3.00", false, false, 0)
		p := b.WithEventID(id).CheckoutSessionCompleted("cs_"+id, "pi_"+id, "cus_f", 300, "paid", meta(w, d))
		go func() { first <- postAll(t, bi.url, [][]byte{p}) }()
		testwait.Eventually(t, fmt.Sprintf("storer %d waiting at its INSERT", i+1), func() bool { return waitingOnLocks(t, w) == i+1 })
	}
	out := make(chan []answer, 1)
	go func() { out <- append(<-first, <-first...) }()
	return out
}

// waitingOnLocks is how many of the test database's sessions wait for a lock.
func waitingOnLocks(t *testing.T, w *world) int {
	t.Helper()
	var n int
	if err := w.pool().QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// holdEventIDs inserts stored events with these ids in a transaction it keeps open, so a
// delivery of one of them waits at its INSERT until release (which rolls it back: the
// delivery is then stored as new).
func holdEventIDs(t *testing.T, w *world, ids ...string) (release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := w.pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := tx.Exec(ctx, `INSERT INTO stripe_events (id, type, api_version, livemode, created, payload, outcome)
			VALUES ($1, 'test.hold', '', false, now(), '{}', 'ignored')`, id); err != nil {
			t.Fatal(err)
		}
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = tx.Rollback(ctx) }) }
	t.Cleanup(release)
	return release
}

type answer struct {
	code int
	body string
}

// postAll sends every payload at once and returns the answers in the same order.
func postAll(t *testing.T, url string, payloads [][]byte) []answer {
	t.Helper()
	out := make([]answer, len(payloads))
	var wg sync.WaitGroup
	for i, p := range payloads {
		wg.Go(func() {
			out[i].code, out[i].body = post(t, url, p, payments.SignPayload(p, secret, time.Now()))
		})
	}
	wg.Wait()
	return out
}

// While the service is busy, deliveries that arrive while it is storing others are stored
// together, with one statement, and each is answered once it is stored; a redelivery among
// them is a duplicate; the appliers then count every gift once.
func TestBurstIsStoredTogetherAndEachGiftCountedOnce(t *testing.T) {
	t.Parallel()
	w, busy, release, first := heldUpStorers(t, time.Hour) // held up as long as the test takes

	const burst = 20
	var payloads [][]byte
	for i := range burst {
		d := w.donation("5.00", false, false, 0)
		payloads = append(payloads, b.WithEventID(fmt.Sprintf("evt_burst_%d", i)).
			CheckoutSessionCompleted(fmt.Sprintf("cs_burst_%d", i), fmt.Sprintf("pi_burst_%d", i), "cus_b", 500, "paid", meta(w, d)))
	}
	payloads = append(payloads, payloads[7]) // Stripe sends one of them twice
	answers := make(chan []answer, 1)
	go func() { answers <- postAll(t, busy.url, payloads) }()
	testwait.Eventually(t, "the burst waiting for a storer", func() bool { return busy.hooks.WaitingToBeStored() == burst+1 })
	release()

	for _, a := range <-first {
		if a.code != http.StatusOK || !strings.Contains(a.body, `"queued"`) {
			t.Fatalf("a delivery that waited for a held id: %d %s, want 200 queued", a.code, a.body)
		}
	}
	queued, dup := 0, 0
	for _, a := range <-answers {
		switch {
		case a.code != http.StatusOK:
			t.Fatalf("burst delivery answered %d %s", a.code, a.body)
		case strings.Contains(a.body, `"queued"`):
			queued++
		case strings.Contains(a.body, `"duplicate"`):
			dup++
		default:
			t.Fatalf("burst delivery: %s", a.body)
		}
	}
	if queued != burst || dup != 1 {
		t.Fatalf("%d queued and %d duplicates, want %d and 1", queued, dup, burst)
	}
	// Two statements stored one delivery each; the whole burst went in one more.
	if n, sum := histogram(t, busy.m.Gathered); n != 3 || sum != 2+burst+1 {
		t.Fatalf("%d gathered statements storing %v deliveries, want 3 storing %d", n, sum, 2+burst+1)
	}
	if got := testutil.ToFloat64(busy.m.Duplicates); got != 1 {
		t.Fatalf("duplicates = %v, want 1", got)
	}
	testwait.Eventually(t, "every gift counted (raised 106.00)", func() bool {
		return w.totals(ledger.AppealScope(w.appeal.ID)).Raised().StringFixed(2) == "106.00"
	})
	if got := w.totals(ledger.AppealScope(w.appeal.ID)).Gifts; got != 2+burst {
		t.Fatalf("%d gifts counted, want %d", got, 2+burst)
	}
	w.noDifference()
}

// A delivery the database refuses to store does not cost the deliveries stored beside it:
// when the gathered statement fails, each is stored on its own, and only the refused one
// is answered 503 (Stripe retries it).
func TestRefusedDeliveryInABurstCostsTheOthersNothing(t *testing.T) {
	t.Parallel()
	w, busy, release, first := heldUpStorers(t, time.Hour) // held up as long as the test takes

	var payloads [][]byte
	for i := range 5 {
		d := w.donation("5.00", false, false, 0)
		payloads = append(payloads, b.WithEventID(fmt.Sprintf("evt_ok_%d", i)).
			CheckoutSessionCompleted(fmt.Sprintf("cs_ok_%d", i), fmt.Sprintf("pi_ok_%d", i), "cus_b", 500, "paid", meta(w, d)))
	}
	// Signed, valid JSON, but an id PostgreSQL cannot keep as text (a NUL character).
	d := w.donation("5.00", false, false, 0)
	payloads = append(payloads, b.WithEventID("evt_nul\x00").CheckoutSessionCompleted("cs_nul", "pi_nul", "cus_b", 500, "paid", meta(w, d)))
	answers := make(chan []answer, 1)
	go func() { answers <- postAll(t, busy.url, payloads) }()
	testwait.Eventually(t, "the burst waiting for a storer", func() bool { return busy.hooks.WaitingToBeStored() == len(payloads) })
	release()
	<-first
	got := <-answers
	for i, a := range got[:5] {
		if a.code != http.StatusOK || !strings.Contains(a.body, `"queued"`) {
			t.Fatalf("good delivery %d beside a refused one: %d %s, want 200 queued", i, a.code, a.body)
		}
	}
	if a := got[5]; a.code != http.StatusServiceUnavailable {
		t.Fatalf("the delivery the database refuses: %d %s, want 503 so Stripe retries", a.code, a.body)
	}
	testwait.Eventually(t, "the stored gifts counted (raised 31.00)", func() bool {
		return w.totals(ledger.AppealScope(w.appeal.ID)).Raised().StringFixed(2) == "31.00"
	})
	w.noDifference()
}

// While both storers are held up (the database slow or locked), a delivery waiting for one
// is answered 503 once it has waited as long as a request waits for a connection, so
// Stripe retries it rather than the request hanging; once the storers are free, the
// retry is stored.
func TestDeliveryHeldUpBehindTheStorersIsAskedToRetry(t *testing.T) {
	t.Parallel()
	w, busy, release, first := heldUpStorers(t, 50*time.Millisecond)
	d := w.donation("5.00", false, false, 0)
	p := b.WithEventID("evt_late").CheckoutSessionCompleted("cs_late", "pi_late", "cus_l", 500, "paid", meta(w, d))
	if a := postAll(t, busy.url, [][]byte{p})[0]; a.code != http.StatusServiceUnavailable {
		t.Fatalf("a delivery while both storers are held up: %d %s, want 503", a.code, a.body)
	}
	release()
	<-first
	if a := postAll(t, busy.url, [][]byte{p})[0]; a.code != http.StatusOK || !strings.Contains(a.body, `"queued"`) {
		t.Fatalf("Stripe's retry once the storers are free: %d %s, want 200 queued", a.code, a.body)
	}
	testwait.Eventually(t, "every gift counted (raised 11.00)", func() bool {
		return w.totals(ledger.AppealScope(w.appeal.ID)).Raised().StringFixed(2) == "11.00"
	})
	w.noDifference()
}

// histogram reads a histogram's count of observations and their sum.
func histogram(t *testing.T, h prometheus.Histogram) (uint64, float64) {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(h)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 {
		t.Fatalf("gather: %v", err)
	}
	hist := mfs[0].GetMetric()[0].GetHistogram()
	return hist.GetSampleCount(), hist.GetSampleSum()
}
