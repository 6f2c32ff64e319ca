package payments_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/campaigns/ledger"
	"giving/payments"
)

// ddDonation is a gift the donor chose to pay by Direct Debit on the donate form.
func (w *world) ddDonation(amount string, monthly, giftAid bool) donations.Donation {
	w.t.Helper()
	n := donations.NewDonation{AppealID: w.appeal.ID, Amount: decimal.RequireFromString(amount), Monthly: monthly,
		PaymentMethod: donations.MethodBacs}
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

// processing is the trustees' processing figure for the appeal: count and amount.
func (w *world) processing() string {
	w.t.Helper()
	n, amount, err := donations.Processing(context.Background(), w.pool(), w.appeal.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return fmt.Sprintf("%d gifts, £%s", n, amount.StringFixed(2))
}

func (w *world) raised() string {
	w.t.Helper()
	return w.totals(ledger.AppealScope(w.appeal.ID)).Raised().StringFixed(2)
}

// A Bacs monthly gift is processing (not raised) once its Direct Debit is set up, raised
// when invoice.paid says the money arrived, and never raised when the bank refuses it.
func TestBacsMonthlyGiftCountsOnlyWhenCollected(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	d := w.ddDonation("10.00", true, true)
	m := meta(w, d)
	w.send(b.DirectDebitSubscriptionSession("checkout.session.completed", "cs_dd", "sub_dd", "cus_dd", 1000, m))
	if st := w.status(d.ID); st != donations.StatusProcessing {
		t.Fatalf("after checkout.session.completed (unpaid): status %s, want processing", st)
	}
	if got := w.raised(); got != "0.00" {
		t.Fatalf("a Direct Debit not yet collected counted as raised: %s", got)
	}
	if got := w.processing(); got != "1 gifts, £10.00" {
		t.Fatalf("processing %s, want 1 gifts, £10.00", got)
	}
	w.noDifference()

	w.send(b.DirectDebitSubscriptionSession("checkout.session.async_payment_succeeded", "cs_dd", "sub_dd", "cus_dd", 1000, m))
	w.send(b.InvoicePaid("in_dd_1", "sub_dd", "cus_dd", "ch_dd_1", "pi_dd_1", 1000, "subscription_create", m))
	tot := w.totals(ledger.AppealScope(w.appeal.ID))
	if tot.Raised().StringFixed(2) != "10.00" || tot.Gifts != 1 || tot.GiftAid().StringFixed(2) != "2.50" {
		t.Fatalf("after invoice.paid: raised %s from %d gifts, Gift Aid %s; want 10.00 from 1, 2.50", tot.Raised(), tot.Gifts, tot.GiftAid())
	}
	if st, p := w.status(d.ID), w.processing(); st != donations.StatusActive || p != "0 gifts, £0.00" {
		t.Fatalf("after invoice.paid: status %s, processing %s; want active, none", st, p)
	}
	w.noDifference()

	refused := w.ddDonation("25.00", true, false)
	rm := meta(w, refused)
	w.send(b.DirectDebitSubscriptionSession("checkout.session.completed", "cs_no", "sub_no", "cus_no", 2500, rm))
	if got := w.processing(); got != "1 gifts, £25.00" {
		t.Fatalf("processing %s, want 1 gifts, £25.00", got)
	}
	w.send(b.InvoicePaymentFailed("in_no_1", "sub_no", "cus_no", 2500, rm))
	w.send(b.DirectDebitSubscriptionSession("checkout.session.async_payment_failed", "cs_no", "sub_no", "cus_no", 2500, rm))
	if got, p := w.raised(), w.processing(); got != "10.00" || p != "0 gifts, £0.00" {
		t.Fatalf("after invoice.payment_failed: raised %s, processing %s; want 10.00 and none", got, p)
	}
	if st := w.status(refused.ID); st != donations.StatusFailed {
		t.Fatalf("refused Direct Debit: status %s, want failed", st)
	}
	w.noDifference()
}

// The asynchronous events of three Direct Debit gifts (one monthly collected, one monthly
// refused, one one-off collected) give the same totals, statuses and processing figure in
// any order and delivered three times over, and replay agrees each time.
func TestBacsEventsInAnyOrderThreeTimesOver(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	eb := payments.EventBuilder{Now: func() time.Time { return at }, Method: "bacs_debit"}
	orders := []string{"as sent", "reversed", "shuffled"}
	for i, order := range orders {
		t.Run(order, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, 1)
			ok, no, once := w.ddDonation("10.00", true, false), w.ddDonation("25.00", true, false), w.ddDonation("40.00", false, true)
			mo, mn, m1 := meta(w, ok), meta(w, no), meta(w, once)
			events := [][]byte{
				eb.DirectDebitSubscriptionSession("checkout.session.completed", "cs_ok", "sub_ok", "cus_ok", 1000, mo),
				eb.DirectDebitSubscriptionSession("checkout.session.async_payment_succeeded", "cs_ok", "sub_ok", "cus_ok", 1000, mo),
				eb.InvoicePaid("in_ok_1", "sub_ok", "cus_ok", "ch_ok_1", "pi_ok_1", 1000, "subscription_create", mo),
				eb.ChargeSucceeded("ch_ok_1", "pi_ok_1", "cus_ok", 1000, 30, "in_ok_1", payments.Meta{}),
				eb.DirectDebitSubscriptionSession("checkout.session.completed", "cs_no", "sub_no", "cus_no", 2500, mn),
				eb.InvoicePaymentFailed("in_no_1", "sub_no", "cus_no", 2500, mn),
				eb.DirectDebitSubscriptionSession("checkout.session.async_payment_failed", "cs_no", "sub_no", "cus_no", 2500, mn),
				eb.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 4000, "unpaid", m1),
				eb.CheckoutSessionAsync(true, "cs_1", "pi_1", "cus_1", 4000, m1),
				eb.ChargeSucceeded("ch_1", "pi_1", "cus_1", 4000, 60, "", m1),
			}
			switch i {
			case 1:
				for l, r := 0, len(events)-1; l < r; l, r = l+1, r-1 {
					events[l], events[r] = events[r], events[l]
				}
			case 2:
				rng := rand.New(rand.NewPCG(18, 2026))
				rng.Shuffle(len(events), func(a, c int) { events[a], events[c] = events[c], events[a] })
			}
			for round := range 3 {
				for _, e := range events {
					w.send(e)
				}
				w.settle()
				tot := w.totals(ledger.AppealScope(w.appeal.ID))
				if tot.Raised().StringFixed(2) != "50.00" || tot.Gifts != 2 || tot.Fees.StringFixed(2) != "0.90" || tot.GiftAid().StringFixed(2) != "10.00" {
					t.Fatalf("round %d: raised %s from %d gifts, fees %s, Gift Aid %s; want 50.00 from 2, 0.90, 10.00",
						round+1, tot.Raised(), tot.Gifts, tot.Fees, tot.GiftAid())
				}
				if p := w.processing(); p != "0 gifts, £0.00" {
					t.Fatalf("round %d: processing %s, want none", round+1, p)
				}
				for id, want := range map[string]string{ok.ID: donations.StatusActive, no.ID: donations.StatusFailed, once.ID: donations.StatusPaid} {
					if st := w.status(id); st != want {
						t.Errorf("round %d: donation %s is %s, want %s", round+1, id, st, want)
					}
				}
				w.noDifference()
			}
		})
	}
}

