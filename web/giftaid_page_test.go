package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"giving/campaigns/giftaid"
)

// giftAidFields are a Gift Aid declaration as a donor types it.
var giftAidFields = map[string]string{"gift_aid": "1", "first_name": "Ruby", "last_name": "Runner", "house": "3",
	"postcode": "M1 1AE", "scope": giftaid.ScopeThis}

// On a fundraiser's page the Gift Aid box says it is for the donor's own money only. The
// page's owner, giving on her own page, must confirm the money is her own: without the
// tick her Gift Aid is refused (422, the reason beside the box, nothing stored); with it the
// declaration records that she confirmed. Other donors are not asked.
func TestPageOwnerConfirmsHerOwnMoney(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby, anon := p.as("ruby@example.org"), p.as("")
	id, slug := p.newPage(ruby, map[string]string{"title": "Ruby's swim", "story": "A mile in the sea.", "target": "500"})
	p.approve(id)

	visitor := p.send(anon, http.MethodGet, "/f/"+slug, nil)
	if got := text(byID(visitor.doc, "giftaid-own")); !strings.Contains(got, "Gift Aid is for your own money only: not for money you collected from other people") {
		t.Errorf("the page's Gift Aid box says %q, want that it is for the donor's own money only", got)
	}
	if byID(visitor.doc, "own_money") != nil {
		t.Error("a visitor is asked to confirm the money is her own, as if the page were hers")
	}
	if got := attrVal(byID(visitor.doc, "gift_aid"), "aria-describedby"); !strings.Contains(got, "giftaid-own") {
		t.Errorf("the Gift Aid box is described by %q, want the own-money note", got)
	}

	own := p.send(ruby, http.MethodGet, "/f/"+slug, nil)
	if byID(own.doc, "own_money") == nil {
		t.Fatal("Ruby, on her own page, is not asked to confirm the money is hers")
	}
	f := donateForm(t, own.doc)
	f.Set("tier", tierID(t, own.doc, "£3.00"))
	for k, v := range giftAidFields {
		f.Set(k, v)
	}
	r := p.send(ruby, http.MethodPost, "/donate", f)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("Ruby's own gift with Gift Aid, unconfirmed: %d, want 422", r.status)
	}
	msg := byID(r.doc, "own_money-error")
	if !strings.Contains(text(msg), "your own money, not money you collected from others") || msg.Parent != ancestor(byID(r.doc, "own_money"), "div") {
		t.Errorf("the reason %q is missing or not beside the box", text(msg))
	}
	if n := p.count(`SELECT count(*) FROM gift_aid_declarations`) + p.donations(); n != 0 {
		t.Errorf("a refused gift stored %d rows", n)
	}

	f.Set("own_money", "1")
	if r := p.send(ruby, http.MethodPost, "/donate", f); r.status != http.StatusSeeOther {
		t.Fatalf("Ruby's confirmed gift: %d %s", r.status, text(r.doc))
	}
	if n := p.count(`SELECT count(*) FROM gift_aid_declarations WHERE own_money_confirmed`); n != 1 {
		t.Errorf("%d declarations record her confirmation, want 1", n)
	}

	// Anyone else gives with Gift Aid without being asked.
	p.give("/f/"+slug, "£3.00", giftAidFields)
	if n := p.count(`SELECT count(*) FROM gift_aid_declarations WHERE NOT own_money_confirmed`); n != 1 {
		t.Errorf("%d declarations of other donors, want 1", n)
	}
}

// A fundraiser marks her page a sponsored event on her page form, where HMRC's
// conditions are stated; an admin checks it on /admin (audited). If the charity pays her
// costs, the mark waits for a new check, and her own Gift Aid on her page is refused.
func TestSponsoredEventSetUpAndChecked(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby := p.as("ruby@example.org")
	form := p.send(ruby, http.MethodGet, "/fundraise/new", nil)
	rules := text(byID(form.doc, "sponsored-rules"))
	for _, want := range []string{"only to their own money, and only if they get nothing in return",
		"If the charity pays any of your costs for the event, neither you nor anyone connected with you",
		"Money you collect from other people and pay in is theirs"} {
		if !strings.Contains(rules, want) {
			t.Errorf("the page form's sponsorship rules lack %q: %q", want, rules)
		}
	}
	fields := map[string]string{"title": "Ruby's trek", "story": "Ben Nevis.", "target": "500", "sponsored": "1"}
	id, slug := p.newPage(ruby, fields)
	p.approve(id)
	state := func() string {
		t.Helper()
		var s string
		if err := p.store.Pool().QueryRow(context.Background(), `SELECT sponsored_event FROM fundraisers WHERE id = $1`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := state(); s != "requested" {
		t.Fatalf("a page its fundraiser marked sponsored is %q, want requested (waiting for an admin)", s)
	}

	admin := p.as("admin@example.org")
	page := p.send(admin, http.MethodGet, "/admin", nil)
	if item := byID(page.doc, fmt.Sprintf("sponsored-%d", id)); item == nil || !strings.Contains(text(item), "She pays her own event costs") {
		t.Fatalf("/admin does not list the sponsored event to check: %q", text(byID(page.doc, "sponsored-h")))
	}
	if r := p.send(admin, http.MethodPost, fmt.Sprintf("/admin/fundraisers/%d/sponsored", id), url.Values{"decision": {"approve"}}); r.status != http.StatusSeeOther {
		t.Fatalf("approve the sponsored event: %d", r.status)
	}
	if s := state(); s != "approved" {
		t.Errorf("after the admin's check the page is %q, want approved", s)
	}
	if n := p.count(`SELECT count(*) FROM audit_log WHERE action = 'sponsored event checked' AND actor_email = 'admin@example.org'`); n != 1 {
		t.Errorf("%d audit rows for the check, want 1", n)
	}
	edit := p.send(ruby, http.MethodGet, fmt.Sprintf("/fundraise/%d/edit", id), nil)
	if got := text(byID(edit.doc, "sponsored-state")); !strings.Contains(got, "The charity has checked your sponsored event") {
		t.Errorf("Ruby's page form says %q about her sponsored event", got)
	}

	// The charity now pays her costs: the mark waits for a new check, and her own
	// sponsorship cannot have Gift Aid.
	fields["charity_pays_costs"], fields["slug"] = "1", slug
	if r := p.upload(ruby, fmt.Sprintf("/fundraise/%d/edit", id), fields, "", nil); r.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", r.status, text(r.doc))
	}
	if s := state(); s != "requested" {
		t.Errorf("after her costs answer changed the page is %q, want requested", s)
	}
	own := p.send(ruby, http.MethodGet, "/f/"+slug, nil)
	f := donateForm(t, own.doc)
	f.Set("tier", tierID(t, own.doc, "£3.00"))
	for k, v := range giftAidFields {
		f.Set(k, v)
	}
	f.Set("own_money", "1")
	r := p.send(ruby, http.MethodPost, "/donate", f)
	if msg := byID(r.doc, "gift_aid-error"); r.status != http.StatusUnprocessableEntity || !strings.Contains(text(msg), "HMRC does not allow Gift Aid on your own sponsorship") {
		t.Errorf("Ruby's own Gift Aid with the charity paying her costs: %d %q, want 422 with the reason", r.status, text(msg))
	}
}
