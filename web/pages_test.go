package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/ledger"
	"giving/campaigns/pages"
	"giving/payments"
	"giving/web/webtest"
)

// pagesSite is the whole site with the sandbox checkout and a few accounts: Ruby and Sam
// are fundraisers, plus an admin and a trustee.
type pagesSite struct {
	*site
}

func newPagesSite(t *testing.T) *pagesSite {
	t.Helper()
	return &pagesSite{newSite(t, siteOptions{users: []user{rubyUser, samUser, adminUser, trusteeUser}})}
}

// as is a browser logged in as email (or logged out for "").
func (p *pagesSite) as(email string) *http.Client {
	p.t.Helper()
	c := p.browser()
	if email != "" {
		if r := p.send(c, http.MethodPost, "/login", url.Values{"email": {email}, "password": {testPassword}}); r.status != http.StatusSeeOther {
			p.t.Fatalf("log in as %s: %d", email, r.status)
		}
	}
	return c
}

// upload posts the page form as a browser does: multipart, with an optional photo file.
func (p *pagesSite) upload(c *http.Client, path string, fields map[string]string, filename string, photo []byte) response {
	p.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if filename != "" {
		fw, err := mw.CreateFormFile("photo", filename)
		if err != nil {
			p.t.Fatal(err)
		}
		_, _ = fw.Write(photo)
	}
	if err := mw.Close(); err != nil {
		p.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, p.abs(path), &b)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return p.with(c, req)
}

// newPage creates a page through the form and returns its id and slug.
func (p *pagesSite) newPage(c *http.Client, fields map[string]string) (int64, string) {
	p.t.Helper()
	before := p.count(`SELECT COALESCE(max(id), 0) FROM fundraisers`)
	if r := p.upload(c, "/fundraise/new", fields, "", nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/fundraise?done=created" {
		p.t.Fatalf("create page: %d %s %s", r.status, r.header.Get("Location"), text(r.doc))
	}
	var id int64
	var slug string
	if err := p.store.Pool().QueryRow(context.Background(), `SELECT id, slug FROM fundraisers WHERE id > $1`, before).Scan(&id, &slug); err != nil {
		p.t.Fatal(err)
	}
	return id, slug
}

func (p *pagesSite) approve(id int64) {
	p.t.Helper()
	admin := p.as("admin@example.org")
	if r := p.send(admin, http.MethodPost, fmt.Sprintf("/admin/fundraisers/%d/status", id), url.Values{"status": {"approved"}}); r.status != http.StatusSeeOther {
		p.t.Fatalf("approve page %d: %d", id, r.status)
	}
}

// give makes and pays one sandbox gift from the page at path, with the form's fields set.
// It returns the thank-you page's path the donor's browser is sent to.
func (p *pagesSite) give(path, tier string, set map[string]string) string {
	p.t.Helper()
	page := p.get(path)
	f := donateForm(p.t, page.doc)
	f.Set("tier", tierID(p.t, page.doc, tier))
	for k, v := range set {
		f.Set(k, v)
	}
	r := p.post("/donate", f)
	if r.status != http.StatusSeeOther {
		p.t.Fatalf("donate on %s: %d %s", path, r.status, text(r.doc))
	}
	r = p.post(r.header.Get("Location")+"/pay", sandboxPayer)
	if r.status != http.StatusSeeOther {
		p.t.Fatalf("pay: %d %s", r.status, r.body)
	}
	return pathOf(p.t, p.site, r.header.Get("Location"))
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 32, 24))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (p *pagesSite) noDifferences() {
	p.t.Helper()
	ctx := context.Background()
	if diffs, err := ledger.CompareTotals(ctx, p.store); err != nil || len(diffs) != 0 {
		p.t.Errorf("CompareTotals: %v %v", diffs, err)
	}
	res, err := payments.ReplayEvents(ctx, p.store.Pool(), false)
	if err != nil || len(res.Differences) != 0 {
		p.t.Errorf("replay: %+v %v", res.Differences, err)
	}
}

