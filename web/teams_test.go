package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"giving/payments"
	"giving/web/webtest"
)

// startTeam starts a team with Ruby's page id through her settings screen and returns the
// join link shown to her as captain.
func (p *pagesSite) startTeam(c *http.Client, id int64, name, target string) string {
	p.t.Helper()
	more := fmt.Sprintf("/fundraise/%d/more", id)
	if r := p.send(c, http.MethodPost, fmt.Sprintf("/fundraise/%d/team", id), url.Values{"team_name": {name}, "team_target": {target}}); r.status != http.StatusSeeOther || r.header.Get("Location") != more+"?done=team" {
		p.t.Fatalf("start team: %d %s %s", r.status, r.header.Get("Location"), text(r.doc))
	}
	r := p.send(c, http.MethodGet, more, nil)
	return webtest.Attr(p.t, r.body, ".share-url a", "href")
}

// refund sends Stripe's signed charge.refunded for the gift on a page, as Stripe would:
// the amount refunded so far, in pence.
func (p *pagesSite) refund(pageSlug string, refundedPence int64) {
	p.t.Helper()
	var pi string
	var amount decimal.Decimal
	if err := p.store.Pool().QueryRow(context.Background(), `SELECT d.payment_intent_id, d.amount FROM donations d
		JOIN fundraisers f ON f.id = d.fundraiser_id WHERE f.slug = $1 AND d.payment_intent_id IS NOT NULL`, pageSlug).Scan(&pi, &amount); err != nil {
		p.t.Fatal(err)
	}
	payload := payments.EventBuilder{}.ChargeRefunded("", pi, amount.Shift(2).IntPart(), refundedPence, payments.Meta{})
	req, err := http.NewRequest(http.MethodPost, p.abs("/webhooks/stripe"), strings.NewReader(string(payload)))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", payments.SignPayload(payload, webhookSecret, time.Now()))
	if r := p.do(req); r.status != http.StatusOK {
		p.t.Fatalf("refund webhook: %d %s", r.status, r.body)
	}
}

