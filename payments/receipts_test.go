package payments_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/payments"
)

// The charity every test receipt names.
var testCharity = donations.Charity{Name: "Freedom Trust UK", Number: "1234567",
	Address: "1 High Street, London EC1A 1AA", Email: "supporters@example.org"}

// withMail gives the webhook handler a DonorMail; manage, if set, is its ManageLink.
func withMail(manage donations.ManageLinkFunc) func(*payments.Webhooks) {
	return func(h *payments.Webhooks) {
		h.DonorMail = &donations.DonorMail{Charity: testCharity, BaseURL: "https://give.example.org", ManageLink: manage}
	}
}

// manageLink stands in for the manage pages' signed link.
func manageLink(_ context.Context, _ pgx.Tx, donationID string) (string, error) {
	return "https://give.example.org/manage/token-for-" + donationID[:8], nil
}

type sentMail struct{ To, Subject, Body string }

// mailTo is every email queued to addr, oldest first.
func (w *world) mailTo(addr string) []sentMail {
	w.t.Helper()
	rows, err := w.pool().Query(context.Background(), `SELECT to_address, subject, body FROM mail_outbox WHERE to_address = $1 ORDER BY id`, addr)
	if err != nil {
		w.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sentMail, error) {
		var m sentMail
		return m, r.Scan(&m.To, &m.Subject, &m.Body)
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

// withSubject keeps the emails whose subject starts with prefix.
func withSubject(ms []sentMail, prefix string) []sentMail {
	var out []sentMail
	for _, m := range ms {
		if strings.HasPrefix(m.Subject, prefix) {
			out = append(out, m)
		}
	}
	return out
}

// reads checks that an email says each of want, as a donor would read it, and none of
// never.
func reads(t *testing.T, m sentMail, want []string, never ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(m.Body, s) {
			t.Errorf("%q lacks %q:\n%s", m.Subject, s, m.Body)
		}
	}
	for _, s := range append(never, "sorry to see you go", "Sorry to see you go") {
		if strings.Contains(m.Body, s) || strings.Contains(m.Subject, s) {
			t.Errorf("%q says %q:\n%s", m.Subject, s, m.Body)
		}
	}
}

// giftAidDonation is a donation with the declaration the donate form stores.
func (w *world) giftAidDonation(amount, coverFee string, monthly bool, fundraiser int64) donations.Donation {
	w.t.Helper()
	d, err := donations.Create(context.Background(), w.store(), donations.NewDonation{AppealID: w.appeal.ID, FundraiserID: fundraiser,
		Amount: decimal.RequireFromString(amount), CoverFee: decimal.RequireFromString(coverFee), Monthly: monthly,
		Declaration: &giftaid.Declaration{FirstName: "Ada", LastName: "Lovelace", House: "12", Postcode: "SW1A 1AA",
			Scope: giftaid.ScopeThisAndFuture, WordingVersion: giftaid.GiftAidWordingVersion,
			Wording: giftaid.Wording("Freedom Trust UK", giftaid.ScopeThisAndFuture)}})
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

// At 23:30 UTC on 31 March 2026 it is already 1 April in London (BST); May's payment is
// due on 1 May.
var (
	lateMarch = time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC)
	mayDay    = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
)

func TestMonthlyReceiptOncePerPaymentThoughDeliveredThreeTimesAndReplayed(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, withMail(manageLink))
	d := w.giftAidDonation("10.00", "0.00", true, w.ruby)
	m := meta(w, d)
	ada := payments.EventBuilder{DonorEmail: "ada@example.org", DonorName: "Ada Lovelace", Now: func() time.Time { return lateMarch }}

	// invoice.paid before the session, the same event three times, then the session twice.
	paid := ada.WithEventID("evt_paid_1").InvoicePaid("in_1", "sub_1", "cus_1", "ch_1", "pi_1", 1000, "subscription_create", m)
	for range 3 {
		w.send(paid)
	}
	w.send(ada.InvoicePaid("in_1", "sub_1", "cus_1", "ch_1", "pi_1", 1000, "subscription_create", m)) // new event id, same invoice
	w.send(ada.CheckoutSubscriptionCompleted("cs_1", "sub_1", "cus_1", 1000, m))
	w.send(ada.CheckoutSubscriptionCompleted("cs_1", "sub_1", "cus_1", 1000, m))
	w.noDifference() // replay rebuilds the ledger from every stored event: it must write to nobody

	mail := w.mailTo("ada@example.org")
	receipts, setUp, declared := withSubject(mail, "Your receipt: "), withSubject(mail, "Your monthly gift of £10.00"), withSubject(mail, "Your Gift Aid declaration to ")
	if len(mail) != 3 || len(receipts) != 1 || len(setUp) != 1 || len(declared) != 1 {
		t.Fatalf("%d emails to Ada (%d receipts, %d set-up confirmations, %d declaration confirmations), want one of each: %+v", len(mail), len(receipts), len(setUp), len(declared), mail)
	}
	reads(t, declared[0], []string{"To cancel your declaration, reply to this email saying \"cancel my Gift Aid declaration\"",
		"You can also cancel it from the link that manages your monthly gift."})
	r := receipts[0]
	t.Logf("%s\n\n%s", r.Subject, r.Body)
	if r.Subject != "Your receipt: £10.00 monthly gift to Fundraising for Freedom, 1 April 2026" {
		t.Errorf("receipt subject %q", r.Subject)
	}
	reads(t, r, []string{
		"Dear Ada Lovelace,",
		"Your monthly gift of £10.00 to Fundraising for Freedom reached us on 1 April 2026.",
		"  Amount:           £10.00\n",
		"  Date:             1 April 2026\n",
		"  Fundraiser page:  Ruby runs for freedom (https://give.example.org/f/ruby)\n",
		"  Frequency:        Monthly\n",
		"  Gift Aid:         Yes. Thanks to your declaration we can claim £2.50 more from HMRC on this gift",
		"  Reference:        in_1\n",
		"The Gift Aid declaration you made on",
		"To change the amount, pause or cancel your monthly gift, or to update your card, use your own link",
		"https://give.example.org/manage/token-for-" + d.ID[:8],
		"Freedom Trust UK, registered charity number 1234567\n1 High Street, London EC1A 1AA\nsupporters@example.org\n",
	})
	// The declaration is quoted word for word, only re-wrapped.
	if got := strings.Join(strings.Fields(r.Body), " "); !strings.Contains(got, giftaid.Wording("Freedom Trust UK", giftaid.ScopeThisAndFuture)) {
		t.Error("the receipt does not quote the whole declaration the donor agreed to")
	}

	s := setUp[0]
	t.Logf("%s\n\n%s", s.Subject, s.Body)
	reads(t, s, []string{
		"Thank you for choosing to give £10.00 every month to Fundraising for Freedom through the fundraiser page \"Ruby runs for freedom\".",
		"  Amount:           £10.00 each month\n",
		"  Taken on:         the 1st of each month\n",
		"  First payment:    1 April 2026\n",
		"  Next payment:     1 May 2026\n",
		"You will get a receipt by email for every payment",
		"You can change the amount, pause or cancel at any time",
		"https://give.example.org/manage/token-for-" + d.ID[:8],
	})

	// Next month's payment is a new money fact: a receipt of its own, once.
	may := payments.EventBuilder{DonorEmail: "ada@example.org", DonorName: "Ada Lovelace", Now: func() time.Time { return mayDay }}
	w.send(may.InvoicePaid("in_2", "sub_1", "cus_1", "ch_2", "pi_2", 1000, "subscription_cycle", m))
	w.send(may.InvoicePaid("in_2", "sub_1", "cus_1", "ch_2", "pi_2", 1000, "subscription_cycle", m))
	w.noDifference()
	receipts = withSubject(w.mailTo("ada@example.org"), "Your receipt: ")
	if len(receipts) != 2 || !strings.Contains(receipts[1].Subject, "1 May 2026") || !strings.Contains(receipts[1].Body, "  Reference:        in_2\n") {
		t.Fatalf("after May's payment: %+v", receipts)
	}
	if n := len(withSubject(w.mailTo("ada@example.org"), "Your Gift Aid declaration to ")); n != 1 {
		t.Errorf("after May's payment %d declaration confirmations, want still 1", n)
	}
}

