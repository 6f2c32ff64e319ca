package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/outbox"
	"giving/web/webtest"
)

// newMailSite is the real router on a fresh database with Ruby's account, with or without
// the development outbox page.
func newMailSite(t *testing.T, devOutbox bool) *accountSite {
	t.Helper()
	return &accountSite{newSite(t, siteOptions{accountsOnly: true, devOutbox: devOutbox, users: []user{rubyUser}})}
}

func signUp(a *accountSite, c *http.Client, name, email, password string) response {
	a.t.Helper()
	return a.send(c, http.MethodPost, "/signup", url.Values{"display_name": {name}, "email": {email}, "password": {password}})
}

// mailTo is the outbox for one address, newest first.
func mailTo(t *testing.T, a *accountSite, to string) []outbox.OutboxMail {
	t.Helper()
	all, err := outbox.Outbox(context.Background(), a.store, 500)
	if err != nil {
		t.Fatal(err)
	}
	var out []outbox.OutboxMail
	for _, m := range all {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

func countUsers(t *testing.T, a *accountSite, email string) int {
	t.Helper()
	var n int
	if err := a.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM users WHERE email = $1`, email).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// loggedInAs is who the log-in page says this browser is logged in as ("" for nobody).
func loggedInAs(a *accountSite, c *http.Client) string {
	a.t.Helper()
	p := a.send(c, http.MethodGet, "/login", nil)
	for _, n := range elements(p.doc, "p") {
		if t := textOf(n); strings.HasPrefix(t, "You are logged in as") {
			return strings.Fields(strings.TrimPrefix(t, "You are logged in as "))[0]
		}
	}
	return ""
}

// nextElement is the element after n among its siblings.
func nextElement(n *html.Node) *html.Node {
	for s := n.NextSibling; s != nil; s = s.NextSibling {
		if s.Type == html.ElementNode {
			return s
		}
	}
	return nil
}

var confirmLink = regexp.MustCompile(`http://[^\s]+/signup/confirm/([A-Za-z0-9_-]+)`)

// confirmLinkTo is the path of the newest confirmation link mailed to email.
func confirmLinkTo(t *testing.T, a *accountSite, email string) string {
	t.Helper()
	for _, m := range mailTo(t, a, email) {
		if sub := confirmLink.FindString(m.Body); sub != "" {
			if !strings.HasPrefix(sub, a.URL+"/signup/confirm/") {
				t.Fatalf("the link %q is not on this site", sub)
			}
			return strings.TrimPrefix(sub, a.URL)
		}
	}
	t.Fatalf("no confirmation link mailed to %s", email)
	return ""
}

func TestSignUpConfirmsTheEmailBeforeLoggingIn(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	c := a.browser()

	form := a.send(c, http.MethodGet, "/signup", nil)
	if form.status != http.StatusOK {
		t.Fatalf("GET /signup: %d", form.status)
	}
	for _, id := range []string{"display_name", "email", "password"} {
		in := byID(form.doc, id)
		var labelled bool
		for _, l := range elements(form.doc, "label") {
			labelled = labelled || attrOf(l, "for") == id
		}
		if in == nil || !labelled {
			t.Errorf("the sign-up form has no labelled %s field", id)
		}
	}

	p := signUp(a, c, "Ruby Ahmed", "Ruby.Ahmed@Example.org", "three words is plenty")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/signup/welcome" {
		t.Fatalf("sign up: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	sessionCookie(t, p.header)
	welcome := a.send(c, http.MethodGet, "/signup/welcome", nil)
	if webtest.Text(t, welcome.body, "main h1") != "Check your email" || strings.Contains(textOf(welcome.doc), "logged in as") {
		t.Errorf("the welcome page does not ask her to check her email:\n%s", welcome.body)
	}
	if who := loggedInAs(a, c); who != "" {
		t.Errorf("logged in as %q before confirming the address", who)
	}
	if p := a.send(c, http.MethodGet, "/fundraise/new", nil); p.status != http.StatusSeeOther {
		t.Errorf("GET /fundraise/new before confirming: %d, want a redirect to log in", p.status)
	}
	// The account is a fundraiser's, waiting for the address to be confirmed.
	if _, err := accounts.Authenticate(context.Background(), a.store, "ruby.ahmed@example.org", "three words is plenty"); !errors.Is(err, accounts.ErrEmailUnconfirmed) {
		t.Fatalf("the new account: %v, want it unconfirmed", err)
	}
	mails := mailTo(t, a, "ruby.ahmed@example.org")
	if len(mails) != 1 || !strings.Contains(mails[0].Subject, "Welcome") || !strings.Contains(mails[0].Body, a.URL+"/fundraise/new") ||
		!strings.Contains(mails[0].Body, "If you did not sign up") {
		t.Errorf("welcome mail: %+v", mails)
	}
	link := confirmLinkTo(t, a, "ruby.ahmed@example.org")
	// Only the token's hash is stored.
	var stored int
	if err := a.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM email_confirmations
		WHERE position(convert_to($1, 'UTF8') in token_hash) > 0`, strings.TrimPrefix(link, "/signup/confirm/")).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("the token is stored in the clear (%v)", err)
	}

	// Opening the link (as a mail scanner does) only shows a button.
	for range 2 {
		look := a.send(a.browser(), http.MethodGet, link, nil)
		if look.status != http.StatusOK || look.header.Get("Referrer-Policy") != "no-referrer" || look.header.Get("Cache-Control") != "no-store" ||
			!strings.Contains(textOf(look.doc), "ruby.ahmed@example.org") || len(elements(look.doc, "button")) == 0 {
			t.Fatalf("GET the link: %d %v\n%s", look.status, look.header, look.body)
		}
	}
	before := sessionCookie(t, p.header)
	confirmed := a.send(c, http.MethodPost, link, url.Values{})
	if confirmed.status != http.StatusSeeOther || confirmed.header.Get("Location") != "/fundraise/new" {
		t.Fatalf("confirm: %d to %q\n%s", confirmed.status, confirmed.header.Get("Location"), confirmed.body)
	}
	if after := sessionCookie(t, confirmed.header); after.Value == before.Value {
		t.Errorf("the session id did not change at confirmation")
	}
	if who := loggedInAs(a, c); who != "ruby.ahmed@example.org" {
		t.Errorf("logged in as %q after confirming", who)
	}
	if p := a.send(c, http.MethodGet, "/fundraise/new", nil); p.status != http.StatusOK || byID(p.doc, "title") == nil {
		t.Errorf("GET /fundraise/new after confirming: %d", p.status)
	}
	u, err := accounts.Authenticate(context.Background(), a.store, "ruby.ahmed@example.org", "three words is plenty")
	if err != nil || u.Role != accounts.RoleFundraiser || u.DisplayName != "Ruby Ahmed" || !u.EmailConfirmed {
		t.Fatalf("the confirmed account: %+v, %v", u, err)
	}
	entries, err := audit.Log(context.Background(), a.store.Pool(), 10)
	if err != nil || entries[0].Action != "email confirmed" || entries[0].ActorUserID != u.ID || entries[1].Action != "user signed up" {
		t.Errorf("audit log: %+v %v, want the sign-up and the confirmation", entries, err)
	}

	// The link works once.
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		again := a.send(a.browser(), method, link, url.Values{})
		if again.status != http.StatusGone || webtest.Text(t, again.body, "main h1") != "This link no longer works" || attrOf(findLink(again.doc, "/signup"), "href") != "/signup" ||
			attrOf(findLink(again.doc, "/login"), "href") != "/login" {
			t.Errorf("%s a used link: %d, want 410 offering to sign up or log in\n%s", method, again.status, again.body)
		}
	}
}

// findLink is the first link to href in doc, or nil.
func findLink(doc *html.Node, href string) *html.Node {
	for _, anchor := range elements(doc, "a") {
		if attrOf(anchor, "href") == href {
			return anchor
		}
	}
	return nil
}

func TestExpiredConfirmationLinkIsRefused(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	c := a.browser()
	signUp(a, c, "Sam", "sam@example.org", "three words is plenty")
	link := confirmLinkTo(t, a, "sam@example.org")
	if _, err := a.store.Pool().Exec(context.Background(), `UPDATE email_confirmations SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if p := a.send(c, http.MethodGet, link, nil); p.status != http.StatusGone {
		t.Errorf("GET an expired link: %d, want 410", p.status)
	}
	if p := a.send(c, http.MethodPost, link, url.Values{}); p.status != http.StatusGone {
		t.Errorf("POST an expired link: %d, want 410", p.status)
	}
	if p := a.send(a.browser(), http.MethodPost, link, url.Values{}); p.status != http.StatusGone || p.header.Get("Set-Cookie") != "" {
		t.Errorf("POST an expired link from a new browser: %d, want 410 and no session", p.status)
	}
	if who := loggedInAs(a, c); who != "" {
		t.Errorf("an expired link logged in %q", who)
	}
	if p := a.send(c, http.MethodPost, "/signup/confirm/not-a-real-token", url.Values{}); p.status != http.StatusGone {
		t.Errorf("POST a made-up link: %d, want 410", p.status)
	}
}

// An unconfirmed account with the right password is not logged in and the link is mailed
// again; the page answers exactly as a wrong password does.
func TestUnconfirmedAccountCannotLogIn(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	signUp(a, a.browser(), "Sam", "sam@example.org", "three words is plenty")
	first := confirmLinkTo(t, a, "sam@example.org")

	wrongSam := a.login(a.browser(), "sam@example.org", "not the password at all")
	wrongRuby := a.login(a.browser(), "ruby@example.org", "not the password at all")
	if wrongSam.status != http.StatusUnprocessableEntity ||
		strings.ReplaceAll(wrongSam.body, "sam@example.org", "EMAIL") != strings.ReplaceAll(wrongRuby.body, "ruby@example.org", "EMAIL") {
		t.Errorf("a wrong password for an unconfirmed account answers differently: %d\n%s", wrongSam.status, wrongSam.body)
	}
	if n := len(mailTo(t, a, "sam@example.org")); n != 1 {
		t.Errorf("a wrong password mailed a link (%d mails)", n)
	}

	c := a.browser()
	p := a.login(c, "sam@example.org", "three words is plenty")
	// The same answer as a wrong password, so signing up with someone else's address and
	// then logging in cannot tell whether that address already had an account.
	if p.status != wrongSam.status || p.header.Get("Set-Cookie") != "" || p.body != wrongSam.body {
		t.Fatalf("right password, unconfirmed, answers unlike a wrong one: %d (Set-Cookie %q)\n%s", p.status, p.header.Get("Set-Cookie"), p.body)
	}
	if !strings.Contains(webtest.Text(t, p.body, "#login-error[role=alert]"), "If you have just signed up, open the link in the email we sent you.") {
		t.Errorf("the refusal does not say to confirm the address:\n%s", textOf(p.doc))
	}
	if v := attrOf(byID(p.doc, "email"), "value"); v != "sam@example.org" {
		t.Errorf("the email typed was not kept: %q", v)
	}
	if who := loggedInAs(a, c); who != "" {
		t.Errorf("logged in as %q before confirming", who)
	}
	again := confirmLinkTo(t, a, "sam@example.org")
	if again == first || len(mailTo(t, a, "sam@example.org")) != 2 {
		t.Fatalf("no new link mailed")
	}
	// The new link confirms; the first still would have, until then.
	if p := a.send(c, http.MethodPost, again, url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("confirm with the new link: %d", p.status)
	}
	if p := a.send(a.browser(), http.MethodPost, first, url.Values{}); p.status != http.StatusGone {
		t.Errorf("the older link still works after confirming: %d", p.status)
	}
	if p := a.login(a.browser(), "sam@example.org", "three words is plenty"); p.status != http.StatusSeeOther {
		t.Errorf("log in after confirming: %d", p.status)
	}
}

// Sending the link again is rate limited as log-ins are: the right password counts as a
// failed log-in until the address is confirmed (the sign-up itself does not).
func TestConfirmationLinkResendIsRateLimited(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	signUp(a, a.browser(), "Sam", "sam@example.org", "three words is plenty")
	for i := range accounts.MaxLoginFailures {
		if p := a.login(a.browser(), "sam@example.org", "three words is plenty"); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("log-in %d: %d, want 422", i+1, p.status)
		}
	}
	p := a.login(a.browser(), "sam@example.org", "three words is plenty")
	if p.status != http.StatusTooManyRequests {
		t.Fatalf("too many: %d, want 429", p.status)
	}
	if n := len(mailTo(t, a, "sam@example.org")); n != 1+accounts.MaxLoginFailures {
		t.Errorf("%d mails, want the welcome and %d links sent again", n, accounts.MaxLoginFailures)
	}
}

// A password reset link proves the mailbox too, so it confirms the address.
func TestResetLinkConfirmsTheEmail(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	signUp(a, a.browser(), "Sam", "sam@example.org", "three words is plenty")
	confirm := confirmLinkTo(t, a, "sam@example.org")
	_, link := askForReset(t, a, "sam@example.org")
	if link == "" {
		t.Fatal("no reset link for an unconfirmed account")
	}
	c := a.browser()
	if p := a.send(c, http.MethodPost, link, url.Values{"password": {"a brand new passphrase"}}); p.status != http.StatusSeeOther {
		t.Fatalf("reset: %d\n%s", p.status, p.body)
	}
	if who := loggedInAs(a, c); who != "sam@example.org" {
		t.Errorf("logged in as %q after the reset", who)
	}
	if p := a.login(a.browser(), "sam@example.org", "a brand new passphrase"); p.status != http.StatusSeeOther {
		t.Errorf("log in after the reset: %d\n%s", p.status, p.body)
	}
	// The confirmation link is used up: it would set the sign-up's password again.
	if p := a.send(a.browser(), http.MethodPost, confirm, url.Values{}); p.status != http.StatusGone {
		t.Errorf("the confirmation link works after the reset: %d", p.status)
	}
}

// Signing up ends any log-in on the browser, with a new session id, whatever the email.
func TestSignUpRenewsTheSessionID(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	c := a.browser()
	before := sessionCookie(t, a.login(c, "ruby@example.org", testPassword).header)
	after := sessionCookie(t, signUp(a, c, "Sam", "sam@example.org", "three words is plenty").header)
	if before.Value == after.Value {
		t.Fatal("the session id did not change at sign-up")
	}
	if who := loggedInAs(a, c); who != "" {
		t.Errorf("logged in as %q after signing up, want nobody", who)
	}
}

func TestSignUpPasswordLength(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	for _, c := range []struct {
		password string
		status   int
		says     string
	}{
		{"elevenchars", http.StatusUnprocessableEntity, "at least 12 characters"},
		{strings.Repeat("long pass ", 7)[:64], http.StatusSeeOther, ""},
		{strings.Repeat("a much longer passphrase ", 6)[:128], http.StatusSeeOther, ""},
		{strings.Repeat("p", 129), http.StatusUnprocessableEntity, "at most 128 characters"},
	} {
		email := fmt.Sprintf("len%d@example.org", len(c.password))
		p := signUp(a, a.browser(), "Tester", email, c.password)
		if p.status != c.status {
			t.Fatalf("%d-character password: %d, want %d\n%s", len(c.password), p.status, c.status, p.body)
		}
		if c.status == http.StatusSeeOther {
			if _, err := accounts.Authenticate(context.Background(), a.store, email, c.password); !errors.Is(err, accounts.ErrEmailUnconfirmed) {
				t.Errorf("%d-character password: cannot log in with it: %v", len(c.password), err)
			}
			continue
		}
		// The reason sits beside the password field, which points at it, and nothing is kept.
		msg := byID(p.doc, "password-error")
		if msg == nil || !strings.Contains(textOf(msg), c.says) {
			t.Fatalf("%d-character password: no %q beside the field:\n%s", len(c.password), c.says, p.body)
		}
		in := nextElement(msg)
		if in == nil || attrOf(in, "id") != "password" || attrOf(in, "aria-invalid") != "true" ||
			!strings.Contains(attrOf(in, "aria-describedby"), "password-error") || attrOf(in, "value") != "" {
			t.Errorf("the password field does not point at its error (or echoes the password)")
		}
		if v := attrOf(byID(p.doc, "email"), "value"); v != email {
			t.Errorf("the email typed was not kept: %q", v)
		}
		if n := countUsers(t, a, email); n != 0 || p.header.Get("Set-Cookie") != "" {
			t.Errorf("a refused sign-up created %d accounts or a session", n)
		}
	}
}

func TestSignUpProblemsBesideEachField(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	p := signUp(a, a.browser(), "", "not-an-email", "three words is plenty")
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("%d, want 422", p.status)
	}
	for field, says := range map[string]string{"display_name": "Enter the name", "email": "Enter an email address"} {
		msg := byID(p.doc, field+"-error")
		if msg == nil || !strings.Contains(textOf(msg), says) || attrOf(byID(p.doc, field), "aria-invalid") != "true" {
			t.Errorf("%s: no %q beside the field", field, says)
		}
	}
}

// Signing up with an email that has an account answers exactly like a new sign-up (and
// so does signing up again before confirming), logs nobody in, makes no second account,
// leaves the first alone, and tells its owner by email.
func TestSignUpWithATakenEmailRevealsNothing(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	type answer struct{ status, location, redirect, welcome, loggedIn string }
	try := func(email string) answer {
		c := a.loggedIn("ruby@example.org") // whoever was logged in on the browser is not any more
		p := signUp(a, c, "Someone", email, "three words is plenty")
		sessionCookie(t, p.header)
		w := a.send(c, http.MethodGet, "/signup/welcome", nil)
		return answer{fmt.Sprint(p.status), p.header.Get("Location"), p.body, fmt.Sprint(w.status) + w.body, loggedInAs(a, c)}
	}
	fresh := try("someone@example.org")
	taken := try("Ruby@Example.org")
	unconfirmed := try("someone@example.org")
	if fresh.status != "303" || fresh.location != "/signup/welcome" || fresh.loggedIn != "" || !strings.Contains(fresh.welcome, "Check your email") {
		t.Errorf("new email: %+v", fresh)
	}
	if fresh != taken || fresh != unconfirmed {
		t.Errorf("the answers differ:\n%+v\n---\n%+v\n---\n%+v", fresh, taken, unconfirmed)
	}
	if n := countUsers(t, a, "ruby@example.org"); n != 1 {
		t.Fatalf("%d accounts for ruby@example.org", n)
	}
	if _, err := accounts.Authenticate(context.Background(), a.store, "ruby@example.org", testPassword); err != nil {
		t.Errorf("Ruby's password changed: %v", err)
	}
	mails := mailTo(t, a, "ruby@example.org")
	if len(mails) != 1 || !strings.Contains(mails[0].Subject, "already have an account") || !strings.Contains(mails[0].Body, a.URL+"/reset") {
		t.Errorf("mail to the owner: %+v", mails)
	}
	// One sign-up email per address per window: signing up again soon after sends nothing.
	if mails := mailTo(t, a, "someone@example.org"); len(mails) != 1 || !confirmLink.MatchString(mails[0].Body) {
		t.Errorf("signing up again before confirming, within the window: %+v, want only the first welcome", mails)
	}
}

var resetLink = regexp.MustCompile(`http://[^\s]+/reset/([A-Za-z0-9_-]+)`)

// askForReset posts the reset form and returns the link mailed to email, if any.
func askForReset(t *testing.T, a *accountSite, email string) (response, string) {
	t.Helper()
	to := accounts.NormalizeEmail(email)
	before := len(mailTo(t, a, to))
	p := a.send(a.browser(), http.MethodPost, "/reset", url.Values{"email": {email}})
	mails := mailTo(t, a, to)
	if len(mails) == before {
		return p, ""
	}
	m := resetLink.FindStringSubmatch(mails[0].Body)
	if m == nil || !strings.HasPrefix(m[0], a.URL+"/reset/") {
		t.Fatalf("no reset link in %q", mails[0].Body)
	}
	return p, strings.TrimPrefix(m[0], a.URL)
}

func TestPasswordResetByEmailedLink(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	laptop, phone := a.loggedIn("ruby@example.org"), a.loggedIn("ruby@example.org")

	unknown, noLink := askForReset(t, a, "nobody@example.org")
	known, link := askForReset(t, a, "Ruby@example.org")
	if noLink != "" || link == "" {
		t.Fatalf("links: unknown %q, known %q", noLink, link)
	}
	for name, p := range map[string]response{"unknown": unknown, "known": known} {
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/reset?sent=1" {
			t.Errorf("%s email: %d to %q", name, p.status, p.header.Get("Location"))
		}
	}
	if unknown.body != known.body {
		t.Errorf("the answers for a known and an unknown email differ")
	}
	if p := a.send(a.browser(), http.MethodGet, "/reset?sent=1", nil); webtest.Text(t, p.body, "main h1") != "Check your email" ||
		!strings.HasPrefix(webtest.Text(t, p.body, "section.reset .notice[role=status]"), "If that address has an account") {
		t.Errorf("the sent page does not explain")
	}
	// Only the token's hash is stored.
	var stored int
	if err := a.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM password_resets
		WHERE position(convert_to($1, 'UTF8') in token_hash) > 0`, strings.TrimPrefix(link, "/reset/")).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("the token is stored in the clear (%v)", err)
	}

	c := a.browser()
	form := a.send(c, http.MethodGet, link, nil)
	if form.status != http.StatusOK || byID(form.doc, "password") == nil || form.header.Get("Cache-Control") != "no-store" ||
		form.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("GET the link: %d %v\n%s", form.status, form.header, form.body)
	}
	if p := a.send(c, http.MethodPost, link, url.Values{"password": {"too short"}}); p.status != http.StatusUnprocessableEntity ||
		byID(p.doc, "password-error") == nil {
		t.Fatalf("a short new password: %d, want 422 with the reason beside the field", p.status)
	}
	p := a.send(c, http.MethodPost, link, url.Values{"password": {"a brand new passphrase"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/reset?done=1" {
		t.Fatalf("set the password: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	if who := loggedInAs(a, c); who != "ruby@example.org" {
		t.Errorf("the browser that reset the password is logged in as %q", who)
	}
	for name, other := range map[string]*http.Client{"laptop": laptop, "phone": phone} {
		if who := loggedInAs(a, other); who != "" {
			t.Errorf("the %s is still logged in as %q", name, who)
		}
	}
	if p := a.login(a.browser(), "ruby@example.org", testPassword); p.status != http.StatusUnprocessableEntity {
		t.Errorf("the old password still works: %d", p.status)
	}
	if p := a.login(a.browser(), "ruby@example.org", "a brand new passphrase"); p.status != http.StatusSeeOther {
		t.Errorf("the new password does not work: %d", p.status)
	}

	// The link works once.
	if p := a.send(a.browser(), http.MethodGet, link, nil); p.status != http.StatusGone || webtest.Text(t, p.body, "main h1") != "This link no longer works" {
		t.Errorf("GET a used link: %d", p.status)
	}
	if p := a.send(a.browser(), http.MethodPost, link, url.Values{"password": {"an attacker's passphrase"}}); p.status != http.StatusGone {
		t.Errorf("POST a used link: %d, want 410", p.status)
	}
	if _, err := accounts.Authenticate(context.Background(), a.store, "ruby@example.org", "a brand new passphrase"); err != nil {
		t.Errorf("a used link changed the password again: %v", err)
	}

	mails := mailTo(t, a, "ruby@example.org")
	if len(mails) != 2 || !strings.Contains(mails[0].Subject, "password has changed") {
		t.Errorf("Ruby's mail: %+v, want the link and then a notice of the change", mails)
	}
	entries, err := audit.Log(context.Background(), a.store.Pool(), 20)
	if err != nil {
		t.Fatal(err)
	}
	var audited bool
	for _, e := range entries {
		audited = audited || (e.Action == "password reset" && e.ActorEmail == "ruby@example.org")
	}
	if !audited {
		t.Errorf("the reset is not in the audit log: %+v", entries)
	}
}

func TestExpiredResetLinkIsRefused(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	_, link := askForReset(t, a, "ruby@example.org")
	if _, err := a.store.Pool().Exec(context.Background(), `UPDATE password_resets SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if p := a.send(a.browser(), http.MethodGet, link, nil); p.status != http.StatusGone {
		t.Errorf("GET an expired link: %d, want 410", p.status)
	}
	if p := a.send(a.browser(), http.MethodPost, link, url.Values{"password": {"a brand new passphrase"}}); p.status != http.StatusGone {
		t.Errorf("POST an expired link: %d, want 410", p.status)
	}
	if _, err := accounts.Authenticate(context.Background(), a.store, "ruby@example.org", testPassword); err != nil {
		t.Errorf("an expired link changed the password: %v", err)
	}
	if p := a.send(a.browser(), http.MethodGet, "/reset/not-a-real-token", nil); p.status != http.StatusGone {
		t.Errorf("GET a made-up link: %d, want 410", p.status)
	}
}

// Reset requests have a limit of their own per client address.
func TestResetRequestsAreRateLimited(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	for range 5 {
		if p, _ := askForReset(t, a, "ruby@example.org"); p.status != http.StatusSeeOther {
			t.Fatalf("request: %d", p.status)
		}
	}
	p, link := askForReset(t, a, "ruby@example.org")
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" || link != "" || !strings.Contains(webtest.Text(t, p.body, "#form-error[role=alert]"), "Too many attempts") {
		t.Fatalf("sixth request: %d (Retry-After %q, link %q), want 429 and no mail", p.status, p.header.Get("Retry-After"), link)
	}
}