// TestTeamTotalIsTheSumOfItsPagesAfterRefunds: Ruby starts a team and shares its link, Sam
// joins with his page; gifts on both pages and one on the appeal itself; part of Sam's is
// refunded. The team's total is exactly the sum of its two pages' totals (the appeal's
// own gift is not in it, the refund is taken off), its leaderboard lists the most raised
// first, and a page cannot be in two teams.
func TestTeamTotalIsTheSumOfItsPagesAfterRefunds(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby, sam := p.as(rubyUser.email), p.as(samUser.email)
	rubyID, rubySlug := p.newPage(ruby, map[string]string{"title": "Ruby runs the 10k", "target": "500"})
	samID, samSlug := p.newPage(sam, map[string]string{"title": "Sam swims a mile", "target": "300"})
	p.approve(rubyID)
	p.approve(samID)

	join := p.startTeam(ruby, rubyID, "The Office Runners", "2000")
	if !strings.Contains(join, "/fundraise/teams/join/") {
		t.Fatalf("the captain's join link is %q", join)
	}
	if r := p.send(sam, http.MethodGet, join, nil); r.status != http.StatusOK || !strings.Contains(webtest.Text(t, r.body, "h1"), "The Office Runners") {
		t.Fatalf("Sam opens the join link: %d", r.status)
	}
	r := p.send(sam, http.MethodPost, join, url.Values{"page": {fmt.Sprint(samID)}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/t/the-office-runners" {
		t.Fatalf("Sam joins: %d %s", r.status, r.header.Get("Location"))
	}
	// Sam's page is in a team now: it cannot join a second one.
	other, _ := p.newPage(sam, map[string]string{"title": "Sam's second page", "target": "100"})
	second := p.startTeam(sam, other, "Sam's own team", "100")
	if r := p.send(sam, http.MethodPost, second, url.Values{"page": {fmt.Sprint(samID)}}); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(webtest.Text(t, r.body, ".error-summary"), "is in the team The Office Runners already") {
		t.Errorf("a page joining a second team: %d %s", r.status, text(r.doc))
	}
	// Ruby's page by id in Sam's join form is not his to move: as if it did not exist.
	if r := p.send(sam, http.MethodPost, join, url.Values{"page": {fmt.Sprint(rubyID)}}); r.status != http.StatusNotFound {
		t.Errorf("Sam joins with Ruby's page: %d, want 404", r.status)
	}

	p.give("/f/"+rubySlug, "£40.00", nil)
	p.give("/f/"+rubySlug, "£3.00", nil)
	p.give("/f/"+samSlug, "£15.00", nil)
	p.give("/", "£15.00", nil) // the appeal's own: no page's, no team's
	p.refund(samSlug, 500)     // £5 of Sam's £15 back

	rubyTotal, samTotal := p.totals("/api/fundraisers/"+rubySlug), p.totals("/api/fundraisers/"+samSlug)
	if rubyTotal.Raised != "43.00" || samTotal.Raised != "10.00" {
		t.Fatalf("pages raised %s and %s, want 43.00 and 10.00", rubyTotal.Raised, samTotal.Raised)
	}
	team := p.get("/t/the-office-runners")
	if team.status != http.StatusOK {
		t.Fatalf("team page: %d", team.status)
	}
	sum := decimal.RequireFromString(rubyTotal.Raised).Add(decimal.RequireFromString(samTotal.Raised))
	if got, want := webtest.Text(t, team.body, ".team-total"), payments.FormatPounds(sum); got != want || got != "£53.00" {
		t.Errorf("the team's total reads %s, want the sum of its pages %s (£53.00)", got, want)
	}
	if got := webtest.Text(t, team.body, ".progress .raised"); got != "£53.00" {
		t.Errorf("the team's progress reads %s", got)
	}
	var board []string
	for _, n := range webtest.Find(t, team.body, ".team-table tbody tr") {
		board = append(board, webtest.NodeText(n))
	}
	if want := []string{"1 Ruby runs the 10k £43.00 2", "2 Sam swims a mile £10.00 1"}; strings.Join(board, "|") != strings.Join(want, "|") {
		t.Errorf("the leaderboard reads %q, want %q", board, want)
	}
	if got := webtest.Text(t, p.get("/f/"+samSlug).body, ".page-team"); got != "Part of the team The Office Runners" {
		t.Errorf("Sam's page says %q about its team", got)
	}
	p.noDifferences()
}

// TestCompletedPageRefusesAGift: Ruby's page ends today; it takes a gift today, and the
// day after it shows its total as completed, without the form, and a gift posted to it
// (a form left open overnight) is refused with a clear message and the appeal offered,
// with nothing created and nothing charged.
func TestCompletedPageRefusesAGift(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	p := &pagesSite{newSite(t, siteOptions{users: []user{rubyUser, adminUser}, clock: func() time.Time { return time.Unix(0, now.Load()) }})}
	ruby := p.as(rubyUser.email)
	id, slug := p.newPage(ruby, map[string]string{"title": "Ruby's charity ride", "target": "500"})
	p.approve(id)
	today := time.Unix(0, now.Load()).In(londonToday().Location()).Format(time.DateOnly)
	if r := p.send(ruby, http.MethodPost, fmt.Sprintf("/fundraise/%d/lifecycle", id), url.Values{"ends_on": {"2020-01-01"}}); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(webtest.Text(t, r.body, "#ends_on-error"), "today or a later day") {
		t.Errorf("an end date in the past: %d", r.status)
	}
	if r := p.send(ruby, http.MethodPost, fmt.Sprintf("/fundraise/%d/lifecycle", id), url.Values{"ends_on": {today}}); r.status != http.StatusSeeOther {
		t.Fatalf("set the end date: %d %s", r.status, text(r.doc))
	}
	p.give("/f/"+slug, "£40.00", nil) // its last day: still open
	open := p.get("/f/" + slug)
	form := donateForm(t, open.doc)
	form.Set("tier", tierID(t, open.doc, "£15.00"))

	now.Add(int64(25 * time.Hour))
	page := p.get("/f/" + slug)
	webtest.None(t, page.body, "form.donate")
	if got := webtest.Text(t, page.body, ".page-completed"); !strings.Contains(got, "This page has finished") || !strings.Contains(got, "raised £40.00") {
		t.Errorf("the completed page reads %q", got)
	}
	before := p.donations()
	r := p.post("/donate", form)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("a gift to a completed page: %d, want 422", r.status)
	}
	msg := webtest.Text(t, r.body, ".page-completed #donate-message")
	if !strings.Contains(msg, "This page closed on") || !strings.Contains(msg, "takes no more gifts. Nothing was charged. You can still give to Fundraising for Freedom.") {
		t.Errorf("the refusal reads %q", msg)
	}
	if href := webtest.Attr(t, r.body, ".page-completed a.give", "href"); href != "/#donate" {
		t.Errorf("the appeal is offered at %q", href)
	}
	if p.donations() != before {
		t.Error("a gift to a completed page was recorded")
	}
	if got := p.totals("/api/fundraisers/" + slug).Raised; got != "40.00" {
		t.Errorf("the completed page's total is %s", got)
	}
}

