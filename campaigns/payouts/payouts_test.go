package payouts_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/shopspring/decimal"

	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/payouts"
)

var d = decimal.RequireFromString

// TestPayoutBreakdownAndXero: a sandbox payout of the ledger's money and a payout as Stripe
// lists it each break down into charges, refunds, disputes and fees that sum to the
// payout to the penny; a charge the ledger never saw is listed as unmatched; the Xero
// statement of the month nets the Stripe clearing account to zero, payout by payout.
func TestPayoutBreakdownAndXero(t *testing.T) {
	w := campaignstest.NewGiftWorld(t)
	ctx := context.Background()
	clock := campaignstest.NewClock(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	s := w.S.WithClock(clock.Now)
	treasurer := campaignstest.AddUser(t, s, "treasurer@example.org", accounts.RoleTrustee)

	// Three gifts and a refund, worked out by hand:
	// charges 10.00 + 25.00 + 3.00 = 38.00; refund -5.00; fees 0.35 + 0.58 + 0.25 = 1.18;
	// the payout is 38.00 - 5.00 - 1.18 = 31.82.
	a := w.Donation(donations.NewDonation{Amount: d("10.00")})
	w.Gift(a, "cs_a", "ch_a", "pi_a", "10.00", "0.35", campaignstest.UTC(2026, 3, 1, 10, 0))
	b := w.Donation(donations.NewDonation{Amount: d("25.00")})
	w.Gift(b, "cs_b", "ch_b", "pi_b", "25.00", "0.58", campaignstest.UTC(2026, 3, 2, 10, 0))
	c := w.Donation(donations.NewDonation{Amount: d("3.00")})
	w.Gift(c, "cs_c", "ch_c", "pi_c", "3.00", "0.25", campaignstest.UTC(2026, 3, 3, 10, 0))
	w.Refund(b, "ch_b", "pi_b", "5.00", 500, campaignstest.UTC(2026, 3, 4, 10, 0))

	sb, err := payouts.Sandbox(ctx, s, treasurer)
	if err != nil {
		t.Fatal(err)
	}
	if sb.Amount.StringFixed(2) != "31.82" {
		t.Errorf("sandbox payout %s, want 31.82", sb.Amount.StringFixed(2))
	}
	if _, err := payouts.Sandbox(ctx, s, treasurer); !errors.Is(err, payouts.ErrNothingToPayOut) {
		t.Errorf("a second sandbox payout with nothing new: %v, want nothing to pay out (money is never paid twice)", err)
	}

	// A payout as Stripe lists it: a charge the ledger has (20.00, fee 0.50), its partial
	// refund (-2.50), a charge the ledger never saw (1.00, fee 0.22), and a fee Stripe
	// took on its own (0.10): 20.00 - 0.50 - 2.50 + 1.00 - 0.22 - 0.10 = 17.68.
	h := w.Donation(donations.NewDonation{Amount: d("20.00")})
	w.Gift(h, "cs_h", "ch_h", "pi_h", "20.00", "0.50", campaignstest.UTC(2026, 3, 12, 10, 0))
	w.Refund(h, "ch_h", "pi_h", "2.50", 250, campaignstest.UTC(2026, 3, 13, 10, 0))
	stripePayout := payouts.Payout{ID: "po_test_1", Amount: d("17.68"), Status: "paid",
		ArrivalDate: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC),
		Lines: []payouts.Line{
			{TxnID: "txn_1", Type: payouts.Charge, SourceRef: "ch_h", ChargeID: "ch_h", Amount: d("20.00"), Fee: d("0.50"), CreatedAt: campaignstest.UTC(2026, 3, 12, 10, 0)},
			{TxnID: "txn_2", Type: payouts.Refund, SourceRef: "re_h", ChargeID: "ch_h", Amount: d("-2.50"), Fee: d("0"), CreatedAt: campaignstest.UTC(2026, 3, 13, 10, 0)},
			{TxnID: "txn_3", Type: payouts.Charge, SourceRef: "ch_nobody", ChargeID: "ch_nobody", Amount: d("1.00"), Fee: d("0.22"), CreatedAt: campaignstest.UTC(2026, 3, 14, 10, 0)},
			{TxnID: "txn_4", Type: payouts.Fee, Description: "Billing fee", Amount: d("0"), Fee: d("0.10"), CreatedAt: campaignstest.UTC(2026, 3, 15, 10, 0)},
		}}
	if ok, err := payouts.Record(ctx, s, treasurer, stripePayout); err != nil || !ok {
		t.Fatalf("record: %v %v", ok, err)
	}
	if ok, err := payouts.Record(ctx, s, treasurer, stripePayout); err != nil || ok {
		t.Errorf("recording the same payout again: %v %v, want left as it was", ok, err)
	}

	month, err := payouts.Month(ctx, s, 2026, time.March)
	if err != nil {
		t.Fatal(err)
	}
	if len(month) != 2 {
		t.Fatalf("%d payouts in March, want 2", len(month))
	}
	want := map[string][6]string{ // charges, refunds, disputes, fees, net, difference
		sb.ID:       {"38.00", "-5.00", "0.00", "1.18", "31.82", "0.00"},
		"po_test_1": {"21.00", "-2.50", "0.00", "0.82", "17.68", "0.00"},
	}
	for _, p := range month {
		b := p.Breakdown()
		got := [6]string{b.Charges.StringFixed(2), b.Refunds.StringFixed(2), b.Disputes.StringFixed(2), b.Fees.StringFixed(2),
			b.Net.StringFixed(2), b.Difference.StringFixed(2)}
		if got != want[p.ID] {
			t.Errorf("%s breaks down as %v, want %v", p.ID, got, want[p.ID])
		}
		if !b.Net.Equal(p.Amount) {
			t.Errorf("%s: lines sum to %s, the payout is %s", p.ID, b.Net, p.Amount)
		}
		var unmatched []string
		for _, l := range p.Unmatched() {
			unmatched = append(unmatched, l.SourceRef)
		}
		wantUnmatched := map[string]string{sb.ID: "", "po_test_1": "ch_nobody"}[p.ID]
		if strings.Join(unmatched, ",") != wantUnmatched {
			t.Errorf("%s unmatched %v, want %q", p.ID, unmatched, wantUnmatched)
		}
		for _, l := range p.Lines {
			if !l.Unmatched() && l.Type == payouts.Charge && l.Fund != w.Appeal.Name {
				t.Errorf("%s line %s tracks fund %q, want the appeal %q", p.ID, l.TxnID, l.Fund, w.Appeal.Name)
			}
		}
	}

	var out bytes.Buffer
	if err := payouts.WriteXero(&out, month); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out.String(), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(records[0], ",") != "Date,Amount,Payee,Description,Reference,Fund" {
		t.Errorf("header %v", records[0])
	}
	total, run := decimal.Zero, decimal.Zero
	payoutsClosed := 0
	for _, r := range records[1:] {
		v := d(r[1])
		total, run = total.Add(v), run.Add(v)
		if r[3] == "Payout to the bank" {
			if !run.IsZero() {
				t.Errorf("payout %s leaves %s in the clearing account", r[4], run)
			}
			run = decimal.Zero
			payoutsClosed++
		}
	}
	if !total.IsZero() || payoutsClosed != 2 {
		t.Errorf("the month's statement nets to %s over %d payouts, want 0.00 over 2:\n%s", total, payoutsClosed, out.String())
	}
	if records[len(records)-1][0] != "20/03/2026" || records[len(records)-1][1] != "-17.68" {
		t.Errorf("the last payout leaves for the bank as %v, want 20/03/2026 -17.68", records[len(records)-1])
	}
}

