package payments_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/ledger"
	"giving/payments"
	"giving/payments/paymentstest"
)

// recFake serves Stripe's list endpoints from fixed objects, in API 2023-10-16 shapes,
// and remembers every request it was sent.
type recFake struct {
	mu       sync.Mutex
	lists    map[string][]any // "/v1/charges" -> objects
	requests []*url.URL
}

func newRecFake(t *testing.T) (*recFake, string) {
	f := &recFake{lists: map[string][]any{}}
	for _, p := range []string{"/v1/charges", "/v1/refunds", "/v1/disputes", "/v1/payouts", "/v1/events"} {
		f.lists[p] = []any{}
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *recFake) add(path string, objs ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists[path] = append(f.lists[path], objs...)
}

func (f *recFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.URL)
	objs, ok := f.lists[r.URL.Path]
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodGet || !ok {
		w.WriteHeader(http.StatusNotFound)
		_, _ = fmt.Fprintf(w, `{"error":{"type":"invalid_request_error","message":"Unrecognized request URL (%s: %s)"}}`, r.Method, r.URL.Path)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": objs, "has_more": false, "url": r.URL.Path})
}

func (f *recFake) query(path string) url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.requests {
		if u.Path == path {
			return u.Query()
		}
	}
	return nil
}

// recObject is the data.object of an EventBuilder payload, as Stripe lists that object.
func recObject(t *testing.T, payload []byte) map[string]any {
	t.Helper()
	var e struct {
		Data struct {
			Object map[string]any `json:"object"`
		} `json:"data"`
	}
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	if err := d.Decode(&e); err != nil {
		t.Fatal(err)
	}
	return e.Data.Object
}

// recEvent is a whole builder event as GET /v1/events lists it.
func recEvent(t *testing.T, payload []byte) map[string]any {
	t.Helper()
	var e map[string]any
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	if err := d.Decode(&e); err != nil {
		t.Fatal(err)
	}
	return e
}

func recRefund(id string, charge map[string]any, amount int64) map[string]any {
	return map[string]any{"id": id, "object": "refund", "amount": amount, "balance_transaction": nil,
		"charge": charge, "created": time.Now().Unix(), "currency": "gbp", "metadata": map[string]any{},
		"payment_intent": charge["payment_intent"], "reason": "requested_by_customer", "receipt_number": nil,
		"source_transfer_reversal": nil, "status": "succeeded", "transfer_reversal": nil}
}

func recPayout(id string, amount int64) map[string]any {
	now := time.Now().Unix()
	return map[string]any{"id": id, "object": "payout", "amount": amount, "arrival_date": now + 86400,
		"automatic": true, "balance_transaction": "txn_" + id, "created": now, "currency": "gbp",
		"description": "STRIPE PAYOUT", "destination": "ba_1", "livemode": false, "metadata": map[string]any{},
		"method": "standard", "source_type": "card", "statement_descriptor": nil, "status": "paid", "type": "bank_account"}
}

type recWorld struct {
	t      *testing.T
	store  *campaigns.Store
	hooks  *payments.Webhooks
	appeal appeals.Appeal
}

func newRecWorld(t *testing.T) *recWorld {
	t.Helper()
	w := &recWorld{t: t}
	w.store, w.appeal = campaignstest.Seeded(t, 10)
	w.hooks = payments.NewWebhooks(w.store, nil, false, slog.New(slog.NewTextHandler(io.Discard, nil)), payments.NewMetrics(nil))
	return w
}

// meta creates a donation and returns the metadata its Checkout Session carries.
func (w *recWorld) meta(amount string, monthly bool) payments.Meta {
	w.t.Helper()
	d, err := donations.Create(context.Background(), w.store, donations.NewDonation{AppealID: w.appeal.ID,
		Amount: decimal.RequireFromString(amount), Monthly: monthly})
	if err != nil {
		w.t.Fatal(err)
	}
	return payments.Meta{DonationID: d.ID, Campaign: w.appeal.Slug}
}