func TestOneOffReceiptSaysWhatWasGivenAndWhere(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, withMail(nil))
	d := w.giftAidDonation("40.00", "0.80", false, w.ruby)
	grace := payments.EventBuilder{DonorEmail: "Grace@Example.org", DonorName: "Grace Hopper", Now: func() time.Time { return lateMarch }}
	ev := grace.CheckoutSessionCompleted("cs_g", "pi_g", "cus_g", 4080, "paid", meta(w, d))
	w.send(ev)
	w.send(ev)
	w.send(grace.CheckoutSessionCompleted("cs_g", "pi_g", "cus_g", 4080, "paid", meta(w, d)))
	w.noDifference()

	all := w.mailTo("Grace@Example.org")
	mail := withSubject(all, "Your receipt")
	if len(mail) != 1 || len(all) != 2 {
		t.Fatalf("%d emails to Grace, want one receipt and one Gift Aid confirmation: %+v", len(all), all)
	}
	r := mail[0]
	// Her declaration is confirmed once, however often the payment is reported.
	decl := withSubject(all, "Your Gift Aid declaration to Freedom Trust UK")
	if len(decl) != 1 {
		t.Fatalf("%d declaration confirmations, want 1", len(decl))
	}
	t.Logf("%s\n\n%s", decl[0].Subject, decl[0].Body)
	reads(t, decl[0], []string{
		"Dear Grace Hopper,",
		"This confirms the Gift Aid declaration you made to Freedom Trust UK on ",
		"It covers your gift of £40.00 and every gift you make to us from ",
		"For every £1 it covers, we can claim 25p from HMRC, at no cost to you.",
		"  I want to Gift Aid this donation and any donations I make in the future\n  to Freedom Trust UK.",
		"To cancel your declaration, reply to this email saying \"cancel my Gift Aid declaration\" (or write to us at supporters@example.org)",
		"Please tell us too if you change your name or home address",
		"registered charity number 1234567",
	}, "monthly")
	t.Logf("%s\n\n%s", r.Subject, r.Body)
	if r.Subject != "Your receipt: £40.80 to Fundraising for Freedom" {
		t.Errorf("subject %q", r.Subject)
	}
	reads(t, r, []string{
		"Dear Grace Hopper,",
		"Thank you. Your gift of £40.80 to Fundraising for Freedom reached us on 1 April 2026.",
		"This is your receipt.",
		"  Amount:           £40.80 (your £40.00 gift, and £0.80 you added to cover the card fee)\n",
		"  Appeal:           Fundraising for Freedom\n",
		"  Fundraiser page:  Ruby runs for freedom (https://give.example.org/f/ruby)\n",
		"  Frequency:        One-off\n",
		"  Gift Aid:         Yes. Thanks to your declaration we can claim £10.20 more from HMRC",
		"  I want to Gift Aid this donation and any donations I make in the future\n  to Freedom Trust UK.",
		"Everyone at Freedom Trust UK",
		"registered charity number 1234567",
	}, "monthly", "manage")

	// Without Gift Aid, to the appeal itself: said plainly, with no page line.
	plain := w.donation("3.00", false, false, 0)
	sam := payments.EventBuilder{DonorEmail: "sam@example.org", DonorName: "Sam Smith", Now: func() time.Time { return lateMarch }}
	w.send(sam.CheckoutSessionCompleted("cs_s", "pi_s", "cus_s", 300, "paid", meta(w, plain)))
	mail = w.mailTo("sam@example.org")
	if len(mail) != 1 {
		t.Fatalf("%d emails to Sam", len(mail))
	}
	t.Logf("%s\n\n%s", mail[0].Subject, mail[0].Body)
	reads(t, mail[0], []string{"  Gift Aid:         Not claimed on this gift.\n", "  Amount:           £3.00\n"}, "Fundraiser page", "declaration")
}

