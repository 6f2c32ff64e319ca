package payments_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"giving/campaigns/accounts"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/ledger"
	"giving/campaigns/testwait"
	"giving/payments"
)

// reshape rewrites an event's data.object, as a sender other than the builder would shape
// it; the result is re-encoded (compact) and must be signed afresh.
func reshape(t testing.TB, payload []byte, edit func(obj map[string]any)) []byte {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(payload, &env); err != nil {
		t.Fatal(err)
	}
	edit(env["data"].(map[string]any)["object"].(map[string]any))
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// stored reads what became of a stored event.
func (w *world) stored(id string) (outcome, detail string, attempts int) {
	w.t.Helper()
	if err := w.pool().QueryRow(context.Background(), `SELECT outcome, detail, attempts FROM stripe_events WHERE id = $1`, id).
		Scan(&outcome, &detail, &attempts); err != nil {
		w.t.Fatalf("event %s: %v", id, err)
	}
	return outcome, detail, attempts
}

// poisonEvents are the deliveries an attack run found stalling the queue: each is signed
// by Stripe (here, with the endpoint's secret) and cannot be applied as it stands. want is
// the outcome each must get and a phrase of the reason it must carry.
func poisonEvents(t testing.TB, w *world) []struct {
	id, name, want, reason string
	body                   []byte
} {
	d := w.donation("25.00", false, false, 0)
	noPI := reshape(t, payments.EventBuilder{}.WithEventID("evt_no_pi").CheckoutSessionCompleted("cs_no_pi", "", "cus_x", 2500, "paid",
		payments.Meta{Campaign: w.appeal.Slug}), func(o map[string]any) { o["payment_intent"] = nil })
	huge := reshape(t, payments.EventBuilder{}.WithEventID("evt_huge").CheckoutSessionCompleted("cs_huge", "pi_huge", "cus_x", 2500, "paid",
		payments.Meta{Campaign: w.appeal.Slug}), func(o map[string]any) { o["amount_total"] = int64(1_000_000_000_000) })
	nul := payments.EventBuilder{DonorEmail: "a\x00b@example.org"}.WithEventID("evt_nul").
		CheckoutSessionCompleted("cs_nul", "pi_nul", "cus_x", 2500, "paid", meta(w, d))
	return []struct {
		id, name, want, reason string
		body                   []byte
	}{
		{"evt_no_pi", "a session not made here with payment_intent null", "error", "names no payment intent", noPI},
		{"evt_huge", "amount_total above 999,999,999,999", "review", "above the sanity bound of £1,000,000.00 (GIFT_MAX £10,000.00 x 100)", huge},
		{"evt_nul", "a NUL byte in customer_details.email", "review", "customer_details.email holds a NUL byte", nul},
	}
}

// Each delivery the attack run found stalling the queue is set aside at once with its
// reason, the queue is left empty, and nothing it carried reaches a total.
func TestPoisonEventsAreSetAsideWithTheirReason(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	for _, p := range poisonEvents(t, w) {
		if body := w.send(p.body); !strings.Contains(body, p.want) {
			t.Errorf("%s: answered %s, want outcome %s", p.name, body, p.want)
		}
		w.settle()
		outcome, detail, _ := w.stored(p.id)
		if outcome != p.want || !strings.Contains(detail, p.reason) {
			t.Errorf("%s: stored %s %q, want %s with %q", p.name, outcome, detail, p.want, p.reason)
		}
	}
	// A true 100%-discount session (no payment intent, nothing paid) moved no money: there is
	// nothing to record and nothing to review.
	free := reshape(t, payments.EventBuilder{}.WithEventID("evt_free").CheckoutSessionCompleted("cs_free", "", "cus_f", 0, "no_payment_required",
		payments.Meta{Campaign: w.appeal.Slug}), func(o map[string]any) { o["payment_intent"] = nil })
	if body := w.send(free); !strings.Contains(body, `"ignored"`) {
		t.Errorf("100%%-discount session: %s, want ignored", body)
	}
	if tot := w.totals(ledger.AppealScope(w.appeal.ID)); tot.Gifts != 0 || tot.Raised().Sign() != 0 {
		t.Fatalf("poison reached the totals: %d gifts, raised %s", tot.Gifts, tot.Raised())
	}
	w.noDifference()
}

// Sanity bounds where Stripe's data cannot be true for this charity: a refund larger than
// its charge or than the gift recorded, a dispute larger than the gift, an amount above
// GIFT_MAX x 100. Each is held for review with its reason and no total goes negative; a
// refund held back that was waiting for its gift does not stop the gift. Once GIFT_MAX is
// raised, retrying the held amount applies it.
func TestImplausibleEventsAreHeldForReview(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	a, c := w.donation("20.00", false, false, w.ruby), w.donation("30.00", false, false, 0)
	w.send(b.CheckoutSessionCompleted("cs_a", "pi_a", "cus_a", 2000, "paid", meta(w, a)))
	cases := []struct {
		id, want string
		body     []byte
	}{
		// amount_refunded above the charge's own amount.
		{"evt_over_charge", "amount_refunded £50.00 is larger than the charge's £20.00",
			reshape(t, b.WithEventID("evt_over_charge").ChargeRefunded("ch_a", "pi_a", 2000, 2000, payments.Meta{}),
				func(o map[string]any) { o["amount_refunded"] = 5000 })},
		// A charge that says it is larger than the gift, fully refunded.
		{"evt_over_gift", "£90.00 refunded is more than the £20.00 gift",
			b.WithEventID("evt_over_gift").ChargeRefunded("ch_a", "pi_a", 9000, 9000, payments.Meta{})},
		{"evt_dispute", "£75.00 disputed is more than the £20.00 gift",
			b.WithEventID("evt_dispute").DisputeCreated("dp_a", "ch_a", "pi_a", 7500)},
		{"evt_invoice", "amount_paid of £2,000,000.00 is above the sanity bound",
			b.WithEventID("evt_invoice").InvoicePaid("in_1", "sub_1", "cus_1", "ch_1", "pi_1", 200_000_000, "subscription_cycle",
				payments.Meta{Campaign: w.appeal.Slug})},
	}
	for _, c := range cases {
		if body := w.send(c.body); !strings.Contains(body, `"review"`) {
			t.Errorf("%s: %s, want review", c.id, body)
		}
		if outcome, detail, _ := w.stored(c.id); outcome != "review" || !strings.Contains(detail, c.want) {
			t.Errorf("%s: stored %s %q, want review with %q", c.id, outcome, detail, c.want)
		}
	}
	// A refund larger than its gift that arrives before the gift: the gift is recorded,
	// the refund held for review.
	w.send(b.WithEventID("evt_early").ChargeRefunded("ch_c", "pi_c", 9000, 9000, payments.Meta{}))
	if body := w.send(b.CheckoutSessionCompleted("cs_c", "pi_c", "cus_c", 3000, "paid", meta(w, c))); !strings.Contains(body, `"applied"`) {
		t.Fatalf("gift with a held refund waiting: %s", body)
	}
	if outcome, detail, _ := w.stored("evt_early"); outcome != "review" || !strings.Contains(detail, "£90.00 refunded is more than the £30.00 gift") {
		t.Errorf("early refund larger than its gift: stored %s %q", outcome, detail)
	}
	for _, s := range []ledger.Scope{ledger.AppealScope(w.appeal.ID), ledger.FundraiserScope(w.ruby)} {
		tot := w.totals(s)
		if tot.Raised().Sign() <= 0 || tot.Refunded.Sign() != 0 || tot.Disputed.Sign() != 0 {
			t.Errorf("%s: raised %s refunded %s disputed %s: a held event moved money", s.Kind, tot.Raised(), tot.Refunded, tot.Disputed)
		}
	}
	if got := w.totals(ledger.AppealScope(w.appeal.ID)).Raised().StringFixed(2); got != "50.00" {
		t.Errorf("appeal raised %s, want 50.00", got)
	}
	w.noDifference()

	// The charity raises GIFT_MAX to £25,000 (bound £2,500,000): the held renewal applies.
	raised := newInstance(t, w.dsn, func(h *payments.Webhooks) { h.GiftMax = decimal.RequireFromString("25000") })
	outcome, detail, err := raised.hooks.Retry(context.Background(), accounts.CommandLine(), "evt_invoice")
	if err != nil || outcome != "unmatched" {
		t.Fatalf("retry after raising GIFT_MAX: %s %q %v, want unmatched", outcome, detail, err)
	}
	if got := w.totals(ledger.AppealScope(w.appeal.ID)).Raised().StringFixed(2); got != "2000050.00" {
		t.Errorf("after the retry: raised %s", got)
	}
}

// A burst of valid events with poison among them is applied in full: the poison is set
// aside (the failure the database reports for no known reason after a bounded number of
// tries, with backoff), and never holds up the events behind it. The time the burst takes
// to drain is logged, not asserted.
func TestPoisonLacedBurstIsFullyApplied(t *testing.T) {
	t.Parallel()
	const tries = 3
	w := newWorld(t, 1, func(h *payments.Webhooks) { h.ApplyTries, h.ApplyBackoff = tries, 300*time.Millisecond })
	ctx := context.Background()
	// A failure no check here foresees: the database refuses this one donation's update.
	if _, err := w.pool().Exec(ctx, `CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.checkout_session_id = 'cs_poison' THEN RAISE EXCEPTION 'test: this row cannot be saved'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER test_poison BEFORE UPDATE ON donations FOR EACH ROW EXECUTE FUNCTION test_poison()`); err != nil {
		t.Fatal(err)
	}
	poison := w.donation("5.00", false, false, 0)
	bodies := [][]byte{b.WithEventID("evt_poison").CheckoutSessionCompleted("cs_poison", "pi_poison", "cus_p", 500, "paid", meta(w, poison))}
	for _, p := range poisonEvents(t, w) {
		bodies = append(bodies, p.body)
	}
	const valid = 60
	ids := make([]string, valid)
	for i := range valid {
		d := w.donation("3.00", false, false, 0)
		ids[i] = d.ID
		bodies = append(bodies, b.CheckoutSessionCompleted(fmt.Sprintf("cs_%d", i), fmt.Sprintf("pi_%d", i), "cus_1", 300, "paid", meta(w, d)))
	}
	start := time.Now()
	// The poison first, alone, so it is the oldest queued event; then the rest, 16 at once.
	for _, p := range bodies[:4] {
		w.send(p)
	}
	next := make(chan []byte)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				if code, body := post(t, w.insts[0].srv.URL, p, payments.SignPayload(p, secret, time.Now())); code != http.StatusOK {
					t.Errorf("%d %s", code, body)
				}
			}
		}()
	}
	for _, p := range bodies[4:] {
		next <- p
	}
	close(next)
	wg.Wait()
	// Only the appliers run from here (no Drain): they must get past the poison by themselves.
	testwait.Eventually(t, "every valid gift applied", func() bool {
		return w.totals(ledger.AppealScope(w.appeal.ID)).Gifts == valid
	})
	t.Logf("a burst of %d valid events with 4 poison events drained in %s", valid, time.Since(start).Round(time.Millisecond))
	for _, id := range ids {
		if st := w.status(id); st != donations.StatusPaid {
			t.Fatalf("donation %s is %s", id, st)
		}
	}
	testwait.Eventually(t, "the poison set aside", func() bool {
		outcome, _, _ := w.stored("evt_poison")
		return outcome == "error"
	})
	outcome, detail, attempts := w.stored("evt_poison")
	if attempts != tries || !strings.Contains(detail, "test: this row cannot be saved") || !strings.Contains(detail, fmt.Sprintf("failed %d tries", tries)) {
		t.Errorf("poison: %s after %d tries %q, want error after %d with the database's reason", outcome, attempts, detail, tries)
	}
	if got := w.totals(ledger.AppealScope(w.appeal.ID)).Raised().StringFixed(2); got != "180.00" {
		t.Errorf("raised %s, want 180.00", got)
	}

	// Once the cause is fixed, a retry applies it.
	if _, err := w.pool().Exec(ctx, `DROP TRIGGER test_poison ON donations`); err != nil {
		t.Fatal(err)
	}
	if outcome, detail, err := w.insts[0].hooks.Retry(ctx, accounts.CommandLine(), "evt_poison"); err != nil || outcome != "applied" {
		t.Fatalf("retry once fixed: %s %q %v", outcome, detail, err)
	}
	if got := w.totals(ledger.AppealScope(w.appeal.ID)).Raised().StringFixed(2); got != "185.00" {
		t.Errorf("after the retry: raised %s, want 185.00", got)
	}
	w.noDifference()
}

