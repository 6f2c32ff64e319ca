package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/audit"
	"giving/campaigns/donations"
	"giving/campaigns/donors"
	"giving/campaigns/ledger"
	"giving/payments"
)

// The donor data page is the admins' alone: logged-out visitors are sent to log in,
// fundraisers and trustees (read-only) are refused, and so is a cross-site post.
func TestDonorDataNeedsAnAdmin(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	seedDonorGift(t, p.site, "ada@example.org", "Ada", "20.00", "pi_ada")
	anon, ruby, trustee, admin := p.as(""), p.as("ruby@example.org"), p.as("trustee@example.org"), p.as("admin@example.org")
	if r := p.send(anon, http.MethodGet, "/admin/donors", nil); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Errorf("logged out GET /admin/donors: %d %s, want 303 to /login", r.status, r.header.Get("Location"))
	}
	for who, c := range map[string]*http.Client{"fundraiser": ruby, "trustee": trustee} {
		if r := p.send(c, http.MethodGet, "/admin/donors", nil); r.status != http.StatusForbidden {
			t.Errorf("%s GET /admin/donors: %d, want 403", who, r.status)
		}
		for _, path := range []string{"/admin/donors/export", "/admin/donors/erase"} {
			r := p.send(c, http.MethodPost, path, url.Values{"email": {"ada@example.org"}, "confirm": {"yes"}})
			if r.status != http.StatusForbidden || strings.Contains(r.body, "20.00") {
				t.Errorf("%s POST %s: %d, want 403 and no data", who, path, r.status)
			}
		}
	}
	for _, path := range []string{"/admin/donors/export", "/admin/donors/erase"} {
		r := p.send(admin, http.MethodPost, path, url.Values{"email": {"ada@example.org"}, "confirm": {"yes"}}, "Sec-Fetch-Site", "cross-site")
		if r.status != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d, want 403", path, r.status)
		}
	}
	if n := p.count(`SELECT count(*) FROM audit_log WHERE action LIKE 'donor%'`); n != 0 {
		t.Errorf("%d donor actions audited after refused requests", n)
	}
	if n := p.count(`SELECT count(*) FROM donations WHERE email = 'ada@example.org' AND display_name = 'Ada'`); n != 1 {
		t.Error("a refused request erased the donor")
	}
	if r := p.send(admin, http.MethodGet, "/admin/donors", nil); r.status != http.StatusOK || byID(r.doc, "email") == nil {
		t.Errorf("admin GET /admin/donors: %d, want 200 with the email field", r.status)
	}
	if links := findAll(p.send(admin, http.MethodGet, "/admin", nil).doc, func(n *html.Node) bool {
		return isElem("a")(n) && attrVal(n, "href") == "/admin/donors"
	}); len(links) == 0 {
		t.Error("the admin page does not link to /admin/donors")
	}
}