// TestMemorialPageAndUpdates: a page in memory of someone says so gently and lists its
// gifts as tributes; Ruby's updates show newest first, escaped, and only she can post or
// delete them, each change audited.
func TestMemorialPageAndUpdates(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby, sam := p.as(rubyUser.email), p.as(samUser.email)
	id, slug := p.newPage(ruby, map[string]string{"title": "For Mum", "story": "Mum gave her time to women rebuilding their lives.", "target": "1000"})
	p.approve(id)
	lifecycle := fmt.Sprintf("/fundraise/%d/lifecycle", id)
	if r := p.send(ruby, http.MethodPost, lifecycle, url.Values{"in_memory_of": {"Margaret Jones"}, "ends_on": {londonToday().AddDate(0, 1, 0).Format(time.DateOnly)}}); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(webtest.Text(t, r.body, "#ends_on-error"), "in memory of someone stays open") {
		t.Errorf("a memorial page with an end date: %d", r.status)
	}
	if r := p.send(ruby, http.MethodPost, lifecycle, url.Values{"in_memory_of": {"Margaret Jones"}}); r.status != http.StatusSeeOther {
		t.Fatalf("set in memory of: %d %s", r.status, text(r.doc))
	}
	p.give("/f/"+slug, "£15.00", map[string]string{"display_name": "Aunt Jo", "message": "Thinking of you all."})

	post := func(c *http.Client, body string) response {
		return p.send(c, http.MethodPost, fmt.Sprintf("/fundraise/%d/updates", id), url.Values{"update": {body}})
	}
	if r := post(ruby, "   "); r.status != http.StatusUnprocessableEntity || webtest.Text(t, r.body, "#update-error") == "" {
		t.Errorf("an empty update: %d", r.status)
	}
	if r := post(sam, "Sam was here"); r.status != http.StatusNotFound {
		t.Errorf("Sam posts on Ruby's page: %d, want 404", r.status)
	}
	for _, body := range []string{"We walked the first 5 miles today.", "<script>alert(1)</script> Nearly there!"} {
		if r := post(ruby, body); r.status != http.StatusSeeOther {
			t.Fatalf("post update: %d", r.status)
		}
	}
	page := p.get("/f/" + slug)
	if got := webtest.Text(t, page.body, ".page-head .in-memory"); got != "In loving memory of Margaret Jones" {
		t.Errorf("the memorial line reads %q", got)
	}
	if got := webtest.Text(t, page.body, ".tributes h2"); got != "Tributes" {
		t.Errorf("the gifts are headed %q", got)
	}
	if got := webtest.Text(t, page.body, ".tributes .wall-entry"); !strings.HasPrefix(got, "Aunt Jo £15.00") || !strings.HasSuffix(got, "Thinking of you all.") {
		t.Errorf("the tribute reads %q", got)
	}
	var ups []string
	for _, n := range webtest.Find(t, page.body, ".updates .update p") {
		ups = append(ups, webtest.NodeText(n))
	}
	if want := []string{"<script>alert(1)</script> Nearly there!", "We walked the first 5 miles today."}; strings.Join(ups, "|") != strings.Join(want, "|") {
		t.Errorf("updates read %q, want newest first %q", ups, want)
	}
	webtest.None(t, page.body, ".updates script")

	// Deleting: Sam cannot touch Ruby's update; Ruby can.
	var upd int64
	if err := p.store.Pool().QueryRow(context.Background(), `SELECT max(id) FROM page_updates`).Scan(&upd); err != nil {
		t.Fatal(err)
	}
	del := fmt.Sprintf("/fundraise/%d/updates/%d/delete", id, upd)
	if r := p.send(sam, http.MethodPost, del, url.Values{}); r.status != http.StatusNotFound {
		t.Errorf("Sam deletes Ruby's update: %d", r.status)
	}
	if r := p.send(ruby, http.MethodPost, del, url.Values{}); r.status != http.StatusSeeOther {
		t.Errorf("Ruby deletes her update: %d", r.status)
	}
	if got := webtest.Count(t, p.get("/f/"+slug).body, ".updates .update"); got != 1 {
		t.Errorf("%d updates after deleting one of two", got)
	}
	for action, want := range map[string]int{"page update posted": 2, "page update deleted": 1, "fundraiser page lifecycle set": 1} {
		if n := p.count(`SELECT count(*) FROM audit_log WHERE action = $1`, action); n != want {
			t.Errorf("%d audit rows %q, want %d", n, action, want)
		}
	}
}

