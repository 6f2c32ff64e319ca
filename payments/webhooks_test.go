package payments_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/campaigns/ledger"
	"giving/campaigns/testwait"
	"giving/migrations/testdb"
	"giving/payments"
)

const secret = "whsec_test_madeup_0123456789"

// instance is one running copy of the webhook endpoint with its own pool.
type instance struct {
	store *campaigns.Store
	srv   *httptest.Server
	hooks *payments.Webhooks
}

// newInstance starts one instance; configure, if given, sets its webhook handler up
// before the appliers and the cancellation worker start.
func newInstance(t testing.TB, dsn string, configure ...func(*payments.Webhooks)) *instance {
	t.Helper()
	pool, err := campaigns.OpenPool(context.Background(), dsn, campaigns.PoolOptions{MaxConns: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store := campaigns.NewStore(pool)
	h := payments.NewWebhooks(store, []string{"whsec_old_rotated_away", secret}, false, discard(), payments.NewMetrics(nil))
	for _, c := range configure {
		c(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	return &instance{store: store, srv: srv, hooks: h}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type world struct {
	t      testing.TB
	dsn    string
	insts  []*instance
	appeal appeals.Appeal
	ruby   int64
}

func newWorld(t testing.TB, instances int, configure ...func(*payments.Webhooks)) *world {
	t.Helper()
	w := &world{t: t, dsn: testdb.DSN(t)}
	for range instances {
		w.insts = append(w.insts, newInstance(t, w.dsn, configure...))
	}
	s := w.store()
	if _, err := appeals.Seed(context.Background(), s, appeals.SeedOptions{}); err != nil {
		t.Fatal(err)
	}
	var err error
	w.appeal, err = appeals.AppealBySlug(context.Background(), s, appeals.DefaultAppealSlug)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Pool().QueryRow(context.Background(), `INSERT INTO fundraisers (appeal_id, slug, title, target, status)
		VALUES ($1, 'ruby', 'Ruby runs for freedom', 500, 'approved') RETURNING id`, w.appeal.ID).Scan(&w.ruby); err != nil {
		t.Fatal(err)
	}
	return w
}

// settle waits until no stored event is left queued: every delivery that was answered
// while other deliveries were in flight has been applied by an applier.
func (w *world) settle() {
	w.t.Helper()
	testwait.Eventually(w.t, "no stored event left queued", func() bool {
		if _, err := w.insts[0].hooks.Drain(context.Background()); err != nil {
			w.t.Fatal(err)
		}
		var queued int
		if err := w.pool().QueryRow(context.Background(), `SELECT count(*) FROM stripe_events WHERE outcome = 'queued'`).Scan(&queued); err != nil {
			w.t.Fatal(err)
		}
		return queued == 0
	})
}

func (w *world) store() *campaigns.Store { return w.insts[0].store }
func (w *world) pool() *pgxpool.Pool     { return w.store().Pool() }

func (w *world) donation(amount string, monthly, giftAid bool, fundraiser int64) donations.Donation {
	w.t.Helper()
	n := donations.NewDonation{AppealID: w.appeal.ID, FundraiserID: fundraiser, Amount: decimal.RequireFromString(amount), Monthly: monthly}
	if giftAid {
		n.Declaration = &giftaid.Declaration{FirstName: "Ada", LastName: "Lovelace", House: "12", Postcode: "SW1A 1AA",
			Scope: "this", WordingVersion: "test-1", Wording: "I want to Gift Aid my donation"}
	}
	d, err := donations.Create(context.Background(), w.store(), n)
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

func post(t testing.TB, url string, payload []byte, header string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
	if header != "" {
		req.Header.Set("Stripe-Signature", header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (w *world) send(payload []byte) string {
	w.t.Helper()
	code, body := post(w.t, w.insts[0].srv.URL, payload, payments.SignPayload(payload, secret, time.Now()))
	if code != http.StatusOK {
		w.t.Fatalf("webhook answered %d: %s", code, body)
	}
	return body
}

func (w *world) totals(s ledger.Scope) ledger.Totals {
	w.t.Helper()
	tot, err := ledger.ReadTotals(context.Background(), w.pool(), s)
	if err != nil {
		w.t.Fatal(err)
	}
	return tot
}

func (w *world) status(id string) string {
	w.t.Helper()
	d, err := donations.Lookup(context.Background(), w.store(), donations.DonationLookup{ID: id})
	if err != nil {
		w.t.Fatal(err)
	}
	return d.Status
}

// noDifference checks both replays: totals against the ledger, and the ledger rebuilt
// from the stored events against the live totals.
func (w *world) noDifference() {
	w.t.Helper()
	w.settle()
	diffs, err := ledger.CompareTotals(context.Background(), w.store())
	if err != nil || len(diffs) != 0 {
		w.t.Fatalf("replay: %v %v", diffs, err)
	}
	res, err := payments.ReplayEvents(context.Background(), w.pool(), false)
	if err != nil || len(res.Differences) != 0 {
		w.t.Fatalf("replay from events (%d events): %v %v", res.Events, res.Differences, err)
	}
}

func meta(w *world, d donations.Donation) payments.Meta {
	m := payments.Meta{DonationID: d.ID, Campaign: w.appeal.Slug}
	if d.FundraiserID != 0 {
		m.Fundraiser = "ruby"
	}
	return m
}

var b payments.EventBuilder

func TestOneOffGiftIsRecordedOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	d := w.donation("3.00", false, true, w.ruby)
	ev := b.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 300, "paid", meta(w, d))
	if body := w.send(ev); !strings.Contains(body, `"applied"`) {
		t.Fatalf("first delivery: %s", body)
	}
	if body := w.send(ev); !strings.Contains(body, `"duplicate"`) {
		t.Fatalf("second delivery: %s", body)
	}
	// The same money in another event (a redelivery with a new id) is still one gift.
	w.send(b.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 300, "paid", meta(w, d)))
	for _, s := range []ledger.Scope{ledger.AppealScope(w.appeal.ID), ledger.FundraiserScope(w.ruby)} {
		tot := w.totals(s)
		if tot.Raised().StringFixed(2) != "3.00" || tot.Gifts != 1 || tot.Donors != 1 || tot.GiftAid().StringFixed(2) != "0.75" {
			t.Fatalf("%s totals: raised %s gifts %d donors %d gift aid %s", s.Kind, tot.Raised(), tot.Gifts, tot.Donors, tot.GiftAid())
		}
	}
	if st := w.status(d.ID); st != donations.StatusPaid {
		t.Fatalf("status %s, want paid", st)
	}
	w.noDifference()
}

func TestAsyncPaymentCountsOnlyWhenPaid(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	ok, bad := w.donation("10.00", false, false, 0), w.donation("20.00", false, false, 0)
	w.send(b.CheckoutSessionCompleted("cs_ok", "pi_ok", "cus_1", 1000, "unpaid", meta(w, ok)))
	w.send(b.CheckoutSessionCompleted("cs_bad", "pi_bad", "cus_2", 2000, "unpaid", meta(w, bad)))
	if w.totals(ledger.AppealScope(w.appeal.ID)).Raised().Sign() != 0 || w.status(ok.ID) != donations.StatusProcessing {
		t.Fatal("unpaid (processing) money counted as raised")
	}
	w.send(b.CheckoutSessionAsync(true, "cs_ok", "pi_ok", "cus_1", 1000, meta(w, ok)))
	w.send(b.CheckoutSessionAsync(false, "cs_bad", "pi_bad", "cus_2", 2000, meta(w, bad)))
	if got := w.totals(ledger.AppealScope(w.appeal.ID)).Raised().StringFixed(2); got != "10.00" {
		t.Fatalf("raised %s, want 10.00", got)
	}
	if w.status(ok.ID) != donations.StatusPaid || w.status(bad.ID) != donations.StatusFailed {
		t.Fatalf("statuses %s %s, want paid failed", w.status(ok.ID), w.status(bad.ID))
	}
	exp := w.donation("5.00", false, false, 0)
	w.send(b.CheckoutSessionExpired("cs_exp", 500, meta(w, exp)))
	if w.status(exp.ID) != donations.StatusExpired {
		t.Fatalf("expired session: status %s", w.status(exp.ID))
	}
}

func TestMonthlyGiftRenewalsAndFailures(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	d := w.donation("10.00", true, true, 0)
	m := meta(w, d)
	// invoice.paid before the checkout.session.completed that created the subscription.
	w.send(b.InvoicePaid("in_1", "sub_1", "cus_1", "ch_1", "pi_1", 1000, "subscription_create", m))
	w.send(b.CheckoutSubscriptionCompleted("cs_1", "sub_1", "cus_1", 1000, m))
	w.send(b.InvoicePaid("in_2", "sub_1", "cus_1", "ch_2", "pi_2", 1000, "subscription_cycle", m))
	w.send(b.InvoicePaid("in_2", "sub_1", "cus_1", "ch_2", "pi_2", 1000, "subscription_cycle", m)) // new event id, same invoice
	tot := w.totals(ledger.AppealScope(w.appeal.ID))
	if tot.Raised().StringFixed(2) != "20.00" || tot.Gifts != 2 || tot.Donors != 1 {
		t.Fatalf("two renewals: raised %s gifts %d donors %d", tot.Raised(), tot.Gifts, tot.Donors)
	}
	w.send(b.InvoicePaymentFailed("in_3", "sub_1", "cus_1", 1000, m))
	if st := w.status(d.ID); st != donations.StatusPastDue {
		t.Fatalf("after a failed renewal: %s, want past_due", st)
	}
	// An older "active" update must not overwrite the newer cancellation.
	newer := payments.EventBuilder{Now: func() time.Time { return time.Now().Add(time.Minute) }}
	w.send(newer.SubscriptionDeleted("sub_1", "cus_1", 1000, m))
	w.send(b.SubscriptionUpdated("sub_1", "cus_1", 1000, "active", false, m))
	if st := w.status(d.ID); st != donations.StatusCancelled {
		t.Fatalf("older update overwrote cancellation: %s", st)
	}
	if got := w.totals(ledger.AppealScope(w.appeal.ID)).Raised().StringFixed(2); got != "20.00" {
		t.Fatalf("cancellation moved money: %s", got)
	}
}

func TestRefundsAndDisputesMoveEveryTotal(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	a, c := w.donation("100.00", false, true, w.ruby), w.donation("50.00", false, false, 0)
	e := w.donation("40.00", false, false, w.ruby)
	w.send(b.CheckoutSessionCompleted("cs_a", "pi_a", "cus_a", 10000, "paid", meta(w, a)))
	w.send(b.CheckoutSessionCompleted("cs_c", "pi_c", "cus_c", 5000, "paid", meta(w, c)))
	w.send(b.CheckoutSessionCompleted("cs_e", "pi_e", "cus_e", 4000, "paid", meta(w, e)))
	// Partial refunds, delivered newest first: cumulative amounts, so 30 then 10 adds 30.
	w.send(b.ChargeRefunded("ch_a", "pi_a", 10000, 3000, payments.Meta{}))
	w.send(b.ChargeRefunded("ch_a", "pi_a", 10000, 1000, payments.Meta{}))
	appeal := w.totals(ledger.AppealScope(w.appeal.ID))
	if appeal.Raised().StringFixed(2) != "160.00" || appeal.Refunded.StringFixed(2) != "30.00" || appeal.GiftAid().StringFixed(2) != "17.50" {
		t.Fatalf("after partial refund: raised %s refunded %s gift aid %s", appeal.Raised(), appeal.Refunded, appeal.GiftAid())
	}
	w.send(b.ChargeRefunded("ch_a", "pi_a", 10000, 10000, payments.Meta{}))
	if st := w.status(a.ID); st != donations.StatusRefunded {
		t.Fatalf("fully refunded gift is %s", st)
	}
	// A dispute holds money back; won, it counts again; lost, it is gone with a fee.
	w.send(b.DisputeCreated("dp_c", "ch_c", "pi_c", 5000))
	if got := w.totals(ledger.AppealScope(w.appeal.ID)).Raised().StringFixed(2); got != "40.00" {
		t.Fatalf("open dispute still counted: raised %s", got)
	}
	w.send(b.DisputeClosed("dp_c", "ch_c", "pi_c", 5000, true, 1500))
	// Closed (lost) arrives before created: the order must not matter.
	w.send(b.DisputeClosed("dp_e", "ch_e", "pi_e", 4000, false, 2000))
	w.send(b.DisputeCreated("dp_e", "ch_e", "pi_e", 4000))
	appeal = w.totals(ledger.AppealScope(w.appeal.ID))
	page := w.totals(ledger.FundraiserScope(w.ruby))
	if appeal.Raised().StringFixed(2) != "50.00" || appeal.Lost.StringFixed(2) != "40.00" || appeal.Disputed.Sign() != 0 ||
		appeal.Fees.StringFixed(2) != "20.00" || appeal.Net().StringFixed(2) != "30.00" {
		t.Fatalf("appeal: raised %s lost %s disputed %s fees %s net %s", appeal.Raised(), appeal.Lost, appeal.Disputed, appeal.Fees, appeal.Net())
	}
	if page.Raised().Sign() != 0 || page.Gifts != 2 {
		t.Fatalf("Ruby's page: raised %s from %d gifts, want 0.00 from 2", page.Raised(), page.Gifts)
	}
	w.noDifference()
}

func TestRefundBeforeItsGiftWaitsAndApplies(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	d := w.donation("25.00", false, false, 0)
	if body := w.send(b.ChargeRefunded("ch_1", "pi_1", 2500, 500, payments.Meta{})); !strings.Contains(body, "deferred") {
		t.Fatalf("refund before gift: %s", body)
	}
	w.send(b.ChargeSucceeded("ch_1", "pi_1", "cus_1", 2500, 58, "", payments.Meta{}))
	w.send(b.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 2500, "paid", meta(w, d)))
	tot := w.totals(ledger.AppealScope(w.appeal.ID))
	if tot.Raised().StringFixed(2) != "20.00" || tot.Fees.StringFixed(2) != "0.58" {
		t.Fatalf("raised %s fees %s, want 20.00 and 0.58", tot.Raised(), tot.Fees)
	}
	var waiting int
	_ = w.pool().QueryRow(context.Background(), `SELECT count(*) FROM stripe_events WHERE outcome = 'deferred'`).Scan(&waiting)
	if waiting != 0 {
		t.Fatalf("%d events still waiting after their gift arrived", waiting)
	}
}

func TestUnknownMoneyIsRecordedAndFlagged(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	// A Payment Link: no donation of ours, a campaign in metadata.
	body := w.send(b.CheckoutSessionCompleted("cs_link", "pi_link", "cus_x", 1234, "paid", payments.Meta{Campaign: w.appeal.Slug, Fundraiser: "ruby"}))
	if !strings.Contains(body, "unmatched") {
		t.Fatalf("payment link: %s", body)
	}
	// A renewal of a subscription we never saw, with no metadata: the default appeal.
	w.send(b.InvoicePaid("in_x", "sub_x", "cus_y", "ch_x", "pi_x", 500, "subscription_cycle", payments.Meta{}))
	if got := w.totals(ledger.AppealScope(w.appeal.ID)).Raised().StringFixed(2); got != "17.34" {
		t.Fatalf("unmatched money: raised %s, want 17.34", got)
	}
	if got := w.totals(ledger.FundraiserScope(w.ruby)).Raised().StringFixed(2); got != "12.34" {
		t.Fatalf("unmatched money with a fundraiser: %s, want 12.34", got)
	}
	var flagged int
	_ = w.pool().QueryRow(context.Background(), `SELECT count(*) FROM donations WHERE unmatched`).Scan(&flagged)
	if flagged != 2 {
		t.Fatalf("%d donations flagged for review, want 2", flagged)
	}
	w.noDifference()
}

func TestReplayFromEventsCatchesATamperedTotal(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	d := w.donation("3.00", false, false, 0)
	w.send(b.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 300, "paid", meta(w, d)))
	w.noDifference()
	// A total edited behind the ledger's back, and a ledger entry no event explains.
	if _, err := w.pool().Exec(context.Background(), `UPDATE totals SET gross = gross + 1 WHERE scope = 'appeal' AND gross > 0`); err != nil {
		t.Fatal(err)
	}
	res, err := payments.ReplayEvents(context.Background(), w.pool(), false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 1 || len(res.Differences) != 1 || res.Differences[0].Field != "gross" || res.Differences[0].Stored != "4" {
		t.Fatalf("replay found %+v from %d events, want gross 4 vs 3", res.Differences, res.Events)
	}
}

func TestBadRequestsStoreNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	d := w.donation("3.00", false, false, 0)
	ev := b.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 300, "paid", meta(w, d))
	url := w.insts[0].srv.URL
	tampered := bytes.Replace(ev, []byte(`"amount_total": 300`), []byte(`"amount_total": 30000`), 1)
	if bytes.Equal(tampered, ev) {
		t.Fatal("test could not tamper with the body")
	}
	cases := map[string]struct {
		body   []byte
		header string
	}{
		"missing signature": {ev, ""},
		"wrong secret":      {ev, payments.SignPayload(ev, "whsec_wrong", time.Now())},
		"tampered body":     {tampered, payments.SignPayload(ev, secret, time.Now())},
		"301 seconds old":   {ev, payments.SignPayload(ev, secret, time.Now().Add(-301*time.Second))},
		"garbage header":    {ev, "t=abc,v1=zzz"},
	}
	for name, c := range cases {
		if code, body := post(t, url, c.body, c.header); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, code, body)
		}
	}
	big := bytes.Repeat([]byte("x"), payments.MaxWebhookBody+1)
	if code, _ := post(t, url, big, payments.SignPayload(big, secret, time.Now())); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d, want 413", code)
	}
	var events int
	_ = w.pool().QueryRow(context.Background(), `SELECT count(*) FROM stripe_events`).Scan(&events)
	if events != 0 {
		t.Fatalf("%d events stored from bad requests", events)
	}
	// Malformed JSON with a valid signature: stored for review, 200, no crash.
	junk := []byte(`{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {"amount_total": "lots"`)
	code, body := post(t, url, junk, payments.SignPayload(junk, secret, time.Now()))
	if code != http.StatusOK || !strings.Contains(body, "malformed") {
		t.Fatalf("malformed body: %d %s", code, body)
	}
	var outcome string
	_ = w.pool().QueryRow(context.Background(), `SELECT outcome FROM stripe_events`).Scan(&outcome)
	if outcome != "malformed" {
		t.Fatalf("malformed event stored as %q", outcome)
	}
	if w.totals(ledger.AppealScope(w.appeal.ID)).Gifts != 0 {
		t.Fatal("bad requests recorded a gift")
	}
}