func TestDevOutboxListsMailOnlyWithoutSMTP(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	_, link := askForReset(t, a, "ruby@example.org")
	signUp(a, a.browser(), "Sam", "sam@example.org", "three words is plenty")
	p := a.send(a.browser(), http.MethodGet, "/dev/outbox", nil)
	if p.status != http.StatusOK || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("/dev/outbox: %d", p.status)
	}
	headings := elements(p.doc, "h2")
	if len(headings) != 2 || !strings.Contains(textOf(headings[0]), "Welcome") || !strings.Contains(textOf(headings[1]), "Reset your") {
		t.Errorf("want the welcome, then the reset mail (newest first): %v", headings)
	}
	var clickable bool
	for _, anchor := range elements(p.doc, "a") {
		clickable = clickable || attrOf(anchor, "href") == a.URL+link
	}
	if reset := webtest.Text(t, p.body, "section.outbox article.mail:nth-of-type(2) dl"); !clickable || !strings.Contains(reset, "To ruby@example.org") || !strings.Contains(reset, "Status queued") {
		t.Errorf("the outbox does not show the reset link to click:\n%s", p.body)
	}
	// Each message's HTML part opens on its own, sandboxed, with the same link.
	htmlPart := webtest.Attr(t, p.body, "section.outbox article.mail:nth-of-type(2) .mail-html a", "href")
	h := a.send(a.browser(), http.MethodGet, htmlPart, nil)
	if csp := h.header.Get("Content-Security-Policy"); h.status != http.StatusOK || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "sandbox") {
		t.Errorf("%s: %d, CSP %q; want it sandboxed, fetching nothing", htmlPart, h.status, csp)
	}
	if href := webtest.Attr(t, h.body, "a", "href"); href != a.URL+link || !strings.HasPrefix(webtest.Text(t, h.body, "title"), "Reset your") {
		t.Errorf("the HTML part links to %q, want the reset link %q", href, a.URL+link)
	}
	if p := a.send(a.browser(), http.MethodGet, "/dev/outbox/999999/html", nil); p.status != http.StatusNotFound {
		t.Errorf("an unknown message's HTML part: %d, want 404", p.status)
	}

	withSMTP := newMailSite(t, false)
	if p := withSMTP.send(withSMTP.browser(), http.MethodGet, "/dev/outbox", nil); p.status != http.StatusNotFound {
		t.Errorf("/dev/outbox with SMTP: %d, want 404", p.status)
	}
	if p := withSMTP.send(withSMTP.browser(), http.MethodGet, htmlPart, nil); p.status != http.StatusNotFound {
		t.Errorf("%s with SMTP: %d, want 404", htmlPart, p.status)
	}
}

