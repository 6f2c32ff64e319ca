package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"giving/web/webtest"
)

// giveForThanks makes and pays one sandbox gift from the page at path and returns the
// thank-you page the donor's browser lands on.
func (p *pagesSite) giveForThanks(path, tier string, set map[string]string) (response, string) {
	p.t.Helper()
	thanks := p.give(path, tier, set)
	return p.get(thanks), thanks
}

func (p *pagesSite) nameOwner(email, name string) {
	p.t.Helper()
	if _, err := p.store.Pool().Exec(context.Background(), `UPDATE users SET display_name = $2 WHERE email = $1`, email, name); err != nil {
		p.t.Fatal(err)
	}
}

// TestThanksAfterAGiftOnHerPageIsAboutHerPage: a gift made on Ruby's page is thanked with
// her page's progress (not the appeal's), a link back to it and its share links, keeping
// what happens next; a gift to the appeal keeps the appeal's page; another browser sees
// neither.
func TestThanksAfterAGiftOnHerPageIsAboutHerPage(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	p.nameOwner(rubyUser.email, "Ruby")
	ruby := p.as(rubyUser.email)
	id, slug := p.newPage(ruby, map[string]string{"title": "Ruby runs the 10k", "target": "500"})
	p.approve(id)

	appeal, _ := p.giveForThanks("/", "£40.00", map[string]string{"display_name": "Sam"})
	if got := webtest.Text(t, appeal.body, ".thanks .progress .raised"); got != "£40.00" {
		t.Errorf("appeal gift: progress shows %q raised, want the appeal's £40.00", got)
	}
	webtest.None(t, appeal.body, ".thanks .share")
	webtest.None(t, appeal.body, ".page-thanks")
	if got := webtest.Text(t, appeal.body, ".thanks .notice"); !strings.Contains(got, "to Fundraising for Freedom has been received") {
		t.Errorf("appeal gift notice: %q", got)
	}

	page, thanksPath := p.giveForThanks("/f/"+slug, "£15.00", map[string]string{"display_name": "Ada"})
	if got := webtest.Text(t, page.body, ".thanks h1"); got != "Thank you, Ada" {
		t.Errorf("heading %q", got)
	}
	if got := webtest.Text(t, page.body, ".thanks .notice"); !strings.Contains(got, "on Ruby's page for Fundraising for Freedom has been received") {
		t.Errorf("notice %q, want her page named", got)
	}
	if got := webtest.Text(t, page.body, "#page-thanks-h"); got != "Your gift brings Ruby closer to £500.00" {
		t.Errorf("page heading %q", got)
	}
	// Her page's progress: £15 of £500, not the appeal's £55.
	if got := webtest.Text(t, page.body, ".page-thanks .progress .raised"); got != "£15.00" {
		t.Errorf("progress shows %q raised, want her page's £15.00", got)
	}
	if got := webtest.Text(t, page.body, ".page-thanks .progress .target"); got != "£500.00" {
		t.Errorf("progress target %q, want her £500.00", got)
	}
	if got := webtest.Attr(t, page.body, ".page-thanks-title a", "href"); got != "/f/"+slug {
		t.Errorf("link back to her page: %q", got)
	}
	if wa := webtest.Attr(t, page.body, ".thanks .share a.share-whatsapp", "href"); !strings.Contains(wa, url.QueryEscape("/f/"+slug)) && !strings.Contains(wa, "/f/"+slug) {
		t.Errorf("WhatsApp link %q does not share her page", wa)
	}
	if got := webtest.Attr(t, page.body, ".thanks .share a.share-copy", "href"); !strings.HasSuffix(got, "/f/"+slug) {
		t.Errorf("copy link %q", got)
	}
	if got := webtest.Text(t, page.body, "#receipt-next"); !strings.Contains(got, "Your receipt is on its way") {
		t.Errorf("what happens next is gone: %q", got)
	}

	// Another browser with the same address: neither the gift nor her page's progress.
	other := p.send(p.browser(), http.MethodGet, thanksPath, nil)
	webtest.None(t, other.body, ".page-thanks")
	webtest.None(t, other.body, ".thanks .share")
	if strings.Contains(other.body, "Ada") {
		t.Error("another browser sees the donor's name")
	}
}