func TestFundraiserPageFromSignupToGifts(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby, sam, anon, trustee := p.as("ruby@example.org"), p.as("sam@example.org"), p.as(""), p.as("trustee@example.org")

	if r := p.send(ruby, http.MethodGet, "/fundraise/new", nil); r.status != http.StatusOK || byID(r.doc, "title") == nil {
		t.Fatalf("GET /fundraise/new: %d", r.status)
	}
	photo := testPNG(t)
	story := "I'm running 10k for women rebuilding their lives.\n\nMy training log: https://example.org/ruby?week=1.\nThanks!"
	r := p.upload(ruby, "/fundraise/new", map[string]string{"title": "Ruby's Run", "story": story, "target": "£750", "slug": ""}, "me.png", photo)
	if r.status != http.StatusSeeOther {
		t.Fatalf("create page: %d %s", r.status, text(r.doc))
	}
	var id int64
	var status string
	if err := p.store.Pool().QueryRow(context.Background(), `SELECT id, status FROM fundraisers WHERE slug = 'rubys-run'`).Scan(&id, &status); err != nil {
		t.Fatalf("no page at the address suggested from the title: %v", err)
	}
	if status != "pending" {
		t.Errorf("new page status %q, want pending", status)
	}

	dash := p.send(ruby, http.MethodGet, "/fundraise", nil)
	if card := byID(dash.doc, fmt.Sprintf("page-%d", id)); card == nil || !strings.Contains(text(card), "Waiting for the charity's approval") {
		t.Errorf("dashboard does not show the pending page: %q", text(dash.doc))
	}

	// Not public until approved: the page, its JSON and its photo are 404 to everyone
	// but its owner (and trustees) for the photo.
	for _, path := range []string{"/f/rubys-run", "/api/fundraisers/rubys-run", "/f/rubys-run/photo"} {
		for name, c := range map[string]*http.Client{"visitor": anon, "Sam": sam} {
			if r := p.send(c, http.MethodGet, path, nil); r.status != http.StatusNotFound {
				t.Errorf("%s GET %s before approval: %d, want 404", name, path, r.status)
			}
		}
	}
	for name, c := range map[string]*http.Client{"Ruby": ruby, "a trustee": trustee} {
		if r := p.send(c, http.MethodGet, "/f/rubys-run/photo", nil); r.status != http.StatusOK || !strings.Contains(r.header.Get("Cache-Control"), "no-store") {
			t.Errorf("%s GET the pending page's photo: %d %q", name, r.status, r.header.Get("Cache-Control"))
		}
	}
	admin := p.as("admin@example.org")
	if r := p.send(admin, http.MethodGet, "/admin", nil); !strings.Contains(text(r.doc), "Ruby's Run /f/rubys-run Waiting for approval") {
		t.Errorf("/admin does not list the pending page: %q", text(r.doc))
	}
	p.approve(id)

	page := p.get("/f/rubys-run")
	if page.status != http.StatusOK {
		t.Fatalf("/f/rubys-run after approval: %d", page.status)
	}
	if h1 := findAll(page.doc, isElem("h1")); len(h1) == 0 || text(h1[0]) != "Ruby's Run" {
		t.Errorf("h1 %q", text(h1[0]))
	}
	storyEl := withClass(page.doc, "story")
	if len(storyEl) == 0 || len(findAll(storyEl[0], isElem("p"))) != 2 {
		t.Fatalf("story is not two paragraphs: %q", text(page.doc))
	}
	links := findAll(storyEl[0], isElem("a"))
	if len(links) != 1 || attrVal(links[0], "href") != "https://example.org/ruby?week=1" || attrVal(links[0], "rel") != "nofollow ugc noopener" {
		t.Errorf("story link: %d links, first %v", len(links), links)
	}

	ph := p.get("/f/rubys-run/photo")
	for h, want := range map[string]string{"Content-Type": "image/png", "X-Content-Type-Options": "nosniff",
		"Content-Disposition": "inline", "Cache-Control": "max-age="} {
		if got := ph.header.Get(h); !strings.Contains(got, want) {
			t.Errorf("photo %s = %q, want %q", h, got, want)
		}
	}
	if cfg, _, err := image.DecodeConfig(strings.NewReader(ph.body)); ph.status != http.StatusOK || err != nil || cfg.Width != 32 || cfg.Height != 24 || ph.header.Get("ETag") == "" {
		t.Errorf("photo: %d, %d bytes (%v), want a 32x24 copy of the one uploaded", ph.status, len(ph.body), err)
	}
	if imgs := findAll(page.doc, func(n *html.Node) bool { return isElem("img")(n) && attrVal(n, "src") == "/f/rubys-run/photo" }); len(imgs) != 1 {
		t.Error("the public page does not show the photo")
	}

	// A gift straight to the appeal and two through Ruby's page.
	p.give("/", "£3.00", nil)
	p.give("/f/rubys-run", "£15.00", nil)
	p.give("/f/rubys-run", "£40.00", map[string]string{"frequency": "monthly"})
	fr, appeal := p.totals("/api/fundraisers/rubys-run"), p.appealTotals()
	if fr.Raised != "55.00" || fr.Donations != 2 || fr.Target != "750.00" {
		t.Errorf("Ruby's page JSON %+v, want 55.00 of 750.00 from 2 gifts", fr)
	}
	if appeal.Raised != "58.00" || appeal.Donations != 3 {
		t.Errorf("appeal %+v, want 58.00 = 3.00 direct + 55.00 through Ruby's page", appeal)
	}
	dash = p.send(ruby, http.MethodGet, "/fundraise", nil)
	if got := progressFigures(dash.doc); !strings.Contains(got, "£55.00 raised of £750.00") {
		t.Errorf("dashboard progress %q", got)
	}
	if rows := withClass(dash.doc, "gift"); len(rows) != 2 {
		t.Errorf("dashboard lists %d gifts, want Ruby's 2 (not the appeal's)", len(rows))
	}

	// Edited after approval, the page stays public with the new words.
	if r := p.upload(ruby, fmt.Sprintf("/fundraise/%d/edit", id), map[string]string{"title": "Ruby's Half Marathon", "story": "21k now",
		"target": "1000", "slug": "rubys-run"}, "", nil); r.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", r.status, text(r.doc))
	}
	if h1 := findAll(p.get("/f/rubys-run").doc, isElem("h1")); len(h1) == 0 || text(h1[0]) != "Ruby's Half Marathon" {
		t.Error("the edit did not reach the public page, or the page was unpublished")
	}
	p.noDifferences()
}