// apply stores and applies events as verified deliveries would be.
func (w *recWorld) apply(payloads ...[]byte) {
	w.t.Helper()
	for _, p := range payloads {
		if _, err := w.hooks.Apply(context.Background(), p); err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *recWorld) reconciler(apiBase string) *payments.Reconciler {
	return &payments.Reconciler{API: payments.NewStripeClient("sk_test_reconcile", apiBase, nil), Store: w.store, Webhooks: w.hooks}
}

func (w *recWorld) run(rec *payments.Reconciler, recover bool) payments.Report {
	w.t.Helper()
	rep, err := rec.Run(context.Background(), time.Now().Add(-time.Hour), recover)
	if err != nil {
		w.t.Fatal(err)
	}
	var out strings.Builder
	if err := rep.WriteText(&out); err != nil {
		w.t.Fatal(err)
	}
	w.t.Log("\n" + out.String())
	return rep
}

func (w *recWorld) totals() ledger.Totals {
	w.t.Helper()
	tot, err := ledger.ReadTotals(context.Background(), w.store.Pool(), ledger.AppealScope(w.appeal.ID))
	if err != nil {
		w.t.Fatal(err)
	}
	return tot
}

var recB payments.EventBuilder

func TestReconcileAgreesWhenStripeAndLedgerMatch(t *testing.T) {
	t.Parallel()
	w := newRecWorld(t)
	fake, base := newRecFake(t)

	// A one-off gift with its fee and a partial refund.
	m1 := w.meta("25.00", false)
	ch1 := recB.ChargeSucceeded("ch_1", "pi_1", "cus_1", 2500, 58, "", m1)
	w.apply(recB.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 2500, "paid", m1), ch1,
		recB.ChargeRefunded("ch_1", "pi_1", 2500, 500, payments.Meta{}))
	charge1 := recObject(t, ch1)
	charge1["amount_refunded"] = 500
	// A monthly gift: the ledger keys it by invoice, with the charge.
	m2 := w.meta("10.00", true)
	ch2 := recB.ChargeSucceeded("ch_2", "pi_2", "cus_2", 1000, 35, "in_2", payments.Meta{})
	w.apply(recB.CheckoutSubscriptionCompleted("cs_2", "sub_2", "cus_2", 1000, m2),
		recB.InvoicePaid("in_2", "sub_2", "cus_2", "ch_2", "pi_2", 1000, "subscription_create", m2), ch2)
	// A gift disputed and lost.
	m3 := w.meta("40.00", false)
	ch3 := recB.ChargeSucceeded("ch_3", "pi_3", "cus_3", 4000, 80, "", m3)
	lost := recB.DisputeClosed("dp_3", "ch_3", "pi_3", 4000, false, 1500)
	w.apply(recB.CheckoutSessionCompleted("cs_3", "pi_3", "cus_3", 4000, "paid", m3), ch3,
		recB.DisputeCreated("dp_3", "ch_3", "pi_3", 4000), lost)
	charge3 := recObject(t, ch3)
	charge3["disputed"] = true
	// A sandbox gift never reached Stripe and is not missing there.
	m4 := w.meta("3.00", false)
	w.apply(recB.CheckoutSessionCompleted("cs_test_sandbox_4", "pi_sandbox_4", "cus_sandbox_4", 300, "paid", m4))

	usd := recObject(t, recB.ChargeSucceeded("ch_usd", "pi_usd", "cus_usd", 999, 30, "", payments.Meta{}))
	usd["currency"] = "usd"
	failed := recObject(t, recB.ChargeSucceeded("ch_failed", "pi_failed", "cus_f", 500, 0, "", payments.Meta{}))
	failed["status"], failed["paid"] = "failed", false
	fake.add("/v1/charges", charge1, recObject(t, ch2), charge3, usd, failed)
	fake.add("/v1/refunds", recRefund("re_1", charge1, 500))
	fake.add("/v1/disputes", recObject(t, lost))
	fake.add("/v1/payouts", recPayout("po_1", 3000))

	rep := w.run(w.reconciler(base), false)
	if len(rep.Differences) != 0 {
		t.Fatalf("differences where Stripe and the ledger agree: %v", rep.Differences)
	}
	want := payments.Listed{Charges: 5, Refunds: 1, Disputes: 1, Payouts: 1}
	if rep.Listed != want || rep.NotGBP != 1 || rep.PaidOut.StringFixed(2) != "30.00" {
		t.Fatalf("listed %+v, not GBP %d, paid out %s; want %+v, 1, 30.00", rep.Listed, rep.NotGBP, rep.PaidOut, want)
	}
	var out strings.Builder
	_ = rep.WriteText(&out)
	if !strings.Contains(out.String(), "No differences") {
		t.Fatalf("report:\n%s", out.String())
	}
	// What the reconciler asked Stripe for.
	// The period is the one the report names, to the second.
	since := fmt.Sprint(rep.Since.Unix())
	for path, want := range map[string]map[string]string{
		"/v1/charges":  {"expand[0]": "data.balance_transaction"},
		"/v1/refunds":  {"expand[0]": "data.charge", "created[gte]": since},
		"/v1/disputes": {"created[gte]": since},
		"/v1/payouts":  {"created[gte]": since},
		"/v1/events":   {"delivery_success": "false", "types[0]": "checkout.session.completed", "created[gte]": since},
	} {
		q := fake.query(path)
		if q == nil {
			t.Errorf("never listed %s", path)
			continue
		}
		for k, v := range want {
			if got := q.Get(k); got != v {
				t.Errorf("%s %s = %q, want %q", path, k, got, v)
			}
		}
	}
	if q := fake.query("/v1/charges"); q.Get("created[gte]") == "" || q.Get("limit") != "100" {
		t.Errorf("charges listed with %v", q)
	}
}

