package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"giving/web/webtest"
)

const testPassword = "a long enough passphrase"

// accountSite is the real router on a fresh database with a few accounts, for log-in tests.
type accountSite struct {
	*site
}

func newAccounts(t *testing.T, baseURL string) *accountSite {
	t.Helper()
	return &accountSite{newSite(t, siteOptions{accountsOnly: true, baseURL: baseURL,
		users: []user{trusteeUser, adminUser, rubyUser}})}
}

func (a *accountSite) login(c *http.Client, email, password string) response {
	a.t.Helper()
	return a.send(c, http.MethodPost, "/login", url.Values{"email": {email}, "password": {password}})
}

// loggedIn is a browser logged in as email.
func (a *accountSite) loggedIn(email string) *http.Client {
	a.t.Helper()
	c := a.browser()
	if p := a.login(c, email, testPassword); p.status != http.StatusSeeOther {
		a.t.Fatalf("log in as %s: %d %s", email, p.status, p.body)
	}
	return c
}

func sessionCookie(t *testing.T, h http.Header) *http.Cookie {
	t.Helper()
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == "giving_session" {
			return c
		}
	}
	t.Fatalf("no giving_session cookie in %q", h.Values("Set-Cookie"))
	return nil
}

// elements are the HTML elements named tag, in document order.
func elements(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.Data == tag {
			out = append(out, d)
		}
	}
	return out
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data + " ")
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func TestLoginCookie(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "https://give.example.org"} {
		a := newAccounts(t, base)
		p := a.login(&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
			"Trustee@Example.org", testPassword)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/trustees" {
			t.Fatalf("log in (base %q): %d to %q", base, p.status, p.header.Get("Location"))
		}
		c := sessionCookie(t, p.header)
		wantSecure := base != ""
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != wantSecure || len(c.Value) < 32 {
			t.Errorf("base %q: cookie %s, want HttpOnly, SameSite=Lax, Path=/, Secure=%v", base, c, wantSecure)
		}
		if c.MaxAge <= 0 || c.MaxAge > int((30*time.Minute).Seconds())+1 {
			t.Errorf("cookie max-age %d, want the 30-minute idle timeout", c.MaxAge)
		}
	}
}

// Logging in always issues a new session id: a token obtained before (or planted by
// someone else) is worth nothing afterwards.
func TestLoginRenewsTheSessionID(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	c := a.browser()
	before := sessionCookie(t, a.login(c, "ruby@example.org", testPassword).header)
	after := sessionCookie(t, a.login(c, "trustee@example.org", testPassword).header)
	if before.Value == after.Value {
		t.Fatal("the session id did not change at log-in")
	}
	if p := a.send(c, http.MethodGet, "/trustees/audit", nil); p.status != http.StatusOK {
		t.Fatalf("the new session: %d", p.status)
	}
	stale := &http.Client{CheckRedirect: c.CheckRedirect}
	req, _ := http.NewRequest(http.MethodGet, a.URL+"/trustees/audit", nil)
	req.AddCookie(&http.Cookie{Name: "giving_session", Value: before.Value})
	resp, err := stale.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the old session id still works: %d", resp.StatusCode)
	}
}