// The account forms, like log-in, refuse posts from other sites before doing anything.
func TestAccountFormsRefuseCrossSitePosts(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	_, link := askForReset(t, a, "ruby@example.org")
	signUp(a, a.browser(), "Sam", "sam@example.org", "three words is plenty")
	confirm := confirmLinkTo(t, a, "sam@example.org")
	for path, form := range map[string]url.Values{
		"/signup": {"display_name": {"Mallory"}, "email": {"mallory@example.org"}, "password": {"three words is plenty"}},
		"/reset":  {"email": {"ruby@example.org"}},
		link:      {"password": {"an attacker's passphrase"}},
		confirm:   {},
	} {
		req, _ := http.NewRequest(http.MethodPost, a.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d, want 403", path, resp.StatusCode)
		}
	}
	if n := countUsers(t, a, "mallory@example.org"); n != 0 {
		t.Errorf("a cross-site sign-up made an account")
	}
	if len(mailTo(t, a, "ruby@example.org")) != 1 {
		t.Errorf("a cross-site reset request sent mail")
	}
	if p := a.send(a.browser(), http.MethodGet, link, nil); p.status != http.StatusOK {
		t.Errorf("a cross-site post used up the reset link: %d", p.status)
	}
	if p := a.send(a.browser(), http.MethodGet, confirm, nil); p.status != http.StatusOK {
		t.Errorf("a cross-site post used up the confirmation link: %d", p.status)
	}
}

