package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestE2EDonorManagesHerMonthlyGift is a donor after her gift, in a real browser on the
// sandbox: she gives £10 a month, finds her receipt in the outbox, follows its link, raises
// the gift to £15, pauses it, restarts it and cancels it. After each step the trustee
// dashboard shows it and monthly recurring income moves with it; every email arrives
// exactly once.
func TestE2EDonorManagesHerMonthlyGift(t *testing.T) {
	chromium := e2eTools(t)
	site := e2eStart(t)
	browserCtx := e2eBrowser(t, chromium)
	ada := e2eNewTab(t, browserCtx, site, "donor")
	trustee := e2eNewTab(t, browserCtx, site, "trustee")

	ada.goTo("/")
	e2eGive(t, ada, "", "10", true, "Ada", nil, false)
	if got := ada.text("main"); !strings.Contains(got, "ada@example.org") {
		t.Errorf("the thank-you page does not say where the receipt went: %q", got)
	}
	e2eTrusteeLogIn(t, site, trustee, "trustee@example.org", "a long trustee passphrase")
	dashboard := func(step string, want map[string]string) {
		t.Helper()
		trustee.goTo("/trustees")
		for id, w := range want {
			if got := trustee.text("#" + id); !strings.HasPrefix(got, w) {
				t.Errorf("%s: dashboard %s shows %q, want %q", step, id, got, w)
			}
		}
	}
	dashboard("after the gift", map[string]string{"fig-active": "1", "fig-mrr": "£10.00", "fig-paused": "0", "fig-cancelled-donor": "0"})

	// The receipt is in the outbox, with her own link.
	ada.goTo("/dev/outbox")
	ada.navigate("open the manage link in the receipt", chromedp.Click(
		`//article[.//dd[normalize-space()='ada@example.org']][.//h2[starts-with(normalize-space(), 'Your receipt')]]//a[contains(@href, '/manage/')]`))
	manage := ada.location()
	if !strings.Contains(manage, "/manage/") {
		t.Fatalf("the receipt's link leads to %s", manage)
	}
	ada.checkA11y("manage")

	ada.do("ask for £15 a month", chromedp.SendKeys(chromedp.ID("amount"), "15"))
	ada.navigate("change the amount", chromedp.Click(chromedp.CSS(`form[action$="/amount"] button[type=submit]`)))
	ada.waitText("main", "Done: Change the amount from £10.00 to £15.00 a month")
	ada.screenshot("manage-amount-done")
	dashboard("after raising the amount", map[string]string{"fig-active": "1", "fig-mrr": "£15.00", "fig-amount-up": "1"})

	ada.goTo(strings.TrimPrefix(manage, site.URL))
	ada.navigate("pause for a month", chromedp.Click(chromedp.CSS(`form[action$="/pause"] button[type=submit]`)))
	ada.waitText("main", "Done: Pause payments until")
	ada.checkA11y("manage-paused")
	dashboard("while paused", map[string]string{"fig-paused": "1", "fig-mrr": "£0.00"})

	ada.goTo(strings.TrimPrefix(manage, site.URL))
	ada.navigate("restart payments", chromedp.Click(chromedp.CSS(`form[action$="/resume"] button[type=submit]`)))
	ada.waitText("main", "Done: Restart payments")
	dashboard("after restarting", map[string]string{"fig-paused": "0", "fig-mrr": "£15.00", "fig-active": "1"})

	ada.goTo(strings.TrimPrefix(manage, site.URL))
	ada.navigate("cancel the gift", chromedp.Click(chromedp.CSS(`form[action$="/cancel"] button[type=submit]`)))
	ada.waitText("main", "ended")
	ada.screenshot("manage-cancelled")
	dashboard("after cancelling", map[string]string{"fig-active": "0", "fig-mrr": "£0.00", "fig-cancelled-donor": "1"})

	// Every email she was sent arrived once: no "sorry to see you go" but for the cancellation.
	ada.goTo("/dev/outbox")
	subjects := e2eRun(ada, "read her emails", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("article.mail"))
		.filter(a => a.querySelector("dd").textContent.trim() === "ada@example.org")
		.map(a => a.querySelector("h2").textContent.trim())`))
	want := []string{"Your receipt: £10.00 monthly gift", "is set up", "Your monthly gift is now £15.00",
		"Your monthly gift is paused until", "Your monthly gift has restarted", "Your monthly gift is cancelled"}
	if len(subjects) != len(want) {
		t.Errorf("she was sent %d emails %q, want %d", len(subjects), subjects, len(want))
	}
	for _, w := range want {
		n := 0
		for _, s := range subjects {
			if strings.Contains(s, w) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d emails %q among %q, want exactly one", n, w, subjects)
		}
	}
}