func TestReconcileFindsEachKindOfDifference(t *testing.T) {
	t.Parallel()
	w := newRecWorld(t)
	fake, base := newRecFake(t)

	// Refunded £10 in the ledger, £30 at Stripe.
	m1 := w.meta("25.00", false)
	ch1 := recB.ChargeSucceeded("ch_1", "pi_1", "cus_1", 2500, 58, "", m1)
	w.apply(recB.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 2500, "paid", m1), ch1,
		recB.ChargeRefunded("ch_1", "pi_1", 2500, 1000, payments.Meta{}))
	charge1 := recObject(t, ch1)
	charge1["amount_refunded"] = 3000
	// A gift of £15 Stripe knows nothing of.
	m2 := w.meta("15.00", false)
	w.apply(recB.CheckoutSessionCompleted("cs_gone", "pi_gone", "cus_2", 1500, "paid", m2))
	// £20 in the ledger, £25 charged.
	m5 := w.meta("20.00", false)
	ch5 := recB.ChargeSucceeded("ch_5", "pi_5", "cus_5", 2500, 58, "", m5)
	w.apply(recB.CheckoutSessionCompleted("cs_5", "pi_5", "cus_5", 2000, "paid", m5), ch5)
	// A charge and a dispute the ledger never heard of.
	ch9 := recObject(t, recB.ChargeSucceeded("ch_9", "pi_9", "cus_9", 700, 31, "", payments.Meta{}))
	fake.add("/v1/charges", charge1, recObject(t, ch5), ch9)
	fake.add("/v1/refunds", recRefund("re_1", charge1, 1000), recRefund("re_2", charge1, 2000))
	fake.add("/v1/disputes", recObject(t, recB.DisputeCreated("dp_x", "ch_1", "pi_1", 1500)))

	rep := w.run(w.reconciler(base), false)
	got := map[string]string{}
	for _, d := range rep.Differences {
		got[d.Kind+" "+d.Object] = d.Detail
	}
	want := map[string]string{
		"missing_locally ch_9":      "a paid charge the ledger has no gift for",
		"missing_at_stripe pi_gone": "Stripe listed no paid charge for this gift",
		"amount_mismatch ch_1":      "refunded amount",
		"amount_mismatch ch_5":      "gift amount",
		"missing_locally dp_x":      "dispute on ch_1",
	}
	if len(got) != len(want) || len(rep.Differences) != len(want) {
		t.Fatalf("differences %v, want %v", rep.Differences, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	for _, d := range rep.Differences {
		if d.Kind == payments.AmountMismatch && d.Object == "ch_1" && (d.Stripe != "£30.00 refunded" || d.Ledger != "£10.00 refunded") {
			t.Errorf("refund mismatch reads %q / %q", d.Stripe, d.Ledger)
		}
	}
	var out strings.Builder
	_ = rep.WriteText(&out)
	for _, s := range []string{"Differences: 5", "missing_at_stripe", "pi_gone", "£15.00 gift"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, out.String())
		}
	}
	// Reporting changes nothing.
	if tot := w.totals(); tot.Gifts != 3 || tot.Refunded.StringFixed(2) != "10.00" {
		t.Fatalf("reconcile without --recover moved the ledger: %d gifts, %s refunded", tot.Gifts, tot.Refunded)
	}
}