// An admin exports a donor's records and gets the command line's document; erasing shows
// the plan and changes nothing until confirmed; confirmed, the donor's name and email are
// gone while the amounts and every total stay, and the audit log names the admin for both.
func TestAdminExportsAndErasesADonor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newPagesSite(t)
	// The sandbox pays as sandbox-donor@example.org: a gift with a message, a Gift Aid gift
	// (whose declaration HMRC still requires) and a monthly gift still live.
	const donor = "sandbox-donor@example.org"
	p.give("/", "£3.00", map[string]string{"display_name": "Ada Lovelace", "message": "For the safe house"})
	giveWithGiftAid(t, p.site, "25", "Lovelace")
	p.give("/", "£15.00", map[string]string{"display_name": "Ada Lovelace", "frequency": "monthly"})
	seedDonorGift(t, p.site, "bob@example.org", "Bob", "7.50", "pi_bob")
	admin := p.as("admin@example.org")
	adminID := userID(t, p, "admin@example.org")

	// Export: the same document 'giving donor export' writes, as a dated, uncached download.
	r := p.send(admin, http.MethodPost, "/admin/donors/export", url.Values{"email": {" Sandbox-Donor@Example.ORG "}})
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("export: %d %s %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	today := time.Now().In(campaigns.London()).Format(time.DateOnly)
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="donor-records-`+today+`.json"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	var doc struct {
		Found     bool   `json:"found"`
		Email     string `json:"email"`
		Donations []struct {
			Amount      string `json:"amount"`
			Email       string `json:"email"`
			DisplayName string `json:"display_name"`
		} `json:"donations"`
		Declarations []struct {
			LastName string `json:"last_name"`
		} `json:"gift_aid_declarations"`
		Events []json.RawMessage `json:"stripe_events"`
	}
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, r.body)
	}
	amounts := map[string]bool{}
	for _, d := range doc.Donations {
		amounts[d.Amount] = d.Email == donor
	}
	if !doc.Found || doc.Email != donor || len(doc.Donations) != 3 || !amounts["3.00"] || !amounts["25.00"] || !amounts["15.00"] ||
		len(doc.Declarations) != 1 || doc.Declarations[0].LastName != "Lovelace" || len(doc.Events) == 0 || strings.Contains(r.body, "bob@") {
		t.Fatalf("exported document:\n%s", r.body)
	}
	recs, err := donors.DonorRecords(ctx, p.store, donor)
	if err != nil {
		t.Fatal(err)
	}
	var cli bytes.Buffer
	if err := donors.WriteDonorJSON(&cli, recs); err != nil {
		t.Fatal(err)
	}
	if cli.String() != r.body {
		t.Errorf("the download differs from the command line's document:\n%s\nwant:\n%s", r.body, cli.String())
	}

	// The plan: what would be erased and what is kept for HMRC, and nothing changes.
	before, totals, audits := donorState(t, p), p.appealTotals(), p.count(`SELECT count(*) FROM audit_log`)
	replayed := replay(t, p) // Bob's gift came with no Stripe events: replay leaves it out
	r = p.send(admin, http.MethodPost, "/admin/donors/erase", url.Values{"email": {donor}})
	plan := text(byID(r.doc, "erasure-facts"))
	if r.status != http.StatusOK || !strings.Contains(plan, "3 donations would be scrubbed") ||
		!strings.Contains(plan, "kept for HMRC until 05/04/") || !strings.Contains(plan, "Warning: 1 monthly gift is still live in Stripe") {
		t.Fatalf("plan: %d %q", r.status, plan)
	}
	confirm := findAll(byID(r.doc, "erasure-plan"), func(n *html.Node) bool {
		return isElem("form")(n) && attrVal(n, "action") == "/admin/donors/erase"
	})
	if len(confirm) != 1 {
		t.Fatal("the plan has no confirmation form")
	}
	form := url.Values{}
	for _, in := range findAll(confirm[0], isElem("input")) {
		form.Set(attrVal(in, "name"), attrVal(in, "value"))
	}
	if form.Get("email") != donor || form.Get("confirm") == "" {
		t.Fatalf("confirmation form posts %v", form)
	}
	if donorState(t, p) != before || p.count(`SELECT count(*) FROM audit_log`) != audits {
		t.Fatal("showing the plan changed something")
	}

	// Confirmed: erased, then the report after a redirect (a reload does not post again).
	r = p.send(admin, http.MethodPost, "/admin/donors/erase", form)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/donors?done=erased" {
		t.Fatalf("confirmed erase: %d %s %s", r.status, r.header.Get("Location"), text(r.doc))
	}
	r = p.send(admin, http.MethodGet, r.header.Get("Location"), nil)
	report := text(byID(r.doc, "donor-result"))
	if r.status != http.StatusOK || !strings.Contains(report, "3 donations scrubbed") || strings.Contains(report, "would be") ||
		!strings.Contains(report, donors.DonorHash(donor)) {
		t.Fatalf("report: %d %q", r.status, report)
	}
	if n := p.count(`SELECT count(*) FROM donations WHERE email ILIKE '%sandbox%' OR display_name LIKE '%Ada%' OR message LIKE '%safe house%'
		OR (erased_at IS NOT NULL AND (email <> '' OR display_name <> '' OR message <> '' OR NOT hide_name))`); n != 0 {
		t.Errorf("%d donations still name the donor", n)
	}
	var erased int
	var sum decimal.Decimal
	if err := p.store.Pool().QueryRow(ctx, `SELECT count(*), sum(amount) FROM donations WHERE erased_at IS NOT NULL`).Scan(&erased, &sum); err != nil ||
		erased != 3 || !sum.Equal(decimal.RequireFromString("43.00")) {
		t.Errorf("%d erased donations hold £%s, want 3 holding the £43.00 given (%v)", erased, sum, err)
	}
	if n := p.count(`SELECT count(*) FROM donations WHERE email = 'bob@example.org' AND display_name = 'Bob'`); n != 1 {
		t.Error("another donor was erased too")
	}
	if after := p.appealTotals(); after != totals {
		t.Errorf("totals changed by the erasure: %+v, want %+v", after, totals)
	}
	if diffs, err := ledger.CompareTotals(ctx, p.store); err != nil || len(diffs) != 0 {
		t.Errorf("totals against the ledger after the erasure: %v %v", diffs, err)
	}
	if got := replay(t, p); got != replayed {
		t.Errorf("'giving replay' after the erasure: %s, want %s as before", got, replayed)
	}
	if wall := p.get("/"); strings.Contains(wall.body, "Ada Lovelace") || strings.Contains(wall.body, "For the safe house") {
		t.Error("the donor wall still shows the erased donor")
	}

	// Both actions are on record under the admin's name, the donor only by a hash.
	log, err := audit.Log(ctx, p.store.Pool(), 10)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range log {
		if e.Action == "donor export" || e.Action == "donor erased" {
			seen[e.Action] = true
			if e.ActorUserID != adminID || e.ActorEmail != "admin@example.org" || strings.Contains(e.Detail, "sandbox") {
				t.Errorf("audit entry %+v: want the admin as actor and no email", e)
			}
		}
	}
	if !seen["donor export"] || !seen["donor erased"] {
		t.Errorf("audit log %+v lacks the export or the erasure", log)
	}

	// Now nothing is held: a clear answer, not an error.
	r = p.send(admin, http.MethodPost, "/admin/donors/export", url.Values{"email": {donor}})
	if r.status != http.StatusOK || !strings.Contains(text(byID(r.doc, "donor-result")), "Nothing is held for "+donor) {
		t.Errorf("export after erasure: %d %q", r.status, text(byID(r.doc, "donor-result")))
	}
	r = p.send(admin, http.MethodPost, "/admin/donors/erase", url.Values{"email": {donor}})
	if r.status != http.StatusOK || !strings.Contains(text(byID(r.doc, "donor-result")), "erasing would change nothing") ||
		byID(r.doc, "erasure-plan") != nil {
		t.Errorf("plan after erasure: %d %q", r.status, text(byID(r.doc, "donor-result")))
	}
}

