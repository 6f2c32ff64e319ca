package payments_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"giving/campaigns/audit"
	"giving/campaigns/payouts"
	"giving/payments"
	"giving/payments/paymentstest"
)

// payoutJobs lists the payouts that have a recording job.
func (w *world) payoutJobs() []string {
	w.t.Helper()
	return w.jobArgs(payments.RecordPayoutJob{}.Kind(), "payout_id")
}

// A payout.paid delivery, signed and verified like any other, queues the job that records
// the payout, in the event's own transaction; a second identical delivery queues nothing,
// nor does another event about the same payout. The event moves no money, so replay still
// agrees with the live totals.
func TestPayoutPaidQueuesOneRecordingJob(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	paid := b.WithEventID("evt_payout_paid_1").PayoutPaid("po_1", 4200)
	w.send(paid)
	w.settle()
	if jobs := w.payoutJobs(); len(jobs) != 1 || jobs[0] != "po_1" {
		t.Fatalf("recording jobs for %q after payout.paid, want one for po_1", jobs)
	}
	var outcome string
	if err := w.pool().QueryRow(context.Background(), `SELECT outcome FROM stripe_events WHERE id = 'evt_payout_paid_1'`).Scan(&outcome); err != nil {
		t.Fatal(err)
	}
	if outcome != "payout_queued" {
		t.Errorf("payout.paid stored as %q, want payout_queued", outcome)
	}

	w.send(paid) // Stripe delivers again
	w.send(b.WithEventID("evt_payout_paid_again").PayoutPaid("po_1", 4200))
	w.settle()
	if jobs := w.payoutJobs(); len(jobs) != 1 {
		t.Fatalf("recording jobs for %q after the payout was announced three times, want still one", jobs)
	}
	w.noDifference()
}

// payoutStripe serves one Stripe account's payouts (GET /v1/payouts/{id}) and the balance
// transactions each paid out (GET /v1/balance_transactions?payout=...), in API 2023-10-16
// shapes, or a server error while down is set. Every request path is remembered.
type payoutStripe struct {
	mu       sync.Mutex
	down     bool
	payouts  map[string]map[string]any
	lines    map[string][]any
	requests []string
}