// TestSandboxPaysOutDailyOnItsOwn: the sandbox's daily job pays out, as Stripe would, the
// ledger's money no payout has paid yet, on the day it runs and named in the audit log as
// the sandbox's; the next day's run, with nothing new, pays nothing and is no failure (so
// River does not retry it); a gift given in between is paid out by the run after it.
func TestSandboxPaysOutDailyOnItsOwn(t *testing.T) {
	w := campaignstest.NewGiftWorld(t)
	ctx := context.Background()
	clock := campaignstest.NewClock(time.Date(2026, 5, 4, 6, 0, 0, 0, time.UTC))
	s := w.S.WithClock(clock.Now)
	job := &payouts.SandboxPayoutWorker{Store: s}
	run := func() {
		t.Helper()
		if err := job.Work(ctx, &river.Job[payouts.SandboxPayoutJob]{JobRow: &rivertype.JobRow{Attempt: 1}}); err != nil {
			t.Fatalf("the daily sandbox payout failed: %v", err)
		}
	}
	may := func() []payouts.Payout {
		t.Helper()
		list, err := payouts.Month(ctx, s, 2026, time.May)
		if err != nil {
			t.Fatal(err)
		}
		return list
	}

	run() // nothing given yet: nothing to pay out, and no error
	if got := may(); len(got) != 0 {
		t.Fatalf("%d payouts of an empty ledger, want none", len(got))
	}

	// 12.00 less its 0.38 fee, and 40.00 less 0.80: 50.82 reaches the bank.
	a := w.Donation(donations.NewDonation{Amount: d("12.00")})
	w.Gift(a, "cs_a", "ch_a", "pi_a", "12.00", "0.38", campaignstest.UTC(2026, 5, 3, 10, 0))
	b := w.Donation(donations.NewDonation{Amount: d("40.00")})
	w.Gift(b, "cs_b", "ch_b", "pi_b", "40.00", "0.80", campaignstest.UTC(2026, 5, 3, 11, 0))
	clock.Advance(24 * time.Hour)
	run()
	got := may()
	if len(got) != 1 {
		t.Fatalf("%d payouts after the daily run, want 1", len(got))
	}
	p := got[0]
	if p.Amount.StringFixed(2) != "50.82" || !p.Breakdown().Net.Equal(p.Amount) || len(p.Lines) != 2 || !p.Sandbox {
		t.Errorf("the daily payout is %s over %d lines (lines net %s, sandbox %v), want 50.82 over the 2 gifts",
			p.Amount.StringFixed(2), len(p.Lines), p.Breakdown().Net.StringFixed(2), p.Sandbox)
	}
	if p.ArrivalText() != "5 May 2026" {
		t.Errorf("the daily payout arrives %s, want the day it ran, 5 May 2026", p.ArrivalText())
	}
	log, err := audit.Log(ctx, s.Pool(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) == 0 || log[0].Action != "payout recorded" || log[0].ActorEmail != "sandbox (daily payout)" {
		t.Errorf("audit log %+v, want the payout recorded by the sandbox's daily payout", log)
	}

	clock.Advance(24 * time.Hour)
	run() // nothing new since: nothing is paid twice
	if got := may(); len(got) != 1 {
		t.Fatalf("%d payouts after a day with no gifts, want still 1 (money is never paid out twice)", len(got))
	}

	c := w.Donation(donations.NewDonation{Amount: d("5.00")})
	w.Gift(c, "cs_c", "ch_c", "pi_c", "5.00", "0.28", campaignstest.UTC(2026, 5, 6, 12, 0))
	clock.Advance(24 * time.Hour)
	run()
	got = may()
	if len(got) != 2 || got[1].Amount.StringFixed(2) != "4.72" || len(got[1].Lines) != 1 {
		t.Fatalf("after a new gift, payouts %+v; want a second of 4.72 paying only the new gift", got)
	}
}

// The sandbox's daily payout and a trustee's "pay out now" may run at once: they take
// turns, so one pays the ledger's money out and the other finds nothing left, and neither
// fails. Several rounds, each with a new gift, both started together.
func TestSandboxPayoutsAtOnceTakeTurns(t *testing.T) {
	w := campaignstest.NewGiftWorld(t)
	ctx := context.Background()
	treasurer := campaignstest.AddUser(t, w.S, "treasurer@example.org", accounts.RoleTrustee)
	for round := range 5 {
		dn := w.Donation(donations.NewDonation{Amount: d("10.00")})
		ref := fmt.Sprintf("%d", round)
		w.Gift(dn, "cs_"+ref, "ch_"+ref, "pi_"+ref, "10.00", "0.35", campaignstest.UTC(2026, 3, 1+round, 10, 0))
		errs := make(chan error, 2)
		paid := make(chan decimal.Decimal, 2)
		for _, by := range []audit.Actor{treasurer, payouts.SandboxActor} {
			go func() {
				p, err := payouts.Sandbox(ctx, w.S, by)
				if errors.Is(err, payouts.ErrNothingToPayOut) {
					err = nil
				}
				errs <- err
				paid <- p.Amount
			}()
		}
		total := decimal.Zero
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: two sandbox payouts at once: %v", round, err)
			}
			total = total.Add(<-paid)
		}
		if total.StringFixed(2) != "9.65" {
			t.Fatalf("round %d: paid out %s in all, want the new gift's 9.65 once", round, total.StringFixed(2))
		}
	}
}