// An unknown email is answered plainly, whichever button was pressed.
func TestUnknownDonor(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	admin := p.as("admin@example.org")
	for _, tc := range []struct {
		path string
		form url.Values
		want string
	}{
		{"/admin/donors/export", url.Values{"email": {"nobody@example.org"}}, "nothing to export"},
		{"/admin/donors/erase", url.Values{"email": {"nobody@example.org"}}, "erasing would change nothing"},
		{"/admin/donors/erase", url.Values{"email": {"nobody@example.org"}, "confirm": {"yes"}}, "nothing changed"},
	} {
		r := p.send(admin, http.MethodPost, tc.path, tc.form)
		if r.status == http.StatusSeeOther {
			r = p.send(admin, http.MethodGet, r.header.Get("Location"), nil)
		}
		if got := text(byID(r.doc, "donor-result")); r.status != http.StatusOK || !strings.Contains(got, tc.want) {
			t.Errorf("POST %s %v: %d %q, want %q", tc.path, tc.form, r.status, got, tc.want)
		}
	}
}

// A malformed email is answered 422 with the reason beside the field, what was typed kept,
// and nothing looked up or audited.
func TestDonorEmailProblems(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	admin := p.as("admin@example.org")
	for _, path := range []string{"/admin/donors/export", "/admin/donors/erase"} {
		for _, tc := range []struct{ email, msg string }{
			{"", "Give the donor's email address."},
			{"   ", "Give the donor's email address."},
			{"not-an-email", "Enter an email address such as name@example.org."},
			{"@example.org", "Enter an email address such as name@example.org."},
			{"ada@", "Enter an email address such as name@example.org."},
			{strings.Repeat("a", 250) + "@example.org", "at most 254 characters"},
		} {
			r := p.send(admin, http.MethodPost, path, url.Values{"email": {tc.email}, "confirm": {"yes"}})
			if r.status != http.StatusUnprocessableEntity {
				t.Errorf("POST %s %q: %d, want 422", path, tc.email, r.status)
				continue
			}
			in, msg := byID(r.doc, "email"), byID(r.doc, "email-error")
			if !strings.Contains(text(msg), tc.msg) || !beside(msg, in) {
				t.Errorf("POST %s %q: #email-error %q beside the field, want %q", path, tc.email, text(msg), tc.msg)
			}
			if attrVal(in, "value") != strings.TrimSpace(tc.email) || attrVal(in, "aria-invalid") != "true" ||
				!strings.Contains(attrVal(in, "aria-describedby"), "email-error") {
				t.Errorf("POST %s %q: field value %q aria-invalid %q", path, tc.email, attrVal(in, "value"), attrVal(in, "aria-invalid"))
			}
			if title := text(findAll(r.doc, isElem("title"))[0]); !strings.HasPrefix(title, "Error:") {
				t.Errorf("POST %s %q: title %q does not start with Error:", path, tc.email, title)
			}
		}
	}
	if n := p.count(`SELECT count(*) FROM audit_log WHERE action LIKE 'donor%'`); n != 0 {
		t.Errorf("%d donor actions audited for malformed emails", n)
	}
}