func TestAnotherFundraiserCannotReachRubysPage(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby, sam := p.as("ruby@example.org"), p.as("sam@example.org")
	id, slug := p.newPage(ruby, map[string]string{"title": "Ruby's Run", "target": "500", "story": "original"})
	ids := []string{fmt.Sprint(id), "0", "999999", "x"}
	for _, pid := range ids {
		if r := p.send(sam, http.MethodGet, "/fundraise/"+pid+"/edit", nil); r.status != http.StatusNotFound {
			t.Errorf("Sam GET /fundraise/%s/edit: %d, want 404", pid, r.status)
		}
	}
	edit := map[string]string{"title": "Sam's now", "target": "1", "story": "<b>mine</b>"}
	if r := p.upload(sam, fmt.Sprintf("/fundraise/%d/edit", id), edit, "", nil); r.status != http.StatusNotFound {
		t.Errorf("Sam POST edit of Ruby's page: %d, want 404", r.status)
	}
	if r := p.send(sam, http.MethodPost, fmt.Sprintf("/fundraise/%d/offline", id), url.Values{"amount": {"10"},
		"date": {time.Now().In(campaigns.London()).Format(time.DateOnly)}, "kind": {"cash"}}); r.status != http.StatusNotFound {
		t.Errorf("Sam records offline money on Ruby's page: %d, want 404", r.status)
	}
	if dash := p.send(sam, http.MethodGet, "/fundraise", nil); strings.Contains(dash.body, "Ruby&#39;s Run") || strings.Contains(dash.body, "Ruby's Run") {
		t.Error("Sam's dashboard shows Ruby's page")
	}
	for _, path := range []string{"/f/" + slug, "/f/" + slug + "/photo", "/api/fundraisers/" + slug} {
		if r := p.send(sam, http.MethodGet, path, nil); r.status != http.StatusNotFound {
			t.Errorf("Sam GET %s of a pending page: %d, want 404", path, r.status)
		}
	}
	var title, story string
	if err := p.store.Pool().QueryRow(context.Background(), `SELECT title, story FROM fundraisers WHERE id = $1`, id).Scan(&title, &story); err != nil {
		t.Fatal(err)
	}
	if title != "Ruby's Run" || story != "original" || p.count(`SELECT count(*) FROM offline_takings`) != 0 {
		t.Errorf("Sam changed Ruby's page: %q %q", title, story)
	}

	// Only fundraisers have pages; logged-out visitors are sent to log in.
	if r := p.send(p.as("admin@example.org"), http.MethodGet, "/fundraise", nil); r.status != http.StatusForbidden {
		t.Errorf("admin GET /fundraise: %d, want 403", r.status)
	}
	if r := p.send(p.as(""), http.MethodGet, "/fundraise/new", nil); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Errorf("logged out GET /fundraise/new: %d %s", r.status, r.header.Get("Location"))
	}
	// Only admins verify offline money.
	taking, err := pages.SubmitOffline(context.Background(), p.store, accounts.User{ID: userID(t, p, "ruby@example.org"), Role: accounts.RoleFundraiser},
		id, pages.OfflineInput{Amount: decimal.RequireFromString("25"), ReceivedOn: londonToday(), Kind: "cash"})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"ruby@example.org", "sam@example.org", "trustee@example.org"} {
		if r := p.send(p.as(who), http.MethodPost, fmt.Sprintf("/admin/offline/%d/verify", taking), url.Values{}); r.status != http.StatusForbidden {
			t.Errorf("%s verifies offline money: %d, want 403", who, r.status)
		}
	}
	if n := p.count(`SELECT count(*) FROM ledger_entries`); n != 0 {
		t.Errorf("%d ledger entries after refused verifications", n)
	}
}

