package main

// Proof in a real browser: the built binary, serving a database of its own with the sandbox
// gateway, driven through headless Chromium as donors, a trustee and a fundraiser use it.
// Every key page is screenshotted and checked with axe-core. Helpers: e2e_helpers_test.go.

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp/totp"
)

// TestE2E runs the scenarios in order on one site and one browser: the trustee's figures
// are the donor's two gifts.
func TestE2E(t *testing.T) {
	chromium := e2eTools(t) // first: a machine without Chromium or axe-core fails at once
	site := e2eStart(t)
	browserCtx := e2eBrowser(t, chromium)

	if !t.Run("DonorGivesTwice", func(t *testing.T) { e2eDonorGivesTwice(t, e2eNewTab(t, browserCtx, site, "donor")) }) {
		t.Fatal("the later scenarios count on the donor's two gifts")
	}
	t.Run("TrusteeSeesTotalsAndExports", func(t *testing.T) { e2eTrusteeSeesTotalsAndExports(t, site, e2eNewTab(t, browserCtx, site, "trustee")) })
	t.Run("KeyboardOnlyDonation", func(t *testing.T) { e2eKeyboardOnlyDonation(t, e2eNewTab(t, browserCtx, site, "donor")) })
	t.Run("RubysFundraiserPage", func(t *testing.T) { e2eRubysFundraiserPage(t, site, browserCtx) })
}

// e2eGiftAid is what a donor types to add Gift Aid; nil leaves the box unticked.
type e2eGiftAid struct{ first, last, house, postcode string }

// e2eGive fills the donation form on the page that is open and pays on the sandbox checkout,
// ending on the thank-you page. tier is a tier's amount as shown ("£3.00") or "" to type
// amount; check runs the accessibility checks on the checkout and thank-you pages.
func e2eGive(t *testing.T, b *e2eTab, tier, amount string, monthly bool, name string, ga *e2eGiftAid, check bool) {
	t.Helper()
	if tier != "" {
		b.do("pick the "+tier+" tier", chromedp.Click(`//label[.//strong[normalize-space()='`+tier+`']]//input[@name='tier']`))
	} else {
		b.do("type an amount",
			chromedp.Click(chromedp.CSS(`input[name=tier][value=custom]`)),
			chromedp.SendKeys(chromedp.ID("amount"), amount))
	}
	frequency := "one_off"
	if monthly {
		frequency = "monthly"
	}
	b.do("choose how often", chromedp.Click(chromedp.CSS(`input[name=frequency][value=`+frequency+`]`)),
		// The name to show sits with the message and the card fee, folded under the amounts.
		chromedp.Click(chromedp.CSS(`details.extras > summary`)),
		chromedp.SendKeys(chromedp.ID("display_name"), name))
	if ga != nil {
		b.do("add Gift Aid",
			chromedp.Click(chromedp.ID("gift_aid")),
			// The address fields appear once the box is ticked.
			chromedp.WaitVisible(chromedp.ID("first_name")),
			chromedp.Click(chromedp.CSS(`input[name=scope]`)),
			chromedp.SendKeys(chromedp.ID("first_name"), ga.first),
			chromedp.SendKeys(chromedp.ID("last_name"), ga.last),
			chromedp.SendKeys(chromedp.ID("house"), ga.house),
			chromedp.SendKeys(chromedp.ID("postcode"), ga.postcode))
	}
	if ticked := e2eRun(b, "read the Gift Aid box", chromedp.Evaluate[bool](`document.getElementById("gift_aid").checked`)); ticked != (ga != nil) {
		t.Fatalf("Gift Aid box ticked=%v, want %v", ticked, ga != nil)
	}
	b.navigate("submit the donation form", chromedp.Click(chromedp.CSS(`form.donate button[type=submit]`)))
	if p := b.path(); !strings.HasPrefix(p, "/sandbox/checkout/") {
		b.screenshot("not-checkout")
		t.Fatalf("after the donation form: %s (%s), want the sandbox checkout", p, b.text("main"))
	}
	want := tier
	if tier == "" {
		want = "£" + amount + ".00"
	}
	if monthly {
		want += " every month"
	}
	if got := b.text("section.sandbox-checkout"); !strings.Contains(got, want) || !strings.Contains(got, "sandbox") {
		t.Errorf("sandbox checkout shows %q, want %q and the sandbox warning", got, want)
	}
	if check {
		b.checkA11y("sandbox-checkout")
	}

	// As on Stripe's page: the email the receipt goes to, and the name on the card.
	b.do("type the email and the name on the card",
		chromedp.SendKeys(chromedp.ID("email"), strings.ToLower(name)+"@example.org"),
		chromedp.SendKeys(chromedp.ID("name"), name+" Example"))
	b.navigate("pay on the sandbox checkout", chromedp.Click(chromedp.CSS(`form[action$="/pay"] button`)))
	if p := b.path(); !strings.HasPrefix(p, "/thanks?session_id=") {
		t.Fatalf("after paying: %s, want the thank-you page", p)
	}
	got := b.waitText("section.thanks .notice", "has been received")
	wantGift := "gift of " + want
	if monthly {
		wantGift = "monthly gift of " + strings.TrimSuffix(want, " every month")
	}
	if !strings.Contains(got, wantGift) {
		t.Errorf("thank-you notice %q, want %q", got, wantGift)
	}
	if h := b.text("h1"); h != "Thank you, "+name {
		t.Errorf("thank-you heading %q, want it to thank %s", h, name)
	}
	if check {
		b.checkA11y("thanks")
	} else {
		b.screenshot("thanks")
	}
}

