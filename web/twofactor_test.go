package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/net/html"

	"giving/campaigns/accounts"
	"giving/campaigns/campaignstest"
	"giving/web/webtest"
)

// newTwoFactorSite is the accounts site (a trustee, an admin, a fundraiser) with a clock of
// the test's own and the roles that must use two-factor sign-in.
func newTwoFactorSite(t *testing.T, require ...accounts.Role) (*accountSite, *campaignstest.Clock) {
	t.Helper()
	c := campaignstest.NewClock(time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC))
	return &accountSite{newSite(t, siteOptions{accountsOnly: true, clock: c.Now, require2FA: require,
		users: []user{trusteeUser, adminUser, rubyUser}})}, c
}

// enrol turns on two-factor sign-in for the browser's account as a person would: the key
// shown on the page into an authenticator (here totp.GenerateCode), one code back. It
// returns the secret and the recovery codes shown.
func enrol(t *testing.T, a *accountSite, c *http.Client, now time.Time) (string, []string) {
	t.Helper()
	p := a.send(c, http.MethodGet, "/account/two-factor", nil)
	shown := byID(p.doc, "totp-secret")
	if p.status != http.StatusOK || shown == nil {
		t.Fatalf("the enrolment page: %d, no key shown\n%s", p.status, p.body)
	}
	secret := strings.ReplaceAll(textOf(shown), " ", "")
	img := elements(p.doc, "img")
	if len(img) != 1 || !strings.HasPrefix(attrOf(img[0], "src"), "data:image/png;base64,") || attrOf(img[0], "alt") == "" {
		t.Errorf("no QR code image on the enrolment page")
	}
	code, err := totp.GenerateCode(secret, now)
	if err != nil {
		t.Fatal(err)
	}
	p = a.send(c, http.MethodPost, "/account/two-factor", url.Values{"code": {code}})
	list := byID(p.doc, "recovery-codes")
	if p.status != http.StatusOK || list == nil {
		t.Fatalf("confirming with a right code: %d\n%s", p.status, p.body)
	}
	var codes []string
	for _, li := range elements(list, "li") {
		codes = append(codes, textOf(li))
	}
	return secret, codes
}

// wrongCode is a six-digit code that is not secret's at now, nor a step either side.
func wrongCode(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	right := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		c, err := totp.GenerateCode(secret, now.Add(d))
		if err != nil {
			t.Fatal(err)
		}
		right[c] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !right[c] {
			return c
		}
	}
	t.Fatal("no wrong code found")
	return ""
}

func codeError(doc *html.Node) string { return textOf(byID(doc, "code-error")) }

