package main

// Marketing consent and the charity's own pages in a real browser, at 390x844 and
// 1280x800: the donate form's "Hearing from us" fieldset, the privacy notice, contact and
// complaints pages, the footer naming the charity, and the page behind the link to stop
// emails in a receipt as sent. Each fits the window, passes axe-core, and is screenshotted.

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var e2ePreferencesLink = regexp.MustCompile(`http://\S+/preferences/[0-9a-f]{32}\.[A-Za-z0-9_-]+`)

func TestE2EConsent(t *testing.T) {
	chromium := e2eTools(t)
	site := e2eStart(t)
	browserCtx := e2eBrowser(t, chromium)
	var link string
	for _, vp := range []e2eViewport{e2eDesktop, e2ePhone} {
		t.Run(vp.name, func(t *testing.T) {
			b := e2eNewTab(t, browserCtx, site, vp.name)
			b.size(vp)
			fits := func(what string) {
				t.Helper()
				if out := e2eRun(b, "measure the width", chromedp.Evaluate[string](e2eSideways)); out != "" {
					t.Errorf("%s at %dx%d scrolls sideways: %s", what, vp.width, vp.height, out)
				}
			}

			b.goTo("/")
			if got := b.text("footer.site .charity-id"); !strings.Contains(got, "Example Charity (set CHARITY_NAME), registered charity number 000000 (example)") {
				t.Errorf("the footer says %q", got)
			}
			// The fieldset is folded in opt-in mode; open it and tick post, whose address
			// field appears only then (CSS, no script).
			b.do("open Hearing from us", chromedp.Click(chromedp.CSS(`details.consent-details > summary`)),
				chromedp.Click(chromedp.ID("consent_post")), chromedp.WaitVisible(chromedp.ID("consent_address")),
				chromedp.ScrollIntoView(chromedp.CSS(`details.consent-details`)))
			b.firstScreen("consent-fieldset")
			b.checkA11y("consent-fieldset")
			fits("the donate form")
			b.screenshot("appeal-with-consent")
			b.do("untick post", chromedp.Click(chromedp.ID("consent_post")))

			if link == "" {
				// Give £3 saying yes to email; the receipt, as sent, carries the link.
				b.do("say yes to email", chromedp.Click(chromedp.ID("consent_email")))
				b.navigate("submit the donation form", chromedp.Click(chromedp.CSS(`form.donate button[type=submit]`)))
				b.do("type the email and the name on the card",
					chromedp.SendKeys(chromedp.ID("email"), "ada@example.org"),
					chromedp.SendKeys(chromedp.ID("name"), "Ada Example"))
				b.navigate("pay on the sandbox checkout", chromedp.Click(chromedp.CSS(`form[action$="/pay"] button`)))
				deadline := time.Now().Add(30 * time.Second)
				for link == "" {
					b.goTo("/dev/outbox")
					link = e2ePreferencesLink.FindString(b.text("main"))
					if link == "" && time.Now().After(deadline) {
						t.Fatalf("no receipt with a link to stop emails in the outbox:\n%s", b.text("main"))
					}
					time.Sleep(200 * time.Millisecond) // the mail job sends it; the outbox page is read again
				}
			}
			b.goTo(strings.TrimPrefix(link, site.URL))
			if got := b.text(".prefs-standing"); !strings.Contains(got, "Email: yes") {
				t.Errorf("the preferences page shows %q", got)
			}
			b.checkA11y("preferences")
			fits("the preferences page")
			b.screenshot("preferences")
			if vp.mobile {
				b.navigate("stop emails", chromedp.Click(chromedp.CSS(`form.prefs-form button`)))
				if got := b.text("#prefs-done"); !strings.Contains(got, "we won't email you about our work") {
					t.Errorf("after stopping: %q", got)
				}
				b.screenshot("preferences-done")
			}

			for _, p := range []string{"/privacy", "/contact", "/complaints"} {
				b.goTo(p)
				b.checkA11y(strings.TrimPrefix(p, "/"))
				fits(p)
				b.screenshot(strings.TrimPrefix(p, "/"))
			}
		})
	}
}