// TestHidingASupportersMessage: Ruby hides a message left on her page from both public
// walls, keeping it in the records; Sam (another fundraiser) cannot touch it; a trustee can
// show it again from the page's preview; every change is audited.
func TestHidingASupportersMessage(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby := p.as(rubyUser.email)
	id, slug := p.newPage(ruby, map[string]string{"title": "Ruby's Run", "target": "500"})
	p.approve(id)
	p.give("/f/"+slug, "£3.00", map[string]string{"display_name": "Alice", "message": "Rude words here"})
	p.give("/f/"+slug, "£15.00", map[string]string{"display_name": "Bea", "message": "Go Ruby!"})

	walls := func() string {
		return webtest.Text(t, p.get("/f/"+slug).body, ".wall") + " | " + webtest.Text(t, p.get("/").body, ".wall")
	}
	if got := walls(); strings.Count(got, "Rude words here") != 2 {
		t.Fatalf("before hiding, both walls: %q", got)
	}
	dash := p.send(ruby, http.MethodGet, "/fundraise", nil)
	var action string
	for _, g := range webtest.Find(t, dash.body, "tr.gift") {
		if strings.Contains(webtest.NodeText(g), "Rude words here") {
			for _, f := range withClass(g, "hide-message") {
				action = attrVal(f, "action")
			}
		}
	}
	if action == "" {
		t.Fatal("no Hide message button beside Alice's gift on Ruby's dashboard")
	}

	sam := p.as(samUser.email)
	if r := p.send(sam, http.MethodPost, action, url.Values{"hidden": {"1"}}); r.status != http.StatusNotFound {
		t.Errorf("Sam hides Ruby's supporter's message: %d, want 404", r.status)
	}
	if r := p.send(ruby, http.MethodPost, action, url.Values{"hidden": {"1"}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/fundraise?done=hidden" {
		t.Fatalf("Ruby hides: %d %s", r.status, r.header.Get("Location"))
	}
	got := walls()
	if strings.Contains(got, "Rude words here") || strings.Count(got, "Go Ruby!") != 2 || strings.Count(got, "Alice") != 2 {
		t.Errorf("after hiding, walls: %q", got)
	}
	dash = p.send(ruby, http.MethodGet, "/fundraise?done=hidden", nil)
	if got := webtest.Text(t, dash.body, ".notice"); !strings.Contains(got, "hidden") {
		t.Errorf("dashboard notice %q", got)
	}
	if got := webtest.Text(t, dash.body, "tr.gift .message-hidden"); got != "Hidden from your page" {
		t.Errorf("dashboard does not say the message is hidden: %q", got)
	}
	// Kept in the records for trustees.
	if n := p.count(`SELECT count(*) FROM donations WHERE message = 'Rude words here' AND message_hidden_at IS NOT NULL AND message_hidden_by = (SELECT id FROM users WHERE email = $1)`, rubyUser.email); n != 1 {
		t.Errorf("hidden message rows: %d, want 1 kept, marked hidden by Ruby", n)
	}

	// A trustee sees every message on the page, hidden ones marked, and shows it again.
	trustee := p.as(trusteeUser.email)
	prev := p.send(trustee, http.MethodGet, "/f/"+slug, nil)
	if got := webtest.Text(t, prev.body, ".moderate-entry.is-hidden"); !strings.Contains(got, "Rude words here") || !strings.Contains(got, "Show again") {
		t.Fatalf("trustee's moderation list: %q", got)
	}
	webtest.None(t, p.get("/f/"+slug).body, ".moderate")
	show := webtest.Attr(t, prev.body, ".moderate-entry.is-hidden form", "action")
	if r := p.send(trustee, http.MethodPost, show, url.Values{"hidden": {"0"}, "back": {"/f/" + slug}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/f/"+slug+"?done=shown" {
		t.Fatalf("trustee shows again: %d %s", r.status, r.header.Get("Location"))
	}
	if got := walls(); strings.Count(got, "Rude words here") != 2 {
		t.Errorf("shown again, walls: %q", got)
	}
	// And a trustee can hide it too.
	if r := p.send(trustee, http.MethodPost, show, url.Values{"hidden": {"1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("trustee hides: %d", r.status)
	}
	if got := walls(); strings.Contains(got, "Rude words here") {
		t.Errorf("hidden by the trustee, walls: %q", got)
	}
	if n := p.count(`SELECT count(*) FROM audit_log WHERE action = 'message hidden'`); n != 2 {
		t.Errorf("%d 'message hidden' audit rows, want 2", n)
	}
	if n := p.count(`SELECT count(*) FROM audit_log WHERE action = 'message shown'`); n != 1 {
		t.Errorf("%d 'message shown' audit rows, want 1", n)
	}
}
