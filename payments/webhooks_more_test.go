package payments_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"giving/campaigns/donations"
	"giving/campaigns/ledger"
	"giving/campaigns/testwait"
	"giving/payments"
)

func TestEventsFromTheWrongModeAreStoredNotApplied(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	d := w.donation("3.00", false, false, 0)
	ev := b.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 300, "paid", meta(w, d))
	// The event's own livemode is the last one in the body (the object inside has its own).
	i := bytes.LastIndex(ev, []byte(`"livemode": false`))
	live := append(append(append([]byte{}, ev[:i]...), `"livemode": true`...), ev[i+len(`"livemode": false`):]...)
	if body := w.send(live); !strings.Contains(body, "wrong_mode") {
		t.Fatalf("live event at a test-mode service: %s", body)
	}
	if w.totals(ledger.AppealScope(w.appeal.ID)).Gifts != 0 {
		t.Fatal("an event from the wrong mode moved the totals")
	}
}

func TestAPIVersionMismatchIsCountedAndStillApplied(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	reg := prometheus.NewRegistry()
	m := payments.NewMetrics(reg)
	w.insts[0].srv.Config.Handler = payments.NewWebhooks(w.store(), []string{secret}, false, discard(), m)
	d := w.donation("3.00", false, false, 0)
	ev := bytes.Replace(b.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 300, "paid", meta(w, d)),
		[]byte(`"api_version": "2023-10-16"`), []byte(`"api_version": "2024-06-20"`), 1)
	w.send(ev)
	if got := testutil.ToFloat64(m.VersionMismatches); got != 1 {
		t.Fatalf("version mismatches = %v, want 1", got)
	}
	if got := w.totals(ledger.AppealScope(w.appeal.ID)).Raised().StringFixed(2); got != "3.00" {
		t.Fatalf("raised %s: a paid gift must not be dropped over a version label", got)
	}
	w.send(b.SubscriptionUpdated("sub_unknown", "cus_1", 100, "active", false, payments.Meta{}))
	if got := testutil.ToFloat64(m.Events.WithLabelValues("checkout.session.completed", "applied")); got != 1 {
		t.Fatalf("events{applied} = %v", got)
	}
}

