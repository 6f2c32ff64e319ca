package campaigns_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/ledger"
)

// giftWorld is an appeal with a year of gifts made the way the webhooks make them: a
// donation (with or without a Gift Aid declaration) created first, then ledger entries
// recorded in a transaction, Gift Aid-able only while a declaration covers them.
type giftWorld struct {
	t      *testing.T
	s      *campaigns.Store
	appeal campaigns.Appeal
	ruby   int64
	n      int
}

func newGiftWorld(t *testing.T) *giftWorld {
	t.Helper()
	s, a := newStore(t)
	return &giftWorld{t: t, s: s, appeal: a, ruby: addFundraiser(t, s, a.ID, "ruby")}
}

func utc(y int, m time.Month, day, h, min int) time.Time {
	return time.Date(y, m, day, h, min, 0, 0, time.UTC)
}

func declaration(title, first, last, house, postcode string) *campaigns.Declaration {
	return &campaigns.Declaration{Title: title, FirstName: first, LastName: last, House: house, Postcode: postcode,
		Scope: campaigns.ScopeThisAndFuture, WordingVersion: campaigns.GiftAidWordingVersion,
		Wording: campaigns.GiftAidWording("£10.00", campaigns.ScopeThisAndFuture)}
}

// donation creates n and gives it a fixed id, so the golden files do not change from run
// to run.
func (w *giftWorld) donation(n campaigns.NewDonation) campaigns.Donation {
	w.t.Helper()
	ctx := context.Background()
	n.AppealID = w.appeal.ID
	if n.Amount.IsZero() {
		n.Amount = d("10.00")
	}
	dn, err := w.s.CreateDonation(ctx, n)
	if err != nil {
		w.t.Fatal(err)
	}
	return w.fixID(dn.ID)
}

func (w *giftWorld) fixID(id string) campaigns.Donation {
	w.t.Helper()
	w.n++
	fixed := fmt.Sprintf("00000000-0000-4000-8000-%012d", w.n)
	if _, err := w.s.Pool().Exec(context.Background(), `UPDATE donations SET id = $2::uuid WHERE id = $1::uuid`, id, fixed); err != nil {
		w.t.Fatal(err)
	}
	return w.reload(fixed)
}

func (w *giftWorld) reload(id string) campaigns.Donation {
	w.t.Helper()
	dn, err := w.s.Donation(context.Background(), campaigns.DonationLookup{ID: id})
	if err != nil {
		w.t.Fatal(err)
	}
	return dn
}

// gift records money received for dn, as recordGift does: Gift Aid-able when the
// declaration covers the moment it arrived.
func (w *giftWorld) gift(dn campaigns.Donation, object, charge, pi, amount, fee string, at time.Time) int64 {
	w.t.Helper()
	dn = w.reload(dn.ID)
	e := ledger.Entry{AppealID: dn.AppealID, FundraiserID: dn.FundraiserID, DonationID: dn.ID, Kind: ledger.KindGift,
		StripeObject: object, ChargeID: charge, PaymentIntent: pi, Amount: d(amount), Fee: d(fee), Monthly: dn.Monthly,
		DonorKey: dn.DonorKey(), OccurredAt: at}
	if dn.GiftAidCovers(at) {
		e.GiftAidBase = e.Amount
	}
	return w.entry(e)
}

func (w *giftWorld) entry(e ledger.Entry) int64 {
	w.t.Helper()
	var id int64
	err := w.s.InTx(context.Background(), func(tx pgx.Tx) error {
		var err error
		id, err = ledger.RecordID(context.Background(), tx, e)
		return err
	})
	if err != nil || id == 0 {
		w.t.Fatalf("record %s %s: id %d, %v", e.Kind, e.StripeObject, id, err)
	}
	return id
}

