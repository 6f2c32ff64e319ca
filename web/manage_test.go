package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/shopspring/decimal"

	"giving/campaigns/appeals"
	"giving/campaigns/donations"
	"giving/payments"
	"giving/web/webtest"
)

// manageSite is the sandbox site with one running £10 monthly gift from ada@example.org.
type manageSite struct {
	*site
	gift donations.Donation
}

// clock, when given, is the site's time.
func newManageSite(t *testing.T, clock ...func() time.Time) *manageSite {
	t.Helper()
	opt := siteOptions{users: []user{adminUser}}
	if len(clock) > 0 {
		opt.clock = clock[0]
	}
	s := newSite(t, opt)
	ctx := context.Background()
	a, err := appeals.AppealBySlug(ctx, s.store, appeals.DefaultAppealSlug)
	if err != nil {
		t.Fatal(err)
	}
	d, err := donations.Create(ctx, s.store, donations.NewDonation{AppealID: a.ID, Amount: decimal.RequireFromString("10.00"), Monthly: true})
	if err != nil {
		t.Fatal(err)
	}
	err = s.store.InTx(ctx, func(tx pgx.Tx) error {
		_, err := donations.UpdateDonation(ctx, tx, d.ID, donations.Link{SubscriptionID: "sub_web", CustomerID: "cus_web", Email: "ada@example.org"},
			donations.StatusActive, time.Now().Add(-time.Hour))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return &manageSite{site: s, gift: d}
}

// link is a manage link made at made.
func (m *manageSite) link(made time.Time) string {
	m.t.Helper()
	var link string
	err := m.store.InTx(context.Background(), func(tx pgx.Tx) error {
		var err error
		link, err = donations.NewManageLink(context.Background(), tx, made, m.URL, m.gift.ID)
		return err
	})
	if err != nil {
		m.t.Fatal(err)
	}
	return strings.TrimPrefix(link, m.URL)
}

// work makes the waiting change at the sandbox, which answers with Stripe's event to
// the site's own webhook, as the River worker does.
func (m *manageSite) work() {
	m.t.Helper()
	base, _ := url.Parse(m.URL)
	sb, err := payments.NewSandbox(m.store, "", base, m.URL+"/webhooks/stripe", webhookSecret, payments.DefaultFees)
	if err != nil {
		m.t.Fatal(err)
	}
	w := &payments.ManageWorker{Store: m.store, Manager: sb, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var id int64
	if err := m.store.Pool().QueryRow(context.Background(), `SELECT max(id) FROM manage_requests`).Scan(&id); err != nil {
		m.t.Fatal(err)
	}
	if err := w.Work(context.Background(), &river.Job[donations.ManageJob]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 30},
		Args: donations.ManageJob{RequestID: id}}); err != nil {
		m.t.Fatal(err)
	}
}

// The request page answers the same, status, page and timing path, whether or not the
// address gives monthly; a malformed address is 422 with the problem beside the field.
func TestManageRequestAnswersTheSame(t *testing.T) {
	t.Parallel()
	m := newManageSite(t)
	// Every page's footer leads a donor there: the donate form promises she can cancel any time.
	if href := webtest.Attr(t, m.get("/").body, `footer.site a[href="/manage"]`, "href"); href != "/manage" {
		t.Fatalf("the appeal page's footer links to %q", href)
	}
	p := m.get("/manage")
	if p.status != http.StatusOK || webtest.Attr(t, p.body, `form[action="/manage"] label[for="email"] + input#email`, "type") != "email" {
		t.Fatalf("request page: %d", p.status)
	}
	known := m.post("/manage", url.Values{"email": {"ada@example.org"}})
	unknown := m.post("/manage", url.Values{"email": {"nobody@example.org"}})
	if known.status != http.StatusSeeOther || known.status != unknown.status || known.header.Get("Location") != unknown.header.Get("Location") || known.body != unknown.body {
		t.Fatalf("known %d %q, unknown %d %q: the answers differ", known.status, known.header.Get("Location"), unknown.status, unknown.header.Get("Location"))
	}
	sent := m.get(known.header.Get("Location"))
	if !strings.Contains(webtest.Text(t, sent.body, "p.notice"), "If that address gives a monthly gift, we have emailed it a link") {
		t.Fatalf("sent page: %s", sent.body)
	}
	bad := m.post("/manage", url.Values{"email": {"not an address"}})
	if bad.status != http.StatusUnprocessableEntity || webtest.Attr(t, bad.body, "input#email", "aria-describedby") != "email-error" ||
		!strings.Contains(webtest.Text(t, bad.body, "#email-error"), "Enter the email address you gave") {
		t.Fatalf("malformed address: %d", bad.status)
	}
}

// A forged link is 404 and an expired one 410 with the way to a new one; neither changes
// anything, and a form sent again changes nothing.
func TestManageLinkRefusals(t *testing.T) {
	t.Parallel()
	m := newManageSite(t)
	forged := "/manage/" + strings.Repeat("Q", 43)
	if p := m.get(forged); p.status != http.StatusNotFound {
		t.Fatalf("forged link: %d", p.status)
	}
	if p := m.post(forged+"/cancel", url.Values{"after": {"0"}}); p.status != http.StatusNotFound {
		t.Fatalf("cancel through a forged link: %d", p.status)
	}
	expired := m.link(time.Now().Add(-donations.ManageLinkLifetime - time.Minute))
	p := m.get(expired)
	if p.status != http.StatusGone || webtest.Attr(t, p.body, `a.button`, "href") != "/manage" {
		t.Fatalf("expired link: %d", p.status)
	}
	if p := m.post(expired+"/cancel", url.Values{"after": {"0"}}); p.status != http.StatusGone {
		t.Fatalf("cancel through an expired link: %d", p.status)
	}
	if n := m.count(`SELECT count(*) FROM manage_requests`); n != 0 {
		t.Fatalf("%d changes recorded through refused links", n)
	}
	good := m.link(time.Now())
	if p := m.get(good); p.status != http.StatusOK || p.header.Get("Referrer-Policy") != "no-referrer" || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("good link: %d %v", p.status, p.header)
	}
	if p := m.post(good+"/pause", url.Values{"after": {"0"}, "months": {"1"}}); p.status != http.StatusSeeOther {
		t.Fatalf("pause: %d %s", p.status, p.body)
	}
	again := m.post(good+"/cancel", url.Values{"after": {"0"}})
	if again.status != http.StatusConflict || !strings.Contains(webtest.Text(t, again.body, ".error-summary"), "Nothing was changed") {
		t.Fatalf("a form from before the pause: %d", again.status)
	}
	if n := m.count(`SELECT count(*) FROM manage_requests`); n != 1 {
		t.Fatalf("%d changes, want the pause only", n)
	}
}

