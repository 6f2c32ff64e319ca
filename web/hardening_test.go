package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// syncBuffer collects the service's log from concurrent requests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// A NUL byte or bytes that are not UTF-8 in a path, a query or a form field are the
// sender's mistake: a 4xx page that says what is wrong, and no ERROR in the log.
func TestUnreadableTextIsRefusedAtTheDoor(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	p := &pagesSite{newSite(t, siteOptions{log: logs, users: []user{adminUser, rubyUser}})}
	page := p.get("/")
	donate := func(field, value string) url.Values {
		f := donateForm(t, page.doc)
		f.Set("tier", tierID(t, page.doc, "£3.00"))
		f.Set("frequency", "one_off")
		f.Set(field, value)
		return f
	}
	admin, ruby := p.as("admin@example.org"), p.as("ruby@example.org")
	cases := []struct {
		name   string
		do     func() response
		status int
		says   string
	}{
		{"NUL in a path", func() response { return p.get("/f/%00") }, http.StatusNotFound, "characters we can't read"},
		{"not UTF-8 in a path", func() response { return p.get("/api/fundraisers/a%FFb") }, http.StatusNotFound, "characters we can't read"},
		{"NUL in a query", func() response { return p.get("/donate/cancelled?donation=%00") }, http.StatusBadRequest, "characters we can't read"},
		{"NUL in display_name", func() response { return p.post("/donate", donate("display_name", "a\x00b")) }, http.StatusBadRequest, "retype it"},
		{"not UTF-8 in message", func() response { return p.post("/donate", donate("message", "a\xffb")) }, http.StatusBadRequest, "retype it"},
		{"NUL in a log-in", func() response {
			return p.send(ruby, http.MethodPost, "/login", url.Values{"email": {"ruby@example.org\x00"}, "password": {"x"}})
		}, http.StatusBadRequest, "retype it"},
		{"NUL in an admin's note", func() response {
			return p.send(admin, http.MethodPost, "/admin/appeals/1", url.Values{"name": {"Appeal\x00"}, "summary": {"s"}, "story": {"s"}, "target": {"100"}})
		}, http.StatusBadRequest, "retype it"},
		{"a page's title, multipart", func() response {
			return p.upload(ruby, "/fundraise/new", map[string]string{"title": "Ruby\x00's run", "story": "A story long enough.", "target": "500"}, "", nil)
		}, http.StatusUnprocessableEntity, "can't accept"},
		{"a non-uuid unmatched payment", func() response {
			return p.send(admin, http.MethodPost, "/admin/unmatched/not-a-uuid/resolve", url.Values{"note": {"checked"}})
		}, http.StatusNotFound, "couldn't find"},
		{"a uuid-shaped id with the dashes elsewhere", func() response {
			return p.send(admin, http.MethodPost, "/admin/unmatched/0000000-00000-0000-0000-000000000000/resolve", url.Values{"note": {"checked"}})
		}, http.StatusNotFound, "couldn't find"},
		{"a non-uuid gift to thank", func() response {
			return p.send(ruby, http.MethodPost, "/fundraise/gifts/x/thank", url.Values{"message": {"Thank you"}})
		}, http.StatusNotFound, "couldn't find"},
	}
	for _, c := range cases {
		r := c.do()
		if r.status != c.status {
			t.Errorf("%s: %d, want %d: %s", c.name, r.status, c.status, text(r.doc))
			continue
		}
		said := r.body // JSON under /api/
		if r.doc != nil {
			said = text(r.doc)
		}
		if !strings.Contains(said, c.says) {
			t.Errorf("%s: the answer does not say %q: %s", c.name, c.says, said)
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("refused input was logged as an error:\n%s", logs)
	}
}

// Load balancers check health with HEAD.
func TestHeadIsAnswered(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	for _, path := range []string{"/", "/healthz"} {
		req, err := http.NewRequest(http.MethodHead, s.abs(path), nil)
		if err != nil {
			t.Fatal(err)
		}
		if r := s.do(req); r.status != http.StatusOK || r.body != "" {
			t.Errorf("HEAD %s: %d with %d bytes, want 200 and no body", path, r.status, len(r.body))
		}
	}
}

// HSTS only for an https site; every page forbids <base> re-pointing its links.
func TestSecurityHeadersFollowTheBaseURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		base string
		hsts string
	}{{"", ""}, {"https://give.example.org", "max-age=31536000"}} {
		s := newSite(t, siteOptions{baseURL: c.base})
		for _, path := range []string{"/", "/healthz", "/login"} {
			r := s.get(path)
			if got := r.header.Get("Strict-Transport-Security"); got != c.hsts {
				t.Errorf("BASE_URL %q, %s: Strict-Transport-Security %q, want %q", c.base, path, got, c.hsts)
			}
			if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "base-uri 'none'") {
				t.Errorf("%s: Content-Security-Policy %q lacks base-uri", path, csp)
			}
		}
	}
}