// Scenario 1: a donor gives £3 once and £10 a month from the appeal page, and sees the
// appeal's progress move.
func e2eDonorGivesTwice(t *testing.T, b *e2eTab) {
	b.goTo("/")
	if got := b.text(".progress"); !strings.Contains(got, "£0.00 raised of £50,000.00 target") || !strings.Contains(got, "0 donors") {
		t.Errorf("a new appeal's progress reads %q", got)
	}
	b.checkA11y("appeal")

	e2eGive(t, b, "£3.00", "", false, "Sam", nil, true)

	b.goTo("/")
	e2eGive(t, b, "", "10", true, "Ada", &e2eGiftAid{"Ada", "Lovelace", "12", "sw1a1aa"}, false)

	b.goTo("/")
	got := b.waitText(".progress", "£13.00 raised")
	for _, want := range []string{"£13.00 raised of £50,000.00 target", "2 donors"} {
		if !strings.Contains(got, want) {
			t.Errorf("the appeal's progress reads %q, want %q", got, want)
		}
	}
	if v := e2eRun(b, "read the progress bar", chromedp.AttributeValue(chromedp.CSS(`.progress [role=progressbar]`), "aria-valuetext")); v.Value != "£13.00 of £50,000.00" {
		t.Errorf("the progress bar tells a screen reader %q", v.Value)
	}
	b.screenshot("appeal-after-two-gifts")
}

// Scenario 2: a trustee logs in through the form, reads the totals and downloads the gifts
// CSV and the HMRC Gift Aid schedule.
func e2eTrusteeSeesTotalsAndExports(t *testing.T, site *e2eSite, b *e2eTab) {
	const email, password = "trustee@example.org", "a long trustee passphrase"
	secret := e2eTrusteeLogIn(t, site, b, email, password)

	for id, want := range map[string]string{"fig-gifts": "2", "fig-gross": "£13.00", "fig-raised": "£13.00",
		"fig-oneoff": "£3.00", "fig-monthly": "£10.00", "fig-active": "1", "fig-giftaid": "£2.50"} {
		if got := b.text("#" + id); got != want {
			t.Errorf("dashboard %s shows %q, want %q", id, got, want)
		}
	}
	b.checkA11y("trustee-dashboard")

	name, data := b.download("download the gifts CSV", chromedp.Click(chromedp.CSS(`a[href^="/trustees/export/gifts.csv"]`)))
	rows := e2eReadCSV(t, name, data)
	kind, amount, freq := e2eColumn(t, name, rows[0], "Kind"), e2eColumn(t, name, rows[0], "Amount"), e2eColumn(t, name, rows[0], "Frequency")
	var gifts []string
	for _, r := range rows[1:] {
		if r[kind] == "gift" {
			gifts = append(gifts, r[amount]+" "+r[freq])
		}
	}
	slices.Sort(gifts)
	if want := []string{"10.00 monthly", "3.00 one_off"}; !slices.Equal(gifts, want) {
		t.Errorf("%s has gifts %q, want %q:\n%s", name, gifts, want, data)
	}

	b.navigate("open the Gift Aid claim", chromedp.Click(chromedp.CSS(`nav a[href="/trustees/gift-aid"]`)))
	if got := b.text("#ga-total"); got != "£10.00" {
		t.Errorf("Gift Aid claim total %q, want £10.00", got)
	}
	b.checkA11y("gift-aid-claim")
	name, data = b.download("make the claim and download the schedule",
		chromedp.Click(chromedp.CSS(`form[action="/trustees/gift-aid/claim"] button`)))
	rows = e2eReadCSV(t, name, data)
	if rows[0][0] != "Title" || len(rows) != 2 {
		t.Fatalf("%s: want the HMRC header and one row:\n%s", name, data)
	}
	// HMRC lets gifts of £20 or less be aggregated, without the donor's name.
	agg, amt := e2eColumn(t, name, rows[0], "Aggregated donations"), e2eColumn(t, name, rows[0], "Amount")
	if rows[1][agg] == "" || rows[1][amt] != "10.00" {
		t.Errorf("%s row %q, want Ada's £10.00 as an aggregated row", name, rows[1])
	}

	// Logging in again takes the password, then the app's code.
	b.navigate("log out", chromedp.Click(chromedp.CSS(`nav form[action="/logout"] button`)))
	b.goTo("/login")
	b.do("fill in the log-in form again",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password))
	b.navigate("log in with the password", chromedp.Click(chromedp.CSS(`form.login button[type=submit]`)))
	if p := b.path(); p != "/login/code" {
		t.Fatalf("after the password: %s (%q), want the code page", p, b.text("main"))
	}
	b.checkA11y("login-code")
	b.do("type the code from the app", chromedp.SendKeys(chromedp.ID("code"), e2eTOTP(t, secret)))
	b.navigate("log in with the code", chromedp.Click(chromedp.CSS(`form.login button[type=submit]`)))
	if p := b.path(); p != "/trustees" {
		t.Fatalf("after the code: %s (%q), want the dashboard", p, b.text("main"))
	}
}

