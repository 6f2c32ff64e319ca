package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"giving/campaigns/appeals"
	"giving/campaigns/giftaid"
	"giving/web/webtest"
)

// emergencyAppeal is the second appeal the tests open beside Fundraising for Freedom.
var emergencyAppeal = map[string]string{"slug": "winter-emergency", "name": "Winter emergency appeal",
	"summary": "Warm beds tonight for women leaving exploitation.", "target": "5000", "fund_code": "emergency-27",
	"fund_restricted": "restricted", "story": "Shelters are full this winter.",
	"surplus_statement": "If we raise more than we need, the rest goes to our safe houses."}

// emergencyForm is the new-appeal form filled in for emergencyAppeal.
func emergencyForm() url.Values {
	form := url.Values{}
	for k, v := range emergencyAppeal {
		form.Set(k, v)
	}
	return form
}

// openEmergencyAppeal creates the second appeal as an admin does, with one £25 tier, and
// returns its id.
func (p *pagesSite) openEmergencyAppeal(admin *http.Client) int64 {
	p.t.Helper()
	r := p.send(admin, http.MethodPost, "/admin/appeals", emergencyForm())
	if r.status != http.StatusSeeOther {
		p.t.Fatalf("create the appeal: %d %s", r.status, text(r.doc))
	}
	var id int64
	if _, err := fmt.Sscanf(r.header.Get("Location"), "/admin/appeals/%d?done=created", &id); err != nil {
		p.t.Fatalf("after creating, sent to %q: %v", r.header.Get("Location"), err)
	}
	if r := p.send(admin, http.MethodPost, fmt.Sprintf("/admin/appeals/%d/tiers/new", id),
		url.Values{"amount": {"25"}, "title": {"A warm bed"}, "impact": {"A warm, safe bed for a night"}, "active": {"1"}}); r.status != http.StatusSeeOther {
		p.t.Fatalf("add a tier: %d %s", r.status, text(r.doc))
	}
	return id
}

// giveOn gives amount with Gift Aid on the appeal page at path, paying in the sandbox (whose
// Pay button sends signed events to the webhook, the path Stripe's take).
func (p *pagesSite) giveOn(path, amount, email string) {
	p.t.Helper()
	f := donateForm(p.t, p.get(path).doc)
	for k, v := range map[string]string{"tier": "custom", "amount": amount, "frequency": "one_off", "gift_aid": "1",
		"first_name": "Ada", "last_name": "Lovelace", "house": "12", "postcode": "SW1A 1AA", "scope": giftaid.ScopeThis} {
		f.Set(k, v)
	}
	r := p.post("/donate", f)
	if r.status != http.StatusSeeOther {
		p.t.Fatalf("give on %s: %d %s", path, r.status, text(r.doc))
	}
	if r := p.post(pathOf(p.t, p.site, r.header.Get("Location"))+"/pay", url.Values{"email": {email}, "name": {"Ada Lovelace"}}); r.status != http.StatusSeeOther {
		p.t.Fatalf("pay: %d %s", r.status, text(r.doc))
	}
}