func TestPagesShowHostileTextAsText(t *testing.T) {
	t.Parallel()
	const script, img = `<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`
	p := newPagesSite(t)
	ruby := p.as("ruby@example.org")
	title := "Ruby " + script + img
	story := "Click javascript:alert(1) or <a href=\"javascript:alert(1)\">me</a>\n\n" + img + " https://example.org/x\"onmouseover=alert(1)"
	id, slug := p.newPage(ruby, map[string]string{"title": title, "story": story, "target": "100"})
	p.approve(id)
	p.give("/f/"+slug, "£3.00", map[string]string{"display_name": script, "message": img + " javascript:alert(1)"})

	pages := map[string]response{"public page": p.get("/f/" + slug), "dashboard": p.send(ruby, http.MethodGet, "/fundraise", nil),
		"edit page": p.send(ruby, http.MethodGet, fmt.Sprintf("/fundraise/%d/edit", id), nil),
		"admin":     p.send(p.as("admin@example.org"), http.MethodGet, "/admin", nil)}
	for name, r := range pages {
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d", name, r.status)
		}
		for _, raw := range []string{"<script>alert(1)", "<img src=x", `href="javascript:`} {
			if strings.Contains(r.body, raw) {
				t.Errorf("%s contains %q unescaped", name, raw)
			}
		}
		if !strings.Contains(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s does not show the title as text", name)
		}
		for _, a := range findAll(r.doc, isElem("a")) {
			if href := strings.ToLower(strings.TrimSpace(attrVal(a, "href"))); strings.HasPrefix(href, "javascript:") {
				t.Errorf("%s has a javascript: link", name)
			}
		}
		for _, n := range findAll(r.doc, func(n *html.Node) bool { return n.Type == html.ElementNode }) {
			if _, ok := attr(n, "onerror"); ok {
				t.Errorf("%s has an element with onerror", name)
			}
			if _, ok := attr(n, "onmouseover"); ok {
				t.Errorf("%s has an element with onmouseover", name)
			}
		}
	}
	pub := pages["public page"]
	if h1 := findAll(pub.doc, isElem("h1")); len(h1) == 0 || text(h1[0]) != title {
		t.Errorf("h1 %q, want the title as typed", text(h1[0]))
	}
	if names := withClass(pub.doc, "wall-name"); len(names) != 1 || text(names[0]) != script {
		t.Errorf("wall name not shown as typed")
	}
	if names := withClass(pages["dashboard"].doc, "gift-name"); len(names) != 1 || text(names[0]) != script {
		t.Errorf("dashboard donor name not shown as typed")
	}
}