// cancelledFor rewrites a customer.subscription.deleted event's cancellation reason, as
// Stripe sends it when it gives up on a card ("payment_failed").
func cancelledFor(t *testing.T, ev []byte, reason string) []byte {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(ev, &e); err != nil {
		t.Fatal(err)
	}
	e["data"].(map[string]any)["object"].(map[string]any)["cancellation_details"] = map[string]any{"comment": nil, "feedback": nil, "reason": reason}
	out, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFailedPaymentAndTheEndOfTheGiftAreEachWrittenOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, withMail(manageLink))
	d := w.donation("10.00", true, false, 0)
	m := meta(w, d)
	ada := payments.EventBuilder{DonorEmail: "ada@example.org", DonorName: "Ada Lovelace", Now: func() time.Time { return lateMarch }}
	w.send(ada.CheckoutSubscriptionCompleted("cs_1", "sub_1", "cus_1", 1000, m))
	w.send(ada.InvoicePaid("in_1", "sub_1", "cus_1", "ch_1", "pi_1", 1000, "subscription_create", m))
	before := len(w.mailTo("ada@example.org"))

	// May's payment fails; Stripe tells us after each of its tries.
	may := payments.EventBuilder{DonorEmail: "ada@example.org", DonorName: "Ada Lovelace", Now: func() time.Time { return mayDay }}
	failed := may.InvoicePaymentFailed("in_2", "sub_1", "cus_1", 1000, m)
	w.send(failed)
	w.send(failed)
	w.send(may.InvoicePaymentFailed("in_2", "sub_1", "cus_1", 1000, m))
	w.noDifference()
	fails := withSubject(w.mailTo("ada@example.org"), "Your monthly gift to Fundraising for Freedom: this month's payment did not go through")
	if len(fails) != 1 || len(w.mailTo("ada@example.org")) != before+1 {
		t.Fatalf("%d failed-payment emails, want 1: %+v", len(fails), w.mailTo("ada@example.org"))
	}
	f := fails[0]
	t.Logf("%s\n\n%s", f.Subject, f.Body)
	reads(t, f, []string{
		"We tried to take this month's £10.00 for your monthly gift to Fundraising for Freedom on 1 May 2026, but the payment did not go through. No money was taken.",
		"our payment provider, Stripe, will try again on 4 May 2026.",
		"If your card has changed, please update it so that the next try goes through. To update your card (or to change or cancel your monthly gift), use your own link",
		"https://give.example.org/manage/token-for-" + d.ID[:8],
	})

	// Stripe gives up: the gift ends for non-payment, and Ada is told once.
	gaveUp := cancelledFor(t, may.SubscriptionDeleted("sub_1", "cus_1", 1000, m), "payment_failed")
	w.send(gaveUp)
	w.send(gaveUp)
	w.noDifference()
	ended := withSubject(w.mailTo("ada@example.org"), "Your monthly gift to Fundraising for Freedom has ended")
	if len(ended) != 1 {
		t.Fatalf("%d emails about the end, want 1", len(ended))
	}
	e := ended[0]
	t.Logf("%s\n\n%s", e.Subject, e.Body)
	reads(t, e, []string{
		"tried several times to take the payment for your monthly gift of £10.00",
		"so on 1 May 2026 it ended the gift. Nothing more will be taken from your card.",
		"Thank you for the £10.00 you gave.",
		"you are welcome to set up your monthly gift again at any time at https://give.example.org/.",
	})
	if st := w.status(d.ID); st != donations.StatusCancelled {
		t.Errorf("status %s", st)
	}

	// A first payment refused at checkout: the donor saw it there, and nothing was set up.
	refused := w.donation("20.00", true, false, 0)
	cy := payments.EventBuilder{DonorEmail: "cy@example.org", Now: func() time.Time { return lateMarch }}
	first := cy.InvoicePaymentFailed("in_c1", "sub_3", "cus_3", 2000, meta(w, refused))
	var inv map[string]any
	if err := json.Unmarshal(first, &inv); err != nil {
		t.Fatal(err)
	}
	inv["data"].(map[string]any)["object"].(map[string]any)["billing_reason"] = "subscription_create"
	first, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	w.send(first)
	if n := len(w.mailTo("cy@example.org")); n != 0 {
		t.Errorf("%d emails about a first payment refused at checkout", n)
	}

	// A gift the donor cancelled herself gets no "ended for non-payment" note (the manage
	// pages confirm her own cancellation), and a later failure of an ended gift is silent.
	other := w.donation("5.00", true, false, 0)
	om := meta(w, other)
	bo := payments.EventBuilder{DonorEmail: "bo@example.org", Now: func() time.Time { return lateMarch }}
	w.send(bo.CheckoutSubscriptionCompleted("cs_2", "sub_2", "cus_2", 500, om))
	w.send(bo.InvoicePaid("in_b1", "sub_2", "cus_2", "ch_b1", "pi_b1", 500, "subscription_create", om))
	later := payments.EventBuilder{DonorEmail: "bo@example.org", Now: func() time.Time { return lateMarch.Add(time.Hour) }}
	w.send(later.SubscriptionDeleted("sub_2", "cus_2", 500, om))
	w.send(later.InvoicePaymentFailed("in_b2", "sub_2", "cus_2", 500, om))
	for _, mm := range w.mailTo("bo@example.org") {
		if !strings.HasPrefix(mm.Subject, "Your receipt: ") && !strings.HasPrefix(mm.Subject, "Your monthly gift of £5.00") {
			t.Errorf("Bo, who cancelled, was sent %q", mm.Subject)
		}
	}
}