// The donor changes the amount from the page: a bad amount is 422 beside the field; a
// good one shows "requested, waiting" with no forms until Stripe's event (the sandbox's)
// arrives, then the new amount, and the dashboard follows.
func TestManagePageChangeAmount(t *testing.T) {
	t.Parallel()
	m := newManageSite(t)
	link := m.link(time.Now())
	p := m.get(link)
	if got := webtest.Text(t, p.body, ".gift-amount"); got != "£10.00 a month" {
		t.Fatalf("amount shown: %q", got)
	}
	after := webtest.Attr(t, p.body, `form[action$="/amount"] input[name="after"]`, "value")
	bad := m.post(link+"/amount", url.Values{"after": {after}, "amount": {"lots"}})
	if bad.status != http.StatusUnprocessableEntity || webtest.Attr(t, bad.body, "input#amount", "aria-invalid") != "true" ||
		webtest.Text(t, bad.body, `form[action$="/amount"] #amount-error`) == "" {
		t.Fatalf("bad amount: %d", bad.status)
	}
	ok := m.post(link+"/amount", url.Values{"after": {after}, "amount": {"15"}})
	if ok.status != http.StatusSeeOther {
		t.Fatalf("amount: %d %s", ok.status, ok.body)
	}
	waiting := m.get(ok.header.Get("Location"))
	if !strings.Contains(webtest.Text(t, waiting.body, ".waiting"), "Requested, waiting for Stripe's confirmation: Change the amount from £10.00 to £15.00 a month") {
		t.Fatalf("waiting page: %s", waiting.body)
	}
	webtest.None(t, waiting.body, ".manage-actions form")
	if got := webtest.Text(t, waiting.body, ".gift-amount"); got != "£10.00 a month" {
		t.Fatalf("shown done before Stripe confirmed: %q", got)
	}
	m.work()
	done := m.get(ok.header.Get("Location"))
	if got := webtest.Text(t, done.body, ".gift-amount"); got != "£15.00 a month" {
		t.Fatalf("after Stripe's event: %q", got)
	}
	if !strings.Contains(webtest.Text(t, done.body, "p.notice"), "Done: Change the amount from £10.00 to £15.00 a month") {
		t.Fatalf("done notice: %s", done.body)
	}
	webtest.None(t, done.body, ".waiting")
}