func TestDonorPrivacyHoldsForTheFundraiser(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby := p.as("ruby@example.org")
	id, slug := p.newPage(ruby, map[string]string{"title": "Ruby's Run", "target": "500"})
	p.approve(id)
	p.give("/f/"+slug, "£3.00", map[string]string{"display_name": "Alice Open", "message": "Go Ruby!"})
	p.give("/f/"+slug, "£15.00", map[string]string{"display_name": "Secret Sam", "hide_name": "1"})
	p.give("/f/"+slug, "£40.00", map[string]string{"display_name": "Quiet Quinn", "hide_amount": "1"})

	wall := p.get("/f/" + slug)
	js := p.get("/api/fundraisers/" + slug)
	dash := p.send(ruby, http.MethodGet, "/fundraise", nil)
	// The page's donate form offers a £40 tier, so the wall is read on its own.
	wallText := text(byID(wall.doc, "wall-h").Parent)
	if !strings.Contains(wallText, "Anonymous") || !strings.Contains(wallText, "Quiet Quinn") {
		t.Errorf("wall: %q", wallText)
	}
	for name, body := range map[string]string{"wall": wallText, "public page": wall.body, "JSON": js.body, "dashboard": dash.body} {
		for _, secret := range []string{"Secret Sam", "sandbox-donor@example.org", "£40.00", "40.00"} {
			if strings.Contains(body, secret) && !(name == "public page" && strings.Contains(secret, "40")) {
				t.Errorf("%s shows %q", name, secret)
			}
		}
	}
	rows := map[string]*html.Node{}
	for _, g := range withClass(dash.doc, "gift") {
		rows[text(withClass(g, "gift-name")[0])] = g
	}
	if g := rows["Anonymous"]; g == nil || text(withClass(g, "gift-amount")[0]) != "£15.00" {
		t.Errorf("anonymous gift on the dashboard: %q", text(g))
	}
	if g := rows["Quiet Quinn"]; g == nil || text(withClass(g, "gift-amount")[0]) != "" {
		t.Errorf("hidden amount on the dashboard: %q", text(g))
	}
	alice := rows["Alice Open"]
	if alice == nil || text(withClass(alice, "gift-amount")[0]) != "£3.00" || text(withClass(alice, "gift-message")[0]) != "Go Ruby!" {
		t.Fatalf("Alice's gift on the dashboard: %q", text(alice))
	}

	// Thank Alice: the note is queued to her address, which Ruby never sees; once only.
	forms := findAll(alice, func(n *html.Node) bool { return isElem("form")(n) && strings.HasSuffix(attrVal(n, "action"), "/thank") })
	if len(forms) != 1 {
		t.Fatalf("no thank form for Alice's gift")
	}
	action := attrVal(forms[0], "action")
	if r := p.send(ruby, http.MethodPost, action, url.Values{"message": {""}}); r.status != http.StatusUnprocessableEntity || byID(r.doc, "message-error") == nil {
		t.Errorf("empty thank-you: %d, want 422 with the problem beside the field", r.status)
	}
	sam := p.as("sam@example.org")
	if r := p.send(sam, http.MethodPost, action, url.Values{"message": {"Hi from Sam"}}); r.status != http.StatusNotFound {
		t.Errorf("Sam thanks Ruby's donor: %d, want 404", r.status)
	}
	if r := p.send(ruby, http.MethodPost, action, url.Values{"message": {"Thank you so much, Alice!"}}); r.status != http.StatusSeeOther {
		t.Fatalf("thank: %d %s", r.status, text(r.doc))
	}
	if r := p.send(ruby, http.MethodPost, action, url.Values{"message": {"Thanks again"}}); r.status != http.StatusConflict {
		t.Errorf("thanking twice: %d, want 409", r.status)
	}
	var to, subject, body string
	// Mail to accounts (the page waiting, then live) is not a donor's thanks.
	if err := p.store.Pool().QueryRow(context.Background(), `SELECT to_address, subject, body FROM mail_outbox WHERE to_address NOT IN (SELECT email FROM users)`).Scan(&to, &subject, &body); err != nil {
		t.Fatalf("one thank-you in the outbox: %v", err)
	}
	if to != "sandbox-donor@example.org" || !strings.Contains(body, "Thank you so much, Alice!") || !strings.Contains(subject, "Ruby's Run") {
		t.Errorf("queued thanks to %q: %q %q", to, subject, body)
	}
	dash = p.send(ruby, http.MethodGet, "/fundraise", nil)
	for _, g := range withClass(dash.doc, "gift") {
		if text(withClass(g, "gift-name")[0]) == "Alice Open" && (len(withClass(g, "thanked")) != 1 || len(findAll(g, isElem("textarea"))) != 0) {
			t.Errorf("Alice's gift not marked thanked: %q", text(g))
		}
	}
	if strings.Contains(dash.body, "sandbox-donor@example.org") {
		t.Error("the dashboard shows a donor's email")
	}
}