// A failed try waits for its next one on the service's clock, with the same doubling
// backoff as every other queue: due at the clock's time plus 1 s after the first failure,
// 2 s after the second; until then no applier claims it, whatever the wall clock says.
func TestFailedEventWaitsOnTheClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, 1)
	if _, err := w.pool().Exec(ctx, `CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.checkout_session_id = 'cs_poison' THEN RAISE EXCEPTION 'test: this row cannot be saved'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER test_poison BEFORE UPDATE ON donations FOR EACH ROW EXECUTE FUNCTION test_poison()`); err != nil {
		t.Fatal(err)
	}
	// Far in the future, so the world's own applier (on the wall clock) never finds it due.
	clock := campaignstest.NewClock(time.Date(2100, 1, 1, 9, 0, 0, 0, time.UTC))
	h := payments.NewWebhooks(w.store().WithClock(clock.Now), []string{secret}, false, discard(), payments.NewMetrics(nil))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	poison := w.donation("5.00", false, false, 0)
	p := b.WithEventID("evt_poison").CheckoutSessionCompleted("cs_poison", "pi_poison", "cus_p", 500, "paid", meta(w, poison))
	if code, body := post(t, srv.URL, p, payments.SignPayload(p, secret, time.Now())); code != http.StatusOK || !strings.Contains(body, `"queued"`) {
		t.Fatalf("poisoned delivery: %d %s, want 200 queued", code, body)
	}
	due := func() (int, time.Time) {
		var attempts int
		var next time.Time
		if err := w.pool().QueryRow(ctx, `SELECT attempts, next_attempt_at FROM stripe_events WHERE id = 'evt_poison'`).Scan(&attempts, &next); err != nil {
			t.Fatal(err)
		}
		return attempts, next
	}
	start := clock.Now()
	if n, next := due(); n != 1 || !next.Equal(start.Add(time.Second)) {
		t.Fatalf("after the first failure: %d tries, next at %s; want 1, %s", n, next, start.Add(time.Second))
	}
	clock.Advance(999 * time.Millisecond)
	if _, err := h.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := due(); n != 1 {
		t.Fatalf("tried again before its time: %d tries", n)
	}
	clock.Advance(time.Millisecond)
	if _, err := h.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if n, next := due(); n != 2 || !next.Equal(clock.Now().Add(2*time.Second)) {
		t.Fatalf("after the second failure: %d tries, next at %s; want 2, %s", n, next, clock.Now().Add(2*time.Second))
	}
}
