package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"giving/campaigns/accounts"
	"giving/campaigns/appeals"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/campaigns/ledger"
	"giving/web"
	"giving/web/webtest"
)

// Who may see and do what: logged-out visitors and fundraisers get no dashboard, export or
// audit log; trustees read and export but cannot change anything; admins can.
func TestTrusteePagesAreGuarded(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	anon, ruby, trustee := a.browser(), a.loggedIn("ruby@example.org"), a.loggedIn("trustee@example.org")
	reads := []string{"/trustees", "/trustees/export/gifts.csv", "/trustees/gift-aid", "/trustees/reconcile", "/trustees/audit", "/admin"}
	for _, p := range reads {
		if got := a.send(anon, http.MethodGet, p, nil); got.status != http.StatusSeeOther || !strings.HasPrefix(got.header.Get("Location"), "/login") {
			t.Errorf("logged out GET %s: %d %s, want 303 to /login", p, got.status, got.header.Get("Location"))
		}
		if got := a.send(ruby, http.MethodGet, p, nil); got.status != http.StatusForbidden {
			t.Errorf("fundraiser GET %s: %d, want 403", p, got.status)
		}
	}
	for _, p := range reads[:5] {
		if got := a.send(trustee, http.MethodGet, p, nil); got.status != http.StatusOK {
			t.Errorf("trustee GET %s: %d, want 200", p, got.status)
		}
	}
	writes := map[string]url.Values{
		"/admin/appeals/1":            {"name": {"X"}, "target": {"1"}},
		"/admin/appeals/1/tiers/new":  {"amount": {"5"}, "title": {"T"}, "impact": {"I"}},
		"/admin/fundraisers/1/status": {"status": {"hidden"}},
		"/trustees/gift-aid/claim":    nil,
		"/admin/unmatched/00000000-0000-0000-0000-000000000000/resolve": {"note": {"x"}},
	}
	for p, form := range writes {
		if got := a.send(anon, http.MethodPost, p, form); got.status != http.StatusSeeOther {
			t.Errorf("logged out POST %s: %d, want 303 to log in", p, got.status)
		}
		if got := a.send(ruby, http.MethodPost, p, form); got.status != http.StatusForbidden {
			t.Errorf("fundraiser POST %s: %d, want 403", p, got.status)
		}
		if strings.HasPrefix(p, "/admin") {
			if got := a.send(trustee, http.MethodPost, p, form); got.status != http.StatusForbidden {
				t.Errorf("trustee POST %s: %d, want 403", p, got.status)
			}
		}
	}
	appeal, _ := appeals.AppealBySlug(context.Background(), a.store, appeals.DefaultAppealSlug)
	if !appeal.Target.Equal(decimal.RequireFromString("50000")) || appeal.Name != "Fundraising for Freedom" {
		t.Fatalf("a refused request changed the appeal: %+v", appeal)
	}
}