func TestOfflineMoneyThroughTheSite(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby, admin := p.as("ruby@example.org"), p.as("admin@example.org")
	id, slug := p.newPage(ruby, map[string]string{"title": "Ruby's Run", "target": "500"})
	p.approve(id)
	offline := fmt.Sprintf("/fundraise/%d/offline", id)
	today := time.Now().In(campaigns.London())

	bad := p.send(ruby, http.MethodPost, offline, url.Values{"amount": {"lots"}, "date": {today.AddDate(0, 0, 2).Format(time.DateOnly)}, "kind": {"gold"}})
	if bad.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad offline money: %d", bad.status)
	}
	for _, f := range []string{"offline_amount-error", "offline_date-error", "offline_kind-error"} {
		if byID(bad.doc, f) == nil {
			t.Errorf("no #%s beside the field", f)
		}
	}
	if r := p.send(ruby, http.MethodPost, offline, url.Values{"amount": {"£120.50"}, "date": {today.Format(time.DateOnly)},
		"kind": {"cash"}, "note": {"bake sale"}}); r.status != http.StatusSeeOther {
		t.Fatalf("record offline money: %d %s", r.status, text(r.doc))
	}
	dash := p.send(ruby, http.MethodGet, "/fundraise", nil)
	if st := withClass(dash.doc, "offline-status"); len(st) != 1 || !strings.Contains(text(st[0]), "Waiting") {
		t.Errorf("dashboard offline status: %q", text(dash.doc))
	}
	if got := p.totals("/api/fundraisers/" + slug); got.Raised != "0.00" {
		t.Errorf("unverified offline money counts: %+v", got)
	}
	adm := p.send(admin, http.MethodGet, "/admin", nil)
	forms := findAll(adm.doc, func(n *html.Node) bool {
		return isElem("form")(n) && strings.HasSuffix(attrVal(n, "action"), "/verify") && strings.HasPrefix(attrVal(n, "action"), "/admin/offline/")
	})
	if len(forms) != 1 || !strings.Contains(text(adm.doc), "£120.50 Cash") {
		t.Fatalf("/admin lists %d offline takings: %q", len(forms), text(adm.doc))
	}
	verify := attrVal(forms[0], "action")
	for i := 0; i < 2; i++ { // verifying twice adds nothing
		if r := p.send(admin, http.MethodPost, verify, url.Values{}); r.status != http.StatusSeeOther {
			t.Fatalf("verify #%d: %d", i+1, r.status)
		}
	}
	if got := p.totals("/api/fundraisers/" + slug); got.Raised != "120.50" || got.GiftAid != "0.00" {
		t.Errorf("page after verifying: %+v, want 120.50 with no Gift Aid", got)
	}
	if got := p.appealTotals(); got.Raised != "120.50" || got.GiftAid != "0.00" {
		t.Errorf("appeal after verifying: %+v", got)
	}
	if n := p.count(`SELECT count(*) FROM ledger_entries WHERE gift_aid_base = 0 AND fundraiser_id = $1`, id); n != 1 || p.count(`SELECT count(*) FROM ledger_entries`) != 1 {
		t.Errorf("ledger after verifying twice: %d entries", n)
	}
	dash = p.send(ruby, http.MethodGet, "/fundraise", nil)
	if st := withClass(dash.doc, "offline-status"); len(st) != 1 || !strings.Contains(text(st[0]), "added to your total") {
		t.Errorf("dashboard offline status after verifying: %q", text(dash.doc))
	}
	if log := p.send(admin, http.MethodGet, "/trustees/audit", nil); webtest.Count(t, log.body, `table.audit-log tbody td:contains("offline money verified")`) == 0 {
		t.Error("the verification is not in the audit log")
	}
	p.noDifferences()

	// Verified by mistake: the admin reverses it, and must say why.
	reverse := strings.Replace(verify, "/verify", "/reverse", 1)
	field := "reason-" + strings.Split(verify, "/")[3]
	if r := p.send(admin, http.MethodGet, "/admin", nil); byID(r.doc, field) == nil {
		t.Fatalf("/admin offers no #%s to reverse the verified money", field)
	} else if labels := findAll(r.doc, func(n *html.Node) bool { return isElem("label")(n) && attrVal(n, "for") == field }); len(labels) != 1 {
		t.Errorf("the reversal's reason field has %d labels, want 1", len(labels))
	}
	noReason := p.send(admin, http.MethodPost, reverse, url.Values{"reason": {"  "}})
	if noReason.status != http.StatusUnprocessableEntity || byID(noReason.doc, field+"-error") == nil ||
		attrVal(byID(noReason.doc, field), "aria-invalid") != "true" {
		t.Fatalf("a reversal without a reason: %d; want 422 with the problem beside #%s", noReason.status, field)
	}
	if got := p.totals("/api/fundraisers/" + slug); got.Raised != "120.50" {
		t.Errorf("a refused reversal moved the page: %+v", got)
	}
	if r := p.send(admin, http.MethodPost, reverse, url.Values{"reason": {"Counted twice: it was the same cash as the 1 December entry"}}); r.status != http.StatusSeeOther {
		t.Fatalf("reverse: %d %s", r.status, text(r.doc))
	} else if after := p.send(admin, http.MethodGet, r.header.Get("Location"), nil); !strings.Contains(text(byID(after.doc, "admin-notice")), "reversed") {
		t.Errorf("after reversing, the admin page says %q", text(byID(after.doc, "admin-notice")))
	}
	if got := p.totals("/api/fundraisers/" + slug); got.Raised != "0.00" {
		t.Errorf("page after the reversal: %+v, want 0.00", got)
	}
	if got := p.appealTotals(); got.Raised != "0.00" {
		t.Errorf("appeal after the reversal: %+v, want 0.00", got)
	}
	dash = p.send(ruby, http.MethodGet, "/fundraise", nil)
	if st := withClass(dash.doc, "offline-status"); len(st) != 1 || !strings.Contains(text(st[0]), "Counted twice") {
		t.Errorf("Ruby's dashboard after the reversal: %q", text(dash.doc))
	}
	if r := p.send(ruby, http.MethodPost, reverse, url.Values{"reason": {"mine"}}); r.status != http.StatusForbidden {
		t.Errorf("a fundraiser reverses offline money: %d, want 403", r.status)
	}
	p.noDifferences()
}

