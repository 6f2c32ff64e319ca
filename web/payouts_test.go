package web_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"giving/web/webtest"
)

// With `make run` (the sandbox) a trustee presses "Pay out now", sees the payout broken
// into the gifts and fees it paid out, and downloads a Xero statement that nets to zero.
func TestSandboxPayoutsPage(t *testing.T) {
	p := newPagesSite(t)
	p.give("/", "£3.00", nil)
	p.give("/", "£15.00", nil)
	trustee := p.as("trustee@example.org")

	first := p.send(trustee, http.MethodGet, "/trustees/payouts", nil)
	if first.status != http.StatusOK || !strings.Contains(webtest.Text(t, first.body, "#po-summary"), "0 payouts") {
		t.Fatalf("before any payout: %d %q", first.status, webtest.Text(t, first.body, "#po-summary"))
	}
	if got := webtest.Text(t, first.body, "#po-arrive"); !strings.Contains(got, "pays out once a day, like Stripe") {
		t.Errorf("the page says %q about how payouts arrive, want the sandbox's daily payout", got)
	}
	r := p.send(trustee, http.MethodPost, "/trustees/payouts/sandbox", nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/trustees/payouts?done=paid" {
		t.Fatalf("pay out now: %d %s", r.status, r.header.Get("Location"))
	}
	r = p.send(trustee, http.MethodGet, "/trustees/payouts", nil)
	if got := webtest.Text(t, r.body, "#po-summary"); !strings.Contains(got, "1 payout reached the bank") {
		t.Errorf("after paying out: %q", got)
	}
	breakdown := webtest.Text(t, r.body, "table.payout-breakdown")
	if !strings.Contains(breakdown, "Gifts (2 charges)") || !strings.Contains(breakdown, "£18.00") {
		t.Errorf("the breakdown reads %q, want 2 charges of £18.00", breakdown)
	}
	webtest.None(t, r.body, "#po-unmatched")
	if again := p.send(trustee, http.MethodPost, "/trustees/payouts/sandbox", nil); again.header.Get("Location") != "/trustees/payouts?done=nothing" {
		t.Errorf("paying out again with nothing new: %s", again.header.Get("Location"))
	}

	x := p.send(trustee, http.MethodGet, "/trustees/payouts/xero.csv", nil)
	if x.status != http.StatusOK || !strings.HasPrefix(x.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("xero export: %d %s", x.status, x.header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(x.body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	sum := decimal.Zero
	for _, row := range rows[1:] {
		sum = sum.Add(decimal.RequireFromString(row[1]))
	}
	if len(rows) < 4 || !sum.IsZero() {
		t.Errorf("the Xero statement has %d rows netting to %s, want the gifts, fees and payout netting to 0", len(rows), sum)
	}
	if n := p.count(`SELECT count(*) FROM audit_log WHERE action = 'export payouts for xero'`); n != 1 {
		t.Errorf("%d audit rows for the export, want 1", n)
	}
	if bad := p.send(trustee, http.MethodGet, "/trustees/payouts?month=March", nil); bad.status != http.StatusUnprocessableEntity ||
		webtest.Text(t, bad.body, "#month-error") == "" {
		t.Errorf("a month that is not a month: %d", bad.status)
	}
}

// With a Stripe key the page says payouts arrive on their own, as Stripe announces them,
// and offers no sandbox payout.
func TestStripePayoutsPageSaysPayoutsArriveOnTheirOwn(t *testing.T) {
	p := &pagesSite{newSite(t, siteOptions{stripe: true, users: []user{trusteeUser}})}
	r := p.send(p.as(trusteeUser.email), http.MethodGet, "/trustees/payouts", nil)
	if r.status != http.StatusOK {
		t.Fatalf("payouts page: %d", r.status)
	}
	if got := webtest.Text(t, r.body, "#po-arrive"); !strings.Contains(got, "Stripe tells Giving when it pays out") ||
		!strings.Contains(got, "recorded within a minute") {
		t.Errorf("the page says %q about how payouts arrive, want Stripe's announcement recorded within a minute", got)
	}
	webtest.None(t, r.body, `form[action="/trustees/payouts/sandbox"]`)
}
