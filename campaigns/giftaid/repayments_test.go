package giftaid_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/migrations"
)

// repaymentWorld makes two claims: claim 1 on 15 July 2026 (tax £363.25, nothing to adjust)
// and claim 2 on 15 August 2026 (tax £57.50 less a £12.50 adjustment: £45.00 asked for).
func repaymentWorld(t *testing.T) (*campaignstest.GiftWorld, giftaid.Claim, giftaid.Claim) {
	t.Helper()
	w := campaignstest.NewGiftWorld(t)
	p := w.BuildFirstPeriod()
	ctx := context.Background()
	trustee := accounts.User{Email: "trustee@example.org"}
	c1, err := giftaid.MakeClaim(ctx, w.S, giftaid.ClaimOptions{Upto: time.Date(2026, 7, 1, 0, 0, 0, 0, campaigns.London()),
		Actor: trustee, Now: time.Date(2026, 7, 15, 10, 0, 0, 0, campaigns.London())})
	if err != nil {
		t.Fatal(err)
	}
	w.Refund(p.SmithJonesDonation, "ch_sj", "pi_sj", "50.00", 5000, campaignstest.UTC(2026, 7, 20, 9, 0))
	more := w.Donation(donations.NewDonation{Amount: d("150.00"), Declaration: campaignstest.Declaration("Ms", "Ann", "Lee", "3", "OX1 1AA")})
	w.Gift(more, "pi_more", "", "pi_more", "150.00", "2.40", campaignstest.UTC(2026, 8, 1, 12, 0))
	c2, err := giftaid.MakeClaim(ctx, w.S, giftaid.ClaimOptions{Actor: trustee, Now: time.Date(2026, 8, 15, 10, 0, 0, 0, campaigns.London())})
	if err != nil {
		t.Fatal(err)
	}
	if c1.NetTax().StringFixed(2) != "363.25" || c2.NetTax().StringFixed(2) != "45.00" {
		t.Fatalf("the fixture's claims ask for %s and %s, want 363.25 and 45.00", c1.NetTax(), c2.NetTax())
	}
	return w, c1, c2
}