func TestDashboardShowsTheLedgerAndExportsAreAudited(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	ctx := context.Background()
	appeal, _ := appeals.AppealBySlug(ctx, a.store, appeals.DefaultAppealSlug)
	now := time.Now()
	d := func(s string) decimal.Decimal { return decimal.RequireFromString(s) }
	entries := []ledger.Entry{
		{Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "pi_1", Amount: d("100.00"), Fee: d("1.70"), GiftAidBase: d("100.00"), DonorKey: "a"},
		{Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "in_1", Amount: d("10.00"), Monthly: true, DonorKey: "b"},
		{Kind: ledger.KindRefund, Source: ledger.SourceStripe, SourceRef: "ch_1", Seq: "2000", Amount: d("-20.00"), GiftAidBase: d("-20.00")},
	}
	err := a.store.InTx(ctx, func(tx pgx.Tx) error {
		for _, e := range entries {
			e.AppealID, e.OccurredAt = appeal.ID, now
			if _, err := ledger.Record(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	trustee := a.loggedIn("trustee@example.org")
	p := a.send(trustee, http.MethodGet, "/trustees", nil)
	// Computed by hand from the entries above: gross 110, refunds 20, raised 90, fees 1.70,
	// net 88.30, Gift Aid 25% of (100 - 20) = 20.00.
	for id, want := range map[string]string{"fig-gross": "£110.00", "fig-refunds": "£20.00", "fig-raised": "£90.00",
		"fig-fees": "£1.70", "fig-net": "£88.30", "fig-giftaid": "£20.00", "fig-oneoff": "£100.00", "fig-monthly": "£10.00"} {
		if got := textOf(byIDIn(p.doc, id)); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if webtest.Text(t, p.body, `main svg.chart[role=img][aria-labelledby="c-raised-by-month-t"] > title`) != "Raised by month" {
		t.Error("no server-drawn chart on the dashboard")
	}
	if bad := a.send(trustee, http.MethodGet, "/trustees?from=2026-13-01&to=x", nil); bad.status != http.StatusUnprocessableEntity ||
		textOf(byIDIn(bad.doc, "from-error")) == "" {
		t.Errorf("a bad period: %d", bad.status)
	}
	csv := a.send(trustee, http.MethodGet, "/trustees/export/gifts.csv", nil)
	if csv.status != http.StatusOK || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(csv.header.Get("Content-Disposition"), "attachment") || !strings.Contains(csv.body, `"100.00"`) {
		t.Fatalf("gifts CSV: %d %s %q", csv.status, csv.header.Get("Content-Type"), csv.body)
	}
	admin := a.loggedIn("admin@example.org")
	editURL := fmt.Sprintf("/admin/appeals/%d", appeal.ID)
	if got := a.send(admin, http.MethodPost, editURL, url.Values{"name": {"Fundraising for Freedom"}, "summary": {"s"},
		"story": {"s"}, "target": {"£60,000"}, "fund_code": {"FREEDOM"}, "fund_restricted": {"restricted"},
		"surplus_statement": {appeals.DefaultSurplusStatement}}); got.status != http.StatusSeeOther {
		t.Fatalf("admin edits the target: %d %s", got.status, got.body)
	} else if after := a.send(admin, http.MethodGet, got.header.Get("Location"), nil); textOf(byIDIn(after.doc, "appeals-notice")) != "The appeal is saved." {
		t.Errorf("after saving, %s says %q, want that the appeal is saved", got.header.Get("Location"), textOf(byIDIn(after.doc, "appeals-notice")))
	}
	if p := a.send(admin, http.MethodGet, "/admin?done=<script>", nil); byIDIn(p.doc, "admin-notice") != nil {
		t.Error("an unknown ?done= shows a notice")
	}
	if bad := a.send(admin, http.MethodPost, editURL, url.Values{"name": {""}, "target": {"-5"}}); bad.status != http.StatusUnprocessableEntity {
		t.Errorf("an invalid edit: %d, want 422", bad.status)
	}
	log := a.send(trustee, http.MethodGet, "/trustees/audit", nil).body
	for _, want := range []string{"export gifts", "appeal edited"} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %q", want)
		}
	}
	if got, _ := appeals.AppealBySlug(ctx, a.store, appeals.DefaultAppealSlug); !got.Target.Equal(d("60000")) {
		t.Errorf("target %s after the admin's edit, want 60000", got.Target)
	}
}

func byIDIn(doc *html.Node, id string) *html.Node {
	var found *html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if found != nil {
			return
		}
		if attrOf(n, "id") == id {
			found = n
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	if doc != nil {
		walk(doc)
	}
	return found
}

// giveWithGiftAid makes and pays a one-off sandbox gift of amount with a Gift Aid
// declaration in the name of last.
func giveWithGiftAid(t *testing.T, s *site, amount, last string) {
	t.Helper()
	page := s.get("/")
	f := donateForm(t, page.doc)
	for k, v := range map[string]string{"tier": "custom", "amount": amount, "frequency": "one_off", "gift_aid": "1",
		"first_name": "Ada", "last_name": last, "house": "12", "postcode": "SW1A 1AA", "scope": giftaid.ScopeThis} {
		f.Set(k, v)
	}
	r := s.post("/donate", f)
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST /donate £%s: %d %s", amount, r.status, text(r.doc))
	}
	if r := s.post(pathOf(t, s, r.header.Get("Location"))+"/pay", sandboxPayer); r.status != http.StatusSeeOther {
		t.Fatalf("pay £%s: %d %s", amount, r.status, r.body)
	}
}

// trusteeOn logs a new trustee in to s and returns its browser.
func trusteeOn(t *testing.T, s *site) *http.Client {
	t.Helper()
	if _, err := accounts.CreateUser(context.Background(), s.store, accounts.CommandLine(), "trustee@example.org", testPassword, accounts.RoleTrustee); err != nil {
		t.Fatal(err)
	}
	a := &accountSite{s}
	return a.loggedIn("trustee@example.org")
}

// The Gift Aid page and the claim use the configured aggregation limit
// (GIFT_AID_AGGREGATION_LIMIT): a £25 gift is named on the schedule under the default £20
// but aggregated under £30.
func TestGiftAidHonoursTheAggregationLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		limit      decimal.Decimal
		wantLimit  string
		aggregated bool
	}{
		{"default £20", decimal.Zero, "£20.00", false},
		{"configured £30", decimal.RequireFromString("30"), "£30.00", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, siteOptions{aggregation: tc.limit})
			giveWithGiftAid(t, s, "25", "Lovelace")
			trustee := trusteeOn(t, s)
			a := &accountSite{s}
			p := a.send(trustee, http.MethodGet, "/trustees/gift-aid", nil)
			if p.status != http.StatusOK {
				t.Fatalf("GET /trustees/gift-aid: %d", p.status)
			}
			if !strings.Contains(textOf(p.doc), "Gifts of "+tc.wantLimit+" or less are aggregated") {
				t.Errorf("the page does not state the limit %s: %q", tc.wantLimit, textOf(p.doc))
			}
			if named := strings.Contains(p.body, "Lovelace"); named == tc.aggregated {
				t.Errorf("preview names the £25 donor: %v, want %v", named, !tc.aggregated)
			}
			if agg := strings.Contains(p.body, giftaid.AggregatedDescription); agg != tc.aggregated {
				t.Errorf("preview has an aggregated row: %v, want %v", agg, tc.aggregated)
			}
			claim := a.send(trustee, http.MethodPost, "/trustees/gift-aid/claim", url.Values{})
			if claim.status != http.StatusOK || !strings.Contains(claim.body, "25.00") {
				t.Fatalf("POST /trustees/gift-aid/claim: %d %q", claim.status, claim.body)
			}
			if named := strings.Contains(claim.body, "Lovelace"); named == tc.aggregated {
				t.Errorf("the claimed schedule names the £25 donor: %v, want %v:\n%s", named, !tc.aggregated, claim.body)
			}
		})
	}
}