// A lone delivery is answered with its gift already counted; while another delivery is
// being served, the answer goes as soon as the event is stored and an applier counts it
// moments later, so a burst is acknowledged at the speed of storing.
func TestBusyServiceAnswersOnceStoredAndAppliesAfter(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	hooks := w.insts[0].hooks
	appeal := ledger.AppealScope(w.appeal.ID)

	// A delivery whose body is still arriving keeps the instance busy.
	pr, pw := io.Pipe()
	// Runs before the server's cleanup, which waits for every request to finish.
	t.Cleanup(func() { _ = pw.CloseWithError(io.ErrUnexpectedEOF) })
	slow := make(chan int, 1)
	go func() {
		resp, err := http.Post(w.insts[0].srv.URL, "application/json", pr)
		if err != nil {
			slow <- 0
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	testwait.Eventually(t, "the slow delivery in flight alone", func() bool { return hooks.InFlight() == 1 })

	d := w.donation("3.00", false, false, 0)
	if body := w.send(b.CheckoutSessionCompleted("cs_busy", "pi_busy", "cus_1", 300, "paid", meta(w, d))); !strings.Contains(body, `"queued"`) {
		t.Fatalf("delivery while busy: %s; want it answered once stored", body)
	}
	testwait.Eventually(t, "the queued gift applied (raised 3.00)", func() bool {
		return w.totals(appeal).Raised().StringFixed(2) == "3.00"
	})
	if st := w.status(d.ID); st != donations.StatusPaid {
		t.Fatalf("status %s, want paid", st)
	}

	_ = pw.CloseWithError(io.ErrUnexpectedEOF) // the slow delivery never finishes its body
	if code := <-slow; code == http.StatusOK {
		t.Fatal("a delivery with a cut-off body was accepted")
	}
	// The client gives up on the cut-off body before the server's read fails: wait until
	// the server has finished with it too, so the next delivery is truly alone.
	testwait.Eventually(t, "the cut-off delivery finished", func() bool { return hooks.InFlight() == 0 })
	d2 := w.donation("10.00", false, false, 0)
	if body := w.send(b.CheckoutSessionCompleted("cs_quiet", "pi_quiet", "cus_2", 1000, "paid", meta(w, d2))); !strings.Contains(body, `"applied"`) {
		t.Fatalf("lone delivery: %s; want it applied before the answer", body)
	}
	if got := w.totals(appeal).Raised().StringFixed(2); got != "13.00" {
		t.Fatalf("raised %s right after the lone delivery's answer, want 13.00", got)
	}
	w.noDifference()
}

func TestUnusedEventTypesGetA2xx(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	ev := bytes.Replace(b.SubscriptionUpdated("sub_1", "cus_1", 100, "active", false, payments.Meta{}),
		[]byte(`"type": "customer.subscription.updated"`), []byte(`"type": "customer.created"`), 1)
	if body := w.send(ev); !strings.Contains(body, "ignored") {
		t.Fatalf("unused type: %s", body)
	}
}

// A refund of a gift already included in a Gift Aid claim queues an adjustment for the
// next claim: 25% of the refunded amount, with a short note.
func TestRefundOfAClaimedGiftQueuesAnAdjustment(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	d := w.donation("40.00", false, true, 0)
	w.send(b.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 4000, "paid", meta(w, d)))
	ctx := context.Background()
	if _, err := w.pool().Exec(ctx, `WITH c AS (INSERT INTO gift_aid_claims (total) VALUES (10) RETURNING id)
		INSERT INTO gift_aid_claim_items (ledger_entry_id, claim_id) SELECT e.id, c.id FROM ledger_entries e, c WHERE e.kind = 'gift'`); err != nil {
		t.Fatal(err)
	}
	w.send(b.ChargeRefunded("ch_1", "pi_1", 4000, 1000, payments.Meta{}))
	var tax, note string
	if err := w.pool().QueryRow(ctx, `SELECT tax_amount::text, note FROM gift_aid_adjustments`).Scan(&tax, &note); err != nil {
		t.Fatalf("no adjustment queued: %v", err)
	}
	if tax != "2.50" || len(note) > 100 || !strings.Contains(note, "£10.00") {
		t.Fatalf("adjustment %s %q, want 2.50 with a note naming £10.00", tax, note)
	}
	// An unclaimed gift's refund needs no adjustment: it simply never gets claimed.
	d2 := w.donation("20.00", false, true, 0)
	w.send(b.CheckoutSessionCompleted("cs_2", "pi_2", "cus_2", 2000, "paid", meta(w, d2)))
	w.send(b.ChargeRefunded("ch_2", "pi_2", 2000, 2000, payments.Meta{}))
	var n int
	_ = w.pool().QueryRow(ctx, `SELECT count(*) FROM gift_aid_adjustments`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d adjustments, want 1", n)
	}
}

// A gift recorded without Gift Aid (its donation carried no declaration) can still be
// claimed, under another declaration of its donor; refunded after that claim, it queues the
// adjustment like any claimed gift.
func TestRefundOfAGiftClaimedUnderTheDonorsDeclarationQueuesAnAdjustment(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	d := w.donation("40.00", false, false, 0)
	w.send(b.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 4000, "paid", meta(w, d)))
	ctx := context.Background()
	// The claim that took it (giftaid.MakeClaim, under a "this and future" declaration the
	// donor made with another gift).
	if _, err := w.pool().Exec(ctx, `WITH c AS (INSERT INTO gift_aid_claims (total) VALUES (40) RETURNING id)
		INSERT INTO gift_aid_claim_items (ledger_entry_id, claim_id) SELECT e.id, c.id FROM ledger_entries e, c WHERE e.kind = 'gift' AND e.gift_aid_base = 0`); err != nil {
		t.Fatal(err)
	}
	w.send(b.ChargeRefunded("ch_1", "pi_1", 4000, 4000, payments.Meta{}))
	var tax string
	if err := w.pool().QueryRow(ctx, `SELECT tax_amount::text FROM gift_aid_adjustments`).Scan(&tax); err != nil || tax != "10.00" {
		t.Fatalf("adjustment %q (%v), want 10.00 for the refunded claimed gift", tax, err)
	}
}

type fakeBalance map[string]int64

func (f fakeBalance) Fee(_ context.Context, id string) (int64, error) { return f[id], nil }

// Real Stripe names the balance transaction by id: the fee is fetched and stored as a local
// event, so replay from events still rebuilds it.
func TestFeeIsFetchedWhenStripeSendsOnlyAnID(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	d := w.donation("25.00", false, false, 0)
	w.send(b.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 2500, "paid", meta(w, d)))
	ev := b.ChargeSucceeded("ch_1", "pi_1", "cus_1", 2500, 58, "", payments.Meta{})
	// Collapse the expanded balance transaction to an id, as real Stripe sends it.
	var env map[string]any
	if err := json.Unmarshal(ev, &env); err != nil {
		t.Fatal(err)
	}
	obj := env["data"].(map[string]any)["object"].(map[string]any)
	btID := obj["balance_transaction"].(map[string]any)["id"].(string)
	obj["balance_transaction"] = btID
	idOnly, _ := json.Marshal(env)
	w.insts[0].hooks.Balance = fakeBalance{btID: 58}
	w.send(idOnly)
	if got := w.totals(ledger.AppealScope(w.appeal.ID)).Fees.StringFixed(2); got != "0.58" {
		t.Fatalf("fees %s, want 0.58 fetched from the balance transaction", got)
	}
	w.send(idOnly) // a redelivery fetches again but records nothing new
	if got := w.totals(ledger.AppealScope(w.appeal.ID)).Fees.StringFixed(2); got != "0.58" {
		t.Fatalf("fees after a redelivery %s", got)
	}
	w.noDifference()
}