func TestAuditPageNeedsATrustee(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")

	p := a.send(a.browser(), http.MethodGet, "/trustees/audit", nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/login?next=%2Ftrustees%2Faudit" {
		t.Fatalf("logged out: %d to %q, want 303 to the log-in page", p.status, p.header.Get("Location"))
	}
	if p := a.send(a.loggedIn("ruby@example.org"), http.MethodGet, "/trustees/audit", nil); p.status != http.StatusForbidden {
		t.Fatalf("a fundraiser: %d, want 403", p.status)
	}

	trustee := a.browser()
	p = a.send(trustee, http.MethodPost, "/login", url.Values{"email": {"trustee@example.org"}, "password": {testPassword}, "next": {"/trustees/audit"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/trustees/audit" {
		t.Fatalf("log in with next: %d to %q", p.status, p.header.Get("Location"))
	}
	p = a.send(trustee, http.MethodGet, "/trustees/audit", nil)
	if p.status != http.StatusOK || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("a trustee: %d (Cache-Control %q)", p.status, p.header.Get("Cache-Control"))
	}
	tables := elements(p.doc, "table")
	if len(tables) != 1 || len(elements(tables[0], "caption")) != 1 {
		t.Fatalf("want one captioned table:\n%s", p.body)
	}
	for _, th := range elements(tables[0], "th") {
		if v := attrOf(th, "scope"); v != "col" {
			t.Errorf("header %q has scope %q", textOf(th), v)
		}
	}
	var rows []string
	for _, tr := range elements(elements(tables[0], "tbody")[0], "tr") {
		rows = append(rows, textOf(tr))
	}
	if len(rows) == 0 || !strings.Contains(rows[0], "trustee@example.org login") {
		t.Errorf("the newest row should be the trustee's log-in; rows:\n%s", strings.Join(rows, "\n"))
	}
	if webtest.Count(t, p.body, `table.audit-log tbody td:contains("ruby@example.org as fundraiser")`) == 0 {
		t.Errorf("the audit log lacks the accounts added")
	}
	if p := a.send(a.loggedIn("admin@example.org"), http.MethodGet, "/trustees/audit", nil); p.status != http.StatusOK {
		t.Errorf("an admin: %d, want 200", p.status)
	}
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// Whatever was wrong, the answer is the same, and never says whether the email exists.
func TestLoginFailureRevealsNothing(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	var bodies []string
	for _, try := range [][2]string{{"trustee@example.org", "wrong password here"}, {"nobody@example.org", testPassword}} {
		p := a.login(a.browser(), try[0], try[1])
		if p.status != http.StatusUnprocessableEntity || p.header.Get("Set-Cookie") != "" {
			t.Fatalf("%s: %d (Set-Cookie %q), want 422 and no session", try[0], p.status, p.header.Get("Set-Cookie"))
		}
		alerts := elements(p.doc, "div")
		var msg string
		for _, d := range alerts {
			if attrOf(d, "role") == "alert" {
				msg = textOf(d)
			}
		}
		if !strings.Contains(msg, "Email or password is incorrect") {
			t.Errorf("%s: alert %q", try[0], msg)
		}
		for _, in := range elements(p.doc, "input") {
			if attrOf(in, "name") == "password" && attrOf(in, "value") != "" {
				t.Errorf("the password was sent back in the page")
			}
		}
		bodies = append(bodies, strings.ReplaceAll(p.body, try[0], "EMAIL"))
	}
	if bodies[0] != bodies[1] {
		t.Errorf("the pages for a wrong password and an unknown email differ")
	}
}

func TestSixthBadPasswordIsRefused(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	c := a.browser()
	for i := range 5 {
		if p := a.login(c, "trustee@example.org", "guess number "+strconv.Itoa(i)); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad password %d: %d, want 422", i+1, p.status)
		}
	}
	p := a.login(c, "trustee@example.org", testPassword)
	secs, err := strconv.Atoi(p.header.Get("Retry-After"))
	if p.status != http.StatusTooManyRequests || err != nil || secs < 60 || secs > 900 {
		t.Fatalf("sixth attempt: %d, Retry-After %q; want 429 and up to 15 minutes", p.status, p.header.Get("Retry-After"))
	}
	if !strings.Contains(webtest.Text(t, p.body, "#login-error[role=alert]"), "Too many attempts") || p.header.Get("Set-Cookie") != "" {
		t.Errorf("the 429 page should explain, and log nobody in")
	}
}

func TestLogoutEverywhereEndsOtherSessions(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	laptop, phone := a.loggedIn("trustee@example.org"), a.loggedIn("trustee@example.org")
	admin := a.loggedIn("admin@example.org")
	for _, c := range []*http.Client{laptop, phone} {
		if p := a.send(c, http.MethodGet, "/trustees/audit", nil); p.status != http.StatusOK {
			t.Fatalf("before: %d", p.status)
		}
	}
	p := a.send(laptop, http.MethodPost, "/logout-everywhere", url.Values{})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
		t.Fatalf("logout everywhere: %d to %q", p.status, p.header.Get("Location"))
	}
	for name, c := range map[string]*http.Client{"laptop": laptop, "phone": phone} {
		if p := a.send(c, http.MethodGet, "/trustees/audit", nil); p.status != http.StatusSeeOther {
			t.Errorf("%s after logging out everywhere: %d, want 303 to log in", name, p.status)
		}
	}
	// Another account's session is untouched, and sees what happened.
	p = a.send(admin, http.MethodGet, "/trustees/audit", nil)
	if p.status != http.StatusOK || webtest.Count(t, p.body, `table.audit-log tbody td:contains("logout everywhere")`) == 0 {
		t.Fatalf("admin after the trustee logged out everywhere: %d", p.status)
	}
	// Logging in again works, in the new epoch.
	if p := a.send(a.loggedIn("trustee@example.org"), http.MethodGet, "/trustees/audit", nil); p.status != http.StatusOK {
		t.Errorf("log in again: %d", p.status)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	c := a.loggedIn("trustee@example.org")
	p := a.send(c, http.MethodPost, "/logout", url.Values{})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/login?logged_out=1" {
		t.Fatalf("logout: %d to %q", p.status, p.header.Get("Location"))
	}
	if ck := sessionCookie(t, p.header); ck.MaxAge >= 0 {
		t.Errorf("logout should delete the cookie: %s", ck)
	}
	if p := a.send(c, http.MethodGet, "/trustees/audit", nil); p.status != http.StatusSeeOther {
		t.Errorf("after logout: %d, want 303", p.status)
	}
	p = a.send(a.loggedIn("admin@example.org"), http.MethodGet, "/trustees/audit", nil)
	rows := elements(p.doc, "tr")
	var actions []string
	for _, tr := range rows[1:] {
		actions = append(actions, textOf(tr))
	}
	if len(actions) < 3 || !strings.Contains(actions[1], "trustee@example.org logout") || !strings.Contains(actions[2], "trustee@example.org login") {
		t.Errorf("audit rows:\n%s", strings.Join(actions, "\n"))
	}
	if p := a.send(a.browser(), http.MethodGet, "/login?logged_out=1", nil); webtest.Text(t, p.body, "section.login .notice[role=status]") != "You have logged out." {
		t.Errorf("the log-in page does not confirm the log-out")
	}
}

