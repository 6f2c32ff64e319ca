package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"giving/campaigns/accounts"
	"giving/web/webtest"
)

// queuedTo lists the subjects and bodies queued to an address, oldest first.
func queuedTo(t *testing.T, p *pagesSite, to string) (subjects, bodies []string) {
	t.Helper()
	rows, err := p.store.Pool().Query(context.Background(), `SELECT subject, body FROM mail_outbox WHERE to_address = $1 ORDER BY id`, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s, b string
		if err := rows.Scan(&s, &b); err != nil {
			t.Fatal(err)
		}
		subjects, bodies = append(subjects, s), append(bodies, b)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return subjects, bodies
}

// A page Ruby writes waits at the top of /admin with her name, every admin is emailed once,
// trustees and admins can preview it as it will look (nobody else can), and approving it
// from the queue puts it live and emails Ruby the link once.
func TestApprovalQueue(t *testing.T) {
	p := newPagesSite(t)
	ctx := context.Background()
	if _, err := p.store.Pool().Exec(ctx, `UPDATE users SET display_name = 'Ruby Okafor' WHERE email = 'ruby@example.org'`); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.CreateUser(ctx, p.store, accounts.CommandLine(), "office@example.org", testPassword, accounts.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	const title = "Ruby runs the 10k"
	id, slug := p.newPage(p.as("ruby@example.org"), map[string]string{"title": title, "target": "500", "story": "My first 10k."})

	// Waiting: one email to each admin, none to anyone else.
	for _, admin := range []string{"admin@example.org", "office@example.org"} {
		subjects, bodies := queuedTo(t, p, admin)
		if len(subjects) != 1 || subjects[0] != "A fundraiser page is waiting for approval: "+title {
			t.Fatalf("%s got %q, want one email saying the page waits", admin, subjects)
		}
		for _, want := range []string{"Ruby Okafor (ruby@example.org)", p.abs("/f/" + slug), p.abs("/admin")} {
			if !strings.Contains(bodies[0], want) {
				t.Errorf("the email to %s does not say %q:\n%s", admin, want, bodies[0])
			}
		}
	}
	if n := p.count(`SELECT count(*) FROM mail_outbox`); n != 2 {
		t.Errorf("%d emails queued for a page waiting, want 2 (one per admin)", n)
	}

	// The queue, above the tier forms.
	admin := p.as("admin@example.org")
	r := p.send(admin, http.MethodGet, "/admin", nil)
	item := fmt.Sprintf("#waiting-%d", id)
	if got := webtest.Text(t, r.body, item+" .queue-title strong"); got != title {
		t.Errorf("the queue shows %q, want %q", got, title)
	}
	if got := webtest.Text(t, r.body, item+" .queue-author"); got != "Ruby Okafor" {
		t.Errorf("the queue names the author %q, want Ruby Okafor", got)
	}
	if got := webtest.Text(t, r.body, item+" .queue-meta a[href='mailto:ruby@example.org']"); got != "ruby@example.org" {
		t.Errorf("the queue shows the author's address as %q", got)
	}
	if got := webtest.Text(t, r.body, item+" .status-label"); got != "Waiting for approval" {
		t.Errorf("status label %q", got)
	}
	if got := webtest.Attr(t, r.body, item+" a.button", "href"); got != "/f/"+slug {
		t.Errorf("preview link %q, want /f/%s", got, slug)
	}
	if strings.Contains(r.body, ">pending<") {
		t.Errorf("/admin shows the raw status pending")
	}
	// Tier forms are no longer piled onto /admin: they are on the appeal's own page.
	if q := strings.Index(r.body, `id="queue-h"`); q < 0 || strings.Contains(r.body, "Giving tiers") || webtest.Attr(t, r.body, "#appeals-link a", "href") != "/admin/appeals" {
		t.Errorf("the queue (at %d) should head /admin, with a link to the appeals' own page instead of tier forms", q)
	}

	// The preview: trustees and admins see the page with a banner, kept from search engines.
	for _, who := range []string{"admin@example.org", "trustee@example.org"} {
		r := p.send(p.as(who), http.MethodGet, "/f/"+slug, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s previews the waiting page: %d, want 200", who, r.status)
		}
		if got := webtest.Text(t, r.body, "#preview-banner strong"); got != "Preview: not public yet." {
			t.Errorf("%s sees the banner %q", who, got)
		}
		if got := webtest.Text(t, r.body, "h1"); got != title {
			t.Errorf("%s sees the title %q", who, got)
		}
		if got := r.header.Get("X-Robots-Tag"); !strings.Contains(got, "noindex") {
			t.Errorf("the preview's X-Robots-Tag is %q, want noindex", got)
		}
	}
	// Anyone else: as if it did not exist.
	for _, who := range []string{"", "sam@example.org"} {
		if r := p.send(p.as(who), http.MethodGet, "/f/"+slug, nil); r.status != http.StatusNotFound {
			t.Errorf("%q opens the waiting page: %d, want 404", who, r.status)
		}
	}

	// Approve from the queue: back to the queue, Ruby emailed once, even if approved twice.
	approve := url.Values{"status": {"approved"}, "from": {"queue"}}
	path := fmt.Sprintf("/admin/fundraisers/%d/status", id)
	if r := p.send(admin, http.MethodPost, path, approve); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin?done=approved#queue-h" {
		t.Fatalf("approve: %d %s", r.status, r.header.Get("Location"))
	}
	if r := p.send(admin, http.MethodPost, path, approve); r.status != http.StatusSeeOther {
		t.Fatalf("approve again: %d", r.status)
	}
	subjects, bodies := queuedTo(t, p, "ruby@example.org")
	if len(subjects) != 1 || subjects[0] != "Your page is live: "+title {
		t.Fatalf("Ruby got %q, want one email saying her page is live", subjects)
	}
	if want := "Your page is live: " + p.abs("/f/"+slug); !strings.Contains(bodies[0], want) || !strings.HasPrefix(bodies[0], "Hello Ruby Okafor,") {
		t.Errorf("Ruby's email does not greet her and say %q:\n%s", want, bodies[0])
	}
	if n := p.count(`SELECT count(*) FROM audit_log WHERE action = 'fundraiser page approved' AND detail LIKE '%' || $1 || '%'`, title); n != 2 {
		t.Errorf("%d audit rows for the two approvals, want 2", n)
	}
	r = p.send(admin, http.MethodGet, "/admin?done=approved", nil)
	webtest.Find(t, r.body, "#queue-empty")
	public := p.send(p.as(""), http.MethodGet, "/f/"+slug, nil)
	if public.status != http.StatusOK || public.header.Get("X-Robots-Tag") != "" {
		t.Fatalf("the approved page: %d, X-Robots-Tag %q", public.status, public.header.Get("X-Robots-Tag"))
	}
	webtest.None(t, public.body, "#preview-banner")
}

// The trustee dashboard names months "Jan 2026", in its chart and its table.
func TestDashboardMonthLabels(t *testing.T) {
	p := newPagesSite(t)
	r := p.send(p.as("trustee@example.org"), http.MethodGet, "/trustees?from=2026-01-01&to=2026-02-28", nil)
	if r.status != http.StatusOK {
		t.Fatalf("dashboard: %d", r.status)
	}
	months := webtest.Find(t, r.body, "#by-month tbody th")
	labels := webtest.Find(t, r.body, `svg.chart[aria-labelledby="c-raised-by-month-t"] text.chart-label`)
	if len(months) != 2 || webtest.NodeText(months[0]) != "Jan 2026" || webtest.NodeText(months[1]) != "Feb 2026" {
		t.Errorf("the month table reads %d rows, want Jan 2026 and Feb 2026", len(months))
	}
	if len(labels) < 2 || webtest.NodeText(labels[0]) != "Jan 2026" {
		t.Errorf("the chart's first month does not read Jan 2026")
	}
	for _, bar := range webtest.Find(t, r.body, "svg.chart rect.chart-bar") {
		if fill, _ := webtest.NodeAttr(bar, "fill"); fill == "" {
			t.Errorf("a bar has no fill: it would render black")
		}
	}
}
