package giftaid_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
)

var d = decimal.RequireFromString

func claimCSV(t *testing.T, c giftaid.Claim) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := giftaid.WriteClaimCSV(&buf, c); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func adjustmentsCSV(t *testing.T, c giftaid.Claim) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := giftaid.WriteAdjustments(&buf, c); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func claimed(c giftaid.Claim) map[int64]bool {
	m := map[int64]bool{}
	for _, r := range c.Rows {
		for _, g := range r.Gifts {
			m[g] = true
		}
	}
	return m
}

func TestGiftAidClaims(t *testing.T) {
	t.Parallel()
	w := campaignstest.NewGiftWorld(t)
	p := w.BuildFirstPeriod()
	ctx := context.Background()
	opt := giftaid.ClaimOptions{Upto: time.Date(2026, 7, 1, 0, 0, 0, 0, campaigns.London()), Actor: accounts.User{Email: "trustee@example.org"}}

	preview, err := giftaid.PrepareClaim(ctx, w.S, opt)
	if err != nil {
		t.Fatal(err)
	}
	c1, err := giftaid.MakeClaim(ctx, w.S, opt)
	if err != nil {
		t.Fatal(err)
	}
	if c1.ID == 0 || preview.ID != 0 || !bytes.Equal(claimCSV(t, preview), claimCSV(t, c1)) {
		t.Fatalf("the preview and the claim differ (claim id %d)", c1.ID)
	}
	campaignstest.Golden(t, "claim1", claimCSV(t, c1))
	campaignstest.Golden(t, "claim1_adjustments", adjustmentsCSV(t, c1))

	// 50 + 70 + 75 + 30 + 1000 + 208 + 20.01; the tax is rounded down once.
	if c1.Total.StringFixed(2) != "1453.01" || c1.Tax.StringFixed(2) != "363.25" || len(c1.Adjustments) != 0 {
		t.Errorf("claim 1: total %s tax %s adjustments %d, want 1453.01, 363.25, none", c1.Total, c1.Tax, len(c1.Adjustments))
	}
	in := claimed(c1)
	for name, id := range map[string]int64{"fully refunded": p.FullyRefunded, "undeclared": p.Undeclared,
		"open dispute": p.OpenDispute, "after the period": p.Boundary} {
		if in[id] {
			t.Errorf("the %s gift was claimed", name)
		}
	}
	if !in[p.SmithJones] || !in[p.Ada] || !in[p.Series1] {
		t.Error("an eligible gift is missing from claim 1")
	}
	var rowsOver1000, aggregated int
	for _, r := range c1.Rows {
		if r.Aggregated != "" {
			aggregated++
			if r.FirstName != "" || r.LastName != "" || r.House != "" || r.Postcode != "" {
				t.Errorf("an aggregated row names a donor: %+v", r)
			}
		}
		if r.Amount.GreaterThan(d("1000")) {
			rowsOver1000++
		}
	}
	if aggregated != 2 || rowsOver1000 != 0 {
		t.Errorf("%d aggregated rows, %d over £1,000; want 2 and none", aggregated, rowsOver1000)
	}
	var items int
	if err := w.S.Pool().QueryRow(ctx, `SELECT count(*) FROM gift_aid_claim_items WHERE claim_id = $1`, c1.ID).Scan(&items); err != nil {
		t.Fatal(err)
	}
	if items != len(c1.Entries) || items != 69+1 { // 69 gifts and Ada's earlier refund
		t.Errorf("claim 1 locks %d entries (%d listed), want 70", items, len(c1.Entries))
	}

	// After the claim: Smith-Jones is refunded in full, which queues an adjustment (the
	// webhook's path), and new gifts arrive.
	w.Refund(p.SmithJonesDonation, "ch_sj", "pi_sj", "50.00", 5000, campaignstest.UTC(2026, 7, 10, 9, 0))
	long := w.Donation(donations.NewDonation{Amount: d("150.00"), Declaration: campaignstest.Declaration("Mx",
		"Maximiliana-Theodora Wilhelmina Josephine", "Featherstonehaugh-Cholmondeley-Marjoribanks", "The Old Rectory, Church Lane", "ox1 1aa")})
	w.Gift(long, "pi_long", "", "pi_long", "150.00", "2.40", campaignstest.UTC(2026, 8, 1, 12, 0))

	c2, err := giftaid.MakeClaim(ctx, w.S, giftaid.ClaimOptions{Actor: accounts.User{Email: "trustee@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	campaignstest.Golden(t, "claim2", claimCSV(t, c2))
	campaignstest.Golden(t, "claim2_adjustments", adjustmentsCSV(t, c2))
	if c2.Total.StringFixed(2) != "230.00" || c2.Tax.StringFixed(2) != "57.50" || c2.AdjustmentTotal.StringFixed(2) != "12.50" ||
		c2.NetTax().StringFixed(2) != "45.00" {
		t.Errorf("claim 2: total %s tax %s adjustments %s", c2.Total, c2.Tax, c2.AdjustmentTotal)
	}
	for g := range claimed(c2) {
		if in[g] {
			t.Errorf("gift %d claimed twice", g)
		}
	}
	var attached int64
	if err := w.S.Pool().QueryRow(ctx, `SELECT COALESCE(claim_id, 0) FROM gift_aid_adjustments`).Scan(&attached); err != nil || attached != c2.ID {
		t.Errorf("the adjustment is attached to claim %d (%v), want %d", attached, err, c2.ID)
	}

	// Nothing left: a preview is empty and a claim is refused.
	if again, err := giftaid.PrepareClaim(ctx, w.S, giftaid.ClaimOptions{}); err != nil || len(again.Rows) != 0 {
		t.Errorf("preview after every gift is claimed: %d rows, %v", len(again.Rows), err)
	}
	if _, err := giftaid.MakeClaim(ctx, w.S, giftaid.ClaimOptions{}); !errors.Is(err, giftaid.ErrNothingToClaim) {
		t.Errorf("a claim with nothing to claim: %v", err)
	}

	// An adjustment larger than the next claim waits for a larger one.
	w.Refund(long, "ch_long", "pi_long", "150.00", 15000, campaignstest.UTC(2026, 9, 1, 9, 0))
	late := w.Donation(donations.NewDonation{Amount: d("40.00"), Declaration: campaignstest.Declaration("", "Bo", "Day", "5", "M1 1AE")})
	w.Gift(late, "pi_late", "", "pi_late", "40.00", "0.80", campaignstest.UTC(2026, 9, 2, 9, 0))
	c3, err := giftaid.MakeClaim(ctx, w.S, giftaid.ClaimOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c3.Tax.StringFixed(2) != "10.00" || len(c3.Adjustments) != 0 || !c3.AdjustmentTotal.IsZero() {
		t.Errorf("claim 3: tax %s with %d adjustments (%s); the £37.50 adjustment does not fit", c3.Tax, len(c3.Adjustments), c3.AdjustmentTotal)
	}
	var pending int
	if err := w.S.Pool().QueryRow(ctx, `SELECT count(*) FROM gift_aid_adjustments WHERE claim_id IS NULL`).Scan(&pending); err != nil || pending != 1 {
		t.Errorf("%d adjustments still queued (%v), want 1", pending, err)
	}
}

// The aggregation limit is a setting: at £25 the monthly £25 gifts are aggregated too, and
// a limit over £1,000 is refused.
func TestAggregationLimitIsConfigurable(t *testing.T) {
	t.Parallel()
	w := campaignstest.NewGiftWorld(t)
	w.BuildFirstPeriod()
	ctx := context.Background()
	upto := time.Date(2026, 7, 1, 0, 0, 0, 0, campaigns.London())
	def, err := giftaid.PrepareClaim(ctx, w.S, giftaid.ClaimOptions{Upto: upto})
	if err != nil {
		t.Fatal(err)
	}
	wide, err := giftaid.PrepareClaim(ctx, w.S, giftaid.ClaimOptions{Upto: upto, AggregationLimit: d("25.00")})
	if err != nil {
		t.Fatal(err)
	}
	if !def.Total.Equal(wide.Total) || len(wide.Rows) != len(def.Rows)-2 { // Patel's row and O'Brien's join the aggregates
		t.Errorf("limit 25: %d rows totalling %s; default: %d rows totalling %s", len(wide.Rows), wide.Total, len(def.Rows), def.Total)
	}
	for _, r := range wide.Rows {
		if r.LastName == "Patel" {
			t.Error("a £25 gift is named with a £25 limit")
		}
	}
	if _, err := giftaid.PrepareClaim(ctx, w.S, giftaid.ClaimOptions{AggregationLimit: d("1000.01")}); err == nil {
		t.Error("an aggregation limit over £1,000 was accepted")
	}
	if strings.Contains(string(claimCSV(t, def)), "n/a") || strings.Contains(string(claimCSV(t, def)), `"0.00"`) {
		t.Error("a cell that does not apply must be blank")
	}
}

// HMRC accepts a claim until four years after the end of the gift's accounting period (the
// tax year, ending 5 April): a gift on 5 April 2022 can be claimed through 5 April 2026, one
// on 6 April 2022 through 5 April 2027. Late gifts are left out, with a warning saying so.
func TestClaimTimeLimit(t *testing.T) {
	t.Parallel()
	w := campaignstest.NewGiftWorld(t)
	ctx := context.Background()
	last := w.Donation(donations.NewDonation{Amount: d("40.00"), Declaration: campaignstest.Declaration("Mr", "Old", "Period", "1", "SW1A 1AA")})
	lastGift := w.Gift(last, "pi_old_last", "", "pi_old_last", "40.00", "0.80", campaignstest.UTC(2022, 4, 5, 11, 0))
	first := w.Donation(donations.NewDonation{Amount: d("60.00"), Declaration: campaignstest.Declaration("Ms", "New", "Period", "2", "SW1A 1AA")})
	firstGift := w.Gift(first, "pi_new_first", "", "pi_new_first", "60.00", "1.10", campaignstest.UTC(2022, 4, 6, 11, 0))

	for _, tc := range []struct {
		now        time.Time
		want       []int64
		late       string
		lateAmount string
	}{
		{time.Date(2026, 4, 5, 23, 0, 0, 0, campaigns.London()), []int64{lastGift, firstGift}, "", ""},
		{time.Date(2026, 4, 6, 0, 30, 0, 0, campaigns.London()), []int64{firstGift}, "1 gift (£40.00) is", "£40.00"},
		{time.Date(2027, 4, 6, 9, 0, 0, 0, campaigns.London()), nil, "2 gifts (£100.00) are", "£100.00"},
	} {
		c, err := giftaid.PrepareClaim(ctx, w.S, giftaid.ClaimOptions{Now: tc.now})
		if err != nil {
			t.Fatal(err)
		}
		in := claimed(c)
		if len(in) != len(tc.want) {
			t.Errorf("at %s: %d gifts claimable, want %d", tc.now.Format(time.DateTime), len(in), len(tc.want))
		}
		for _, id := range tc.want {
			if !in[id] {
				t.Errorf("at %s: gift %d left out, want it claimable", tc.now.Format(time.DateTime), id)
			}
		}
		warned := strings.Join(c.Warnings, "\n")
		if tc.late == "" && strings.Contains(warned, "HMRC no longer accepts") {
			t.Errorf("at %s: unexpected warning %q", tc.now.Format(time.DateTime), warned)
		}
		if tc.late != "" && (!strings.Contains(warned, tc.late) || !strings.Contains(warned, tc.lateAmount)) {
			t.Errorf("at %s: warnings %q, want %s (%s) named as out of time", tc.now.Format(time.DateTime), warned, tc.late, tc.lateAmount)
		}
	}
}