func TestEmailsWithoutAManageLinkPointToTheCharity(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, withMail(nil))
	d := w.donation("10.00", true, false, 0)
	m := meta(w, d)
	ada := payments.EventBuilder{DonorEmail: "ada@example.org"}
	w.send(ada.CheckoutSubscriptionCompleted("cs_1", "sub_1", "cus_1", 1000, m))
	w.send(ada.InvoicePaid("in_1", "sub_1", "cus_1", "ch_1", "pi_1", 1000, "subscription_create", m))
	mail := w.mailTo("ada@example.org")
	if len(mail) != 2 {
		t.Fatalf("%d emails", len(mail))
	}
	for _, mm := range mail {
		reads(t, mm, []string{"reply to this email or write to us at supporters@example.org and we will sort it out for you."}, "/manage/")
	}
	// No DonorMail (replay's handler, or a command without the charity's details): no email.
	quiet := newWorld(t, 1)
	q := quiet.donation("3.00", false, false, 0)
	quiet.send(ada.CheckoutSessionCompleted("cs_q", "pi_q", "cus_q", 300, "paid", meta(quiet, q)))
	if n := len(quiet.mailTo("ada@example.org")); n != 0 {
		t.Errorf("%d emails with no DonorMail", n)
	}
}

// A later gift with no declaration of its own is still covered by her "future"
// declaration, and its receipt says so; her declaration is confirmed only once.
func TestReceiptCountsTheDonorsOwnEarlierDeclaration(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, withMail(nil))
	first := w.giftAidDonation("40.00", "0.00", false, 0)
	now := time.Now()
	grace := payments.EventBuilder{DonorEmail: "grace@example.org", DonorName: "Grace Hopper", Now: func() time.Time { return now.Add(time.Hour) }}
	w.send(grace.CheckoutSessionCompleted("cs_g1", "pi_g1", "cus_g", 4000, "paid", meta(w, first)))
	second := w.donation("20.00", false, false, 0)
	w.send(grace.CheckoutSessionCompleted("cs_g2", "pi_g2", "cus_g", 2000, "paid", meta(w, second)))
	w.noDifference()

	all := w.mailTo("grace@example.org")
	receipts := withSubject(all, "Your receipt: £20.00")
	if len(receipts) != 1 {
		t.Fatalf("%d receipts for the second gift among %+v", len(receipts), all)
	}
	reads(t, receipts[0], []string{"  Gift Aid:         Yes. Thanks to your declaration we can claim £5.00 more from HMRC on this gift"}, "Not claimed")
	if n := len(withSubject(all, "Your Gift Aid declaration")); n != 1 {
		t.Errorf("%d declaration confirmations, want 1", n)
	}
}