// e2eTOTP is what an authenticator app shows now for secret.
func e2eTOTP(t *testing.T, secret string) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// e2eEnrolTwoFactor turns on two-factor sign-in on the enrolment page that is open, as a
// person does with an authenticator app: the key shown on the page, one code typed back.
// It checks the ten recovery codes are shown and returns the secret.
func e2eEnrolTwoFactor(t *testing.T, b *e2eTab) string {
	t.Helper()
	if got := b.text("#tf-required"); !strings.Contains(got, "must use two-factor sign-in") {
		t.Errorf("the enrolment page reads %q, want it to say two-factor is required", got)
	}
	b.checkA11y("two-factor-enrol")
	secret := strings.ReplaceAll(b.text("#totp-secret"), " ", "")
	b.do("type the code from the app", chromedp.SendKeys(chromedp.ID("code"), e2eTOTP(t, secret)))
	b.navigate("turn on two-factor sign-in", chromedp.Click(chromedp.CSS(`form[action="/account/two-factor"] button`)))
	codes := strings.Fields(b.text("#recovery-codes"))
	if len(codes) != 10 {
		t.Fatalf("recovery codes shown: %q, want 10", codes)
	}
	b.checkA11y("two-factor-recovery-codes")
	return secret
}

// A donor who uses only the keyboard: Tab to the amounts, arrow to "Other", Tab to the
// amount, Enter to submit, read the error, correct it and reach the checkout.
func e2eKeyboardOnlyDonation(t *testing.T, b *e2eTab) {
	b.goTo("/")
	e2eChooseOtherByKeyboard(t, b)
	b.tabTo("amount")
	resp := b.navigate("submit a wrong amount with Enter",
		chromedp.KeyEvent("12.345"), chromedp.KeyEvent(kb.Enter))
	if resp == nil || resp.Status != 422 {
		t.Fatalf("a wrong amount: response %v, want 422 with the problems", resp)
	}
	summary := b.text(".error-summary")
	if !strings.Contains(summary, "Please check your donation") {
		t.Errorf("error summary reads %q", summary)
	}
	if got := b.text("#amount-error"); got == "" {
		t.Errorf("no error beside the amount field")
	}
	b.checkA11y("donate-form-errors")

	b.tabTo("amount")
	b.navigate("correct the amount and press Enter",
		chromedp.KeyEvent(strings.Repeat(kb.Backspace, 10)+"5"), chromedp.KeyEvent(kb.Enter))
	if p := b.path(); !strings.HasPrefix(p, "/sandbox/checkout/") {
		t.Fatalf("after correcting the amount: %s (%q), want the sandbox checkout", p, b.text("main"))
	}
	if got := b.text("section.sandbox-checkout"); !strings.Contains(got, "£5.00") {
		t.Errorf("checkout shows %q, want £5.00", got)
	}
}