// Two appeals keep their own money: a gift to the second appeal never reaches the first's
// totals, JSON, dashboard or Gift Aid claim, and the other way round; every ledger entry
// and export row carries its appeal's fund, and the dashboard totals by fund.
func TestTwoAppealsKeepTheirOwnMoney(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	admin, trustee := p.as("admin@example.org"), p.as("trustee@example.org")
	id := p.openEmergencyAppeal(admin)

	page := p.get("/a/winter-emergency")
	if page.status != http.StatusOK || webtest.Text(t, page.body, "h1") != "Winter emergency appeal" {
		t.Fatalf("GET /a/winter-emergency: %d %q", page.status, text(page.doc))
	}
	if got := webtest.Text(t, page.body, "#surplus-statement"); !strings.Contains(got, "If we raise more than we need, the rest goes to our safe houses.") {
		t.Errorf("the statement beside the Give button reads %q", got)
	}
	if got := webtest.Text(t, page.body, "form.donate button.give ~ #surplus-statement"); got == "" {
		t.Error("the statement is not under the Give button")
	}
	if got := donateForm(t, page.doc).Get("appeal"); got != "winter-emergency" {
		t.Errorf("the form posts to appeal %q", got)
	}

	p.giveOn("/", "10", "ada@example.org")
	p.giveOn("/a/winter-emergency", "25", "grace@example.org")

	// The JSON contract, for both appeals.
	first, second := p.appealTotals(), p.totals("/api/campaigns/winter-emergency")
	if first.Raised != "10.00" || first.GiftAid != "2.50" || first.Donations != 1 || first.Donors != 1 || first.Target != "50000.00" {
		t.Errorf("Fundraising for Freedom: %+v", first)
	}
	want := totals{Slug: "winter-emergency", Name: "Winter emergency appeal", Currency: "GBP", Target: "5000.00",
		Raised: "25.00", GiftAid: "6.25", Donations: 1, Donors: 1}
	if second != want {
		t.Errorf("the second appeal's JSON %+v, want %+v", second, want)
	}

	// Every ledger entry carries its appeal's fund.
	rows, err := p.store.Pool().Query(context.Background(), `SELECT a.slug, e.kind || ' ' || e.fund_code FROM ledger_entries e
		JOIN appeals a ON a.id = e.appeal_id ORDER BY e.id`)
	if err != nil {
		t.Fatal(err)
	}
	funds := map[string]string{}
	for rows.Next() {
		var slug, fund string
		if err := rows.Scan(&slug, &fund); err != nil {
			t.Fatal(err)
		}
		funds[slug] += fund + " "
	}
	// The gift, then the fee Stripe reports with the charge.
	if funds["fundraising-for-freedom"] != "gift FREEDOM fee FREEDOM " || funds["winter-emergency"] != "gift EMERGENCY-27 fee EMERGENCY-27 " {
		t.Errorf("ledger funds by appeal: %q", funds)
	}

	// The Gift Aid claim: each appeal's claim has only its own gift; "every appeal" has both.
	for filter, total := range map[string]string{"fundraising-for-freedom": "£10.00", "winter-emergency": "£25.00", "all": "£35.00", "": "£35.00"} {
		r := p.send(trustee, http.MethodGet, "/trustees/gift-aid?appeal="+filter, nil)
		if got := webtest.Text(t, r.body, "#ga-total"); got != total {
			t.Errorf("Gift Aid claim for %q claims on %s, want %s", filter, got, total)
		}
	}
	claim := p.send(trustee, http.MethodPost, "/trustees/gift-aid/claim", url.Values{"appeal": {"winter-emergency"}})
	if claim.status != http.StatusOK || !strings.Contains(claim.body, "25.00") || strings.Contains(claim.body, "10.00") {
		t.Errorf("the second appeal's claim: %d %s", claim.status, claim.body)
	}
	if got := webtest.Text(t, p.send(trustee, http.MethodGet, "/trustees/gift-aid?appeal=fundraising-for-freedom", nil).body, "#ga-total"); got != "£10.00" {
		t.Errorf("after claiming the second appeal, the first's claim is on %s, want £10.00", got)
	}

	// The dashboard: one appeal at a time, and every fund.
	dash := p.send(trustee, http.MethodGet, "/trustees?appeal=winter-emergency", nil)
	if got := webtest.Text(t, dash.body, "#fig-raised"); got != "£25.00" {
		t.Errorf("the second appeal's dashboard shows %s raised", got)
	}
	if got := webtest.Text(t, dash.body, `#appeal option[selected]`); got != "Winter emergency appeal" {
		t.Errorf("the appeal filter shows %q chosen", got)
	}
	if got := webtest.Text(t, p.send(trustee, http.MethodGet, "/trustees", nil).body, "#fig-raised"); got != "£10.00" {
		t.Errorf("the main appeal's dashboard shows %s raised", got)
	}
	// Every appeal together: the sum of the two, each appeal's own row and tiers, and the
	// chooser on "All appeals".
	all := p.send(trustee, http.MethodGet, "/trustees?appeal=all", nil)
	for sel, want := range map[string]string{"#fig-raised": "£35.00", "#fig-gross": "£35.00", "#fig-all-raised": "£35.00",
		"#appeal option[selected]": "All appeals", "h1": "All appeals: trustee dashboard"} {
		if got := webtest.Text(t, all.body, sel); got != want {
			t.Errorf("every appeal's dashboard: %s is %q, want %q", sel, got, want)
		}
	}
	byAppeal := strings.Join(strings.Fields(webtest.Text(t, all.body, "#by-appeal tbody")), " ")
	for _, want := range []string{"Fundraising for Freedom 1 £10.00", "Winter emergency appeal 1 £25.00"} {
		if !strings.Contains(byAppeal, want) {
			t.Errorf("by appeal %q lacks %q", byAppeal, want)
		}
	}
	// Its links keep the period and the appeal: the export of every appeal, each appeal's own
	// dashboard.
	for sel, want := range map[string]string{"#export-all": "all", "#by-appeal tbody tr:nth-child(2) a": "winter-emergency"} {
		u, err := url.Parse(webtest.Attr(t, all.body, sel, "href"))
		if err != nil || u.Query().Get("appeal") != want || u.Query().Get("from") == "" || u.Query().Get("to") == "" {
			t.Errorf("every appeal's dashboard: %s links to %v, want appeal=%s and the period", sel, u, want)
		}
	}
	tiers := webtest.Text(t, all.body, "#by-tier-all")
	if !strings.Contains(tiers, "Fundraising for Freedom") || !strings.Contains(tiers, "Winter emergency appeal") {
		t.Errorf("every appeal's tiers are not grouped by appeal: %q", tiers)
	}
	byFund := webtest.Text(t, dash.body, "#by-fund tbody")
	for _, want := range []string{"EMERGENCY-27 Restricted Winter emergency appeal 1 £25.00", "FREEDOM Restricted Fundraising for Freedom 1 £10.00"} {
		if !strings.Contains(strings.Join(strings.Fields(byFund), " "), want) {
			t.Errorf("by fund %q lacks %q", byFund, want)
		}
	}

	// Exports: each row names its fund; one appeal's export has only its own rows.
	for filter, want := range map[string][]string{"winter-emergency": {"gift 25.00 EMERGENCY-27", "fee 0.00 EMERGENCY-27"},
		"all": {"gift 10.00 FREEDOM", "fee 0.00 FREEDOM", "gift 25.00 EMERGENCY-27", "fee 0.00 EMERGENCY-27"},
		"":    {"gift 10.00 FREEDOM", "fee 0.00 FREEDOM"}} {
		r := p.send(trustee, http.MethodGet, "/trustees/export/gifts.csv?appeal="+filter, nil)
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		head := recs[0]
		var got []string
		for _, rec := range recs[1:] {
			got = append(got, rec[3]+" "+rec[5]+" "+rec[len(head)-2])
		}
		if head[len(head)-2] != "Fund" || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("export %q: %v %v, want %v", filter, head, got, want)
		}
	}

	// The fund is fixed once money has arrived; the reason stands beside the field.
	form := emergencyForm()
	form.Set("fund_code", "GENERAL")
	if r := p.send(admin, http.MethodPost, fmt.Sprintf("/admin/appeals/%d", id), form); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(webtest.Text(t, r.body, "#fund_code-error"), "can't change") {
		t.Errorf("changing the fund after gifts: %d %q", r.status, text(r.doc))
	}
}

