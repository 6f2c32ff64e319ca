package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"giving/campaigns"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/web/webtest"
)

// sandboxPayer is what a donor types on the sandbox checkout page, as on Stripe's.
var sandboxPayer = url.Values{"email": {"sandbox-donor@example.org"}, "name": {"Sandbox Donor"}}

// receiptMail is the charity the tests' receipts name.
var receiptMail = &donations.DonorMail{Charity: donations.Charity{Name: "Freedom Trust UK", Number: "1234567",
	Address: "1 High Street, London EC1A 1AA", Email: "supporters@example.org"}}

// give fills the donate form with fields and returns the sandbox checkout's path.
func give(t *testing.T, s *site, fields map[string]string) string {
	t.Helper()
	page := s.get("/")
	f := donateForm(t, page.doc)
	for k, v := range fields {
		f.Set(k, v)
	}
	r := s.post("/donate", f)
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST /donate: %d %s", r.status, text(r.doc))
	}
	return pathOf(t, s, r.header.Get("Location"))
}

func TestSandboxCheckoutAsksForEmailAndNameOnCard(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{donorMail: receiptMail})
	checkout := give(t, s, map[string]string{"tier": "custom", "amount": "12", "frequency": "one_off"})

	page := s.get(checkout)
	if got := webtest.Attr(t, page.body, "form.sandbox-pay input#email", "type"); got != "email" {
		t.Errorf("the email field is type %q", got)
	}
	if got := webtest.Text(t, page.body, `label[for="email"]`); got != "Email" {
		t.Errorf("email label %q", got)
	}
	if got := webtest.Text(t, page.body, `label[for="name"]`); got != "Name on card" {
		t.Errorf("name label %q", got)
	}

	// A mistyped address and no name: 422, each reason beside its field, what was typed
	// kept, nothing paid.
	r := s.post(checkout+"/pay", url.Values{"email": {"grace.example.org"}, "name": {"  "}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad email: %d, want 422", r.status)
	}
	if got := webtest.Text(t, r.body, "#email-error"); !strings.Contains(got, "name@example.org") || !strings.Contains(got, "receipt") {
		t.Errorf("beside the email field: %q", got)
	}
	if got := webtest.Text(t, r.body, "#name-error"); !strings.Contains(got, "name on your card") {
		t.Errorf("beside the name field: %q", got)
	}
	if got := webtest.Attr(t, r.body, "input#email", "value"); got != "grace.example.org" {
		t.Errorf("the email typed is not kept: %q", got)
	}
	if got := webtest.Attr(t, r.body, "input#email", "aria-invalid"); got != "true" {
		t.Errorf("email field aria-invalid=%q", got)
	}
	if got := webtest.Attr(t, r.body, "input#email", "aria-describedby"); !strings.Contains(got, "email-error") {
		t.Errorf("email field is not described by its error: %q", got)
	}
	if got := s.appealTotals(); got.Raised != "0.00" {
		t.Fatalf("a refused checkout paid: %+v", got)
	}
	for _, bad := range []string{"grace@", "@example.org", "grace@example", "grace smith@example.org", "grace@@example.org"} {
		r := s.post(checkout+"/pay", url.Values{"email": {bad}, "name": {"Grace Hopper"}})
		if r.status != http.StatusUnprocessableEntity || webtest.Count(t, r.body, "#email-error") != 1 || webtest.Count(t, r.body, "#name-error") != 0 {
			t.Errorf("email %q: %d, want 422 beside the email field only", bad, r.status)
		}
	}

	// Corrected: paid as the address given, and the receipt goes there (not to one
	// sandbox address for everyone).
	r = s.post(checkout+"/pay", url.Values{"email": {" Grace@Example.org "}, "name": {"Grace Hopper"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("pay: %d %s", r.status, text(r.doc))
	}
	thanks := s.get(pathOf(t, s, r.header.Get("Location")))
	if got := webtest.Text(t, thanks.body, "#receipt-next"); !strings.Contains(got, "Your receipt is on its way to grace@example.org") {
		t.Errorf("thank-you page: %q", got)
	}
	if n := s.count(`SELECT count(*) FROM mail_outbox WHERE to_address = 'grace@example.org' AND subject LIKE 'Your receipt: £12.00%'`); n != 1 {
		t.Errorf("%d receipts to grace@example.org, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM mail_outbox WHERE to_address = 'sandbox-donor@example.org'`); n != 0 {
		t.Errorf("%d emails to the old shared sandbox address", n)
	}
	if n := s.count(`SELECT count(*) FROM donors WHERE email = 'grace@example.org' AND name = 'Grace Hopper'`); n != 1 {
		t.Errorf("no donor record for grace@example.org with the name on her card")
	}
	// Every field is checked server-side: the page works without JavaScript, and the form
	// asks the browser not to block a submission with its own checks.
	if webtest.Count(t, page.body, "form.sandbox-pay[novalidate]") != 1 {
		t.Error("the form lacks novalidate")
	}
}

func TestThanksPageSaysWhatHappensNext(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{donorMail: receiptMail})

	// A one-off gift: only the receipt is next.
	checkout := give(t, s, map[string]string{"tier": "custom", "amount": "5", "frequency": "one_off"})
	r := s.post(checkout+"/pay", url.Values{"email": {"sam@example.org"}, "name": {"Sam Smith"}})
	page := s.get(pathOf(t, s, r.header.Get("Location")))
	if got := webtest.Text(t, page.body, "#next-h"); got != "What happens next" {
		t.Errorf("heading %q", got)
	}
	if got := webtest.Text(t, page.body, "#receipt-next"); !strings.Contains(got, "Your receipt is on its way to sam@example.org") {
		t.Errorf("one-off: %q", got)
	}
	webtest.None(t, page.body, "#monthly-next")

	// £10 a month with Gift Aid: the next payment's date and the link to manage it.
	checkout = give(t, s, map[string]string{"tier": "custom", "amount": "10", "frequency": "monthly",
		"gift_aid": "1", "first_name": "Ada", "last_name": "Lovelace", "house": "12", "postcode": "sw1a1aa",
		"scope": giftaid.ScopeThisAndFuture})
	r = s.post(checkout+"/pay", url.Values{"email": {"ada@example.org"}, "name": {"Ada Lovelace"}})
	page = s.get(pathOf(t, s, r.header.Get("Location")))
	var first time.Time
	if err := s.store.Pool().QueryRow(context.Background(), `SELECT e.occurred_at FROM ledger_entries e
		JOIN donations d ON d.id = e.donation_id WHERE d.email = 'ada@example.org' AND e.kind = 'gift'`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	// The month after the first payment, on its day (the last day of a shorter month).
	lon := first.In(campaigns.London())
	next := time.Date(lon.Year(), lon.Month()+1, 1, 12, 0, 0, 0, campaigns.London())
	next = time.Date(next.Year(), next.Month(), min(lon.Day(), next.AddDate(0, 1, -1).Day()), 12, 0, 0, 0, campaigns.London())
	want := "Your next payment of £10.00 will be taken on " + next.Format("2 January 2006")
	if got := webtest.Text(t, page.body, "#monthly-next"); !strings.Contains(got, want) || !strings.Contains(got, "of each month") {
		t.Errorf("monthly: %q, want %q", got, want)
	}
	if got := webtest.Text(t, page.body, "#manage-next"); !strings.Contains(got, "cancel your monthly gift, use the link in your email") {
		t.Errorf("monthly: %q", got)
	}
	if got := webtest.Text(t, page.body, "#receipt-next"); !strings.Contains(got, "ada@example.org") {
		t.Errorf("monthly receipt line: %q", got)
	}
}