// After log-in the browser goes back where it was going, but only ever to this site.
func TestLoginNextStaysOnThisSite(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	for next, want := range map[string]string{
		"/trustees/audit?x=1":   "/trustees/audit?x=1",
		"//evil.example/":       "/trustees",
		"https://evil.example/": "/trustees",
		"/\\evil.example":       "/trustees",
	} {
		p := a.send(a.browser(), http.MethodPost, "/login", url.Values{"email": {"trustee@example.org"}, "password": {testPassword}, "next": {next}})
		if got := p.header.Get("Location"); p.status != http.StatusSeeOther || got != want {
			t.Errorf("next %q: %d to %q, want %q", next, p.status, got, want)
		}
	}
	// The log-in form carries next through, escaped.
	p := a.send(a.browser(), http.MethodGet, "/login?next=%2Ftrustees%2Faudit", nil)
	var next string
	for _, in := range elements(p.doc, "input") {
		if attrOf(in, "name") == "next" {
			next = attrOf(in, "value")
		}
	}
	if next != "/trustees/audit" {
		t.Errorf("log-in form next = %q", next)
	}
}

// A log-in form posted from another site is refused before any password is checked.
func TestLoginRefusesCrossSitePosts(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/login", strings.NewReader(url.Values{"email": {"trustee@example.org"}, "password": {testPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site log-in: %d, want 403", resp.StatusCode)
	}
}