// refund records a refund of amount on a charge, as applyRefund does: when the gift has
// already been claimed, it queues the Gift Aid adjustment for the next claim.
func (w *giftWorld) refund(dn campaigns.Donation, charge, pi, amount string, cumulativePence int, at time.Time) int64 {
	w.t.Helper()
	ctx := context.Background()
	var id int64
	err := w.s.InTx(ctx, func(tx pgx.Tx) error {
		if err := campaigns.BlockClaims(ctx, tx); err != nil {
			return err
		}
		gift, err := campaigns.FindGift(ctx, tx, pi, charge)
		if err != nil {
			return err
		}
		e := ledger.Entry{AppealID: dn.AppealID, FundraiserID: dn.FundraiserID, DonationID: dn.ID, Kind: ledger.KindRefund,
			StripeObject: charge, Seq: fmt.Sprint(cumulativePence), ChargeID: charge, PaymentIntent: pi,
			Amount: d(amount).Neg(), Monthly: dn.Monthly, OccurredAt: at}
		eligible := dn.GiftAidCovers(dn.CreatedAt)
		if eligible {
			e.GiftAidBase = e.Amount
		}
		if id, err = ledger.RecordID(ctx, tx, e); err != nil {
			return err
		}
		if eligible && gift.Claimed {
			note := fmt.Sprintf("Refund of £%s on %s of a gift already claimed", d(amount).StringFixed(2), at.Format("02/01/06"))
			return campaigns.QueueGiftAidAdjustment(ctx, tx, id, gift.ID, d(amount), w.appeal.GiftAidRate, note)
		}
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

// firstPeriod names the gifts buildFirstPeriod makes, for assertions.
type firstPeriod struct {
	smithJones, ada, series1, fullyRefunded, undeclared, openDispute, boundary int64
	smithJonesDonation                                                         campaigns.Donation
}

// buildFirstPeriod records the gifts of January to June 2026 (and one that lands on
// 1 July in London), covering every rule of the HMRC schedule.
func (w *giftWorld) buildFirstPeriod() firstPeriod {
	w.t.Helper()
	var p firstPeriod
	ctx := context.Background()

	// A monthly donor: three £25 gifts share one row dated the latest.
	patel := w.donation(campaigns.NewDonation{Amount: d("25.00"), Monthly: true, DisplayName: "Priya",
		Declaration: declaration("Dr", "Priya", "Patel", "7", "b33 8th")})
	for i, m := range []time.Month{time.January, time.February, time.March} {
		id := w.gift(patel, fmt.Sprintf("in_patel_%d", i+1), fmt.Sprintf("ch_patel_%d", i+1), fmt.Sprintf("pi_patel_%d", i+1), "25.00", "0.58", utc(2026, m, 15, 9, 0))
		if i == 0 {
			p.series1 = id
		}
	}

	// A monthly donor who cancels the declaration on 20 February: only January is claimed,
	// and a long title is shortened to HMRC's four characters.
	turing := w.donation(campaigns.NewDonation{Amount: d("30.00"), Monthly: true, DisplayName: "Alan",
		Declaration: declaration("Professor", "Alan", "Turing", "Bletchley Park", "MK3 6EB")})
	w.gift(turing, "in_turing_1", "ch_turing_1", "pi_turing_1", "30.00", "0.65", utc(2026, 1, 20, 9, 0))
	if _, err := w.s.Pool().Exec(ctx, `UPDATE gift_aid_declarations SET cancelled_at = $2
		WHERE id = (SELECT gift_aid_declaration_id FROM donations WHERE id = $1::uuid)`, turing.ID, utc(2026, 2, 20, 0, 0)); err != nil {
		w.t.Fatal(err)
	}
	w.gift(turing, "in_turing_2", "ch_turing_2", "pi_turing_2", "30.00", "0.65", utc(2026, 2, 20, 9, 0))
	w.gift(turing, "in_turing_3", "ch_turing_3", "pi_turing_3", "30.00", "0.65", utc(2026, 3, 20, 9, 0))

	// A double-barrelled surname through Ruby's page, with a Stripe fee learned later.
	sj := w.donation(campaigns.NewDonation{Amount: d("50.00"), FundraiserID: w.ruby, DisplayName: "Jane S",
		Message: "Go Ruby!", Declaration: declaration("Mrs", "Jane", "Smith-Jones", "Flat 2, 10", "sw1a2aa")})
	p.smithJones = w.gift(sj, "pi_sj", "", "pi_sj", "50.00", "0", utc(2026, 3, 2, 10, 0))
	p.smithJonesDonation = sj
	w.entry(ledger.Entry{AppealID: w.appeal.ID, FundraiserID: w.ruby, DonationID: sj.ID, Kind: ledger.KindFee,
		StripeObject: "ch_sj", ChargeID: "ch_sj", PaymentIntent: "pi_sj", Fee: d("0.95"), OccurredAt: utc(2026, 3, 2, 10, 5)})

	// No title (a blank cell), a hidden name, and a partial refund: the remainder is claimed.
	ada := w.donation(campaigns.NewDonation{Amount: d("100.00"), DisplayName: "Ada L", HideName: true,
		Message: "For a safe house", Declaration: declaration("", "Ada", "Lovelace", "12", "n1 9gu")})
	p.ada = w.gift(ada, "pi_ada", "", "pi_ada", "100.00", "1.70", utc(2026, 3, 5, 12, 0))
	w.refund(ada, "ch_ada", "pi_ada", "30.00", 3000, utc(2026, 3, 10, 8, 0))

	// Fully refunded: not claimed.
	tom := w.donation(campaigns.NewDonation{Amount: d("40.00"), DisplayName: "Tom",
		Declaration: declaration("Mr", "Tom", "Brown", "3", "CR2 6XH")})
	p.fullyRefunded = w.gift(tom, "pi_tom", "", "pi_tom", "40.00", "0.80", utc(2026, 3, 20, 14, 0))
	w.refund(tom, "ch_tom", "pi_tom", "40.00", 4000, utc(2026, 3, 21, 14, 0))

	// No declaration, and free text a spreadsheet would run as formulas.
	undeclared := w.donation(campaigns.NewDonation{Amount: d("60.00"), DisplayName: `=HYPERLINK("x")`, Message: "+44 7700 900000"})
	p.undeclared = w.gift(undeclared, "pi_undeclared", "", "pi_undeclared", "60.00", "1.10", utc(2026, 3, 22, 16, 0))

	// Money Stripe reported for a session this service never created.
	var unmatchedID string
	if err := w.s.InTx(ctx, func(tx pgx.Tx) error {
		um, err := campaigns.UpsertUnmatched(ctx, tx, campaigns.Unmatched{AppealSlug: w.appeal.Slug, Amount: d("15.00"), PaymentIntent: "pi_link"})
		unmatchedID = um.ID
		return err
	}); err != nil {
		w.t.Fatal(err)
	}
	w.gift(w.fixID(unmatchedID), "pi_link", "", "pi_link", "15.00", "0.43", utc(2026, 3, 23, 8, 0))

	// An open dispute holds the gift back from the claim until it is decided.
	carl := w.donation(campaigns.NewDonation{Amount: d("45.00"), DisplayName: "Carl",
		Declaration: declaration("Mr", "Carl", "Dee", "9", "DN55 1PT")})
	p.openDispute = w.gift(carl, "pi_carl", "", "pi_carl", "45.00", "0.90", utc(2026, 3, 25, 11, 0))
	w.entry(ledger.Entry{AppealID: w.appeal.ID, DonationID: carl.ID, Kind: ledger.KindDisputeHold, StripeObject: "dp_carl",
		ChargeID: "ch_carl", PaymentIntent: "pi_carl", Amount: d("-45.00"), GiftAidBase: d("-45.00"), OccurredAt: utc(2026, 3, 28, 11, 0)})

	// Sixty £20 gifts (at the limit, so aggregated: £1,000 on one row, the rest on the
	// next) and two smaller ones; £20.01 is over the limit and named, with an initial.
	start := utc(2026, 4, 1, 0, 0)
	for i := range 60 {
		small := w.donation(campaigns.NewDonation{Amount: d("20.00"), DisplayName: fmt.Sprintf("Supporter %d", i+1),
			Declaration: declaration("", "Sam", fmt.Sprintf("Small%d", i+1), fmt.Sprint(i+1), "M1 1AE")})
		pi := fmt.Sprintf("pi_small_%02d", i+1)
		w.gift(small, pi, "", pi, "20.00", "0.50", start.Add(time.Duration(i)*6*time.Hour))
	}
	for i, amt := range []string{"5.00", "3.00"} {
		small := w.donation(campaigns.NewDonation{Amount: d(amt), Declaration: declaration("", "Lee", "Tiny", "1", "EC1A 1BB")})
		pi := fmt.Sprintf("pi_tiny_%d", i+1)
		w.gift(small, pi, "", pi, amt, "0.20", utc(2026, 4, 20+i, 12, 0))
	}
	obrien := w.donation(campaigns.NewDonation{Amount: d("20.01"), Declaration: declaration("Ms", "J", "O'Brien", "4a", "sw1a 1aa")})
	w.gift(obrien, "pi_obrien", "", "pi_obrien", "20.01", "0.50", utc(2026, 4, 22, 12, 0))

	// 23:30 UTC on 30 June is 00:30 on 1 July in London: outside a claim up to 1 July.
	kim := w.donation(campaigns.NewDonation{Amount: d("80.00"), Declaration: declaration("Ms", "Kim", "Lee", "22", "SW1A 1AA")})
	p.boundary = w.gift(kim, "pi_kim", "", "pi_kim", "80.00", "1.40", utc(2026, 6, 30, 23, 30))
	return p
}

func claimCSV(t *testing.T, c campaigns.Claim) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := campaigns.WriteClaimCSV(&buf, c); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func adjustmentsCSV(t *testing.T, c campaigns.Claim) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := campaigns.WriteAdjustments(&buf, c); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func claimed(c campaigns.Claim) map[int64]bool {
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
	w := newGiftWorld(t)
	p := w.buildFirstPeriod()
	ctx := context.Background()
	opt := campaigns.ClaimOptions{Upto: time.Date(2026, 7, 1, 0, 0, 0, 0, campaigns.London()), Actor: campaigns.User{Email: "trustee@example.org"}}

	preview, err := w.s.PrepareClaim(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	c1, err := w.s.MakeClaim(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if c1.ID == 0 || preview.ID != 0 || !bytes.Equal(claimCSV(t, preview), claimCSV(t, c1)) {
		t.Fatalf("the preview and the claim differ (claim id %d)", c1.ID)
	}
	golden(t, "claim1", claimCSV(t, c1))
	golden(t, "claim1_adjustments", adjustmentsCSV(t, c1))

	// 50 + 70 + 75 + 30 + 1000 + 208 + 20.01; the tax is rounded down once.
	if c1.Total.StringFixed(2) != "1453.01" || c1.Tax.StringFixed(2) != "363.25" || len(c1.Adjustments) != 0 {
		t.Errorf("claim 1: total %s tax %s adjustments %d, want 1453.01, 363.25, none", c1.Total, c1.Tax, len(c1.Adjustments))
	}
	in := claimed(c1)
	for name, id := range map[string]int64{"fully refunded": p.fullyRefunded, "undeclared": p.undeclared,
		"open dispute": p.openDispute, "after the period": p.boundary} {
		if in[id] {
			t.Errorf("the %s gift was claimed", name)
		}
	}
	if !in[p.smithJones] || !in[p.ada] || !in[p.series1] {
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
	if err := w.s.Pool().QueryRow(ctx, `SELECT count(*) FROM gift_aid_claim_items WHERE claim_id = $1`, c1.ID).Scan(&items); err != nil {
		t.Fatal(err)
	}
	if items != len(c1.Entries) || items != 69+1 { // 69 gifts and Ada's earlier refund
		t.Errorf("claim 1 locks %d entries (%d listed), want 70", items, len(c1.Entries))
	}

	// After the claim: Smith-Jones is refunded in full, which queues an adjustment (the
	// webhook's path), and new gifts arrive.
	w.refund(p.smithJonesDonation, "ch_sj", "pi_sj", "50.00", 5000, utc(2026, 7, 10, 9, 0))
	long := w.donation(campaigns.NewDonation{Amount: d("150.00"), Declaration: declaration("Mx",
		"Maximiliana-Theodora Wilhelmina Josephine", "Featherstonehaugh-Cholmondeley-Marjoribanks", "The Old Rectory, Church Lane", "ox1 1aa")})
	w.gift(long, "pi_long", "", "pi_long", "150.00", "2.40", utc(2026, 8, 1, 12, 0))

	c2, err := w.s.MakeClaim(ctx, campaigns.ClaimOptions{Actor: campaigns.User{Email: "trustee@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "claim2", claimCSV(t, c2))
	golden(t, "claim2_adjustments", adjustmentsCSV(t, c2))
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
	if err := w.s.Pool().QueryRow(ctx, `SELECT COALESCE(claim_id, 0) FROM gift_aid_adjustments`).Scan(&attached); err != nil || attached != c2.ID {
		t.Errorf("the adjustment is attached to claim %d (%v), want %d", attached, err, c2.ID)
	}

	// Nothing left: a preview is empty and a claim is refused.
	if again, err := w.s.PrepareClaim(ctx, campaigns.ClaimOptions{}); err != nil || len(again.Rows) != 0 {
		t.Errorf("preview after every gift is claimed: %d rows, %v", len(again.Rows), err)
	}
	if _, err := w.s.MakeClaim(ctx, campaigns.ClaimOptions{}); !errors.Is(err, campaigns.ErrNothingToClaim) {
		t.Errorf("a claim with nothing to claim: %v", err)
	}

	// An adjustment larger than the next claim waits for a larger one.
	w.refund(long, "ch_long", "pi_long", "150.00", 15000, utc(2026, 9, 1, 9, 0))
	late := w.donation(campaigns.NewDonation{Amount: d("40.00"), Declaration: declaration("", "Bo", "Day", "5", "M1 1AE")})
	w.gift(late, "pi_late", "", "pi_late", "40.00", "0.80", utc(2026, 9, 2, 9, 0))
	c3, err := w.s.MakeClaim(ctx, campaigns.ClaimOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c3.Tax.StringFixed(2) != "10.00" || len(c3.Adjustments) != 0 || !c3.AdjustmentTotal.IsZero() {
		t.Errorf("claim 3: tax %s with %d adjustments (%s); the £37.50 adjustment does not fit", c3.Tax, len(c3.Adjustments), c3.AdjustmentTotal)
	}
	var pending int
	if err := w.s.Pool().QueryRow(ctx, `SELECT count(*) FROM gift_aid_adjustments WHERE claim_id IS NULL`).Scan(&pending); err != nil || pending != 1 {
		t.Errorf("%d adjustments still queued (%v), want 1", pending, err)
	}
}

// The aggregation limit is a setting: at £25 the monthly £25 gifts are aggregated too, and
// a limit over £1,000 is refused.
func TestAggregationLimitIsConfigurable(t *testing.T) {
	t.Parallel()
	w := newGiftWorld(t)
	w.buildFirstPeriod()
	ctx := context.Background()
	upto := time.Date(2026, 7, 1, 0, 0, 0, 0, campaigns.London())
	def, err := w.s.PrepareClaim(ctx, campaigns.ClaimOptions{Upto: upto})
	if err != nil {
		t.Fatal(err)
	}
	wide, err := w.s.PrepareClaim(ctx, campaigns.ClaimOptions{Upto: upto, AggregationLimit: d("25.00")})
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
	if _, err := w.s.PrepareClaim(ctx, campaigns.ClaimOptions{AggregationLimit: d("1000.01")}); err == nil {
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
	w := newGiftWorld(t)
	ctx := context.Background()
	last := w.donation(campaigns.NewDonation{Amount: d("40.00"), Declaration: declaration("Mr", "Old", "Period", "1", "SW1A 1AA")})
	lastGift := w.gift(last, "pi_old_last", "", "pi_old_last", "40.00", "0.80", utc(2022, 4, 5, 11, 0))
	first := w.donation(campaigns.NewDonation{Amount: d("60.00"), Declaration: declaration("Ms", "New", "Period", "2", "SW1A 1AA")})
	firstGift := w.gift(first, "pi_new_first", "", "pi_new_first", "60.00", "1.10", utc(2022, 4, 6, 11, 0))

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
		c, err := w.s.PrepareClaim(ctx, campaigns.ClaimOptions{Now: tc.now})
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