func TestSignUpLinks(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	for _, path := range []string{"/login", "/"} {
		p := a.send(a.browser(), http.MethodGet, path, nil)
		var found bool
		for _, anchor := range elements(p.doc, "a") {
			found = found || (attrOf(anchor, "href") == "/signup" && textOf(anchor) == "Sign up to fundraise")
		}
		if !found {
			t.Errorf("%s has no 'Sign up to fundraise' link", path)
		}
	}
}

// Sign-up and a reset link refuse a guessable password with the reason beside the field.
func TestGuessablePasswordsRefusedBesideTheField(t *testing.T) {
	t.Parallel()
	a := newMailSite(t, true)
	for _, c := range []struct{ password, says string }{
		{"            ", "spaces only"},
		{"aaaaaaaaaaaa", "repeats one character"},
		{"123456789012", "in order"},
		{"qwerty123456", "most commonly used"},
		{"Guess.Me.Now 2024!", "your email"},
	} {
		p := signUp(a, a.browser(), "Tester", "guess.me.now@example.org", c.password)
		msg := byID(p.doc, "password-error")
		if p.status != http.StatusUnprocessableEntity || msg == nil || !strings.Contains(textOf(msg), c.says) {
			t.Errorf("sign up with %q: %d, want 422 with %q beside the password", c.password, p.status, c.says)
		}
	}
	if n := countUsers(t, a, "guess.me.now@example.org"); n != 0 {
		t.Errorf("%d accounts made with refused passwords", n)
	}
	_, link := askForReset(t, a, "ruby@example.org")
	c := a.browser()
	p := a.send(c, http.MethodPost, link, url.Values{"password": {"aaaaaaaaaaaa"}})
	if msg := byID(p.doc, "password-error"); p.status != http.StatusUnprocessableEntity || msg == nil || !strings.Contains(textOf(msg), "repeats") {
		t.Errorf("reset to aaaaaaaaaaaa: %d, want 422 with the reason beside the field", p.status)
	}
	if p := a.send(c, http.MethodPost, link, url.Values{"password": {"a brand new passphrase"}}); p.status != http.StatusSeeOther {
		t.Errorf("the link no longer works after a refused password: %d", p.status)
	}
}