func TestReconcileRecoversUndeliveredEventsOnce(t *testing.T) {
	t.Parallel()
	w := newRecWorld(t)
	fake, base := newRecFake(t)
	m := w.meta("30.00", false)
	// The webhook never arrived; Stripe lists the event as undelivered. No charge event
	// arrived either, so the fee is learned from the listed charge's balance transaction.
	missed := recB.WithEventID("evt_rec_missed").CheckoutSessionCompleted("cs_r", "pi_r", "cus_r", 3000, "paid", m)
	listed := recObject(t, recB.ChargeSucceeded("ch_r", "pi_r", "cus_r", 3000, 65, "", payments.Meta{}))
	fake.add("/v1/charges", listed)
	fake.add("/v1/events", recEvent(t, missed))
	rec := w.reconciler(base)

	rep := w.run(rec, false)
	if len(rep.Events) != 1 || rep.Events[0].Outcome != "not stored" || len(rep.Differences) != 1 ||
		rep.Differences[0].Kind != payments.MissingLocally || rep.Differences[0].Object != "ch_r" {
		t.Fatalf("without --recover: events %+v, differences %v", rep.Events, rep.Differences)
	}
	if w.totals().Gifts != 0 {
		t.Fatal("reconcile without --recover applied an event")
	}

	for i, outcome := range []string{"applied", "duplicate"} {
		rep = w.run(rec, true)
		if len(rep.Events) != 1 || rep.Events[0].ID != "evt_rec_missed" || rep.Events[0].Outcome != outcome {
			t.Fatalf("run %d: events %+v, want the missed event %s", i+1, rep.Events, outcome)
		}
		if len(rep.Differences) != 0 || rep.FeesRecorded != 1-i {
			t.Fatalf("run %d: differences %v, fees recorded %d", i+1, rep.Differences, rep.FeesRecorded)
		}
		tot := w.totals()
		if tot.Gifts != 1 || tot.Raised().StringFixed(2) != "30.00" || tot.Fees.StringFixed(2) != "0.65" {
			t.Fatalf("run %d: %d gifts, raised %s, fees %s; want 1, 30.00, 0.65", i+1, tot.Gifts, tot.Raised(), tot.Fees)
		}
	}
	// The recovered gift and the learned fee are events like any other: both replays agree.
	if diffs, err := ledger.CompareTotals(context.Background(), w.store); err != nil || len(diffs) != 0 {
		t.Fatalf("totals vs ledger: %v %v", diffs, err)
	}
	res, err := payments.ReplayEvents(context.Background(), w.store.Pool(), false)
	if err != nil || len(res.Differences) != 0 || res.Events != 2 {
		t.Fatalf("replay from %d events: %v %v", res.Events, res.Differences, err)
	}
}

func TestReconcileMissingFeeIsReportedThenRecorded(t *testing.T) {
	t.Parallel()
	w := newRecWorld(t)
	fake, base := newRecFake(t)
	m := w.meta("12.00", false)
	w.apply(recB.CheckoutSessionCompleted("cs_f", "pi_f", "cus_f", 1200, "paid", m))
	fake.add("/v1/charges", recObject(t, recB.ChargeSucceeded("ch_f", "pi_f", "cus_f", 1200, 38, "", payments.Meta{})))
	rec := w.reconciler(base)
	rep := w.run(rec, false)
	if len(rep.Differences) != 1 || rep.Differences[0].Object != "ch_f" || !strings.HasPrefix(rep.Differences[0].Detail, "fee") {
		t.Fatalf("differences %v, want the missing fee of ch_f", rep.Differences)
	}
	rep = w.run(rec, true)
	if len(rep.Differences) != 0 || rep.FeesRecorded != 1 || w.totals().Fees.StringFixed(2) != "0.38" {
		t.Fatalf("with --recover: %v, %d fees recorded, fees %s", rep.Differences, rep.FeesRecorded, w.totals().Fees)
	}
}