func TestPageFormRefusesBadInput(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby := p.as("ruby@example.org")
	p.newPage(ruby, map[string]string{"title": "Ruby's Run", "target": "500"})
	html5 := []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")
	big := append(testPNG(t), bytes.Repeat([]byte{0}, pages.MaxPhotoBytes)...)
	for _, tc := range []struct {
		name     string
		fields   map[string]string
		file     string
		data     []byte
		field    string
		contains string
	}{
		{"target too small", map[string]string{"title": "T", "target": "0.50"}, "", nil, "target", "£1"},
		{"target too big", map[string]string{"title": "T", "target": "1,000,000.01"}, "", nil, "target", "£1,000,000"},
		{"target not money", map[string]string{"title": "T", "target": "lots"}, "", nil, "target", "pounds"},
		{"no title", map[string]string{"title": " ", "target": "10"}, "", nil, "title", "title"},
		{"taken slug", map[string]string{"title": "T", "target": "10", "slug": "rubys-run"}, "", nil, "slug", "rubys-run-2"},
		{"bad slug", map[string]string{"title": "T", "target": "10", "slug": "r!"}, "", nil, "slug", "lower-case"},
		{"HTML renamed .png", map[string]string{"title": "T", "target": "10"}, "photo.png", html5, "photo", "JPEG, PNG or WebP"},
		{"oversize photo", map[string]string{"title": "T", "target": "10"}, "big.png", big, "photo", "5 MB"},
	} {
		r := p.upload(ruby, "/fundraise/new", tc.fields, tc.file, tc.data)
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", tc.name, r.status)
			continue
		}
		if e := byID(r.doc, tc.field+"-error"); e == nil || !strings.Contains(text(e), tc.contains) {
			t.Errorf("%s: #%s-error = %q, want it to mention %q", tc.name, tc.field, text(e), tc.contains)
		}
		if in := byID(r.doc, "title"); in == nil || attrVal(in, "value") != tc.fields["title"] {
			t.Errorf("%s: the form lost what was typed", tc.name)
		}
	}
	if n := p.count(`SELECT count(*) FROM fundraisers`); n != 1 {
		t.Errorf("%d pages after refused forms, want 1", n)
	}
	if n := p.count(`SELECT count(*) FROM fundraiser_photos`); n != 0 {
		t.Errorf("%d photos stored from refused uploads", n)
	}
}

