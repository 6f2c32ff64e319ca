package main

// A team's page, a page that has ended, a page in memory of someone, a page with updates
// and the embeddable widget, in a real browser on a phone and a laptop: each fits the
// screen without sideways scrolling, is axe-core clean, and is saved as a screenshot.

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
)

// TestE2ETeams opens a team page, a completed page, a memorial page with a tribute, a page
// with updates, and the widget, at 390x844 and 1280x800.
func TestE2ETeams(t *testing.T) {
	chromium := e2eTools(t)
	site := e2eStart(t)
	browserCtx := e2eBrowser(t, chromium)
	e2eAddPage(t, site, "Ruby", "ruby-runs-10k", "Ruby runs the 10k", "I am running my first 10k for women rebuilding their lives after modern slavery.")
	e2eAddPage(t, site, "Sam", "sam-swims-a-mile", "Sam swims a mile", "A mile in the lake, for Freedom.")
	e2eAddPage(t, site, "Priya", "for-mum", "For Mum", "Mum spent her last years helping women find safety. We are raising money in her name.")
	e2eAddPage(t, site, "Jo", "jos-charity-ride", "Jo's charity ride", "100 miles on a bike for Freedom.")
	e2eExec(t, site, `
		INSERT INTO teams (appeal_id, slug, name, target, captain_id, join_code, created_at)
		SELECT f.appeal_id, 'office-runners', 'The Office Runners', 1500, f.owner_id, 'e2e-join-code-0123456789abcdef', now()
		FROM fundraisers f WHERE f.slug = 'ruby-runs-10k';
		INSERT INTO team_members (fundraiser_id, team_id, joined_at)
		SELECT f.id, t.id, now() FROM fundraisers f, teams t WHERE f.slug IN ('ruby-runs-10k', 'sam-swims-a-mile');
		INSERT INTO page_lifecycle (fundraiser_id, in_memory_of, updated_at) SELECT id, 'Margaret Jones', now() FROM fundraisers WHERE slug = 'for-mum';
		INSERT INTO page_lifecycle (fundraiser_id, ends_on, updated_at) SELECT id, '2026-06-30', now() FROM fundraisers WHERE slug = 'jos-charity-ride';
		INSERT INTO page_updates (fundraiser_id, author_id, body, posted_at)
		SELECT id, owner_id, u.body, now() - u.ago FROM fundraisers, (VALUES
			('Signed up for the Hackney 10k. Training starts Monday!', interval '9 days'),
			('Ran 8k this morning without stopping. Thank you for every gift: it keeps me going.', interval '2 days')) AS u(body, ago)
		WHERE slug = 'ruby-runs-10k'`)

	giver := e2eNewTab(t, browserCtx, site, "giver")
	giver.goTo("/f/ruby-runs-10k")
	e2eGive(t, giver, "£40.00", "", false, "Priya", nil, false)
	giver.goTo("/f/for-mum")
	e2eGive(t, giver, "£15.00", "", false, "Jo", nil, false)
	e2eExec(t, site, `UPDATE donations SET message = 'Thinking of you all. She was a wonderful woman.' WHERE display_name = 'Jo'`)

	for _, vp := range []e2eViewport{e2ePhone, e2eDesktop} {
		t.Run(vp.name, func(t *testing.T) {
			b := e2eNewTab(t, browserCtx, site, vp.name)
			b.size(vp)
			for _, pg := range []struct{ path, name, want string }{
				{"/t/office-runners", "team", "£40.00"},
				{"/f/jos-charity-ride", "completed", "This page has finished"},
				{"/f/for-mum", "memorial", "In loving memory of Margaret Jones"},
				{"/f/ruby-runs-10k", "updates", "Ran 8k this morning"},
				{"/embed/t/office-runners", "widget", "£40.00 raised of £1,500.00"},
			} {
				if resp := b.goTo(pg.path); resp == nil || resp.Status != 200 {
					t.Fatalf("%s: %v", pg.path, resp)
				}
				if got := b.text("body"); !strings.Contains(got, pg.want) {
					t.Errorf("%s at %dx%d does not show %q", pg.path, vp.width, vp.height, pg.want)
				}
				if wide := e2eRun(b, "measure the width", chromedp.Evaluate[int](`document.documentElement.scrollWidth - innerWidth`)); wide > 0 {
					t.Errorf("%s at %dx%d scrolls sideways by %dpx", pg.path, vp.width, vp.height, wide)
				}
				b.firstScreen(pg.name + "-first-screen")
				b.checkA11y(pg.name)
			}
			// The team's leaderboard: Ruby first with her £40, the team's total the sum.
			b.goTo("/t/office-runners")
			if got := strings.Join(strings.Fields(b.text(".team-table tbody tr")), " "); got != "1 Ruby £40.00 1" {
				t.Errorf("the team's first place reads %q", got)
			}
			if got := b.text(".team-total"); got != "£40.00" {
				t.Errorf("the team's total reads %q", got)
			}
			// The completed page offers the appeal, not a form.
			b.goTo("/f/jos-charity-ride")
			if n := e2eRun(b, "count donate forms", chromedp.Evaluate[int](`document.querySelectorAll("form.donate").length`)); n != 0 {
				t.Errorf("the completed page has %d donate forms", n)
			}
		})
	}
}

// e2eExec runs SQL on the site's database: the setup the test needs without a form for each.
func e2eExec(t *testing.T, site *e2eSite, sql string) {
	t.Helper()
	var dsn string
	for _, kv := range site.env {
		if v, ok := strings.CutPrefix(kv, "DATABASE_URL="); ok {
			dsn = v
		}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}
