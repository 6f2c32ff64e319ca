package main

// The appeal's and a fundraiser's first screen, in a real browser on a phone and a laptop:
// the amounts and the Give button are in sight without scrolling, and a wrong amount brings
// the donor's focus to the list of problems.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestE2EFirstScreen opens / and a fundraiser's page at 390x844 and 1280x800.
func TestE2EFirstScreen(t *testing.T) {
	chromium := e2eTools(t)
	site := e2eStart(t)
	browserCtx := e2eBrowser(t, chromium)
	const page = "/f/ruby-runs-10k"
	e2eAddPage(t, site, "Ruby", "ruby-runs-10k", "Ruby runs the 10k", "I am running my first 10k for women rebuilding their lives after modern slavery.\n\nEvery pound helps.")

	for _, vp := range []e2eViewport{e2ePhone, e2eDesktop} {
		t.Run(vp.name, func(t *testing.T) {
			b := e2eNewTab(t, browserCtx, site, vp.name)
			b.size(vp)
			for _, path := range []string{"/", page} {
				b.goTo(path)
				name := map[string]string{"/": "appeal", page: "fundraiser"}[path]
				b.firstScreen(name + "-first-screen")
				if hidden := e2eRun(b, "measure the first screen", chromedp.Evaluate[[]string](e2eOutOfSight)); len(hidden) > 0 {
					t.Errorf("%s at %dx%d: not on the first screen: %s", path, vp.width, vp.height, strings.Join(hidden, "; "))
				}
				b.checkA11y(name)
			}
			if got := b.text(".fundraiser-by"); got != "Ruby is fundraising for Fundraising for Freedom" {
				t.Errorf("Ruby's page says %q", got)
			}

			// A wrong amount: the page comes back at the form, the problems focused and in sight.
			b.goTo("/")
			b.do("choose Other", chromedp.Click(chromedp.CSS(`input[name=tier][value=custom]`)),
				chromedp.SendKeys(chromedp.ID("amount"), "12.345"))
			resp := b.navigate("press Give", chromedp.Click(chromedp.CSS(`form.donate button.give`)))
			if resp == nil || resp.Status != 422 {
				t.Fatalf("a wrong amount: %v, want 422", resp)
			}
			focused := e2eRun(b, "read the focus", chromedp.Evaluate[string](`(() => { const e = document.activeElement, r = e.getBoundingClientRect();
				return e.className + (r.top >= 0 && r.bottom <= innerHeight ? " in-sight" : " out-of-sight") + " " + location.hash })()`))
			if focused != "error-summary in-sight #donate-message" {
				t.Errorf("after a wrong amount the focus is on %q, want the error summary, in sight, at #donate-message", focused)
			}
			b.firstScreen("appeal-wrong-amount")
			b.checkA11y("appeal-wrong-amount")
		})
	}
}

// e2eOutOfSight lists what a donor must see on arrival but cannot without scrolling: the
// promise or title, the progress, every amount tile and the Give button.
const e2eOutOfSight = `(() => {
  const out = [];
  const need = ["h1", ".progress", "form.donate label.tile", "form.donate fieldset.toggle", "form.donate button.give"];
  for (const sel of need) {
    const els = document.querySelectorAll(sel);
    if (els.length === 0) out.push(sel + " missing");
    els.forEach((e, i) => {
      const r = e.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || r.top < 0 || r.bottom > innerHeight || r.left < 0 || r.right > innerWidth)
        out.push(sel + "[" + i + "] at " + Math.round(r.top) + "-" + Math.round(r.bottom) + " of " + innerHeight);
    });
  }
  return out;
})()`

// firstScreen saves what the window shows, as a person sees it on arrival.
func (b *e2eTab) firstScreen(name string) {
	b.t.Helper()
	png := e2eRun(b, "screenshot "+name, chromedp.CaptureScreenshot())
	path := filepath.Join(b.arts.dir, fmt.Sprintf("%02d-%s-%s.png", b.arts.shots.Add(1), b.who, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
}

// e2eChooseOtherByKeyboard Tabs to the amount tiles and moves with the arrow keys to
// "Other", as a keyboard user chooses a radio button.
func e2eChooseOtherByKeyboard(t *testing.T, b *e2eTab) {
	t.Helper()
	focus := func() string {
		return e2eRun(b, "read the focus", chromedp.Evaluate[string](`document.activeElement ? document.activeElement.name + "=" + document.activeElement.value : ""`))
	}
	for range 40 {
		if strings.HasPrefix(focus(), "tier=") {
			break
		}
		b.do("press Tab", chromedp.KeyEvent(kb.Tab))
	}
	for range 10 {
		if focus() == "tier=custom" {
			if !e2eRun(b, "read the choice", chromedp.Evaluate[bool](`document.querySelector("input[name=tier][value=custom]").checked`)) {
				t.Fatal(`the arrow keys reached "Other" without choosing it`)
			}
			return
		}
		b.do("press the right arrow", chromedp.KeyEvent(kb.ArrowRight))
	}
	t.Fatalf(`the keyboard never reached the "Other" amount (focus on %q)`, focus())
}

// e2eAddPage makes an approved fundraiser page owned by a fundraiser with this display
// name, straight in the site's database (Ruby's own way there is TestE2E's).
func e2eAddPage(t *testing.T, site *e2eSite, owner, slug, title, story string) {
	t.Helper()
	if _, err := e2eConnect(t, site).Exec(context.Background(), `WITH u AS (INSERT INTO users (email, password_hash, role, display_name)
			VALUES (lower($1) || '@example.org', 'not a hash', 'fundraiser', $1) RETURNING id)
		INSERT INTO fundraisers (appeal_id, slug, title, story, target, status, owner_id)
		SELECT a.id, $2, $3, $4, 500, 'approved', u.id FROM appeals a, u WHERE a.is_default`, owner, slug, title, story); err != nil {
		t.Fatal(err)
	}
}
