package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"giving/campaigns/audit"
	"giving/campaigns/donations"
)

// cli is the command line as an audit actor, for settings a test changes directly.
type cli struct{}

func (cli) AuditActor() (int64, string) { return 0, "test" }

// The donate form offers Direct Debit beside card for monthly gifts (and one-off gifts
// only when admins turn it on); the session carries exactly the chosen method, and the fee
// a donor covers is that method's.
func TestDonateByDirectDebit(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{stripe: true})
	page := s.get("/")
	if byID(page.doc, "payment_method") == nil || !strings.Contains(text(page.doc), "Direct Debit from your bank account (monthly gifts)") ||
		!strings.Contains(text(page.doc), "Direct Debit Guarantee") {
		t.Fatalf("the donate form offers no Direct Debit for monthly gifts: %q", text(page.doc))
	}

	// A one-off gift by Direct Debit is refused beside the choice, and nothing is stored.
	f := donateForm(t, page.doc)
	f.Set("tier", "custom")
	f.Set("amount", "10")
	f.Set("frequency", "one_off")
	f.Set("payment_method", "bacs_debit")
	r := s.post("/donate", f)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("one-off by Direct Debit: status %d, want 422", r.status)
	}
	if msg := byID(r.doc, "payment_method-error"); msg == nil || !strings.Contains(text(msg), "Direct Debit is for monthly gifts") ||
		!beside(msg, byID(r.doc, "payment_method")) {
		t.Fatalf("no reason beside the way to pay: %q", text(r.doc))
	}
	if checkedRadio(r.doc, "payment_method") != "bacs_debit" {
		t.Errorf("the donor's choice of Direct Debit was not kept")
	}
	if n := s.donations(); n != 0 {
		t.Fatalf("%d donations stored from a refused form", n)
	}

	// £10 a month by Direct Debit, covering the fee: Bacs's 1% + 20p makes £10.30 (card's
	// 1.5% + 20p would make £10.36).
	f = donateForm(t, s.get("/").doc)
	f.Set("tier", "custom")
	f.Set("amount", "10")
	f.Set("frequency", "monthly")
	f.Set("payment_method", "bacs_debit")
	f.Set("cover_fee", "1")
	if r := s.post("/donate", f); r.status != http.StatusSeeOther {
		t.Fatalf("monthly by Direct Debit: %d %s", r.status, text(r.doc))
	}
	seen := s.stripe.seen()
	if len(seen) != 1 {
		t.Fatalf("Stripe saw %d requests, want 1", len(seen))
	}
	if got := seen[0].Form["payment_method_types[0]"]; len(got) != 1 || got[0] != "bacs_debit" || seen[0].Form.Has("payment_method_types[1]") {
		t.Errorf("payment_method_types %v, want exactly bacs_debit", got)
	}
	if got := seen[0].Form.Get("line_items[0][price_data][unit_amount]"); got != "1030" {
		t.Errorf("unit_amount %s, want 1030 (the Bacs fee covered)", got)
	}
	if n := s.count(`SELECT count(*) FROM donations WHERE payment_method = 'bacs_debit' AND cover_fee = 0.30`); n != 1 {
		t.Errorf("%d donations remember Direct Debit and its fee, want 1", n)
	}

	// Admins turn Direct Debit on for one-off gifts: the same one-off form now goes through,
	// and turning every Direct Debit off leaves card alone on the form.
	if err := donations.SetPaymentSettings(context.Background(), s.store, cli{}, donations.PaymentSettings{DirectDebitMonthly: true, DirectDebitOneOff: true}); err != nil {
		t.Fatal(err)
	}
	f = donateForm(t, s.get("/").doc)
	f.Set("tier", "custom")
	f.Set("amount", "25")
	f.Set("frequency", "one_off")
	f.Set("payment_method", "bacs_debit")
	if r := s.post("/donate", f); r.status != http.StatusSeeOther {
		t.Fatalf("one-off by Direct Debit, once offered: %d %s", r.status, text(r.doc))
	}
	if err := donations.SetPaymentSettings(context.Background(), s.store, cli{}, donations.PaymentSettings{}); err != nil {
		t.Fatal(err)
	}
	if page := s.get("/"); byID(page.doc, "payment_method") != nil {
		t.Errorf("the form still offers Direct Debit when admins turned it off")
	}
	entries, err := audit.Log(context.Background(), s.store.Pool(), 10)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Action == "payment_methods.set" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d audited changes of the ways to pay, want 2", n)
	}
}