// TestTeamPageIsShareable: a team page carries its own link-preview tags, description,
// share links and a QR code that reads back as its address; a team with no live page is
// not public.
func TestTeamPageIsShareable(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby := p.as(rubyUser.email)
	id, _ := p.newPage(ruby, map[string]string{"title": "Ruby runs the 10k", "target": "500"})
	p.startTeam(ruby, id, "Team Freedom", "1500")
	if r := p.get("/t/team-freedom"); r.status != http.StatusNotFound {
		t.Errorf("a team whose only page waits for approval: %d, want 404", r.status)
	}
	p.approve(id)
	page := p.get("/t/team-freedom")
	meta := func(attr, key string) string {
		return webtest.Attr(t, page.body, `meta[`+attr+`="`+key+`"]`, "content")
	}
	teamURL := p.URL + "/t/team-freedom"
	if meta("property", "og:title") != "Team Freedom" || meta("property", "og:url") != teamURL || meta("name", "twitter:card") != "summary_large_image" {
		t.Errorf("team preview tags: %q %q", meta("property", "og:title"), meta("property", "og:url"))
	}
	if got := meta("name", "description"); !strings.HasPrefix(got, "Team Freedom: a team of 1 fundraiser raising money for Fundraising for Freedom.") {
		t.Errorf("team description %q", got)
	}
	if href := webtest.Attr(t, page.body, ".share a.share-whatsapp", "href"); !strings.Contains(href, url.QueryEscape(teamURL)) {
		t.Errorf("WhatsApp link %q", href)
	}
	qr := webtest.Attr(t, page.body, ".share img.qr", "src")
	for _, path := range []string{qr, strings.TrimSuffix(qr, ".svg") + ".png"} {
		if got := decodeQR(t, p.get(path)); got != teamURL {
			t.Errorf("team QR code %s reads %q, want %q", path, got, teamURL)
		}
	}
}

// TestEmbedWidget: the charity's own site can frame the progress widget (and only it), which
// runs no script, answers a repeat with 304 until a gift changes it, and is also a picture.
func TestEmbedWidget(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby := p.as(rubyUser.email)
	id, slug := p.newPage(ruby, map[string]string{"title": "Ruby runs the 10k", "target": "500"})
	p.approve(id)
	for _, path := range []string{"/embed", "/embed/f/" + slug} {
		r := p.get(path)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d", path, r.status)
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors *") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s CSP %q", path, csp)
		}
		if r.header.Get("X-Frame-Options") != "" {
			t.Errorf("%s refuses framing: X-Frame-Options %q", path, r.header.Get("X-Frame-Options"))
		}
		webtest.None(t, r.body, "script")
		if got := webtest.Attr(t, r.body, "a.g", "target"); got != "_blank" {
			t.Errorf("%s Give link opens in %q", path, got)
		}
	}
	if got := p.get("/f/" + slug).header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("the page itself can be framed: X-Frame-Options %q", got)
	}
	first := p.get("/embed/f/" + slug)
	if got := webtest.Text(t, first.body, ".f"); got != "£0.00 raised of £500.00" {
		t.Errorf("the widget reads %q", got)
	}
	etag := first.header.Get("ETag")
	if again := p.send(p.client, http.MethodGet, "/embed/f/"+slug, nil, "If-None-Match", etag); again.status != http.StatusNotModified {
		t.Errorf("an unchanged widget asked again: %d, want 304", again.status)
	}
	if cc := first.header.Get("Cache-Control"); cc != "public, max-age=60" {
		t.Errorf("widget Cache-Control %q", cc)
	}
	p.give("/f/"+slug, "£40.00", nil)
	after := p.send(p.client, http.MethodGet, "/embed/f/"+slug, nil, "If-None-Match", etag)
	if after.status != http.StatusOK || webtest.Text(t, after.body, ".f") != "£40.00 raised of £500.00" {
		t.Errorf("after a gift the widget answers %d %q", after.status, after.body)
	}
	svg := p.get("/embed/f/" + slug + "/bar.svg")
	if svg.header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(svg.body, "£40.00 raised of £500.00") || !strings.Contains(svg.body, `width="23"`) {
		t.Errorf("the widget picture: %s %s", svg.header.Get("Content-Type"), svg.body)
	}
	if r := p.get("/embed/f/no-such-page"); r.status != http.StatusNotFound {
		t.Errorf("widget of no page: %d", r.status)
	}
}
