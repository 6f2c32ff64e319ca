package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"giving/web/webtest"
)

// What a donor who hides their name and amount gives; the needles are distinctive enough
// that any appearance on a page is a leak.
const (
	hiddenFirst   = "Zephyrine"
	hiddenLast    = "Quillfeather"
	hiddenAmount  = "173.19" // paid
	pendingAmount = "86.27"  // started, not paid
)

var hiddenNeedles = []string{hiddenFirst, hiddenLast, hiddenAmount, "17319", pendingAmount, "8627", "Cedar Court"}

// giveHidden starts a gift from browser c on the page at path, hiding name and amount,
// with Gift Aid in the donor's own name, and pays it when pay is set.
func (p *pagesSite) giveHidden(c *http.Client, path, amount string, pay bool) {
	p.t.Helper()
	page := p.send(c, http.MethodGet, path, nil)
	f := donateForm(p.t, page.doc)
	for k, v := range map[string]string{"tier": "custom", "amount": amount, "frequency": "one_off",
		"display_name": hiddenFirst + " " + hiddenLast, "hide_name": "1", "hide_amount": "1",
		"gift_aid": "1", "first_name": hiddenFirst, "last_name": hiddenLast, "house": "Flat 7 Cedar Court",
		"postcode": "SW1A 1AA", "scope": "this"} {
		f.Set(k, v)
	}
	r := p.send(c, http.MethodPost, "/donate", f)
	if r.status != http.StatusSeeOther {
		p.t.Fatalf("hidden gift on %s: %d %s", path, r.status, text(r.doc))
	}
	checkout := r.header.Get("Location")
	if pay {
		if r := p.send(c, http.MethodPost, checkout+"/pay", sandboxPayer); r.status != http.StatusSeeOther {
			p.t.Fatalf("pay: %d %s", r.status, r.body)
		}
	}
}