func (f *payoutStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.URL.Path+"?"+r.URL.RawQuery)
	w.Header().Set("Content-Type", "application/json")
	if f.down {
		w.Header().Set("Stripe-Should-Retry", "false") // the job's retry, not the client's, is under test
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":{"type":"api_error","message":"made-up outage"}}`))
		return
	}
	if id, ok := strings.CutPrefix(r.URL.Path, "/v1/payouts/"); ok && f.payouts[id] != nil {
		_ = json.NewEncoder(w).Encode(f.payouts[id])
		return
	}
	if r.URL.Path == "/v1/balance_transactions" {
		data := f.lines[r.URL.Query().Get("payout")]
		if data == nil {
			data = []any{}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "has_more": false, "url": r.URL.Path})
		return
	}
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"No such payout"}}`))
}

func (f *payoutStripe) set(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// asked counts the requests made to path whose query holds param.
func (f *payoutStripe) asked(path, param string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if p, q, _ := strings.Cut(r, "?"); p == path && strings.Contains(q, param) {
			n++
		}
	}
	return n
}

func payoutObject(id, status string, amount int64, arrival time.Time) map[string]any {
	return map[string]any{"id": id, "object": "payout", "amount": amount, "arrival_date": arrival.Unix(),
		"automatic": true, "balance_transaction": "txn_" + id, "created": arrival.Add(-48 * time.Hour).Unix(), "currency": "gbp",
		"description": "STRIPE PAYOUT", "destination": "ba_1", "livemode": false, "metadata": map[string]any{},
		"method": "standard", "source_type": "card", "statement_descriptor": nil, "status": status, "type": "bank_account"}
}

func balanceTxn(id, typ, category string, amount, fee int64, source any, created time.Time) map[string]any {
	return map[string]any{"id": id, "object": "balance_transaction", "amount": amount, "available_on": created.Unix(),
		"created": created.Unix(), "currency": "gbp", "description": nil, "exchange_rate": nil, "fee": fee, "fee_details": []any{},
		"net": amount - fee, "reporting_category": category, "source": source, "status": "available", "type": typ}
}

// The job records the payout Stripe announced as Stripe itemises it: its gift and refund
// matched to the ledger, the lines summing to the payout to the penny, the payout's own
// transfer to the bank not a line. Stripe being down is the job's error, so River tries
// again, with nothing half-recorded; a second run records nothing new; a payout that
// failed before reaching the bank is not recorded.
func TestRecordPayoutJobRecordsThePayoutOnce(t *testing.T) {
	t.Parallel()
	w := newRecWorld(t)
	// A monthly gift of 10.00 (charge ch_p, fee 0.35), 3.00 of it refunded.
	m := w.meta("10.00", true)
	w.apply(recB.CheckoutSubscriptionCompleted("cs_p", "sub_p", "cus_p", 1000, m),
		recB.InvoicePaid("in_p", "sub_p", "cus_p", "ch_p", "pi_p", 1000, "subscription_create", m),
		recB.ChargeRefunded("ch_p", "pi_p", 1000, 300, payments.Meta{}))

	// Worked out by hand: 10.00 - 0.35 - 3.00 = 6.65 reaches the bank.
	arrival := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	fake := &payoutStripe{
		payouts: map[string]map[string]any{
			"po_p":      payoutObject("po_p", "paid", 665, arrival),
			"po_failed": payoutObject("po_failed", "failed", 999, arrival),
		},
		lines: map[string][]any{"po_p": {
			balanceTxn("txn_ch_p", "charge", "charge", 1000, 35, map[string]any{"id": "ch_p", "object": "charge"}, arrival.Add(-72*time.Hour)),
			balanceTxn("txn_re_p", "refund", "refund", -300, 0,
				map[string]any{"id": "re_p", "object": "refund", "charge": "ch_p"}, arrival.Add(-60*time.Hour)),
			balanceTxn("txn_po_p", "payout", "payout", -665, 0, "po_p", arrival.Add(-48*time.Hour)),
		}},
	}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	worker := w.reconciler(srv.URL).PayoutWorker(nil)
	work := func(id string, attempt int) error {
		return worker.Work(context.Background(), &river.Job[payments.RecordPayoutJob]{
			JobRow: &rivertype.JobRow{Attempt: attempt}, Args: payments.RecordPayoutJob{PayoutID: id}})
	}
	march := func() []payouts.Payout {
		t.Helper()
		list, err := payouts.Month(context.Background(), w.store, 2026, time.March)
		if err != nil {
			t.Fatal(err)
		}
		return list
	}

	fake.set(true)
	if err := work("po_p", 1); err == nil || !strings.Contains(err.Error(), "made-up outage") {
		t.Fatalf("while Stripe is down the job answered %v, want Stripe's error for River to retry", err)
	}
	if got := march(); len(got) != 0 {
		t.Fatalf("%d payouts recorded while Stripe was down, want none", len(got))
	}

	fake.set(false)
	if err := work("po_p", 2); err != nil {
		t.Fatal(err)
	}
	got := march()
	if len(got) != 1 {
		t.Fatalf("%d payouts recorded, want po_p", len(got))
	}
	p, bd := got[0], got[0].Breakdown()
	if p.ID != "po_p" || p.Amount.StringFixed(2) != "6.65" || !bd.Net.Equal(p.Amount) || !bd.Difference.IsZero() {
		t.Errorf("recorded %s of %s, lines netting %s; want po_p of 6.65 with lines summing to it", p.ID, p.Amount.StringFixed(2), bd.Net.StringFixed(2))
	}
	if bd.Charges.StringFixed(2) != "10.00" || bd.Refunds.StringFixed(2) != "-3.00" || bd.Fees.StringFixed(2) != "0.35" || len(p.Lines) != 2 {
		t.Errorf("breakdown %+v over %d lines, want the gift 10.00, refund -3.00 and fee 0.35 in 2 lines", bd, len(p.Lines))
	}
	if u := p.Unmatched(); len(u) != 0 {
		t.Errorf("lines not matched to the ledger: %+v", u)
	}
	if fake.asked("/v1/balance_transactions", "payout=po_p") == 0 {
		t.Errorf("po_p's balance transactions were never listed by payout")
	}

	if err := work("po_p", 1); err != nil { // a second delivery's job, or River running it again
		t.Fatal(err)
	}
	if got := march(); len(got) != 1 || len(got[0].Lines) != 2 {
		t.Fatalf("after a second run, %d payouts, want still po_p once", len(got))
	}
	log, err := audit.Log(context.Background(), w.store.Pool(), 50)
	if err != nil {
		t.Fatal(err)
	}
	recorded := 0
	for _, e := range log {
		if e.Action == "payout recorded" {
			recorded++
			if e.ActorEmail != "stripe (payout.paid)" || !strings.Contains(e.Detail, "po_p") {
				t.Errorf("audit row %+v, want po_p recorded as Stripe announced it", e)
			}
		}
	}
	if recorded != 1 {
		t.Errorf("%d audit rows for recording a payout, want 1", recorded)
	}

	before := fake.asked("/v1/balance_transactions", "")
	if err := work("po_failed", 1); err != nil {
		t.Fatal(err)
	}
	if got := march(); len(got) != 1 || fake.asked("/v1/balance_transactions", "") != before {
		t.Errorf("a failed payout: %d payouts in March, balance transactions asked %d more times; want it not recorded or read",
			len(got), fake.asked("/v1/balance_transactions", "")-before)
	}
}

// The job's request for the payout is one Stripe's 2023-10-16 API accepts. stripe-mock's
// fixture payout is in dollars and still in transit, so nothing is recorded from it.
func TestRecordPayoutRequestIsValidAtStripeMock(t *testing.T) {
	t.Parallel()
	w := newRecWorld(t)
	worker := w.reconciler(paymentstest.StripeMockURL(t)).PayoutWorker(nil)
	err := worker.Work(context.Background(), &river.Job[payments.RecordPayoutJob]{
		JobRow: &rivertype.JobRow{Attempt: 1}, Args: payments.RecordPayoutJob{PayoutID: "po_123"}})
	if err != nil {
		t.Fatalf("stripe-mock refused the job's requests: %v", err)
	}
	list, err := payouts.Arriving(context.Background(), w.store, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("%d payouts recorded from stripe-mock's, which is in dollars and not yet paid", len(list))
	}
}