// GET /trustees/reconcile?since=YYYY-MM-DD: a malformed, future or too distant day is
// answered 422 with the reason beside the field, and the form keeps what was typed.
func TestReconcileSince(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	trustee := a.loggedIn("trustee@example.org")
	today := time.Now().UTC()
	for _, tc := range []struct {
		since string
		want  int
		msg   string
	}{
		{"", http.StatusOK, ""},
		{today.AddDate(0, 0, -7).Format("2006-01-02"), http.StatusOK, ""},
		{today.Format("2006-01-02"), http.StatusOK, ""},
		{"2026-13-01", http.StatusUnprocessableEntity, "Enter a day like"},
		{"last week", http.StatusUnprocessableEntity, "Enter a day like"},
		{today.AddDate(0, 0, 2).Format("2006-01-02"), http.StatusUnprocessableEntity, "earlier day"},
		{today.AddDate(0, 0, -500).Format("2006-01-02"), http.StatusUnprocessableEntity, "at most 400 days"},
	} {
		p := a.send(trustee, http.MethodGet, "/trustees/reconcile?since="+url.QueryEscape(tc.since), nil)
		if p.status != tc.want {
			t.Errorf("since=%q: %d, want %d", tc.since, p.status, tc.want)
			continue
		}
		in := byIDIn(p.doc, "since")
		if in == nil || ancestor(in, "form") == nil {
			t.Fatalf("since=%q: no #since field in a form", tc.since)
		}
		if tc.msg == "" {
			continue
		}
		msg := byIDIn(p.doc, "since-error")
		if msg == nil || !strings.Contains(textOf(msg), tc.msg) || !beside(msg, in) {
			t.Errorf("since=%q: #since-error %q beside the field, want %q", tc.since, textOf(msg), tc.msg)
		}
		if attrVal(in, "value") != tc.since || attrVal(in, "aria-invalid") != "true" {
			t.Errorf("since=%q: field value %q aria-invalid %q", tc.since, attrVal(in, "value"), attrVal(in, "aria-invalid"))
		}
	}
}