// TestHiddenDonorAppearsNowhereButToTrustees: a donor hides name and amount; every page and
// export a visitor or a fundraiser (the page's owner, or another) can reach, including the
// thank-you and cancelled links of that very gift, shows neither. The donor's own browser
// still sees its gift, and a trustee still sees everything.
func TestHiddenDonorAppearsNowhereButToTrustees(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby := p.as("ruby@example.org")
	pageID, slug := p.newPage(ruby, map[string]string{"title": "Ruby's Run", "target": "500"})
	p.approve(pageID)
	// An open gift with Gift Aid too, so no total equals the hidden amount.
	p.give("/f/"+slug, "£15.00", map[string]string{"display_name": "Open Olive", "gift_aid": "1", "first_name": "Olive",
		"last_name": "Open", "house": "2", "postcode": "SW1A 2AA", "scope": "this"})
	donor := p.as("")
	p.giveHidden(donor, "/f/"+slug, hiddenAmount, true)
	p.giveHidden(donor, "/f/"+slug, pendingAmount, false)

	ctx := context.Background()
	var paidID, paidSession, pendingID string
	if err := p.store.Pool().QueryRow(ctx, `SELECT id::text, checkout_session_id FROM donations WHERE amount = $1`, hiddenAmount).Scan(&paidID, &paidSession); err != nil {
		t.Fatal(err)
	}
	if err := p.store.Pool().QueryRow(ctx, `SELECT id::text FROM donations WHERE amount = $1`, pendingAmount).Scan(&pendingID); err != nil {
		t.Fatal(err)
	}

	// The links of the gift itself, which travel through Stripe, history and the
	// fundraiser's dashboard (donation ids), and every page, API and export there is.
	gift := []string{
		"/thanks?session_id=" + url.QueryEscape(paidSession),
		"/donate/cancelled?donation=" + paidID,
		"/donate/cancelled?donation=" + pendingID,
	}
	seeds := append([]string{"/", "/f/" + slug, "/api/campaigns/", "/api/fundraisers/" + slug,
		"/f/" + slug + "/photo", "/fundraise", "/fundraise/new", "/login", "/signup", "/reset",
		"/trustees", "/trustees/export/gifts.csv", "/trustees/gift-aid", "/trustees/audit", "/admin", "/admin/donors"},
		gift[:3]...)
	var campaignSlug string
	if err := p.store.Pool().QueryRow(ctx, `SELECT slug FROM appeals LIMIT 1`).Scan(&campaignSlug); err != nil {
		t.Fatal(err)
	}
	seeds[2] = "/api/campaigns/" + campaignSlug
	for who, c := range map[string]*http.Client{"a visitor": p.as(""), "the page's fundraiser": ruby,
		"another fundraiser": p.as("sam@example.org")} {
		visited := p.crawl(c, seeds, 300)
		t.Logf("%s: %d pages and APIs read", who, len(visited))
		for path, body := range visited {
			for _, needle := range hiddenNeedles {
				if strings.Contains(body, needle) {
					t.Errorf("%s sees %q at %s", who, needle, path)
				}
			}
		}
		for _, must := range []string{"/", "/f/" + slug, "/thanks?session_id=" + url.QueryEscape(paidSession)} {
			if _, ok := visited[must]; !ok {
				t.Errorf("%s: %s was not visited", who, must)
			}
		}
		if who == "the page's fundraiser" {
			if _, ok := visited["/fundraise"]; !ok {
				t.Errorf("the fundraiser's dashboard was not visited")
			}
			if _, ok := visited["/fundraise/"+strconv.FormatInt(pageID, 10)+"/edit"]; !ok {
				t.Errorf("the page's edit form was not visited (links: %v)", keys(visited))
			}
		}
	}

	// The donor's own browser still sees its gift; a trustee sees the donor in the export.
	if r := p.send(donor, http.MethodGet, gift[0], nil); !strings.Contains(webtest.Text(t, r.body, "section.thanks h1"), hiddenFirst) ||
		webtest.Text(t, r.body, "section.thanks .notice[role=status] strong") != "£"+hiddenAmount {
		t.Errorf("the donor's own thank-you page: %d %q", r.status, text(r.doc))
	}
	if r := p.send(donor, http.MethodGet, gift[2], nil); webtest.Attr(t, r.body, "form input#last_name", "value") != hiddenLast {
		t.Errorf("the donor's own cancelled page lost their choices: %d", r.status)
	}
	if r := p.send(p.as("trustee@example.org"), http.MethodGet, "/trustees/export/gifts.csv?from=2000-01-01&to=2100-01-01", nil); !strings.Contains(r.body, hiddenAmount) {
		t.Errorf("the trustees' export lacks the hidden gift: %d", r.status)
	}
}

// crawl visits seeds and every same-site page linked from what it reads (GET only, at most
// limit pages, never /static or /logout), and returns each path's body.
func (p *pagesSite) crawl(c *http.Client, seeds []string, limit int) map[string]string {
	p.t.Helper()
	seen := map[string]string{}
	queue := append([]string(nil), seeds...)
	for len(queue) > 0 && len(seen) < limit {
		path := queue[0]
		queue = queue[1:]
		if _, ok := seen[path]; ok {
			continue
		}
		r := p.send(c, http.MethodGet, path, nil)
		seen[path] = r.body
		if loc := r.header.Get("Location"); r.status/100 == 3 && loc != "" {
			if u, err := url.Parse(loc); err == nil && (u.Host == "" || p.abs(u.Path) == p.URL+u.Path) {
				queue = append(queue, u.RequestURI())
			}
		}
		for _, a := range findAll(r.doc, func(n *html.Node) bool { return isElem("a")(n) || isElem("img")(n) }) {
			ref := attrVal(a, "href")
			if ref == "" {
				ref = attrVal(a, "src")
			}
			u, err := url.Parse(ref)
			if err != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "/static/") || u.Path == "/logout" {
				continue
			}
			queue = append(queue, u.RequestURI())
		}
	}
	return seen
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
