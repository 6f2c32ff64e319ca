package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"giving/campaigns/testwait"
)

// TestE2EDonorSetsUpADirectDebit is a donor giving £10 a month by Direct Debit in the
// sandbox, in a real browser: she chooses "Direct Debit from your bank account" on the
// donate form, sets it up on the sandbox checkout and lands on a thank-you page that says
// it is processing and when it is collected; the appeal's total does not move, and the
// trustee dashboard shows £10.00 processing. When the sandbox collects it (days later, at
// Stripe), the appeal's total moves by £10.00 and nothing is processing any more. Each page
// is checked with axe-core and photographed at 1280x800 and 390x844.
func TestE2EDonorSetsUpADirectDebit(t *testing.T) {
	chromium := e2eTools(t)
	site := e2eStart(t)
	browserCtx := e2eBrowser(t, chromium)
	ada := e2eNewTab(t, browserCtx, site, "donor")
	trustee := e2eNewTab(t, browserCtx, site, "trustee")
	both := func(b *e2eTab, name string) {
		t.Helper()
		b.size(e2ePhone)
		b.screenshot(name + "-phone")
		b.size(e2eDesktop)
		b.checkA11y(name + "-desktop")
	}
	raised := func() string {
		t.Helper()
		resp, err := http.Get(site.URL + "/api/campaigns/fundraising-for-freedom")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct{ Raised string }
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v.Raised
	}

	ada.goTo("/")
	ada.do("choose £10 a month by Direct Debit",
		chromedp.Click(chromedp.CSS(`input[name=tier][value=custom]`)),
		chromedp.SendKeys(chromedp.ID("amount"), "10"),
		chromedp.Click(chromedp.CSS(`input[name=frequency][value=monthly]`)),
		chromedp.Click(chromedp.CSS(`input[name=payment_method][value=bacs_debit]`)))
	if got := ada.text("#payment_method"); !strings.Contains(got, "Direct Debit from your bank account") || !strings.Contains(got, "Direct Debit Guarantee") {
		t.Errorf("the donate form's ways to pay say %q", got)
	}
	both(ada, "donate-form-direct-debit")
	ada.navigate("submit the donation form", chromedp.Click(chromedp.CSS(`form.donate button[type=submit]`)))
	if p := ada.path(); !strings.HasPrefix(p, "/sandbox/checkout/") {
		t.Fatalf("after the donation form: %s (%s), want the sandbox checkout", p, ada.text("main"))
	}
	if got := ada.text("section.sandbox-checkout"); !strings.Contains(got, "Set up a Direct Debit") || !strings.Contains(got, "£10.00 every month") {
		t.Errorf("the sandbox checkout shows %q", got)
	}
	both(ada, "sandbox-checkout-direct-debit")
	ada.do("type the email and the account holder's name",
		chromedp.SendKeys(chromedp.ID("email"), "ada@example.org"),
		chromedp.SendKeys(chromedp.ID("name"), "Ada Example"))
	ada.navigate("set up the Direct Debit", chromedp.Click(chromedp.CSS(`form[action$="/pay"] button`)))
	if p := ada.path(); !strings.HasPrefix(p, "/thanks?session_id=") {
		t.Fatalf("after setting up: %s, want the thank-you page", p)
	}
	thanks := ada.path()
	got := ada.waitText("#dd-status", "Your Direct Debit is set up")
	for _, want := range []string{"£10.00", "collected around", "processing"} {
		if !strings.Contains(got, want) {
			t.Errorf("the thank-you page says %q, without %q", got, want)
		}
	}
	both(ada, "thanks-processing")
	if r := raised(); r != "0.00" {
		t.Fatalf("a Direct Debit not yet collected moved the appeal's total to %s", r)
	}

	e2eTrusteeLogIn(t, site, trustee, "trustee@example.org", "a long trustee passphrase")
	trustee.goTo("/trustees")
	if got := trustee.text("#fig-processing"); got != "£10.00" {
		t.Errorf("the dashboard's processing figure is %q, want £10.00", got)
	}
	if got := trustee.text("main"); !strings.Contains(got, "1 Direct Debit set up, not yet collected") {
		t.Errorf("the dashboard does not count the Direct Debit processing: %q", got)
	}
	both(trustee, "dashboard-processing")

	ada.goTo("/sandbox/directdebit")
	if got := ada.text("main"); !strings.Contains(got, "£10.00 a month from ada@example.org") || !strings.Contains(got, "Processing") {
		t.Errorf("the sandbox's Direct Debit page shows %q", got)
	}
	both(ada, "sandbox-direct-debits")
	ada.navigate("collect the Direct Debit now", chromedp.Click(chromedp.CSS(`form[action$="/collect"] button`)))
	ada.waitText("#sent", "the money has arrived")
	both(ada, "sandbox-direct-debits-collected")

	// The public figures are cached for up to a second.
	testwait.Eventually(t, "the appeal's total moves by £10.00", func() bool { return raised() == "10.00" })
	ada.goTo(thanks)
	ada.waitText("section.thanks .notice", "has been received")
	trustee.goTo("/trustees")
	if got, r := trustee.text("#fig-processing"), trustee.text("#fig-raised"); got != "£0.00" || r != "£10.00" {
		t.Errorf("after collection the dashboard shows processing %q and raised %q, want £0.00 and £10.00", got, r)
	}
}
