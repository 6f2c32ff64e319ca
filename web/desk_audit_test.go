package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"giving/web/webtest"
)

// The audit log keeps the trustees' menu, names a page by its title (not "fundraiser 7"),
// and filters by who acted and what they did.
func TestAuditLogNamesThingsAndFilters(t *testing.T) {
	p := newPagesSite(t)
	id, _ := p.newPage(p.as("ruby@example.org"), map[string]string{"title": "Ruby's Run for Freedom", "target": "500", "story": "10k."})
	p.approve(id)
	trustee := p.as("trustee@example.org")

	r := p.send(trustee, http.MethodGet, "/trustees/audit", nil)
	if r.status != http.StatusOK {
		t.Fatalf("audit log: %d", r.status)
	}
	if len(webtest.Find(t, r.body, `nav[aria-label="Trustees"] a[href="/trustees/reconcile"]`)) != 1 {
		t.Error("the audit log lost the trustees' menu")
	}
	rows := webtest.Find(t, r.body, "#audit-log tbody tr")
	var created string
	for _, row := range rows {
		if s := webtest.NodeText(row); strings.Contains(s, "fundraiser page created") {
			created = s
		}
	}
	if !strings.Contains(created, "page “Ruby's Run for Freedom”") || strings.Contains(created, fmt.Sprintf("fundraiser %d", id)) {
		t.Errorf("the page's creation reads %q: want it named by its title, not its number", created)
	}

	// Who: Ruby's entries only; what: the page's approval only.
	r = p.send(trustee, http.MethodGet, "/trustees/audit?who=ruby%40example.org", nil)
	rows = webtest.Find(t, r.body, "#audit-log tbody tr")
	if len(rows) == 0 {
		t.Fatal("filtered by Ruby: no entries")
	}
	for _, row := range rows {
		if s := webtest.NodeText(row); !strings.Contains(s, "ruby@example.org") {
			t.Errorf("filtered by Ruby, the log shows %q", s)
		}
	}
	if sel := webtest.Find(t, r.body, `#who option[selected]`); len(sel) != 1 || webtest.NodeText(sel[0]) != "ruby@example.org" {
		t.Error("the filter does not show Ruby chosen")
	}
	r = p.send(trustee, http.MethodGet, "/trustees/audit?who=ruby%40example.org&what=login", nil)
	rows = webtest.Find(t, r.body, "#audit-log tbody tr")
	for _, row := range rows {
		if s := webtest.NodeText(row); !strings.Contains(s, "login") || strings.Contains(s, "fundraiser page created") {
			t.Errorf("filtered by Ruby's log-ins, the log shows %q", s)
		}
	}
	if len(rows) == 0 {
		t.Error("filtered by Ruby's log-ins: none shown")
	}
	r = p.send(trustee, http.MethodGet, "/trustees/audit?who=nobody%40example.org", nil)
	if got := webtest.Text(t, r.body, "#audit-log tbody"); !strings.Contains(got, "Nothing matches this filter") {
		t.Errorf("a filter matching nothing reads %q", got)
	}
}