// TestReconcileRequestsAreValidAtStripeMock checks every list request against Stripe's
// own API description (stripe-mock refuses unknown parameters and expansions).
func TestReconcileRequestsAreValidAtStripeMock(t *testing.T) {
	t.Parallel()
	w := newRecWorld(t)
	rec := w.reconciler(paymentstest.StripeMockURL(t))
	for _, recover := range []bool{false, true} {
		rep, err := rec.Run(context.Background(), time.Now().AddDate(0, 0, -30), recover)
		if err != nil {
			t.Fatalf("recover=%v: %v", recover, err)
		}
		var out strings.Builder
		_ = rep.WriteText(&out)
		t.Logf("recover=%v:\n%s", recover, out.String())
		kinds := []string{}
		for _, e := range rep.Events {
			kinds = append(kinds, e.Outcome)
		}
		sort.Strings(kinds)
		t.Logf("event outcomes: %v", kinds)
	}
}

// Reconciling one appeal: its ledger gifts and the Stripe records whose payment the ledger
// matches to it, none of another appeal's; a charge the ledger matches to no appeal is in
// every report, marked; every appeal's report is the sum of the two.
func TestReconcileByAppeal(t *testing.T) {
	t.Parallel()
	w := newRecWorld(t)
	fake, base := newRecFake(t)
	ctx := context.Background()
	var other int64
	if err := w.store.Pool().QueryRow(ctx, `INSERT INTO appeals (slug, name, target, surplus_statement)
		VALUES ('winter-rec', 'Winter', 1000, 'Any surplus goes to our other work.') RETURNING id`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	metaFor := func(appeal int64, slug, amount string) payments.Meta {
		d, err := donations.Create(ctx, w.store, donations.NewDonation{AppealID: appeal, Amount: decimal.RequireFromString(amount)})
		if err != nil {
			t.Fatal(err)
		}
		return payments.Meta{DonationID: d.ID, Campaign: slug}
	}
	// gift records a paid one-off gift, and returns its charge as Stripe lists it.
	gift := func(appeal int64, slug, n string, pence int64) map[string]any {
		m := metaFor(appeal, slug, decimal.New(pence, -2).StringFixed(2))
		ch := recB.ChargeSucceeded("ch_"+n, "pi_"+n, "cus_"+n, pence, 50, "", m)
		w.apply(recB.CheckoutSessionCompleted("cs_"+n, "pi_"+n, "cus_"+n, pence, "paid", m), ch)
		return recObject(t, ch)
	}
	// The main appeal: £25 refunded £5, and £40 disputed (open).
	a1 := gift(w.appeal.ID, w.appeal.Slug, "a1", 2500)
	w.apply(recB.ChargeRefunded("ch_a1", "pi_a1", 2500, 500, payments.Meta{}))
	a1["amount_refunded"] = 500
	a2 := gift(w.appeal.ID, w.appeal.Slug, "a2", 4000)
	dpA := recB.DisputeCreated("dp_a2", "ch_a2", "pi_a2", 4000)
	w.apply(dpA)
	// The other appeal: £60 refunded £10, £30 disputed, and a £12 gift Stripe never listed.
	b1 := gift(other, "winter-rec", "b1", 6000)
	w.apply(recB.ChargeRefunded("ch_b1", "pi_b1", 6000, 1000, payments.Meta{}))
	b1["amount_refunded"] = 1000
	b2 := gift(other, "winter-rec", "b2", 3000)
	dpB := recB.DisputeCreated("dp_b2", "ch_b2", "pi_b2", 3000)
	w.apply(dpB)
	mGone := metaFor(other, "winter-rec", "12.00")
	w.apply(recB.CheckoutSessionCompleted("cs_bgone", "pi_bgone", "cus_bgone", 1200, "paid", mGone))
	// £7 the ledger has no gift for: no appeal can be named.
	stray := recObject(t, recB.ChargeSucceeded("ch_x", "pi_x", "cus_x", 700, 31, "", payments.Meta{}))
	fake.add("/v1/charges", a1, a2, b1, b2, stray)
	fake.add("/v1/refunds", recRefund("re_a1", a1, 500), recRefund("re_b1", b1, 1000))
	fake.add("/v1/disputes", recObject(t, dpA), recObject(t, dpB))

	rec := w.reconciler(base)
	run := func(appeal int64) (payments.Report, string) {
		t.Helper()
		rep, err := rec.RunFor(ctx, time.Now().Add(-time.Hour), false, appeal)
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		if err := rep.WriteText(&out); err != nil {
			t.Fatal(err)
		}
		return rep, out.String()
	}
	diffs := func(rep payments.Report) string {
		var got []string
		for _, d := range rep.Differences {
			s := d.Kind + " " + d.Object
			if d.NotMatched {
				s += " (not matched)"
			}
			got = append(got, s)
		}
		sort.Strings(got)
		return strings.Join(got, ", ")
	}
	pounds := func(s payments.StripeTotals) string {
		return fmt.Sprintf("%d %s, %d %s, %d %s", s.Charges, s.Charged.StringFixed(2), s.Refunds, s.Refunded.StringFixed(2),
			s.Disputes, s.Disputed.StringFixed(2))
	}
	ledgerOf := func(l payments.LedgerTotals) string { return fmt.Sprintf("%d %s", l.Gifts, l.Amount.StringFixed(2)) }

	mine, mineText := run(w.appeal.ID)
	theirs, theirsText := run(other)
	all, _ := run(0)
	for _, c := range []struct {
		name          string
		rep           payments.Report
		diffs, stripe string
		ledger        string
		listed        payments.Listed
	}{
		{"the main appeal", mine, "missing_locally ch_x (not matched)", "2 65.00, 1 5.00, 1 40.00", "2 65.00",
			payments.Listed{Charges: 3, Refunds: 1, Disputes: 1}},
		{"the other appeal", theirs, "missing_at_stripe pi_bgone, missing_locally ch_x (not matched)", "2 90.00, 1 10.00, 1 30.00", "3 102.00",
			payments.Listed{Charges: 3, Refunds: 1, Disputes: 1}},
		{"every appeal", all, "missing_at_stripe pi_bgone, missing_locally ch_x (not matched)", "4 155.00, 2 15.00, 2 70.00", "5 167.00",
			payments.Listed{Charges: 5, Refunds: 2, Disputes: 2}},
	} {
		if got := diffs(c.rep); got != c.diffs {
			t.Errorf("%s: differences %s, want %s", c.name, got, c.diffs)
		}
		if got := pounds(c.rep.Stripe); got != c.stripe {
			t.Errorf("%s: Stripe matched %s, want %s", c.name, got, c.stripe)
		}
		if got := pounds(c.rep.NotMatched); got != "1 7.00, 0 0.00, 0 0.00" {
			t.Errorf("%s: Stripe not matched %s, want the £7 charge alone", c.name, got)
		}
		if got := ledgerOf(c.rep.Ledger); got != c.ledger {
			t.Errorf("%s: ledger %s, want %s", c.name, got, c.ledger)
		}
		if c.rep.Listed.Charges != c.listed.Charges || c.rep.Listed.Refunds != c.listed.Refunds || c.rep.Listed.Disputes != c.listed.Disputes {
			t.Errorf("%s: listed %+v, want %+v", c.name, c.rep.Listed, c.listed)
		}
	}
	// Every appeal's totals are the sum of the two appeals'.
	if !all.Stripe.Charged.Equal(mine.Stripe.Charged.Add(theirs.Stripe.Charged)) || !all.Ledger.Amount.Equal(mine.Ledger.Amount.Add(theirs.Ledger.Amount)) ||
		!all.Stripe.Refunded.Equal(mine.Stripe.Refunded.Add(theirs.Stripe.Refunded)) || !all.Stripe.Disputed.Equal(mine.Stripe.Disputed.Add(theirs.Stripe.Disputed)) {
		t.Errorf("every appeal %+v %+v is not the sum of %+v %+v and %+v %+v", all.Stripe, all.Ledger, mine.Stripe, mine.Ledger, theirs.Stripe, theirs.Ledger)
	}
	// The text names none of the other appeal's records, and marks the stray charge.
	for _, id := range []string{"ch_b", "pi_b", "dp_b", "re_b"} {
		if strings.Contains(mineText, id) {
			t.Errorf("the main appeal's report names %s:\n%s", id, mineText)
		}
	}
	for _, want := range []string{"not matched to any appeal", "Ledger: 2 gifts from Stripe, £65.00"} {
		if !strings.Contains(mineText, want) {
			t.Errorf("the main appeal's report lacks %q:\n%s", want, mineText)
		}
	}
	if !strings.Contains(theirsText, "pi_bgone") {
		t.Errorf("the other appeal's report lacks its gift missing at Stripe:\n%s", theirsText)
	}
}