// A closed appeal says so and takes no gift: its form is gone, and a form posted anyway is
// refused (422) with the reason, creating nothing. The main appeal cannot be closed.
func TestClosedAppealRefusesAGift(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	admin := p.as("admin@example.org")
	id := p.openEmergencyAppeal(admin)
	form := donateForm(t, p.get("/a/winter-emergency").doc)
	form.Set("tier", "custom")
	form.Set("amount", "20")

	if r := p.send(admin, http.MethodPost, fmt.Sprintf("/admin/appeals/%d/status", id), url.Values{"status": {"closed"}}); r.status != http.StatusSeeOther {
		t.Fatalf("close: %d %s", r.status, text(r.doc))
	}
	page := p.get("/a/winter-emergency")
	webtest.None(t, page.body, "form.donate")
	if got := webtest.Text(t, page.body, "#donate-message"); !strings.Contains(got, "Winter emergency appeal has closed and no longer takes gifts") {
		t.Errorf("the closed appeal says %q", got)
	}
	before := p.donations()
	r := p.post("/donate", form)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(text(r.doc), "has closed and no longer takes gifts") {
		t.Errorf("a gift to a closed appeal: %d %q", r.status, text(r.doc))
	}
	if p.donations() != before {
		t.Error("a gift to a closed appeal was stored")
	}
	// Open again, it takes gifts.
	if r := p.send(admin, http.MethodPost, fmt.Sprintf("/admin/appeals/%d/status", id), url.Values{"status": {"open"}}); r.status != http.StatusSeeOther {
		t.Fatalf("open: %d", r.status)
	}
	if r := p.post("/donate", form); r.status != http.StatusSeeOther {
		t.Errorf("a gift to the reopened appeal: %d %q", r.status, text(r.doc))
	}
	main, err := appeals.AppealBySlug(context.Background(), p.store, appeals.DefaultAppealSlug)
	if err != nil {
		t.Fatal(err)
	}
	if r := p.send(admin, http.MethodPost, fmt.Sprintf("/admin/appeals/%d/status", main.ID), url.Values{"status": {"closed"}}); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(webtest.Text(t, r.body, "#status-error"), "stays open") {
		t.Errorf("closing the main appeal: %d %q", r.status, text(r.doc))
	}
}

