package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"giving/campaigns/accounts"
	"giving/web/webtest"
)

// newLockoutSite is the site with the test's own loopback address as a trusted proxy, so
// each request can come "from" the address its X-Forwarded-For names; admin@example.org
// has an account.
func newLockoutSite(t *testing.T) *accountSite {
	t.Helper()
	return &accountSite{newSite(t, siteOptions{accountsOnly: true, devOutbox: true, trustedProxies: "127.0.0.1",
		users: []user{adminUser}})}
}

// forwardedFor sends every request as coming from addr, through the trusted proxy.
type forwardedFor struct {
	addr string
	next http.RoundTripper
}

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	return f.next.RoundTrip(r)
}

// at is browser c, moved to the network address addr (its cookies go with it).
func at(c *http.Client, addr string) *http.Client {
	moved := *c
	moved.Transport = forwardedFor{addr: addr, next: http.DefaultTransport}
	return &moved
}

func stranger(a *accountSite, n int) *http.Client {
	return at(a.browser(), "198.51.100."+strconv.Itoa(n))
}

// Strangers' requests naming an account, from many addresses, neither flood its inbox nor
// lock its owner out; guessing stays throttled.
func TestStrangersCannotLockTheOwnerOut(t *testing.T) {
	t.Parallel()
	a := newLockoutSite(t)
	const admin = "admin@example.org"

	// Five strangers, from five addresses, ask for a reset link and sign up with her address.
	for i := 1; i <= 5; i++ {
		c := stranger(a, i)
		if p := a.send(c, http.MethodPost, "/reset", url.Values{"email": {admin}}); p.status != http.StatusSeeOther {
			t.Fatalf("reset request %d: %d, want 303", i, p.status)
		}
		if p := signUp(a, c, "Mallory", admin, "three words is plenty"); p.status != http.StatusSeeOther {
			t.Fatalf("sign-up %d: %d, want 303", i, p.status)
		}
	}
	var resets, already int
	for _, m := range mailTo(t, a, admin) {
		switch {
		case strings.Contains(m.Subject, "Reset your"):
			resets++
		case strings.Contains(m.Subject, "already have an account"):
			already++
		default:
			t.Errorf("unexpected mail to the admin: %q", m.Subject)
		}
	}
	if resets != 1 || already != 1 {
		t.Errorf("the admin got %d reset and %d already-have-an-account emails, want one of each", resets, already)
	}
	// Those were not failed log-ins: she logs in, even from one of those addresses, and
	// her browser keeps a device cookie for the account.
	laptop := at(a.browser(), "198.51.100.1")
	p := a.login(laptop, admin, testPassword)
	if p.status != http.StatusSeeOther {
		t.Fatalf("the admin's log-in after the requests: %d, want 303", p.status)
	}
	var device *http.Cookie
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "giving_device" {
			device = c
		}
	}
	if device == nil || !device.HttpOnly || device.Path != "/login" || device.MaxAge < 90*24*3600 || len(device.Value) < 40 {
		t.Fatalf("device cookie %+v, want a long-lived, HttpOnly, unguessable cookie for /login", device)
	}
	if p := a.send(laptop, http.MethodPost, "/logout", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("log out: %d", p.status)
	}

	// Five strangers each guess her password once.
	for i := 1; i <= 5; i++ {
		if p := a.login(stranger(a, i), admin, "a wrong guess "+strconv.Itoa(i)); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("guess %d: %d, want 422", i, p.status)
		}
	}
	// She gets in from a new browser at an address with no failures...
	if p := a.login(at(a.browser(), "203.0.113.20"), admin, testPassword); p.status != http.StatusSeeOther {
		t.Fatalf("the owner from a new address: %d, want 303", p.status)
	}
	// ...and with her device cookie, even from an address that has failed.
	if p := a.login(at(laptop, "198.51.100.2"), admin, testPassword); p.status != http.StatusSeeOther {
		t.Fatalf("the owner's browser with its device cookie, at a stranger's address: %d, want 303", p.status)
	}
	// Guessing stays throttled: an address that failed is refused, even with the right
	// password; a fresh address gets one guess.
	if p := a.login(stranger(a, 3), admin, testPassword); p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" {
		t.Fatalf("a stranger's address after its failure: %d, want 429", p.status)
	}
	fresh := stranger(a, 99)
	if p := a.login(fresh, admin, "one more guess"); p.status != http.StatusUnprocessableEntity {
		t.Fatalf("a fresh address's guess: %d, want 422", p.status)
	}
	if p := a.login(fresh, admin, "and another guess"); p.status != http.StatusTooManyRequests {
		t.Fatalf("its second guess: %d, want 429", p.status)
	}
}

// Sign-up and reset requests have limits of their own per address: the sixth from one
// address answers 429, and none of them count against log-in.
func TestSignUpAndResetHaveTheirOwnLimits(t *testing.T) {
	t.Parallel()
	a := newLockoutSite(t)
	c := stranger(a, 7)
	for i := 1; i <= accounts.MaxLoginFailures; i++ {
		email := "someone" + strconv.Itoa(i) + "@example.org"
		if p := signUp(a, c, "Someone", email, "three words is plenty"); p.status != http.StatusSeeOther {
			t.Fatalf("sign-up %d: %d", i, p.status)
		}
		if p := a.send(c, http.MethodPost, "/reset", url.Values{"email": {email}}); p.status != http.StatusSeeOther {
			t.Fatalf("reset request %d: %d", i, p.status)
		}
	}
	if p := signUp(a, c, "Someone", "someone9@example.org", "three words is plenty"); p.status != http.StatusTooManyRequests ||
		!strings.Contains(webtest.Text(t, p.body, "#form-error[role=alert]"), "Too many attempts to sign up") {
		t.Errorf("sixth sign-up from one address: %d, want 429", p.status)
	}
	if p := a.send(c, http.MethodPost, "/reset", url.Values{"email": {"someone9@example.org"}}); p.status != http.StatusTooManyRequests {
		t.Errorf("sixth reset request from one address: %d, want 429", p.status)
	}
	if p := a.login(at(a.browser(), "198.51.100.7"), "admin@example.org", testPassword); p.status != http.StatusSeeOther {
		t.Errorf("log-in from that address: %d, want 303", p.status)
	}
}