// A donor's bank may take a Direct Debit back years later (an indemnity claim, final): it is
// a loss at once, the monthly gift is cancelled at Stripe, the Gift Aid already claimed is
// put right, and every trustee is told which donor's bank reclaimed what, once.
func TestIndemnityClaimYearsLaterIsALoss(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, withMail(nil))
	if _, err := w.pool().Exec(context.Background(), `INSERT INTO users (email, role, password_hash) VALUES ('treasurer@example.org', 'trustee', 'x')`); err != nil {
		t.Fatal(err)
	}
	d := w.ddDonation("10.00", true, true)
	m := meta(w, d)
	then := payments.EventBuilder{Now: func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) },
		DonorEmail: "ada@example.org", DonorName: "Ada Lovelace"}
	w.send(then.DirectDebitSubscriptionSession("checkout.session.completed", "cs_dd", "sub_dd", "cus_dd", 1000, m))
	w.send(then.InvoicePaid("in_dd_1", "sub_dd", "cus_dd", "ch_dd_1", "pi_dd_1", 1000, "subscription_create", m))
	if got := w.raised(); got != "10.00" {
		t.Fatalf("raised %s, want 10.00", got)
	}
	w.noDifference()

	later := payments.EventBuilder{Now: func() time.Time { return time.Date(2029, 7, 20, 14, 0, 0, 0, time.UTC) }}
	claim := later.DisputeIndemnityClaim("dp_dd", "ch_dd_1", "pi_dd_1", 1000, 500)
	for range 3 {
		w.send(claim)
	}
	tot := w.totals(ledger.AppealScope(w.appeal.ID))
	if tot.Raised().StringFixed(2) != "0.00" || tot.Lost.StringFixed(2) != "10.00" || tot.Disputed.Sign() != 0 || tot.Fees.StringFixed(2) != "5.00" {
		t.Fatalf("after the claim: raised %s lost %s disputed %s fees %s; want 0.00, 10.00, 0.00, 5.00", tot.Raised(), tot.Lost, tot.Disputed, tot.Fees)
	}
	if st := w.status(d.ID); st != donations.StatusCancelled {
		t.Fatalf("monthly gift after an indemnity claim is %s, want cancelled", st)
	}
	var queued int
	if err := w.pool().QueryRow(context.Background(), `SELECT count(*) FROM subscription_cancels WHERE subscription_id = 'sub_dd'`).Scan(&queued); err != nil || queued != 1 {
		t.Fatalf("cancellations queued at Stripe: %d (%v), want 1", queued, err)
	}
	mails := w.mailTo("treasurer@example.org")
	if len(mails) != 1 {
		t.Fatalf("trustee told %d times, want once", len(mails))
	}
	for _, want := range []string{"Ada Lovelace (ada@example.org)", "£10.00", "2 March 2026", "20 July 2029", "cancelled"} {
		if !strings.Contains(mails[0].Body, want) {
			t.Errorf("trustee's email does not say %q:\n%s", want, mails[0].Body)
		}
	}
	w.noDifference()
}
