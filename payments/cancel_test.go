package payments_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"giving/campaigns/donations"
	"giving/payments"
	"giving/payments/paymentstest"
)

// fakeSubscriptions is Stripe's subscription endpoints for one test: DELETE cancels (or
// fails while refuse is set), GET reports the status. Every cancel request is recorded.
type fakeSubscriptions struct {
	mu       sync.Mutex
	refuse   bool // answer DELETE with a 400, as Stripe does for a subscription it cannot cancel
	status   map[string]string
	requests []cancelRequest
}

type cancelRequest struct {
	subscription, idempotencyKey, comment string
	refused                               bool
}

func (f *fakeSubscriptions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := strings.CutPrefix(r.URL.Path, "/v1/subscriptions/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.Method {
	case http.MethodDelete:
		// stripe-go sends a DELETE's parameters as a form body, which ParseForm leaves alone.
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		req := cancelRequest{subscription: id, idempotencyKey: r.Header.Get("Idempotency-Key"),
			comment: form.Get("cancellation_details[comment]"), refused: f.refuse}
		f.requests = append(f.requests, req)
		if f.refuse {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"made-up refusal"}}`))
			return
		}
		f.status[id] = "canceled"
	case http.MethodGet:
	default:
		http.Error(w, "unexpected method", http.StatusMethodNotAllowed)
		return
	}
	status := f.status[id]
	if status == "" {
		status = "active"
	}
	_, _ = w.Write([]byte(`{"id":"` + id + `","object":"subscription","status":"` + status + `"}`))
}

func (f *fakeSubscriptions) cancels() []cancelRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]cancelRequest(nil), f.requests...)
}

func (f *fakeSubscriptions) set(refuse bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse = refuse
}

func newFakeSubscriptions(t *testing.T) (*fakeSubscriptions, payments.StripeSubscriptions) {
	f := &fakeSubscriptions{status: map[string]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, payments.StripeSubscriptions{API: payments.NewStripeClient("sk_test_madeup", srv.URL, srv.Client())}
}

// cancelState is the queue row of a subscription, as the worker left it.
func (w *world) cancelState(sub string) (attempts int, lastError string, done bool) {
	w.t.Helper()
	err := w.pool().QueryRow(context.Background(), `SELECT attempts, last_error, done_at IS NOT NULL
		FROM subscription_cancels WHERE subscription_id = $1`, sub).Scan(&attempts, &lastError, &done)
	if err != nil {
		w.t.Fatalf("subscription %s: %v", sub, err)
	}
	return attempts, lastError, done
}

// attemptCancel works attempt n of sub's cancellation job the way River would, and
// returns the worker's answer (an error means River retries it).
func (w *world) attemptCancel(sub string, n int) error {
	w.t.Helper()
	cw := w.insts[0].hooks.SubscriptionCancelWorker()
	return cw.Work(context.Background(), &river.Job[donations.SubscriptionCancelJob]{
		JobRow: &rivertype.JobRow{Attempt: n}, Args: donations.SubscriptionCancelJob{SubscriptionID: sub}})
}

// cancelJobs lists the subscriptions that have a cancellation job.
func (w *world) cancelJobs() []string {
	w.t.Helper()
	return w.jobArgs(donations.SubscriptionCancelJob{}.Kind(), "subscription_id")
}

// jobArgs lists one argument of every River job of a kind, oldest first.
func (w *world) jobArgs(kind, arg string) []string {
	w.t.Helper()
	rows, err := w.pool().Query(context.Background(), `SELECT args->>$2 FROM river_job WHERE kind = $1 ORDER BY id`, kind, arg)
	if err != nil {
		w.t.Fatal(err)
	}
	values, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		w.t.Fatal(err)
	}
	return values
}

// A dispute ends a monthly gift here and at Stripe, so the card is not charged again: the
// cancellation is queued with the dispute, survives Stripe refusing it, and is sent once
// it succeeds, however often the dispute is delivered. A one-off gift's dispute cancels
// nothing, and replay still agrees.
func TestDisputedMonthlyGiftIsCancelledAtStripe(t *testing.T) {
	t.Parallel()
	fake, subs := newFakeSubscriptions(t)
	fake.set(true) // Stripe refuses the first attempt
	w := newWorld(t, 1, func(h *payments.Webhooks) { h.Subscriptions = subs })

	d := w.donation("10.00", true, false, 0)
	m := meta(w, d)
	w.send(b.CheckoutSubscriptionCompleted("cs_m", "sub_m", "cus_m", 1000, m))
	w.send(b.InvoicePaid("in_m1", "sub_m", "cus_m", "ch_m1", "pi_m1", 1000, "subscription_create", m))
	one := w.donation("25.00", false, false, 0)
	w.send(b.CheckoutSessionCompleted("cs_o", "pi_o", "cus_o", 2500, "paid", meta(w, one)))
	for range 3 {
		w.send(b.DisputeCreated("dp_m", "ch_m1", "pi_m1", 1000))
		w.send(b.DisputeCreated("dp_o", "ch_o", "pi_o", 2500))
	}
	w.settle()
	if got := w.status(d.ID); got != donations.StatusCancelled {
		t.Fatalf("disputed monthly gift is %q, want cancelled", got)
	}

	if jobs := w.cancelJobs(); len(jobs) != 1 || jobs[0] != "sub_m" {
		t.Fatalf("cancellation jobs for %q, want one for sub_m (a one-off gift has no subscription)", jobs)
	}
	if err := w.attemptCancel("sub_m", 1); err == nil || !strings.Contains(err.Error(), "made-up refusal") {
		t.Fatalf("first attempt: %v, want Stripe's refusal for River to retry", err)
	}
	if _, lastError, done := w.cancelState("sub_m"); done || !strings.Contains(lastError, "made-up refusal") {
		t.Fatalf("after Stripe refused: done %v, last error %q; want it kept for a retry with the reason", done, lastError)
	}

	fake.set(false)
	if err := w.attemptCancel("sub_m", 2); err != nil {
		t.Fatal(err)
	}
	if attempts, lastError, done := w.cancelState("sub_m"); !done || lastError != "" || attempts != 2 {
		t.Fatalf("after Stripe accepted: attempts %d, done %v, last error %q", attempts, done, lastError)
	}
	for n := range 3 { // nothing more to do, however often the job is tried
		if err := w.attemptCancel("sub_m", 3+n); err != nil {
			t.Fatal(err)
		}
	}
	reqs := fake.cancels()
	if len(reqs) != 2 {
		t.Fatalf("cancel requests %+v, want one refused and one accepted", reqs)
	}
	last := reqs[1]
	if last.subscription != "sub_m" || last.refused || last.idempotencyKey != "cancel-subscription:sub_m:2" ||
		!strings.Contains(last.comment, "disputed") || !strings.Contains(last.comment, "dp_m") {
		t.Fatalf("accepted cancel request %+v", last)
	}
	if reqs[0].idempotencyKey == last.idempotencyKey {
		t.Fatalf("a retry reused the idempotency key %q, so Stripe would replay the refusal", last.idempotencyKey)
	}

	queued, err := donations.SubscriptionCancels(context.Background(), w.store())
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != 1 || queued[0].DonationID != d.ID || queued[0].DoneAt == nil {
		t.Fatalf("queued cancellations %+v, want only the monthly gift's, done", queued)
	}
	w.noDifference()
}

// A subscription that is already cancelled at Stripe (the donor cancelled it, or an earlier
// attempt worked but its answer was lost) is done, not retried for ever.
func TestCancellingAnAlreadyCancelledSubscriptionIsDone(t *testing.T) {
	t.Parallel()
	fake, subs := newFakeSubscriptions(t)
	fake.set(true)
	fake.mu.Lock()
	fake.status["sub_gone"] = "canceled"
	fake.mu.Unlock()
	w := newWorld(t, 1, func(h *payments.Webhooks) { h.Subscriptions = subs })
	d := w.donation("5.00", true, false, 0)
	m := meta(w, d)
	w.send(b.CheckoutSubscriptionCompleted("cs_g", "sub_gone", "cus_g", 500, m))
	w.send(b.InvoicePaid("in_g1", "sub_gone", "cus_g", "ch_g1", "pi_g1", 500, "subscription_create", m))
	w.send(b.DisputeCreated("dp_g", "ch_g1", "pi_g1", 500))
	w.settle()
	if err := w.attemptCancel("sub_gone", 1); err != nil {
		t.Fatal(err)
	}
	if _, lastError, done := w.cancelState("sub_gone"); !done || lastError != "" {
		t.Fatalf("done %v, last error %q; want done after reading the subscription back", done, lastError)
	}
}

// The cancel request is one Stripe's 2023-10-16 API accepts.
func TestCancelSubscriptionRequestIsValidAtStripeMock(t *testing.T) {
	t.Parallel()
	api := payments.NewStripeClient("sk_test_123", paymentstest.StripeMockURL(t), &http.Client{Timeout: 10 * time.Second})
	err := payments.StripeSubscriptions{API: api}.CancelSubscription(context.Background(), "sub_123",
		"Giving: a payment of this monthly gift was disputed (dp_123)", 1)
	if err != nil {
		t.Fatalf("stripe-mock refused the cancel request: %v", err)
	}
}
