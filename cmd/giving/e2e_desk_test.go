package main

// The trustees' and admins' desk in a real browser: no page under /trustees or /admin
// scrolls sideways on a phone, the approval queue previews a waiting page, and the
// dashboard is screenshotted at a laptop's and a phone's size for a treasurer's look.

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// e2eDeskPaths are the trustee and admin pages a phone must fit.
var e2eDeskPaths = []string{"/trustees", "/trustees/gift-aid", "/trustees/reconcile", "/trustees/payouts", "/trustees/audit", "/admin", "/admin/donors",
	"/admin/appeals", "/admin/appeals/1", "/admin/appeals/2", "/trustees?appeal=winter-emergency", "/trustees?appeal=all",
	"/trustees/reconcile?appeal=winter-emergency"}

// e2eSideways lists what sticks out past the right edge of the screen, "" when the page
// fits: the document is no wider than the window.
const e2eSideways = `(() => {
  const d = document.documentElement;
  if (d.scrollWidth <= d.clientWidth) return "";
  const out = [];
  document.querySelectorAll("main *").forEach(e => {
    const r = e.getBoundingClientRect();
    if (r.right > d.clientWidth + 1 && out.length < 8) out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && e.className.baseVal === undefined ? "." + e.className : "") + " to " + Math.round(r.right) + "px");
  });
  return "scrollWidth " + d.scrollWidth + " > clientWidth " + d.clientWidth + ": " + out.join("; ");
})()`

