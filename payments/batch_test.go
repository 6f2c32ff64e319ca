package payments_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/donations"
	"giving/campaigns/ledger"
	"giving/migrations/testdb"
	"giving/payments"
)

// newIdleWorld is a world whose instances run no appliers of their own: events queued with
// queue wait until a test applies them in batches, so what lands in one batch is known.
func newIdleWorld(t *testing.T, instances int) (*world, []*payments.Metrics) {
	t.Helper()
	w := &world{t: t, dsn: testdb.DSN(t)}
	var metrics []*payments.Metrics
	for range instances {
		pool, err := campaigns.OpenPool(context.Background(), w.dsn, campaigns.PoolOptions{MaxConns: 10})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		m := payments.NewMetrics(nil)
		store := campaigns.NewStore(pool)
		metrics = append(metrics, m)
		w.insts = append(w.insts, &instance{store: store, hooks: payments.NewWebhooks(store, []string{secret}, false, discard(), m)})
	}
	ctx := context.Background()
	if _, err := appeals.Seed(ctx, w.store(), appeals.SeedOptions{}); err != nil {
		t.Fatal(err)
	}
	var err error
	if w.appeal, err = appeals.AppealBySlug(ctx, w.store(), appeals.DefaultAppealSlug); err != nil {
		t.Fatal(err)
	}
	if err := w.pool().QueryRow(ctx, `INSERT INTO fundraisers (appeal_id, slug, title, target, status)
		VALUES ($1, 'ruby', 'Ruby runs for freedom', 500, 'approved') RETURNING id`, w.appeal.ID).Scan(&w.ruby); err != nil {
		t.Fatal(err)
	}
	return w, metrics
}

func (w *world) queue(bodies ...[]byte) {
	w.t.Helper()
	for _, p := range bodies {
		if err := payments.QueueEvent(context.Background(), w.pool(), p); err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *world) applyBatch(want int) {
	w.t.Helper()
	n, err := w.insts[0].hooks.ApplyBatch(context.Background())
	if err != nil || n != want {
		w.t.Fatalf("a batch applied %d events (%v), want %d", n, err, want)
	}
}

// A refund and a fee that Stripe delivered before their gift, queued in the same batch
// ahead of it: the gift's batch records them, once, and nothing is left waiting.
func TestBatchRefundBeforeItsGiftInOneBatch(t *testing.T) {
	t.Parallel()
	w, _ := newIdleWorld(t, 1)
	d := w.donation("25.00", false, false, w.ruby)
	w.queue(b.WithEventID("evt_refund").ChargeRefunded("ch_1", "pi_1", 2500, 500, payments.Meta{}),
		b.ChargeSucceeded("ch_1", "pi_1", "cus_1", 2500, 58, "", payments.Meta{}),
		b.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 2500, "paid", meta(w, d)))
	w.applyBatch(3)
	for _, s := range []ledger.Scope{ledger.AppealScope(w.appeal.ID), ledger.FundraiserScope(w.ruby)} {
		tot := w.totals(s)
		if tot.Raised().StringFixed(2) != "20.00" || tot.Fees.StringFixed(2) != "0.58" || tot.Gifts != 1 || tot.Donors != 1 {
			t.Fatalf("%v: raised %s fees %s gifts %d donors %d, want 20.00, 0.58, 1, 1", s, tot.Raised(), tot.Fees, tot.Gifts, tot.Donors)
		}
	}
	if outcome, _, _ := w.stored("evt_refund"); outcome != "applied" {
		t.Fatalf("the refund is %q after its gift's batch, want applied", outcome)
	}
	w.noWaiting()
	w.noDifference()
}