// A monthly gift ended by a dispute shows on the dashboard until Stripe confirms the
// cancellation, with Stripe's last answer, so trustees can act before the card is charged.
func TestDashboardShowsSubscriptionsStillToCancel(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	ctx := context.Background()
	appeal, _ := appeals.AppealBySlug(ctx, a.store, appeals.DefaultAppealSlug)
	trustee := a.loggedIn("trustee@example.org")
	if p := a.send(trustee, http.MethodGet, "/trustees", nil); byIDIn(p.doc, "subscription-cancels") != nil {
		t.Fatal("a cancellations table with nothing to cancel")
	}
	d, err := donations.Create(ctx, a.store, donations.NewDonation{AppealID: appeal.ID, Amount: decimal.RequireFromString("10.00"), Monthly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.store.InTx(ctx, func(tx pgx.Tx) error {
		return donations.QueueSubscriptionCancel(ctx, tx, d.ID, "sub_disputed", "disputed")
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.Pool().Exec(ctx, `UPDATE subscription_cancels SET attempts = 2, last_error = 'Stripe is down <b>'`); err != nil {
		t.Fatal(err)
	}
	// Operators see the same thing on /metrics, to alert on.
	reg := prometheus.NewRegistry()
	if _, err := web.New(web.Deps{Store: a.store, Log: slog.New(slog.DiscardHandler), Registry: reg}); err != nil {
		t.Fatal(err)
	}
	pending := func() float64 {
		t.Helper()
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			if f.GetName() == "giving_subscription_cancels_pending" && len(f.GetMetric()) == 1 {
				return f.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no giving_subscription_cancels_pending on /metrics")
		return 0
	}
	if got := pending(); got != 1 {
		t.Errorf("giving_subscription_cancels_pending = %v, want 1", got)
	}
	p := a.send(trustee, http.MethodGet, "/trustees", nil)
	got := textOf(byIDIn(p.doc, "subscription-cancels"))
	if !strings.Contains(got, "sub_disputed") || !strings.Contains(got, "Not yet cancelled") || !strings.Contains(got, "Stripe is down <b>") {
		t.Fatalf("cancellations table %q: want the subscription, that it is not cancelled yet and Stripe's answer as text", got)
	}
	if _, err := a.store.Pool().Exec(ctx, `UPDATE subscription_cancels SET claimed_until = now() + interval '1 minute'`); err != nil {
		t.Fatal(err)
	}
	if got := textOf(byIDIn(a.send(trustee, http.MethodGet, "/trustees", nil).doc, "subscription-cancels")); !strings.Contains(got, "Asking Stripe now") {
		t.Errorf("while a worker holds it, the table reads %q, want it to say Stripe is being asked now", got)
	}
	if _, err := a.store.Pool().Exec(ctx, `UPDATE subscription_cancels SET last_error = '', done_at = now()`); err != nil {
		t.Fatal(err)
	}
	p = a.send(trustee, http.MethodGet, "/trustees", nil)
	if got := textOf(byIDIn(p.doc, "subscription-cancels")); !strings.Contains(got, "Cancelled") || strings.Contains(got, "Not yet") {
		t.Fatalf("after Stripe confirmed: %q", got)
	}
	if got := pending(); got != 0 {
		t.Errorf("giving_subscription_cancels_pending after Stripe confirmed = %v, want 0", got)
	}
	// A finished cancellation leaves the dashboard after 90 days.
	if _, err := a.store.Pool().Exec(ctx, `UPDATE subscription_cancels SET done_at = now() - interval '91 days'`); err != nil {
		t.Fatal(err)
	}
	if p := a.send(trustee, http.MethodGet, "/trustees", nil); byIDIn(p.doc, "subscription-cancels") != nil {
		t.Error("a cancellation finished 91 days ago is still listed")
	}
}

// A period of ten thousand years is refused beside the field, quickly and in a small page,
// instead of drawing 120,000 months.
func TestDashboardPeriodIsBounded(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	trustee := a.loggedIn("trustee@example.org")
	for _, c := range []struct{ query, field, says string }{
		{"from=0001-01-01&to=9999-12-31", "from", "from 01/01/2000"},
		{"from=0001-01-01&to=9999-12-31", "to", "before 2100"},
		{"from=2020-01-01&to=2026-12-31", "to", "at most 5 years at a time: choose an end on or before 31/12/2024"},
	} {
		p := a.send(trustee, http.MethodGet, "/trustees?"+c.query, nil)
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(textOf(byIDIn(p.doc, c.field+"-error")), c.says) {
			t.Errorf("%s: %d, want 422 with %q beside %s", c.query, p.status, c.says, c.field)
		}
		if len(p.body) > 100<<10 {
			t.Errorf("%s: %d bytes of page", c.query, len(p.body))
		}
	}
	if p := a.send(trustee, http.MethodGet, "/trustees?from=2020-01-01&to=2024-12-31", nil); p.status != http.StatusOK {
		t.Errorf("five years: %d, want the dashboard", p.status)
	}
}