func countRepaymentRows(t *testing.T, s *campaigns.Store) (repayments, audited int) {
	t.Helper()
	err := s.Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM gift_aid_repayments),
		(SELECT count(*) FROM audit_log WHERE action = 'record gift aid repayment')`).Scan(&repayments, &audited)
	if err != nil {
		t.Fatal(err)
	}
	return repayments, audited
}

func gifts(c giftaid.Claim) int64 {
	var n int64
	for _, r := range c.Rows {
		n += int64(len(r.Gifts))
	}
	return n
}

// A trustee records what HMRC paid on each claim, once; the claims made show it, with the
// difference when HMRC paid another amount, and the totals add up to the penny.
func TestRecordRepayment(t *testing.T) {
	t.Parallel()
	w, c1, c2 := repaymentWorld(t)
	ctx := context.Background()
	// Half past midnight on 1 October in London is still 30 September in UTC: London's
	// day decides what "today" is.
	s := w.S.WithClock(func() time.Time { return time.Date(2026, 10, 1, 0, 30, 0, 0, campaigns.London()) })
	trustee := accounts.User{Email: "treasurer@example.org"}

	claims, totals, err := giftaid.ClaimsMade(ctx, s.Pool())
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 2 || claims[0].ID != c2.ID || claims[1].ID != c1.ID {
		t.Fatalf("claims made: %+v, want claim %d then claim %d", claims, c2.ID, c1.ID)
	}
	if got := claims[1]; got.Gifts != gifts(c1) || got.Donations.StringFixed(2) != "1453.01" || got.Claimed.StringFixed(2) != "363.25" ||
		got.Repaid || !got.CreatedAt.Equal(time.Date(2026, 7, 15, 10, 0, 0, 0, campaigns.London())) {
		t.Errorf("claim 1 reads %+v, want %d gifts, £1,453.01 of donations, £363.25 claimed on 15 July, awaiting HMRC", got, gifts(c1))
	}
	if totals.Claimed.StringFixed(2) != "408.25" || !totals.Repaid.IsZero() || totals.Outstanding.StringFixed(2) != "408.25" {
		t.Errorf("totals before any repayment: %+v, want 408.25 claimed, nothing repaid, 408.25 outstanding", totals)
	}

	// Bad input is refused with the reason beside its field, and nothing is written.
	for _, tc := range []struct {
		name, amount, day, field, says string
		claim                          int64
	}{
		{"nothing", "0", "2026-09-01", "amount", "above zero", c1.ID},
		{"a negative amount", "-363.25", "2026-09-01", "amount", "above zero", c1.ID},
		{"a fraction of a penny", "12.345", "2026-09-01", "amount", "fractions of a penny", c1.ID},
		{"no day", "363.25", "", "paid_on", "Enter the day", c1.ID},
		{"a day that does not exist", "363.25", "2026-09-31", "paid_on", "Enter the day", c1.ID},
		{"tomorrow", "363.25", "2026-10-02", "paid_on", "still to come", c1.ID},
		{"before the claim was made", "363.25", "2026-07-14", "paid_on", "15 July 2026", c1.ID},
	} {
		err := giftaid.RecordRepayment(ctx, s, giftaid.Repayment{ClaimID: tc.claim, Amount: d(tc.amount), PaidOn: tc.day, Actor: trustee})
		var ve *campaigns.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Fields[tc.field], tc.says) {
			t.Errorf("%s: %v, want %q beside %s", tc.name, err, tc.says, tc.field)
		}
	}
	if err := giftaid.RecordRepayment(ctx, s, giftaid.Repayment{ClaimID: c2.ID + 100, Amount: d("10.00"), PaidOn: "2026-09-01", Actor: trustee}); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("a claim never made: %v, want not found", err)
	}
	if n, a := countRepaymentRows(t, s); n != 0 || a != 0 {
		t.Fatalf("refused input wrote %d repayments and %d audit rows", n, a)
	}

	// HMRC adjusted claim 1 and paid £3.25 less.
	if err := giftaid.RecordRepayment(ctx, s, giftaid.Repayment{ClaimID: c1.ID, Amount: d("360.00"), PaidOn: " 2026-09-01 ", Actor: trustee}); err != nil {
		t.Fatal(err)
	}
	var actor, detail string
	if err := s.Pool().QueryRow(ctx, `SELECT actor_email, detail FROM audit_log WHERE action = 'record gift aid repayment'`).Scan(&actor, &detail); err != nil {
		t.Fatal(err)
	}
	if actor != "treasurer@example.org" || !strings.Contains(detail, "claim "+strconv.FormatInt(c1.ID, 10)+":") || !strings.Contains(detail, "360.00") ||
		!strings.Contains(detail, "2026-09-01") {
		t.Errorf("audit row by %s says %q; want the treasurer, claim %d, 360.00 on 2026-09-01", actor, detail, c1.ID)
	}

	// A second record of the same claim is refused, and the first stands.
	err = giftaid.RecordRepayment(ctx, s, giftaid.Repayment{ClaimID: c1.ID, Amount: d("363.25"), PaidOn: "2026-09-02", Actor: trustee})
	if !errors.Is(err, giftaid.ErrAlreadyRepaid) || !errors.Is(err, campaigns.ErrConflict) {
		t.Errorf("a second repayment of claim 1: %v, want ErrAlreadyRepaid", err)
	}
	if n, a := countRepaymentRows(t, s); n != 1 || a != 1 {
		t.Errorf("after the refused second record: %d repayments and %d audit rows, want 1 and 1", n, a)
	}

	claims, totals, err = giftaid.ClaimsMade(ctx, s.Pool())
	if err != nil {
		t.Fatal(err)
	}
	got := claims[1]
	if !got.Repaid || got.RepaidAmount.StringFixed(2) != "360.00" || got.PaidOn.Format("2006-01-02") != "2026-09-01" ||
		got.Difference().StringFixed(2) != "-3.25" || got.RepaidBy != "treasurer@example.org" {
		t.Errorf("claim 1 after its repayment: %+v (difference %s), want 360.00 on 2026-09-01, 3.25 short", got, got.Difference())
	}
	if claims[0].Repaid || !claims[0].Difference().IsZero() {
		t.Errorf("claim 2 reads as repaid: %+v", claims[0])
	}
	if totals.Claimed.StringFixed(2) != "408.25" || totals.Repaid.StringFixed(2) != "360.00" || totals.Outstanding.StringFixed(2) != "45.00" {
		t.Errorf("totals: %+v, want 408.25 claimed, 360.00 repaid, 45.00 outstanding", totals)
	}

	// Claim 2 repaid in full today (London's today, 1 October).
	if err := giftaid.RecordRepayment(ctx, s, giftaid.Repayment{ClaimID: c2.ID, Amount: d("45"), PaidOn: "2026-10-01", Actor: trustee}); err != nil {
		t.Fatal(err)
	}
	claims, totals, err = giftaid.ClaimsMade(ctx, s.Pool())
	if err != nil {
		t.Fatal(err)
	}
	if claims[0].RepaidAmount.StringFixed(2) != "45.00" || !claims[0].Difference().IsZero() {
		t.Errorf("claim 2: repaid %s, difference %s; want 45.00 and none", claims[0].RepaidAmount, claims[0].Difference())
	}
	if totals.Repaid.StringFixed(2) != "405.00" || !totals.Outstanding.IsZero() {
		t.Errorf("totals once both are repaid: %+v, want 405.00 repaid, nothing outstanding", totals)
	}
}

// Claims made before migration 0034 stored only their donations: the migration works out
// what each asked HMRC for from the entries it locked and the adjustments it carried, the
// same figures a claim made now stores.
func TestMigrationWorksOutEarlierClaims(t *testing.T) {
	t.Parallel()
	w, c1, c2 := repaymentWorld(t)
	ctx := context.Background()
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	var backfill string
	for _, m := range all {
		if m.Version == "0034_gift_aid_claimed" {
			_, backfill, _ = strings.Cut(m.SQL, "\nUPDATE ")
		}
	}
	if backfill == "" {
		t.Fatal("migration 0034 has no UPDATE of the earlier claims")
	}
	if _, err := w.S.Pool().Exec(ctx, `UPDATE gift_aid_claims SET tax = 0, adjustment_total = 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.S.Pool().Exec(ctx, "UPDATE "+backfill); err != nil {
		t.Fatal(err)
	}
	claims, totals, err := giftaid.ClaimsMade(ctx, w.S.Pool())
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 2 || !claims[0].Claimed.Equal(c2.NetTax()) || !claims[1].Claimed.Equal(c1.NetTax()) || totals.Claimed.StringFixed(2) != "408.25" {
		t.Errorf("worked out again, the claims ask for %s and %s (%s in all), want %s and %s", claims[1].Claimed, claims[0].Claimed,
			totals.Claimed, c1.NetTax(), c2.NetTax())
	}
}