func TestTwoFactorEnrolmentAndLogIn(t *testing.T) {
	t.Parallel()
	a, clk := newTwoFactorSite(t)
	laptop := a.loggedIn("trustee@example.org")

	// A wrong code does not turn it on, and says so beside the field.
	p := a.send(laptop, http.MethodGet, "/account/two-factor", nil)
	secret := strings.ReplaceAll(textOf(byID(p.doc, "totp-secret")), " ", "")
	p = a.send(laptop, http.MethodPost, "/account/two-factor", url.Values{"code": {wrongCode(t, secret, clk.Now())}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(codeError(p.doc), "not right") {
		t.Fatalf("enrolling with a wrong code: %d %q", p.status, codeError(p.doc))
	}
	secret, recovery := enrol(t, a, laptop, clk.Now())
	if len(recovery) != 10 {
		t.Fatalf("%d recovery codes shown, want 10: %v", len(recovery), recovery)
	}
	var stored int
	if err := a.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM recovery_codes
		WHERE position(convert_to($1, 'UTF8') in code_hash) > 0`, recovery[0]).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("a recovery code is stored in the clear (%v)", err)
	}
	if p := a.send(laptop, http.MethodGet, "/account/two-factor", nil); byID(p.doc, "recovery-codes") != nil || !strings.Contains(textOf(byID(p.doc, "tf-on")), "10 unused recovery codes") {
		t.Errorf("the account page after enrolling shows the codes again, or not the count:\n%s", p.body)
	}

	// The password alone no longer logs in: it leads to the code.
	c := a.browser()
	if p := a.login(c, "trustee@example.org", testPassword); p.status != http.StatusSeeOther || p.header.Get("Location") != "/login/code" {
		t.Fatalf("password step: %d to %q", p.status, p.header.Get("Location"))
	}
	if who := loggedInAs2(a, c); who != "" {
		t.Fatalf("logged in as %q before the code", who)
	}
	if p := a.send(c, http.MethodPost, "/login/code", url.Values{"code": {wrongCode(t, secret, clk.Now())}}); p.status != http.StatusUnprocessableEntity ||
		!strings.Contains(codeError(p.doc), "not right") || attrOf(byID(p.doc, "code"), "aria-invalid") != "true" {
		t.Fatalf("a wrong code: %d %q", p.status, codeError(p.doc))
	}
	code, _ := totp.GenerateCode(secret, clk.Now())
	if p := a.send(c, http.MethodPost, "/login/code", url.Values{"code": {code}}); p.status != http.StatusSeeOther || p.header.Get("Location") != "/trustees" {
		t.Fatalf("the right code: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	if who := loggedInAs2(a, c); who != "trustee@example.org" {
		t.Fatalf("after the code, logged in as %q", who)
	}

	// The same code again, within its 30 seconds, is refused: one code, one log-in.
	again := a.browser()
	a.login(again, "trustee@example.org", testPassword)
	if p := a.send(again, http.MethodPost, "/login/code", url.Values{"code": {code}}); p.status != http.StatusUnprocessableEntity {
		t.Errorf("a used code: %d, want 422", p.status)
	}
	clk.Advance(30 * time.Second)
	next, _ := totp.GenerateCode(secret, clk.Now())
	if p := a.send(again, http.MethodPost, "/login/code", url.Values{"code": {next}}); p.status != http.StatusSeeOther {
		t.Errorf("the next code: %d, want 303", p.status)
	}

	// A recovery code works once.
	for i, want := range []int{http.StatusSeeOther, http.StatusUnprocessableEntity} {
		b := a.browser()
		a.login(b, "trustee@example.org", testPassword)
		if p := a.send(b, http.MethodPost, "/login/code", url.Values{"code": {strings.ToUpper(recovery[3])}}); p.status != want {
			t.Errorf("recovery code, use %d: %d, want %d", i+1, p.status, want)
		}
	}

	// Five wrong codes end the pending log-in: the password is asked for again.
	b := a.browser()
	a.login(b, "trustee@example.org", testPassword)
	var last response
	for range 5 {
		last = a.send(b, http.MethodPost, "/login/code", url.Values{"code": {wrongCode(t, secret, clk.Now())}})
	}
	if byID(last.doc, "password") == nil || !strings.Contains(webtest.Text(t, last.body, "#login-error[role=alert]"), "Too many wrong codes") {
		t.Errorf("after five wrong codes: %d, not the log-in form\n%s", last.status, last.body)
	}
	right, _ := totp.GenerateCode(secret, clk.Now().Add(30*time.Second))
	clk.Advance(30 * time.Second)
	if p := a.send(b, http.MethodPost, "/login/code", url.Values{"code": {right}}); p.status != http.StatusSeeOther || p.header.Get("Location") != "/login" {
		t.Errorf("a right code after the pending log-in ended: %d to %q, want back to /login", p.status, p.header.Get("Location"))
	}

	log := a.send(laptop, http.MethodGet, "/trustees/audit", nil).body
	for _, want := range []string{"two-factor enrolled", "two-factor log-in", "recovery code; 9 left", "two-factor refused"} {
		if !strings.Contains(log, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}
}

// loggedInAs2 is the account the browser is logged in as, read from the audit page's nav
// ("" when it is sent to log in).
func loggedInAs2(a *accountSite, c *http.Client) string {
	p := a.send(c, http.MethodGet, "/trustees/audit", nil)
	if p.status != http.StatusOK {
		return ""
	}
	for _, s := range elements(p.doc, "span") {
		if t := textOf(s); strings.Contains(t, "@") {
			return t
		}
	}
	return "?"
}

// REQUIRE_2FA_FOR=admin,trustee: until they enrol, admins and trustees see only the
// enrolment page; fundraisers are not asked.
func TestRequiredTwoFactorSendsToEnrolment(t *testing.T) {
	t.Parallel()
	a, clk := newTwoFactorSite(t, accounts.RoleAdmin, accounts.RoleTrustee)
	admin := a.loggedIn("admin@example.org")
	for _, path := range []string{"/admin", "/trustees", "/trustees/export/gifts.csv", "/"} {
		if p := a.send(admin, http.MethodGet, path, nil); p.status != http.StatusSeeOther || p.header.Get("Location") != "/account/two-factor" {
			t.Errorf("GET %s before enrolling: %d to %q", path, p.status, p.header.Get("Location"))
		}
	}
	if p := a.send(admin, http.MethodPost, "/admin/appeals/1", url.Values{"name": {"x"}}); p.status != http.StatusSeeOther || p.header.Get("Location") != "/account/two-factor" {
		t.Errorf("POST before enrolling: %d to %q", p.status, p.header.Get("Location"))
	}
	if p := a.send(admin, http.MethodGet, "/account/two-factor", nil); byID(p.doc, "tf-required") == nil {
		t.Errorf("the enrolment page does not say it is required")
	}
	enrol(t, a, admin, clk.Now())
	if p := a.send(admin, http.MethodGet, "/admin", nil); p.status != http.StatusOK {
		t.Errorf("/admin after enrolling: %d", p.status)
	}
	ruby := a.loggedIn("ruby@example.org")
	if p := a.send(ruby, http.MethodGet, "/fundraise", nil); p.status != http.StatusOK && p.status != http.StatusSeeOther {
		t.Errorf("a fundraiser: %d", p.status)
	} else if p.header.Get("Location") == "/account/two-factor" {
		t.Error("a fundraiser was sent to enrol")
	}
}
