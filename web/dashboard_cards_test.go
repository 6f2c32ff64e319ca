package web_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/donations"
	"giving/campaigns/ledger"
	"giving/web/webtest"
)

// A treasurer opening the dashboard sees the headline figures first, each a card with a
// big figure and a label, and a long quiet stretch of months as one row, not nine rows of
// zeros (and no empty bars in the chart).
func TestDashboardCardsAndQuietMonths(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	ctx := context.Background()
	appeal, _ := appeals.AppealBySlug(ctx, a.store, appeals.DefaultAppealSlug)
	d := func(s string) decimal.Decimal { return decimal.RequireFromString(s) }
	london := func(y int, m time.Month, day int) time.Time {
		return time.Date(y, m, day, 12, 0, 0, 0, campaigns.London())
	}

	// A monthly gift of £12.50 that is running now, paid in January and November only.
	monthly, err := donations.Create(ctx, a.store, donations.NewDonation{AppealID: appeal.ID, Amount: d("12.50"), Monthly: true})
	if err != nil {
		t.Fatal(err)
	}
	entries := []ledger.Entry{
		{Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "pi_jan", Amount: d("40.00"), Fee: d("0.80"), GiftAidBase: d("40.00"),
			DonorKey: "a", OccurredAt: london(2026, time.January, 10)},
		{Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "in_jan", Amount: d("12.50"), Fee: d("0.39"), Monthly: true,
			DonorKey: "b", OccurredAt: london(2026, time.January, 20)},
		{Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "in_nov", Amount: d("12.50"), Fee: d("0.39"), Monthly: true,
			DonorKey: "b", OccurredAt: london(2026, time.November, 20)},
		{Kind: ledger.KindRefund, Source: ledger.SourceStripe, SourceRef: "ch_nov", Seq: "1000", Amount: d("-10.00"), GiftAidBase: d("-10.00"),
			OccurredAt: london(2026, time.November, 25)},
	}
	err = a.store.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := donations.SetStatus(ctx, tx, monthly.ID, donations.StatusActive, a.store.Now()); err != nil {
			return err
		}
		for _, e := range entries {
			e.AppealID = appeal.ID
			if _, err := ledger.Record(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	p := a.send(a.loggedIn("trustee@example.org"), http.MethodGet, "/trustees?from=2026-01-01&to=2026-12-31", nil)
	if p.status != http.StatusOK {
		t.Fatalf("dashboard: %d", p.status)
	}
	// By hand: gross 65.00, refund 10.00, raised 55.00; fees 1.58, net 53.42; Gift Aid 25%
	// of (40 - 10) = 7.50; one running monthly gift of £12.50.
	if n := webtest.Count(t, p.body, "ul.cards > li.card"); n != 5 {
		t.Errorf("%d figure cards, want 5", n)
	}
	for id, want := range map[string]string{"fig-raised": "£55.00", "fig-net": "£53.42", "fig-giftaid": "£7.50",
		"fig-mrr": "£12.50", "fig-active": "1"} {
		if n := webtest.Count(t, p.body, "#"+id); n != 1 {
			t.Errorf("%d elements with id %s, want exactly 1", n, id)
		}
		if got := webtest.Text(t, p.body, "li.card > .card-figure#"+id); got != want {
			t.Errorf("card %s reads %q, want %q", id, got, want)
		}
	}
	seen := map[string]bool{}
	for _, n := range webtest.Find(t, p.body, "[id]") {
		id, _ := webtest.NodeAttr(n, "id")
		if seen[id] {
			t.Errorf("two elements with id %s: a figure moved into a card must leave its old place", id)
		}
		seen[id] = true
	}
	for _, want := range []string{"Gift Aid claimable, as recorded with each gift", "Active monthly donors now"} {
		found := false
		for _, n := range webtest.Find(t, p.body, "li.card .card-label") {
			found = found || webtest.NodeText(n) == want
		}
		if !found {
			t.Errorf("no card labelled %q", want)
		}
	}

	// Jan, then Feb to Oct folded, Nov, and Dec (one quiet month stays a row of its own).
	var rows []string
	for _, th := range webtest.Find(t, p.body, "#by-month tbody th") {
		rows = append(rows, webtest.NodeText(th))
	}
	if want := []string{"Jan 2026", "Feb–Oct 2026", "Nov 2026", "Dec 2026"}; !slices.Equal(rows, want) {
		t.Errorf("month rows %q, want %q", rows, want)
	}
	if got := webtest.Text(t, p.body, "#by-month tbody tr.quiet"); got != "Feb–Oct 2026 no gifts (9 months)" {
		t.Errorf("the folded row reads %q", got)
	}
	var bars []string
	for _, l := range webtest.Find(t, p.body, "svg.chart:has(title#c-raised-by-month-t) text.chart-label") {
		bars = append(bars, webtest.NodeText(l))
	}
	if want := []string{"Jan 2026", "Nov 2026", "Dec 2026"}; !slices.Equal(bars, want) {
		t.Errorf("month chart bars %q, want %q (quiet stretches left out)", bars, want)
	}
}