// Scenario 3, Ruby's flow: she signs up and writes her page, which stays private until an
// admin approves it (trustees only read); then a friend gives on it, and both see it.
func e2eRubysFundraiserPage(t *testing.T, site *e2eSite, browserCtx context.Context) {
	const slug, page = "ruby-runs-10k", "/f/ruby-runs-10k"
	ruby, admin, friend := e2eNewTab(t, browserCtx, site, "ruby"), e2eNewTab(t, browserCtx, site, "admin"), e2eNewTab(t, browserCtx, site, "friend")

	ruby.goTo("/signup")
	ruby.checkA11y("signup")
	ruby.do("fill in the sign-up form",
		chromedp.SendKeys(chromedp.ID("display_name"), "Ruby"),
		chromedp.SendKeys(chromedp.ID("email"), "ruby@example.org"),
		chromedp.SendKeys(chromedp.ID("password"), "ruby's own long passphrase"))
	ruby.navigate("sign up", chromedp.Click(chromedp.CSS(`form.signup button[type=submit]`)))
	if p := ruby.path(); p != "/signup/welcome" {
		t.Fatalf("after signing up: %s (%q), want the welcome page", p, ruby.text("main"))
	}
	// Nobody is logged in yet: the page reads the same whether or not the email had an
	// account, and the emailed link logs her in.
	if got := ruby.text("main"); !strings.Contains(got, "Check your email") || strings.Contains(got, "logged in as") {
		t.Errorf("welcome page reads %q, want her asked to check her email", got)
	}
	ruby.checkA11y("signup-welcome")

	// Without SMTP_URL the welcome email waits in the development outbox: she follows its
	// confirmation link and presses the button.
	ruby.goTo("/dev/outbox")
	ruby.navigate("open the confirmation link in the welcome email", chromedp.Click(
		`//article[.//dd[normalize-space()='ruby@example.org']]//a[contains(@href, '/signup/confirm/')]`))
	if p := ruby.path(); !strings.HasPrefix(p, "/signup/confirm/") {
		t.Fatalf("after the emailed link: %s (%q), want the confirmation page", p, ruby.text("main"))
	}
	ruby.checkA11y("signup-confirm")
	ruby.navigate("confirm her email address", chromedp.Click(chromedp.CSS(`form.confirm button[type=submit]`)))
	if p := ruby.path(); p != "/fundraise/new" {
		t.Fatalf("after confirming: %s (%q), want the new page form", p, ruby.text("main"))
	}
	ruby.checkA11y("new-page-form")
	ruby.do("write the page",
		chromedp.SendKeys(chromedp.ID("title"), "Ruby runs the 10k"),
		chromedp.SendKeys(chromedp.ID("story"), "I am running 10k for women rebuilding their lives.\n\nEvery pound helps."),
		chromedp.SendKeys(chromedp.ID("target"), "500"),
		chromedp.SendKeys(chromedp.ID("slug"), slug))
	ruby.navigate("create the page", chromedp.Click(chromedp.CSS(`form.page-form button[type=submit]`)))
	if p := ruby.path(); !strings.HasPrefix(p, "/fundraise") || strings.HasPrefix(p, "/fundraise/new") {
		t.Fatalf("after creating the page: %s (%q), want her dashboard", p, ruby.text("main"))
	}
	if got := ruby.text(".page-card"); !strings.Contains(got, "Ruby runs the 10k") || !strings.Contains(got, "Waiting for the charity's approval") {
		t.Errorf("her new page reads %q, want it waiting for approval", got)
	}
	ruby.checkA11y("fundraise-dashboard")

	// Not public until approved.
	if resp := friend.goTo(page); resp == nil || resp.Status != http.StatusNotFound {
		t.Errorf("%s before approval: %v, want 404", page, resp)
	}

	const adminEmail, adminPassword = "admin@example.org", "the admin's long passphrase"
	site.addUser(t, adminEmail, "admin", adminPassword)
	admin.goTo("/login")
	admin.do("fill in the log-in form",
		chromedp.SendKeys(chromedp.ID("email"), adminEmail),
		chromedp.SendKeys(chromedp.ID("password"), adminPassword))
	admin.navigate("log in", chromedp.Click(chromedp.CSS(`form.login button[type=submit]`)))
	if p := admin.path(); p != "/account/two-factor" {
		t.Fatalf("the admin's first log-in lands on %s, want the two-factor enrolment", p)
	}
	e2eEnrolTwoFactor(t, admin)
	admin.goTo("/admin")
	if p := admin.path(); p != "/admin" {
		t.Fatalf("the admin lands on %s, want /admin", p)
	}
	admin.checkA11y("admin")
	admin.navigate("approve Ruby's page", chromedp.Click(
		`//tr[.//*[contains(normalize-space(), '`+page+`')]]//form[input[@name='status'][@value='approved']]//button`))
	if got := admin.text("main"); !strings.Contains(got, "Ruby runs the 10k") {
		t.Errorf("admin page after approving reads %q", got)
	}

	// A friend opens the shared link and gives £15 once.
	if resp := friend.goTo(page); resp == nil || resp.Status != http.StatusOK {
		t.Fatalf("%s after approval: %v, want 200", page, resp)
	}
	if got := friend.text(".progress"); !strings.Contains(got, "£0.00 raised of £500.00 target") {
		t.Errorf("Ruby's page progress reads %q", got)
	}
	friend.checkA11y("fundraiser-page")
	e2eGive(t, friend, "£15.00", "", false, "Priya", nil, false)
	friend.goTo(page)
	got := friend.waitText(".progress", "£15.00 raised")
	if !strings.Contains(got, "£15.00 raised of £500.00 target") || !strings.Contains(got, "1 donor") {
		t.Errorf("Ruby's page progress after the gift reads %q", got)
	}
	if got := friend.text(".donor-wall"); !strings.Contains(got, "Priya") {
		t.Errorf("supporters on Ruby's page: %q, want Priya", got)
	}
	friend.screenshot("fundraiser-page-after-gift")

	// Ruby sees the gift attributed to her page.
	ruby.goTo("/fundraise")
	if got := ruby.text(".page-card"); !strings.Contains(got, "Public") || !strings.Contains(got, "£15.00 raised") {
		t.Errorf("her page card reads %q, want it public with £15.00 raised", got)
	}
	if got := ruby.text("#gifts"); !strings.Contains(got, "Priya") || !strings.Contains(got, "£15.00") {
		t.Errorf("gifts to her pages: %q, want Priya's £15.00", got)
	}
	ruby.checkA11y("fundraise-dashboard-with-gift")

	// A donor asks what is held about them: the admin finds them by email, is told beside
	// the field when the address is mistyped, and sees what erasure would do before any
	// change (Priya gave as priya@example.org).
	admin.goTo("/admin")
	admin.navigate("open Donor data", chromedp.Click(chromedp.CSS(`a[href="/admin/donors"]`)))
	admin.checkA11y("admin-donors")
	admin.do("type a mistyped email", chromedp.SendKeys(chromedp.ID("email"), "priya.example.org"))
	admin.navigate("ask to erase it", chromedp.Click(chromedp.CSS(`button[formaction="/admin/donors/erase"]`)))
	if got := admin.text("#email-error"); !strings.Contains(got, "name@example.org") {
		t.Errorf("a mistyped email: the field's error reads %q", got)
	}
	admin.checkA11y("admin-donors-error")
	admin.do("correct the email", chromedp.Clear(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "Priya@example.org"))
	admin.navigate("ask to erase again", chromedp.Click(chromedp.CSS(`button[formaction="/admin/donors/erase"]`)))
	if got := admin.text("#erasure-plan"); !strings.Contains(got, "Nothing has changed yet") || !strings.Contains(got, "1 donation would be scrubbed") {
		t.Errorf("the erasure plan reads %q", got)
	}
	admin.checkA11y("admin-donors-plan")
	friend.goTo(page)
	if got := friend.text(".donor-wall"); !strings.Contains(got, "Priya") {
		t.Errorf("after only a plan, the donor wall reads %q; nothing should have changed", got)
	}
}