// TestE2EDesk: two gifts and a page waiting, then an admin goes through every trustee and
// admin page at 390x844 and 1280x800.
func TestE2EDesk(t *testing.T) {
	chromium := e2eTools(t)
	site := e2eStart(t)
	browserCtx := e2eBrowser(t, chromium)
	e2eAddPage(t, site, "Ruby", "ruby-runs-10k", "Ruby runs the 10k", "I am running my first 10k for women rebuilding their lives after modern slavery.")
	e2eAddPage(t, site, "Samantha", "sam-swims-the-solent", "Samantha swims the Solent for Freedom", "Three miles of cold water.")
	e2eDeskSQL(t, site, `UPDATE fundraisers SET status = 'pending' WHERE slug = 'sam-swims-the-solent'`)
	// A second appeal beside the main one (appeal 1), at /a/winter-emergency.
	e2eDeskSQL(t, site, `WITH a AS (INSERT INTO appeals (slug, name, summary, story, target, fund_code, fund_restricted, surplus_statement)
		VALUES ('winter-emergency', 'Winter emergency appeal', 'Warm beds tonight for women leaving exploitation.',
			'Our shelters are full this winter. Every bed we add is a woman who does not go back.', 5000, 'EMERGENCY-27', true,
			'If we raise more than we need, the rest goes to our safe houses.') RETURNING id)
		INSERT INTO tiers (appeal_id, amount, title, impact) SELECT id, v.amount, v.title, v.impact FROM a,
		(VALUES (10.00, 'A hot meal', 'A hot meal and a warm drink'), (25.00, 'A warm bed', 'A safe bed for a night'),
			(100.00, 'A week', 'A week of shelter and support')) v (amount, title, impact)`)

	donor := e2eNewTab(t, browserCtx, site, "donor")
	donor.goTo("/")
	e2eGive(t, donor, "£40.00", "", false, "Alice", nil, false)
	donor.goTo("/f/ruby-runs-10k")
	e2eGive(t, donor, "", "25", true, "Bea", nil, false)
	for _, vp := range []e2eViewport{e2ePhone, e2eDesktop} {
		donor.size(vp)
		donor.goTo("/a/winter-emergency")
		if got := donor.text("#surplus-statement"); !strings.Contains(got, "the rest goes to our safe houses") {
			t.Errorf("the second appeal's statement reads %q", got)
		}
		donor.checkA11y(vp.name + "-second-appeal")
	}
	e2eGive(t, donor, "£25.00", "", false, "Cara", &e2eGiftAid{"Cara", "Okafor", "7", "N1 9GU"}, false)
	if r := donor.goTo("/f/sam-swims-the-solent"); r == nil || r.Status != 404 {
		t.Errorf("a visitor opens the waiting page: %v, want 404", r)
	}

	const email, password = "admin@example.org", "a long admin passphrase"
	site.addUser(t, email, "admin", password)
	b := e2eNewTab(t, browserCtx, site, "admin")
	b.goTo("/login")
	b.do("fill in the log-in form", chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), password))
	b.navigate("log in", chromedp.Click(chromedp.CSS(`form.login button[type=submit]`)))
	if p := b.path(); p != "/account/two-factor" {
		t.Fatalf("after logging in: %s, want the two-factor enrolment", p)
	}
	e2eEnrolTwoFactor(t, b)
	// The sandbox pays the gifts out, so the payouts page has a payout to break down. Its
	// daily payout, run when the service starts, may already have paid some of them: either
	// way all of the gifts' money, net of fees, has reached the bank.
	b.goTo("/trustees/payouts")
	b.navigate("pay out now", chromedp.Click(chromedp.CSS(`form[action="/trustees/payouts/sandbox"] button`)))
	if got := b.text("#po-summary"); !strings.Contains(got, "reached the bank, £88.04 in all") {
		t.Errorf("after paying out in the sandbox: %q, want £88.04 (three gifts of £90.00 less £1.96 fees) in all", got)
	}

	// Cara's £25 is claimed, and HMRC's repayment recorded: 25p short. A second claim, still
	// awaiting HMRC, keeps its form on the page for the sizes below.
	b.goTo("/trustees/gift-aid")
	b.download("make the claim", chromedp.Click(chromedp.CSS(`form[action="/trustees/gift-aid/claim"] button`)))
	b.goTo("/trustees/gift-aid")
	// The day HMRC paid: today on the site's clock, the day field's latest.
	today := e2eRun(b, "read today", chromedp.Evaluate[string](`document.getElementById("paid_on-1").max`))
	b.do("fill in HMRC's repayment", chromedp.SendKeys(chromedp.ID("amount-1"), "6.00"), chromedp.SetValue(chromedp.ID("paid_on-1"), today))
	b.navigate("record the repayment", chromedp.Click(chromedp.CSS(`#repay-1 button`)))
	if got := b.text("#claim-1"); !strings.Contains(got, "£6.00 on") || !strings.Contains(got, "£0.25 less") {
		t.Errorf("after recording HMRC's repayment the claim reads %q", got)
	}
	e2eDeskSQL(t, site, `INSERT INTO gift_aid_claims (created_by, total, tax) VALUES ('admin@example.org', 1234.56, 308.64)`)

	for _, vp := range []e2eViewport{e2ePhone, e2eDesktop} {
		t.Run(vp.name, func(t *testing.T) {
			b.t = t
			b.size(vp)
			for _, path := range e2eDeskPaths {
				if r := b.goTo(path); r == nil || r.Status != 200 {
					t.Fatalf("%s: %v, want 200", path, r)
				}
				if wide := e2eRun(b, "measure "+path, chromedp.Evaluate[string](e2eSideways)); wide != "" {
					t.Errorf("%s at %dx%d scrolls sideways: %s", path, vp.width, vp.height, wide)
				}
				name := strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(path)
				if path == "/trustees" {
					name = "-dashboard"
				}
				b.checkA11y(vp.name + name)
			}
			b.goTo("/trustees")
			if got := b.text("#by-month tbody th"); !strings.HasSuffix(got, " 2026") && !strings.HasSuffix(got, " 2027") {
				t.Errorf("the dashboard's first month reads %q, want a month like Jan 2026", got)
			}
			fill := e2eRun(b, "read a bar's colour", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("svg.chart rect.chart-bar")).fill`))
			if fill != "rgb(107, 45, 143)" {
				t.Errorf("the chart's bars are %q, want the charity's purple", fill)
			}
			b.do("scroll to the month chart", chromedp.ScrollIntoView("svg.chart"))
			b.firstScreen("month-chart")

			// The queue: the waiting page, previewed as supporters will see it.
			b.goTo("/admin")
			if got := b.text(".queue-item .queue-title strong"); got != "Samantha swims the Solent for Freedom" {
				t.Errorf("the queue's first page is %q", got)
			}
			b.checkA11y(vp.name + "-admin")
			b.navigate("preview", chromedp.Click(chromedp.CSS(`.queue-item a.button`)))
			if got := b.text("#preview-banner"); !strings.HasPrefix(got, "Preview: not public yet.") {
				t.Errorf("the preview's banner reads %q", got)
			}
			if wide := e2eRun(b, "measure the preview", chromedp.Evaluate[string](e2eSideways)); wide != "" {
				t.Errorf("the preview at %dx%d scrolls sideways: %s", vp.width, vp.height, wide)
			}
			b.screenshot(vp.name + "-preview")
		})
	}
}

// e2eDeskSQL runs one statement on the site's database.
func e2eDeskSQL(t *testing.T, site *e2eSite, sql string, args ...any) {
	t.Helper()
	if _, err := e2eConnect(t, site).Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}