// expected is the independent account the big test keeps of what it sent.
type expected struct {
	raised, giftAidBase decimal.Decimal
	gifts               int64
	donors              map[string]bool
}

// TestTwoThousandEventsThreeTimesOutOfOrder delivers 2,000 distinct events (payments,
// renewals, partial and full refunds, disputes won and lost), each three times, shuffled,
// concurrently, across two instances sharing one database. Totals must equal the sums the
// test computes itself: nothing lost, nothing counted twice.
func TestTwoThousandEventsThreeTimesOutOfOrder(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2)
	rng := rand.New(rand.NewPCG(1, 2))
	var events [][]byte
	exp := map[string]*expected{"appeal": {donors: map[string]bool{}}, "ruby": {donors: map[string]bool{}}}
	count := func(fundraiser int64, amount decimal.Decimal, giftAid bool, customer string, gift bool) {
		for _, k := range []string{"appeal", "ruby"} {
			if k == "ruby" && fundraiser == 0 {
				continue
			}
			e := exp[k]
			e.raised = e.raised.Add(amount)
			if giftAid {
				e.giftAidBase = e.giftAidBase.Add(amount)
			}
			if gift {
				e.gifts++
				e.donors[customer] = true
			}
		}
	}
	for i := 0; len(events) < 2000; i++ {
		fundraiser := int64(0)
		if i%3 == 0 {
			fundraiser = w.ruby
		}
		giftAid := i%4 == 0
		pence := int64(300 + rng.IntN(200000))
		amount := payments.FromPence(pence)
		cus := fmt.Sprintf("cus_%d", i%97)
		pi, ch := fmt.Sprintf("pi_%d", i), fmt.Sprintf("ch_%d", i)
		if i%5 == 4 { // monthly: a subscription with three paid invoices
			d := w.donation(amount.StringFixed(2), true, giftAid, fundraiser)
			m := meta(w, d)
			sub := fmt.Sprintf("sub_%d", i)
			events = append(events, b.CheckoutSubscriptionCompleted(fmt.Sprintf("cs_%d", i), sub, cus, pence, m))
			for n := range 3 {
				ipi, ich := fmt.Sprintf("pi_%d_%d", i, n), fmt.Sprintf("ch_%d_%d", i, n)
				events = append(events, b.InvoicePaid(fmt.Sprintf("in_%d_%d", i, n), sub, cus, ich, ipi, pence, "subscription_cycle", m))
				count(fundraiser, amount, giftAid, cus, true)
				if n == 2 && i%10 == 9 { // the last renewal refunded in full
					events = append(events, b.ChargeRefunded(ich, ipi, pence, pence, payments.Meta{}))
					count(fundraiser, amount.Neg(), giftAid, cus, false)
				}
			}
			continue
		}
		d := w.donation(amount.StringFixed(2), false, giftAid, fundraiser)
		events = append(events, b.CheckoutSessionCompleted(fmt.Sprintf("cs_%d", i), pi, cus, pence, "paid", meta(w, d)))
		count(fundraiser, amount, giftAid, cus, true)
		switch i % 7 {
		case 1: // two partial refunds: cumulative 1/4 then 1/2
			q := pence / 4
			events = append(events, b.ChargeRefunded(ch, pi, pence, q, payments.Meta{}), b.ChargeRefunded(ch, pi, pence, 2*q, payments.Meta{}))
			count(fundraiser, payments.FromPence(2*q).Neg(), giftAid, cus, false)
		case 2: // full refund
			events = append(events, b.ChargeRefunded(ch, pi, pence, pence, payments.Meta{}))
			count(fundraiser, amount.Neg(), giftAid, cus, false)
		case 3: // dispute won
			dp := fmt.Sprintf("dp_%d", i)
			events = append(events, b.DisputeCreated(dp, ch, pi, pence), b.DisputeClosed(dp, ch, pi, pence, true, 1500))
		case 4: // dispute lost
			dp := fmt.Sprintf("dp_%d", i)
			events = append(events, b.DisputeCreated(dp, ch, pi, pence), b.DisputeClosed(dp, ch, pi, pence, false, 1500))
			count(fundraiser, amount.Neg(), giftAid, cus, false)
		}
	}
	var deliveries [][]byte
	for _, e := range events {
		deliveries = append(deliveries, e, e, e)
	}
	rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })

	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	next := make(chan int)
	for worker := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				inst := w.insts[(i+worker)%len(w.insts)]
				p := deliveries[i]
				// Retry as Stripe would on anything but 2xx.
				for attempt := 0; ; attempt++ {
					code, body := post(t, inst.srv.URL, p, payments.SignPayload(p, secret, time.Now()))
					if code == http.StatusOK {
						break
					}
					if attempt == 5 {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("%d: %s", code, body))
						mu.Unlock()
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	for i := range deliveries {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d deliveries never succeeded, first: %s", len(failures), failures[0])
	}
	w.settle()

	var stored, waiting, problems int
	_ = w.pool().QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE outcome = 'deferred'),
		count(*) FILTER (WHERE outcome IN ('error', 'malformed'))FROM stripe_events`).Scan(&stored, &waiting, &problems)
	if stored != len(events) || waiting != 0 || problems != 0 {
		t.Fatalf("stored %d events (want %d), %d still deferred, %d errors", stored, len(events), waiting, problems)
	}
	for name, scope := range map[string]ledger.Scope{"appeal": ledger.AppealScope(w.appeal.ID), "ruby": ledger.FundraiserScope(w.ruby)} {
		got, want := w.totals(scope), exp[name]
		if !got.Raised().Equal(want.raised) || got.Gifts != want.gifts || got.Donors != int64(len(want.donors)) || !got.GiftAidBase.Equal(want.giftAidBase) {
			t.Errorf("%s: raised %s gifts %d donors %d gift-aid base %s; want %s %d %d %s", name,
				got.Raised().StringFixed(2), got.Gifts, got.Donors, got.GiftAidBase.StringFixed(2),
				want.raised.StringFixed(2), want.gifts, len(want.donors), want.giftAidBase.StringFixed(2))
		}
	}
	w.noDifference()
}