// e2eTrusteeLogIn adds a trustee, logs in as her from the dashboard's address and enrols
// her in two-factor sign-in (REQUIRE_2FA_FOR), ending on the dashboard; it returns her
// authenticator secret.
func e2eTrusteeLogIn(t *testing.T, site *e2eSite, b *e2eTab, email, password string) string {
	t.Helper()
	site.addUser(t, email, "trustee", password)
	// The dashboard asks for a log-in first.
	b.goTo("/trustees")
	if p := b.path(); !strings.HasPrefix(p, "/login") {
		t.Fatalf("/trustees logged out lands on %s, want the log-in page", p)
	}
	b.checkA11y("login")
	b.do("fill in the log-in form",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password))
	b.navigate("log in", chromedp.Click(chromedp.CSS(`form.login button[type=submit]`)))
	// REQUIRE_2FA_FOR=admin,trustee: the first log-in leads to enrolment, and nowhere else.
	if p := b.path(); p != "/account/two-factor" {
		t.Fatalf("after logging in: %s (%q), want the two-factor enrolment", p, b.text("main"))
	}
	secret := e2eEnrolTwoFactor(t, b)
	b.navigate("continue to the dashboard", chromedp.Click(chromedp.CSS(`a[href="/trustees"]`)))
	if p := b.path(); p != "/trustees" {
		t.Fatalf("after enrolling: %s (%q), want the dashboard", p, b.text("main"))
	}
	return secret
}