// An admin cancels a monthly gift with a reason; without one, 422 beside the field.
func TestAdminCancelsMonthlyGift(t *testing.T) {
	t.Parallel()
	m := newManageSite(t)
	admin := m.browser()
	if p := m.send(admin, http.MethodPost, "/login", url.Values{"email": {adminUser.email}, "password": {testPassword}}); p.status != http.StatusSeeOther {
		t.Fatalf("log in: %d", p.status)
	}
	p := m.send(admin, http.MethodGet, "/admin", nil)
	row := "#monthly-" + m.gift.ID
	if got := webtest.Text(t, p.body, row+" td"); !strings.Contains(got, "ada@example.org") {
		t.Fatalf("admin list: %q", got)
	}
	donorLink := m.link(time.Now())
	action := "/admin/monthly/" + m.gift.ID + "/cancel"
	bad := m.send(admin, http.MethodPost, action, url.Values{"reason": {""}})
	if bad.status != http.StatusUnprocessableEntity || webtest.Text(t, bad.body, row+" .field-error") == "" {
		t.Fatalf("no reason: %d", bad.status)
	}
	good := m.send(admin, http.MethodPost, action, url.Values{"reason": {"Telephoned the office on 3 May"}})
	if good.status != http.StatusSeeOther {
		t.Fatalf("cancel: %d %s", good.status, good.body)
	}
	m.work()
	if st := m.count(`SELECT count(*) FROM donations WHERE id = $1 AND status = 'cancelled' AND ended_by = 'admin'`, m.gift.ID); st != 1 {
		t.Fatal("the admin's cancellation was not confirmed by the sandbox's event")
	}
	if n := m.count(`SELECT count(*) FROM audit_log WHERE actor_email = $1 AND action = 'monthly gift change requested'`, adminUser.email); n != 1 {
		t.Fatalf("%d audit rows for the admin", n)
	}
	// The donor's link now says the gift has ended, and changes nothing.
	if p := m.get(donorLink); p.status != http.StatusOK || webtest.Text(t, p.body, "h1") != "Your monthly gift has ended" {
		t.Fatalf("donor's link after the cancellation: %d", p.status)
	}
	if p := m.post(donorLink+"/resume", url.Values{"after": {"1"}}); p.status != http.StatusGone {
		t.Fatalf("a change through the ended gift's link: %d", p.status)
	}
	dash := m.send(admin, http.MethodGet, "/trustees", nil)
	if got := webtest.Text(t, dash.body, "#fig-cancelled-admin"); got != "1" {
		t.Fatalf("dashboard cancelled by admin: %q", got)
	}
}