// Every appeal needs its "if we raise more than we need" statement: without one the form
// comes back (422) with the reason beside the field, and nothing is created. The main
// appeal has one from the start, shown beside its Give button.
func TestAppealNeedsItsSurplusStatement(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	admin := p.as("admin@example.org")
	form := emergencyForm()
	form.Set("surplus_statement", "   ")
	r := p.send(admin, http.MethodPost, "/admin/appeals", form)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("no statement: %d, want 422", r.status)
	}
	if got := webtest.Text(t, r.body, "#surplus_statement-error"); !strings.Contains(got, "raises more than it needs") {
		t.Errorf("beside the field: %q", got)
	}
	if got := webtest.Attr(t, r.body, "textarea#surplus_statement", "aria-describedby"); !strings.Contains(got, "surplus_statement-error") {
		t.Errorf("the field is not described by its error: %q", got)
	}
	if got := webtest.Attr(t, r.body, "input#name", "value"); got != "Winter emergency appeal" {
		t.Errorf("what was typed is lost: %q", got)
	}
	if n := p.count(`SELECT count(*) FROM appeals`); n != 1 {
		t.Errorf("%d appeals after a refused form, want 1", n)
	}
	if got := webtest.Text(t, p.get("/").body, "#surplus-statement"); !strings.Contains(got, appeals.DefaultSurplusStatement) {
		t.Errorf("the main appeal's statement reads %q", got)
	}
}

// The admin uploads the appeal's photo (cleaned and resized by the page photo code): the
// appeal's first screen shows it with its width and height; and the admin's choice of
// tier is the one a fresh form starts on.
func TestAppealPhotoAndPreselectedTier(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	admin := p.as("admin@example.org")
	main, err := appeals.AppealBySlug(context.Background(), p.store, appeals.DefaultAppealSlug)
	if err != nil {
		t.Fatal(err)
	}
	edit := fmt.Sprintf("/admin/appeals/%d", main.ID)
	if r := p.upload(admin, edit+"/photo", nil, "notes.png", []byte("<html>not a picture</html>")); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(webtest.Text(t, r.body, "#photo-error"), "JPEG, PNG or WebP") {
		t.Errorf("a file that is not a photo: %d %q", r.status, text(r.doc))
	}
	if r := p.upload(admin, edit+"/photo", nil, "safe-house.jpg", gradientJPEG(t, 1600, 900)); r.status != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", r.status, text(r.doc))
	}
	page := p.get("/")
	img := ".page-head img.page-photo"
	if got := webtest.Attr(t, page.body, img, "src"); got != "/a/fundraising-for-freedom/photo" {
		t.Errorf("photo src %q", got)
	}
	if w, h := webtest.Attr(t, page.body, img, "width"), webtest.Attr(t, page.body, img, "height"); w != "1440" || h != "810" {
		t.Errorf("photo %sx%s, want the widest copy, 1440x810", w, h)
	}
	if got := webtest.Attr(t, page.body, img, "srcset"); !strings.Contains(got, "/a/fundraising-for-freedom/photo?w=480 480w") {
		t.Errorf("srcset %q", got)
	}
	photo := p.get("/a/fundraising-for-freedom/photo?w=480")
	if photo.status != http.StatusOK || photo.header.Get("Content-Type") != "image/jpeg" || photo.header.Get("ETag") == "" {
		t.Errorf("the 480 copy: %d %s", photo.status, photo.header.Get("Content-Type"))
	}

	// The middle tier is chosen until the admin picks another.
	if got := checkedRadio(page.doc, "tier"); got != tierID(t, page.doc, "£40.00") {
		t.Errorf("a fresh form starts on tier %s", got)
	}
	want := tierID(t, page.doc, "£15.00")
	if r := p.send(admin, http.MethodPost, edit+"/preselect", url.Values{"preselected": {want}}); r.status != http.StatusSeeOther {
		t.Fatalf("preselect: %d %s", r.status, text(r.doc))
	}
	if got := checkedRadio(p.get("/").doc, "tier"); got != want {
		t.Errorf("after the admin chose £15, a fresh form starts on tier %s, want %s", got, want)
	}
	if r := p.send(admin, http.MethodPost, edit+"/preselect", url.Values{"preselected": {"999999"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("preselecting another appeal's tier: %d", r.status)
	}
}