// The same refund in one batch and its gift in the next: it waits, then the gift's batch
// places it.
func TestBatchRefundBeforeItsGiftInTwoBatches(t *testing.T) {
	t.Parallel()
	w, _ := newIdleWorld(t, 1)
	d := w.donation("25.00", false, false, 0)
	w.queue(b.ChargeRefunded("ch_1", "pi_1", 2500, 2500, payments.Meta{}))
	w.applyBatch(1)
	if raised := w.totals(ledger.AppealScope(w.appeal.ID)).Raised(); raised.Sign() != 0 {
		t.Fatalf("a refund with no gift moved raised to %s", raised)
	}
	w.queue(b.CheckoutSessionCompleted("cs_1", "pi_1", "cus_1", 2500, "paid", meta(w, d)))
	w.applyBatch(1)
	tot := w.totals(ledger.AppealScope(w.appeal.ID))
	if tot.Raised().Sign() != 0 || tot.Gross.StringFixed(2) != "25.00" || tot.Refunded.StringFixed(2) != "25.00" {
		t.Fatalf("raised %s gross %s refunded %s, want 0.00, 25.00, 25.00", tot.Raised(), tot.Gross, tot.Refunded)
	}
	w.noWaiting()
	w.noDifference()
}

// An event that cannot be applied, in the middle of a batch, is set aside with its reason;
// every other event of the batch is applied, once.
func TestBatchPoisonSetAsideOthersApplied(t *testing.T) {
	t.Parallel()
	w, _ := newIdleWorld(t, 1)
	poison := poisonEvents(t, w)
	var bodies [][]byte
	for i := range 30 {
		d := w.donation("3.00", false, false, w.ruby)
		bodies = append(bodies, b.CheckoutSessionCompleted(fmt.Sprintf("cs_%d", i), fmt.Sprintf("pi_%d", i), fmt.Sprintf("cus_%d", i), 300, "paid", meta(w, d)))
		if i%10 == 5 {
			bodies = append(bodies, poison[i/10].body)
		}
	}
	w.queue(bodies...)
	w.applyBatch(len(bodies))
	for _, s := range []ledger.Scope{ledger.AppealScope(w.appeal.ID), ledger.FundraiserScope(w.ruby)} {
		if tot := w.totals(s); tot.Raised().StringFixed(2) != "90.00" || tot.Gifts != 30 || tot.Donors != 30 {
			t.Fatalf("%v: raised %s from %d gifts and %d donors, want 90.00 from 30 and 30", s, tot.Raised(), tot.Gifts, tot.Donors)
		}
	}
	for _, p := range poison {
		if outcome, detail, _ := w.stored(p.id); outcome != p.want || !strings.Contains(detail, p.reason) {
			t.Errorf("%s: %s %q, want %s with %q", p.name, outcome, detail, p.want, p.reason)
		}
	}
	var queued int
	_ = w.pool().QueryRow(context.Background(), `SELECT count(*) FROM stripe_events WHERE outcome = 'queued'`).Scan(&queued)
	if queued != 0 {
		t.Fatalf("%d events left queued behind the poison", queued)
	}
	w.noDifference()
}