func TestPageRoutesRefuseCrossSitePosts(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby, admin := p.as("ruby@example.org"), p.as("admin@example.org")
	id, _ := p.newPage(ruby, map[string]string{"title": "Ruby's Run", "target": "500"})
	cross := []string{"Sec-Fetch-Site", "cross-site"}
	for path, c := range map[string]*http.Client{
		"/fundraise/new":                                ruby,
		fmt.Sprintf("/fundraise/%d/edit", id):           ruby,
		fmt.Sprintf("/fundraise/%d/offline", id):        ruby,
		"/fundraise/gifts/" + zeroUUID + "/thank":       ruby,
		"/admin/offline/1/verify":                       admin,
		"/admin/offline/1/reverse":                      admin,
		fmt.Sprintf("/admin/fundraisers/%d/status", id): admin,
	} {
		form := url.Values{"title": {"Forged"}, "target": {"5"}, "amount": {"5"}, "kind": {"cash"},
			"date": {time.Now().In(campaigns.London()).Format(time.DateOnly)}, "message": {"hi"}, "status": {"approved"}}
		if r := p.send(c, http.MethodPost, path, form, cross...); r.status != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d, want 403", path, r.status)
		}
	}
	if n := p.count(`SELECT count(*) FROM fundraisers WHERE title = 'Forged' OR status <> 'pending'`); n != 0 {
		t.Errorf("a cross-site post changed %d pages", n)
	}
	if n := p.count(`SELECT count(*) FROM offline_takings`); n != 0 {
		t.Errorf("a cross-site post recorded offline money")
	}
}

const zeroUUID = "00000000-0000-0000-0000-000000000000"

func userID(t *testing.T, p *pagesSite, email string) int64 {
	t.Helper()
	return int64(p.count(`SELECT id FROM users WHERE email = $1`, email))
}

func londonToday() time.Time {
	n := time.Now().In(campaigns.London())
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}
