package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"giving/campaigns/appeals"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/web/webtest"
)

// declare gives the manage site's donor a Gift Aid declaration "this and future", made
// with a one-off gift from the same address.
func (m *manageSite) declare() {
	m.t.Helper()
	ctx := context.Background()
	a, err := appeals.AppealBySlug(ctx, m.store, appeals.DefaultAppealSlug)
	if err != nil {
		m.t.Fatal(err)
	}
	if _, err := donations.Create(ctx, m.store, donations.NewDonation{AppealID: a.ID, Amount: decimal.RequireFromString("10.00"), Email: "ada@example.org",
		Declaration: &giftaid.Declaration{FirstName: "Ada", LastName: "Lovelace", House: "12", Postcode: "N1 9GU", Scope: giftaid.ScopeThisAndFuture,
			WordingVersion: giftaid.GiftAidWordingVersion, Wording: giftaid.Wording("Freedom Trust UK", giftaid.ScopeThisAndFuture)}}); err != nil {
		m.t.Fatal(err)
	}
}

// The donor cancels her Gift Aid declaration from her manage page: it is kept, cancelled
// from now, audited, and she is emailed; the button is then gone, and a second post says
// there was nothing to cancel.
func TestDonorCancelsGiftAidFromManagePage(t *testing.T) {
	t.Parallel()
	m := newManageSite(t)
	link := m.link(time.Now())
	webtest.None(t, m.get(link).body, "#giftaid-h")
	m.declare()
	p := m.get(link)
	if got := webtest.Text(t, p.body, `form[action$="/giftaid/cancel"] button`); got != "Cancel my Gift Aid declaration" {
		t.Fatalf("manage page's Gift Aid button: %q", got)
	}
	done := m.post(link+"/giftaid/cancel", url.Values{})
	if done.status != http.StatusSeeOther {
		t.Fatalf("cancel: %d %s", done.status, done.body)
	}
	after := m.get(done.header.Get("Location"))
	if got := webtest.Text(t, after.body, "#giftaid-cancelled"); !strings.Contains(got, "Your Gift Aid declaration is cancelled from today") {
		t.Fatalf("notice after cancelling: %q", got)
	}
	webtest.None(t, after.body, "#giftaid-h")
	if n := m.count(`SELECT count(*) FROM gift_aid_declarations WHERE cancelled_at IS NOT NULL AND cancel_reason = 'asked by the donor'`); n != 1 {
		t.Errorf("%d declarations kept as cancelled by the donor, want 1", n)
	}
	if n := m.count(`SELECT count(*) FROM audit_log WHERE action = 'gift aid declaration cancelled' AND actor_email = 'donor (manage link)'`); n != 1 {
		t.Errorf("%d audit rows, want 1", n)
	}
	if n := m.count(`SELECT count(*) FROM mail_outbox WHERE to_address = 'ada@example.org' AND subject = 'Your Gift Aid declaration is cancelled'
		AND body LIKE '%As you asked, we have cancelled your Gift Aid declaration%'`); n != 1 {
		t.Errorf("%d confirmation emails, want 1", n)
	}
	if again := m.post(link+"/giftaid/cancel", url.Values{}); again.status != http.StatusConflict ||
		!strings.Contains(webtest.Text(t, again.body, ".error-summary"), "nothing to cancel") {
		t.Errorf("a second cancellation: %d", again.status)
	}
}

// An admin finds a donor's declarations by her address (posted, never in the URL) and
// cancels them from a date with a reason; without a reason, or with a date that is not one,
// the form says so beside the field.
func TestAdminCancelsGiftAidFromADate(t *testing.T) {
	t.Parallel()
	m := newManageSite(t)
	m.declare()
	admin := m.browser()
	if p := m.send(admin, http.MethodPost, "/login", url.Values{"email": {adminUser.email}, "password": {testPassword}}); p.status != http.StatusSeeOther {
		t.Fatalf("log in: %d", p.status)
	}
	found := m.send(admin, http.MethodPost, "/admin/giftaid", url.Values{"giftaid_email": {"Ada@example.org"}})
	if found.status != http.StatusOK || !strings.Contains(webtest.Text(t, found.body, "#giftaid-declarations"), "that gift and every later one") {
		t.Fatalf("find: %d", found.status)
	}
	form := url.Values{"giftaid_email": {"ada@example.org"}, "from": {"2026-03-01"}, "reason": {""}}
	if bad := m.send(admin, http.MethodPost, "/admin/giftaid/cancel", form); bad.status != http.StatusUnprocessableEntity ||
		webtest.Attr(t, bad.body, "#giftaid_reason", "aria-invalid") != "true" {
		t.Fatalf("no reason: %d", bad.status)
	}
	form.Set("reason", "Wrote to say she no longer pays UK tax")
	form.Set("from", "1st March")
	if bad := m.send(admin, http.MethodPost, "/admin/giftaid/cancel", form); bad.status != http.StatusUnprocessableEntity ||
		webtest.Attr(t, bad.body, "#giftaid_from", "aria-invalid") != "true" {
		t.Fatalf("a date that is not one: %d", bad.status)
	}
	form.Set("from", "2026-03-01")
	if ok := m.send(admin, http.MethodPost, "/admin/giftaid/cancel", form); ok.status != http.StatusSeeOther || strings.Contains(ok.header.Get("Location"), "ada") {
		t.Fatalf("cancel: %d %s", ok.status, ok.header.Get("Location"))
	}
	if n := m.count(`SELECT count(*) FROM gift_aid_declarations WHERE cancelled_at = '2026-03-01 00:00:00+00' AND cancelled_by = $1`, adminUser.email); n != 1 {
		t.Errorf("%d declarations cancelled from 1 March by the admin, want 1", n)
	}
	if n := m.count(`SELECT count(*) FROM audit_log WHERE action = 'gift aid declaration cancelled' AND actor_email = $1
		AND detail LIKE '%no longer pays UK tax%'`, adminUser.email); n != 1 {
		t.Errorf("%d audit rows, want 1", n)
	}
	if n := m.count(`SELECT count(*) FROM mail_outbox WHERE to_address = 'ada@example.org' AND subject = 'Your Gift Aid declaration is cancelled'
		AND body LIKE '%We have cancelled your Gift Aid declaration to % from 1 March 2026%'`); n != 1 {
		t.Errorf("%d confirmation emails, want 1", n)
	}
}