// Two instances, two appliers each, apply the same queue in batches (of 64, so eleven of
// them meet) whose gifts, refunds and disputes fall on the same totals stripes and
// dashboard summary rows of the appeal and of Ruby's page: no batch ever meets a deadlock,
// every event is applied exactly once, and the totals are exact.
func TestTwoAppliersOnOverlappingStripesNeverDeadlock(t *testing.T) {
	t.Parallel()
	w, metrics := newIdleWorld(t, 2)
	for _, in := range w.insts {
		in.hooks.MaxBatch = 64
	}
	const gifts = 400
	var bodies [][]byte
	for i := range gifts {
		fundraiser := int64(0)
		if i%2 == 0 {
			fundraiser = w.ruby
		}
		d := w.donation("10.00", false, i%3 == 0, fundraiser)
		pi, ch := fmt.Sprintf("pi_%d", i), fmt.Sprintf("ch_%d", i)
		cus := fmt.Sprintf("cus_%d", i%50)
		switch i % 4 {
		case 1: // refunded in part, the refund first
			bodies = append(bodies, b.ChargeRefunded(ch, pi, 1000, 400, payments.Meta{}))
		case 2: // a dispute lost
			dp := fmt.Sprintf("dp_%d", i)
			bodies = append(bodies, b.DisputeCreated(dp, ch, pi, 1000), b.DisputeClosed(dp, ch, pi, 1000, false, 1500))
		}
		bodies = append(bodies, b.CheckoutSessionCompleted(fmt.Sprintf("cs_%d", i), pi, cus, 1000, "paid", meta(w, d)))
	}
	w.queue(bodies...)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for k := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.insts[k%2].hooks.Drain(context.Background()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, m := range metrics {
		if n := testutil.ToFloat64(m.Retries); n != 0 {
			t.Errorf("instance %d retried %v transactions after a deadlock", i, n)
		}
	}
	// 400 gifts of £10: 100 refunded £4, 100 lost to disputes.
	appeal, ruby := w.totals(ledger.AppealScope(w.appeal.ID)), w.totals(ledger.FundraiserScope(w.ruby))
	if appeal.Raised().StringFixed(2) != "2600.00" || appeal.Gifts != gifts || appeal.Donors != 50 || appeal.Fees.StringFixed(2) != "1500.00" {
		t.Errorf("appeal: raised %s gifts %d donors %d fees %s, want 2600.00, 400, 50, 1500.00", appeal.Raised(), appeal.Gifts, appeal.Donors, appeal.Fees)
	}
	// Ruby has the even gifts: 100 refunded £4 never (i%4 == 1 is odd), 100 lost to disputes.
	if ruby.Raised().StringFixed(2) != "1000.00" || ruby.Gifts != gifts/2 || ruby.Donors != 25 {
		t.Errorf("Ruby: raised %s gifts %d donors %d, want 1000.00, 200, 25", ruby.Raised(), ruby.Gifts, ruby.Donors)
	}
	var applied int
	_ = w.pool().QueryRow(context.Background(), `SELECT count(*) FROM stripe_events WHERE outcome = 'applied'`).Scan(&applied)
	if applied != len(bodies) {
		t.Errorf("%d of %d events applied", applied, len(bodies))
	}
	w.noWaiting()
	w.noDifference()
}

func (w *world) noWaiting() {
	w.t.Helper()
	var waiting int
	_ = w.pool().QueryRow(context.Background(), `SELECT count(*) FROM stripe_events WHERE outcome = 'deferred'`).Scan(&waiting)
	if waiting != 0 {
		w.t.Fatalf("%d events still waiting after their gift arrived", waiting)
	}
}

// Receipts written by a batch: every gift's receipt is in the outbox with one mail job
// naming it, written with the batch (the jobs gathered and inserted together at its end),
// and applying the same events again queues neither a receipt nor a job.
func TestBatchReceiptsEachHaveTheirMailJob(t *testing.T) {
	t.Parallel()
	w, _ := newIdleWorld(t, 1)
	w.insts[0].hooks.DonorMail = &donations.DonorMail{Charity: testCharity, BaseURL: "https://give.example.org"}
	var ds []donations.Donation
	gifts := func() [][]byte { // a new event id each time, as a redelivery under a new event has
		var bodies [][]byte
		for i, d := range ds {
			bodies = append(bodies, b.CheckoutSessionCompleted(fmt.Sprintf("cs_r%d", i), fmt.Sprintf("pi_r%d", i),
				fmt.Sprintf("cus_r%d", i), 1000, "paid", meta(w, d)))
		}
		return bodies
	}
	for range 5 {
		ds = append(ds, w.donation("10.00", false, false, 0))
	}
	w.queue(gifts()...)
	w.applyBatch(5)
	jobsAndMails := func() (jobs, receipts, orphans int) {
		t.Helper()
		if err := w.pool().QueryRow(context.Background(), `SELECT
			(SELECT count(*) FROM river_job WHERE kind = 'send_mail'),
			(SELECT count(*) FROM mail_outbox WHERE subject LIKE '%receipt%' OR body LIKE '%This is your receipt%'),
			(SELECT count(*) FROM river_job j WHERE j.kind = 'send_mail'
				AND NOT EXISTS (SELECT 1 FROM mail_outbox m WHERE m.id = (j.args->>'mail_id')::bigint))`).Scan(&jobs, &receipts, &orphans); err != nil {
			t.Fatal(err)
		}
		return
	}
	jobs, receipts, orphans := jobsAndMails()
	if receipts != 5 || jobs != 5 || orphans != 0 {
		t.Fatalf("after a batch of 5 gifts: %d receipts, %d mail jobs, %d jobs naming no mail; want 5, 5, 0", receipts, jobs, orphans)
	}
	w.queue(gifts()...)
	w.applyBatch(5)
	if j, r, o := jobsAndMails(); j != 5 || r != 5 || o != 0 {
		t.Fatalf("after the same gifts again: %d receipts, %d mail jobs, %d orphans; want 5, 5, 0", r, j, o)
	}
}

// A batch's emails are each donor's own, written once: Ada's two monthly payments in one
// batch have a receipt each and her declaration is confirmed once; Grace's gift, delivered
// twice under two event ids, has one receipt. Every email greets its donor by the name on
// her card as the batch leaves it, and each has its mail job.
func TestBatchWritesEachDonorsEmailsOnceByTheNameOnHerCard(t *testing.T) {
	t.Parallel()
	w, _ := newIdleWorld(t, 1)
	w.insts[0].hooks.DonorMail = &donations.DonorMail{Charity: testCharity, BaseURL: "https://give.example.org"}
	ada, grace := w.giftAidDonation("10.00", "0.00", true, w.ruby), w.giftAidDonation("40.00", "0.00", false, 0)
	april := payments.EventBuilder{DonorEmail: "ada@example.org", DonorName: "Ada Lovelace", Now: func() time.Time { return lateMarch }}
	may := payments.EventBuilder{DonorEmail: "ada@example.org", DonorName: "Ada King", Now: func() time.Time { return mayDay }}
	g := payments.EventBuilder{DonorEmail: "grace@example.org", DonorName: "Grace Hopper", Now: func() time.Time { return lateMarch }}
	w.queue(april.InvoicePaid("in_1", "sub_1", "cus_1", "ch_1", "pi_1", 1000, "subscription_create", meta(w, ada)),
		g.CheckoutSessionCompleted("cs_g", "pi_g", "cus_g", 4000, "paid", meta(w, grace)),
		may.InvoicePaid("in_2", "sub_1", "cus_1", "ch_2", "pi_2", 1000, "subscription_cycle", meta(w, ada)),
		g.CheckoutSessionCompleted("cs_g", "pi_g", "cus_g", 4000, "paid", meta(w, grace)))
	w.applyBatch(4)

	adaMail := w.mailTo("ada@example.org")
	receipts, declared := withSubject(adaMail, "Your receipt: "), withSubject(adaMail, "Your Gift Aid declaration to ")
	if len(adaMail) != 3 || len(receipts) != 2 || len(declared) != 1 {
		t.Fatalf("%d emails to Ada (%d receipts, %d declaration confirmations), want a receipt for each payment and one confirmation: %+v",
			len(adaMail), len(receipts), len(declared), adaMail)
	}
	reads(t, receipts[0], []string{"Dear Ada King,", "  Reference:        in_1\n", "reached us on 1 April 2026"})
	reads(t, receipts[1], []string{"Dear Ada King,", "  Reference:        in_2\n", "reached us on 1 May 2026"})
	graceMail := w.mailTo("grace@example.org")
	if len(graceMail) != 2 || len(withSubject(graceMail, "Your receipt: £40.00")) != 1 {
		t.Fatalf("%d emails to Grace, want one receipt and one declaration confirmation: %+v", len(graceMail), graceMail)
	}
	for _, m := range graceMail {
		reads(t, m, []string{"Dear Grace Hopper,"}, "Ada")
	}
	var mails, jobs, orphans int
	if err := w.pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM mail_outbox),
		(SELECT count(*) FROM river_job WHERE kind = 'send_mail'),
		(SELECT count(*) FROM river_job j WHERE j.kind = 'send_mail'
			AND NOT EXISTS (SELECT 1 FROM mail_outbox m WHERE m.id = (j.args->>'mail_id')::bigint))`).Scan(&mails, &jobs, &orphans); err != nil {
		t.Fatal(err)
	}
	if mails != 5 || jobs != 5 || orphans != 0 {
		t.Errorf("%d emails, %d mail jobs, %d jobs naming no email; want 5, 5, 0", mails, jobs, orphans)
	}
}

// A batch applies its plain paid checkouts together and every other event one by one,
// beside them, and the result is what applying each on its own gives: the gifts of
// donations made here, a gift delivered again (in the batch, or after an earlier batch),
// a gift with its own partial refund waiting in the batch, and money for a donation this
// service never made.
func TestBatchPaidCheckoutsTogetherBesideTheRest(t *testing.T) {
	t.Parallel()
	w, _ := newIdleWorld(t, 1)
	w.insts[0].hooks.DonorMail = &donations.DonorMail{Charity: testCharity, BaseURL: "https://give.example.org"}
	d1, d2 := w.donation("10.00", false, true, w.ruby), w.donation("25.00", false, false, 0)
	d3, d4, d5 := w.donation("5.00", false, false, 0), w.donation("7.00", false, false, 0), w.donation("3.00", false, false, 0)
	paid := func(id string, d donations.Donation, pence int64) []byte {
		return b.WithEventID(id).CheckoutSessionCompleted("cs_"+id, "pi_"+id[4:5], "cus_"+id, pence, "paid", meta(w, d))
	}
	w.queue(paid("evt_5", d5, 300))
	w.applyBatch(1)
	stranger := payments.Meta{DonationID: "0b9c3a5e-7a4e-4d1b-9a43-5d0c1f7e2b6a", Campaign: w.appeal.Slug}
	w.queue(paid("evt_1", d1, 1000), paid("evt_2", d2, 2500),
		b.WithEventID("evt_3r").ChargeRefunded("ch_3", "pi_3", 500, 200, payments.Meta{}), paid("evt_3", d3, 500),
		paid("evt_4a", d4, 700), paid("evt_4b", d4, 700),
		b.WithEventID("evt_9").CheckoutSessionCompleted("cs_9", "pi_9", "cus_9", 400, "paid", stranger),
		b.WithEventID("evt_5again").CheckoutSessionCompleted("cs_evt_5", "pi_5", "cus_evt_5", 300, "paid", meta(w, d5)))
	w.applyBatch(8)

	for id, want := range map[string]string{"evt_1": "applied", "evt_2": "applied", "evt_3": "applied", "evt_3r": "applied",
		"evt_4a": "applied", "evt_4b": "applied", "evt_9": "unmatched", "evt_5again": "applied"} {
		if got, detail, _ := w.stored(id); got != want {
			t.Errorf("%s is %q (%s), want %q", id, got, detail, want)
		}
	}
	for _, d := range []donations.Donation{d1, d2, d3, d4, d5} {
		if s := w.status(d.ID); s != donations.StatusPaid {
			t.Errorf("donation of £%s is %q, want paid", d.Amount, s)
		}
	}
	appeal, ruby := w.totals(ledger.AppealScope(w.appeal.ID)), w.totals(ledger.FundraiserScope(w.ruby))
	if appeal.Raised().StringFixed(2) != "52.00" || appeal.Gifts != 6 || appeal.GiftAidBase.StringFixed(2) != "10.00" {
		t.Errorf("appeal: raised £%s in %d gifts, Gift Aid base £%s; want £52.00 (£54 given, £2 refunded), 6, £10.00",
			appeal.Raised().StringFixed(2), appeal.Gifts, appeal.GiftAidBase.StringFixed(2))
	}
	if ruby.Raised().StringFixed(2) != "10.00" || ruby.Gifts != 1 {
		t.Errorf("Ruby's page: raised £%s in %d gifts, want £10.00 in 1", ruby.Raised().StringFixed(2), ruby.Gifts)
	}
	var receipts int
	if err := w.pool().QueryRow(context.Background(), `SELECT count(*) FROM mail_outbox WHERE subject LIKE 'Your receipt:%'`).Scan(&receipts); err != nil {
		t.Fatal(err)
	}
	if receipts != 6 { // the stranger's gift came with the builder's address, as Stripe sends it
		t.Errorf("%d receipts, want one for each of the 6 gifts", receipts)
	}
	w.noWaiting()
	w.noDifference()
}