// seedDonorGift records a paid one-off gift from email straight into the ledger.
func seedDonorGift(t *testing.T, s *site, email, name, amount, pi string) {
	t.Helper()
	ctx := context.Background()
	appeal, err := appeals.AppealBySlug(ctx, s.store, appeals.DefaultAppealSlug)
	if err != nil {
		t.Fatal(err)
	}
	d, err := donations.Create(ctx, s.store, donations.NewDonation{AppealID: appeal.ID, Amount: decimal.RequireFromString(amount),
		DisplayName: name, Message: "from " + name, Email: email})
	if err != nil {
		t.Fatal(err)
	}
	e := ledger.Entry{AppealID: appeal.ID, DonationID: d.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: pi, PaymentIntent: pi,
		Amount: d.Amount, DonorKey: d.DonorKey(), OccurredAt: time.Now().Add(-time.Hour)}
	if err := s.store.InTx(ctx, func(tx pgx.Tx) error { _, err := ledger.Record(ctx, tx, e); return err }); err != nil {
		t.Fatal(err)
	}
}

// replay is what 'giving replay' finds, rebuilding every total from the stored events.
func replay(t *testing.T, p *pagesSite) string {
	t.Helper()
	res, err := payments.ReplayEvents(context.Background(), p.store.Pool(), false)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(res.Differences)
}

// donorState is every donation, declaration and stored event as held, to tell whether
// anything changed.
func donorState(t *testing.T, p *pagesSite) string {
	t.Helper()
	var s string
	if err := p.store.Pool().QueryRow(context.Background(), `SELECT
		coalesce((SELECT string_agg(d::text, '|' ORDER BY d.id) FROM donations d), '') ||
		coalesce((SELECT string_agg(g::text, '|' ORDER BY g.id) FROM gift_aid_declarations g), '') ||
		coalesce((SELECT string_agg(md5(e.payload), '|' ORDER BY e.id) FROM stripe_events e), '')`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}
