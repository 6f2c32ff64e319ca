package reports_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/ledger"
	"giving/campaigns/reports"
)

var d = decimal.RequireFromString

// dashDonation is a donation the dashboard test creates.
type dashDonation struct {
	tier         int64 // 0: a typed amount
	fundraiser   int64
	amount, fee  string // the gift and the card fee the donor covers
	monthly      bool
	status       string
	unmatched    bool
	otherAppeal  bool
	noDonationID bool // money with no donation at all
}

// dashEntry is a ledger entry the test records, with what the dashboard needs to know
// about it beside the entry itself.
type dashEntry struct {
	donation string // key into the donations
	kind     ledger.Kind
	object   string
	seq      string
	amount   string
	fee      string
	base     string
	at       string // RFC 3339
	claimed  bool   // put into a Gift Aid claim
}

// seededEntry is an entry as recorded, for the independent sums.
type seededEntry struct {
	e         ledger.Entry
	tier      int64
	unmatched bool
	claimed   bool
}

type dashSeed struct {
	appeal    appeals.Appeal
	other     int64 // a second appeal, whose money must never show
	ruby      int64
	quiet     int64 // an approved page with no gifts
	pending   int64 // a pending page with no gifts: not listed
	entries   []seededEntry
	donations map[string]dashDonation
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// seedDashboard records a ledger of known gifts over January to March 2025 (and a few
// just outside), across two tiers and typed amounts, a fundraiser page, one-off and
// monthly gifts, refunds, disputes won, lost and open, Gift Aid, unmatched money and a
// Gift Aid claim.
func seedDashboard(t *testing.T, s *campaigns.Store, a appeals.Appeal) dashSeed {
	t.Helper()
	ctx := context.Background()
	seed := dashSeed{appeal: a, donations: map[string]dashDonation{}}
	seed.ruby = campaignstest.AddFundraiser(t, s, a.ID, "ruby-dash")
	seed.quiet = campaignstest.AddFundraiser(t, s, a.ID, "quiet-dash")
	if err := s.Pool().QueryRow(ctx, `INSERT INTO fundraisers (appeal_id, slug, title, target, status)
		VALUES ($1, 'pending-dash', 'Not yet approved', 100, 'pending') RETURNING id`, a.ID).Scan(&seed.pending); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE fundraisers SET title = 'A quiet page', target = 0 WHERE id = $1`, seed.quiet); err != nil {
		t.Fatal(err)
	}
	if err := s.Pool().QueryRow(ctx, `INSERT INTO appeals (slug, name, target, surplus_statement) VALUES ('other-dash', 'Other', 10, 'Any surplus goes to our other work.') RETURNING id`).Scan(&seed.other); err != nil {
		t.Fatal(err)
	}
	meal, pack := a.Tiers[0].ID, a.Tiers[1].ID // £3 and £15

	donations := map[string]dashDonation{
		"meal1":     {tier: meal, amount: "3.00", status: donations.StatusPaid},
		"meal2":     {tier: meal, amount: "3.00", status: donations.StatusRefunded},
		"pack1":     {tier: pack, fundraiser: seed.ruby, amount: "15.00", fee: "0.50", status: donations.StatusPaid},
		"custom1":   {amount: "42.42", status: donations.StatusPaid},
		"won":       {fundraiser: seed.ruby, amount: "100.00", status: donations.StatusPaid},
		"lost":      {tier: pack, amount: "15.00", status: donations.StatusDisputed},
		"open":      {amount: "50.00", status: donations.StatusDisputed},
		"mActive":   {tier: pack, amount: "15.00", fee: "0.50", monthly: true, status: donations.StatusActive},
		"mNew":      {amount: "40.00", monthly: true, status: donations.StatusActive},
		"mPastDue":  {amount: "10.00", fee: "0.35", monthly: true, status: donations.StatusPastDue},
		"mCancel":   {tier: meal, fundraiser: seed.ruby, amount: "3.00", monthly: true, status: donations.StatusCancelled},
		"mPending":  {amount: "25.00", monthly: true, status: donations.StatusPending},
		"failed":    {amount: "25.00", status: donations.StatusFailed},
		"unmatched": {amount: "25.00", status: donations.StatusPaid, unmatched: true},
		"none":      {noDonationID: true},
		"before":    {tier: meal, amount: "3.00", status: donations.StatusPaid},
		"after":     {fundraiser: seed.ruby, amount: "2000.00", status: donations.StatusPaid},
		"elsewhere": {amount: "500.00", status: donations.StatusPaid, otherAppeal: true},
	}
	ids := map[string]string{}
	for key, dd := range donations {
		seed.donations[key] = dd
		if dd.noDonationID {
			continue
		}
		appeal := a.ID
		if dd.otherAppeal {
			appeal = seed.other
		}
		freq := "one_off"
		if dd.monthly {
			freq = "monthly"
		}
		fee := dd.fee
		if fee == "" {
			fee = "0"
		}
		var id string
		err := s.Pool().QueryRow(ctx, `INSERT INTO donations (appeal_id, fundraiser_id, tier_id, amount, cover_fee, frequency, status, unmatched)
			VALUES ($1, NULLIF($2, 0), NULLIF($3, 0), $4, $5, $6, $7, $8) RETURNING id::text`,
			appeal, dd.fundraiser, dd.tier, d(dd.amount), d(fee), freq, dd.status, dd.unmatched).Scan(&id)
		if err != nil {
			t.Fatalf("donation %s: %v", key, err)
		}
		ids[key] = id
	}

	G, R, H, W, L, F := ledger.KindGift, ledger.KindRefund, ledger.KindDisputeHold,
		ledger.KindDisputeRelease, ledger.KindDisputeLost, ledger.KindFee
	entries := []dashEntry{
		{donation: "meal1", kind: G, object: "pi_meal1", amount: "3.00", fee: "0.25", base: "3.00", at: "2025-01-05T10:00:00Z", claimed: true},
		{donation: "meal1", kind: F, object: "ch_meal1", amount: "0", fee: "0.05", at: "2025-01-06T09:00:00Z"},
		{donation: "meal2", kind: G, object: "pi_meal2", amount: "3.00", fee: "0.25", base: "3.00", at: "2025-01-20T12:00:00Z"},
		{donation: "meal2", kind: R, object: "ch_meal2", seq: "300", amount: "-3.00", base: "-3.00", at: "2025-02-02T12:00:00Z"},
		{donation: "pack1", kind: G, object: "pi_pack1", amount: "15.50", fee: "0.45", base: "15.50", at: "2025-02-14T08:00:00Z", claimed: true},
		// 22:59 UTC on 31 March is 23:59 British Summer Time: still March.
		{donation: "custom1", kind: G, object: "pi_custom1", amount: "42.42", fee: "0.80", at: "2025-03-31T22:59:00Z"},
		{donation: "won", kind: G, object: "pi_won", amount: "100.00", fee: "1.70", base: "100.00", at: "2025-02-20T15:00:00Z"},
		{donation: "won", kind: H, object: "dp_won", amount: "-100.00", base: "-100.00", at: "2025-03-01T15:00:00Z"},
		{donation: "won", kind: W, object: "dp_won", amount: "100.00", base: "100.00", at: "2025-03-15T15:00:00Z"},
		{donation: "lost", kind: G, object: "pi_lost", amount: "15.00", fee: "0.43", base: "15.00", at: "2025-01-10T11:00:00Z"},
		{donation: "lost", kind: H, object: "dp_lost", amount: "-15.00", base: "-15.00", at: "2025-02-01T11:00:00Z"},
		{donation: "lost", kind: W, object: "dp_lost", amount: "15.00", base: "15.00", at: "2025-03-02T11:00:00Z"},
		{donation: "lost", kind: L, object: "dp_lost", amount: "-15.00", fee: "20.00", base: "-15.00", at: "2025-03-02T11:00:00Z"},
		{donation: "open", kind: G, object: "pi_open", amount: "50.00", fee: "0.95", at: "2025-03-10T11:00:00Z"},
		{donation: "open", kind: H, object: "dp_open", amount: "-50.00", at: "2025-03-20T11:00:00Z"},
		{donation: "mActive", kind: G, object: "in_ma1", amount: "15.50", fee: "0.30", base: "15.50", at: "2025-01-03T07:00:00Z", claimed: true},
		{donation: "mActive", kind: G, object: "in_ma2", amount: "15.50", fee: "0.30", base: "15.50", at: "2025-02-03T07:00:00Z"},
		{donation: "mActive", kind: G, object: "in_ma3", amount: "15.50", fee: "0.30", base: "15.50", at: "2025-03-03T07:00:00Z"},
		{donation: "mPastDue", kind: G, object: "in_mp1", amount: "10.35", fee: "0.35", at: "2025-01-15T07:00:00Z"},
		{donation: "mPastDue", kind: G, object: "in_mp2", amount: "10.35", fee: "0.35", at: "2025-02-15T07:00:00Z"},
		{donation: "mCancel", kind: G, object: "in_mc1", amount: "3.00", fee: "0.25", base: "3.00", at: "2025-01-25T07:00:00Z"},
		{donation: "mCancel", kind: R, object: "ch_mc1", seq: "100", amount: "-1.00", base: "-1.00", at: "2025-01-26T07:00:00Z"},
		{donation: "unmatched", kind: G, object: "pi_unmatched", amount: "25.00", fee: "0.58", at: "2025-02-10T07:00:00Z"},
		{donation: "none", kind: G, object: "pi_none", amount: "7.00", fee: "0.30", at: "2025-03-05T07:00:00Z"},
		// 23:59 UTC on 31 December is 23:59 GMT: still December, before the period.
		{donation: "before", kind: G, object: "pi_before", amount: "3.00", fee: "0.25", base: "3.00", at: "2024-12-31T23:59:00Z"},
		// 23:30 UTC on 31 March is 00:30 BST on 1 April: after the period. Claimed too.
		{donation: "after", kind: G, object: "pi_after", amount: "2000.00", fee: "28.20", base: "2000.00", at: "2025-03-31T23:30:00Z", claimed: true},
		{donation: "elsewhere", kind: G, object: "pi_elsewhere", amount: "500.00", fee: "7.00", base: "500.00", at: "2025-02-10T07:00:00Z"},
	}
	var claim []int64
	for _, de := range entries {
		dd := seed.donations[de.donation]
		e := ledger.Entry{AppealID: a.ID, FundraiserID: dd.fundraiser, DonationID: ids[de.donation], Kind: de.kind,
			Source: ledger.SourceStripe, SourceRef: de.object, Seq: de.seq, Amount: d(de.amount), Monthly: dd.monthly,
			DonorKey: "donor:" + de.donation, OccurredAt: mustTime(t, de.at)}
		if dd.otherAppeal {
			e.AppealID = seed.other
		}
		if de.kind != ledger.KindGift {
			e.DonorKey = ""
		}
		if de.fee != "" {
			e.Fee = d(de.fee)
		}
		if de.base != "" {
			e.GiftAidBase = d(de.base)
		}
		var id int64
		err := s.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			id, err = ledger.RecordID(ctx, tx, e)
			return err
		})
		if err != nil || id == 0 {
			t.Fatalf("record %s: id %d, %v", de.object, id, err)
		}
		if de.claimed {
			claim = append(claim, id)
		}
		seed.entries = append(seed.entries, seededEntry{e: e, tier: dd.tier, unmatched: dd.unmatched || dd.noDonationID, claimed: de.claimed})
	}
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var claimID int64
		if err := tx.QueryRow(ctx, `INSERT INTO gift_aid_claims (created_by, total) VALUES ('test', 0) RETURNING id`).Scan(&claimID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO gift_aid_claim_items (ledger_entry_id, claim_id) SELECT unnest($1::bigint[]), $2::bigint`, claim, claimID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return seed
}

var london = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return l
}()

func floorPercent(v, target decimal.Decimal) decimal.Decimal {
	if target.Sign() <= 0 {
		return decimal.Zero
	}
	return v.Mul(decimal.NewFromInt(100)).Div(target).RoundFloor(1)
}

func floorTax(base, rate decimal.Decimal) decimal.Decimal {
	if base.Sign() <= 0 {
		return decimal.Zero
	}
	return base.Mul(rate).RoundFloor(2)
}

// raisedBy is what entries add to "raised": every amount except a fee entry's zero.
func raisedBy(e ledger.Entry) decimal.Decimal { return e.Amount }

// expectDashboard computes the dashboard in Go from the entries and donations the test
// created, with no SQL at all.
func expectDashboard(t *testing.T, seed dashSeed, p reports.Period) reports.Dashboard {
	t.Helper()
	a := seed.appeal
	z := decimal.Zero
	want := reports.Dashboard{AppealID: a.ID, Period: p, GiftAidRate: a.GiftAidRate,
		Gross: z, Refunds: z, Disputed: z, DisputesLost: z, Fees: z, Raised: z, Net: z,
		GiftAidBase: z, GiftAidClaimable: z, GiftAidClaimedBase: z, GiftAidClaimed: z,
		OneOff: reports.FrequencyFigures{Gross: z}, Monthly: reports.FrequencyFigures{Gross: z},
		MonthlyRecurringIncome: z, Unmatched: reports.UnmatchedFigures{Amount: z}}
	tiers := map[int64]*reports.TierFigures{}
	for _, tier := range a.Tiers {
		tiers[tier.ID] = &reports.TierFigures{TierID: tier.ID, Title: tier.Title, Amount: tier.Amount, Gross: z}
	}
	other := &reports.TierFigures{Title: reports.OtherAmountTitle, Amount: z, Gross: z}
	type page struct {
		count          int64
		raised, toDate decimal.Decimal
	}
	pages := map[int64]*page{seed.ruby: {raised: z, toDate: z}, seed.quiet: {raised: z, toDate: z}}
	months := map[string]*reports.MonthFigures{}
	var order []string
	for m := p.From.In(london); m.Before(p.To); m = time.Date(m.Year(), m.Month()+1, 1, 0, 0, 0, 0, london) {
		key := m.Format("2006-01")
		months[key] = &reports.MonthFigures{Month: key, Gross: z, Refunds: z, Fees: z, Raised: z, Net: z}
		order = append(order, key)
	}
	progress, before := z, z
	for _, se := range seed.entries {
		e := se.e
		if e.AppealID != a.ID {
			continue
		}
		progress = progress.Add(raisedBy(e))
		if e.OccurredAt.Before(p.From) {
			before = before.Add(raisedBy(e))
		}
		if e.FundraiserID != 0 {
			pages[e.FundraiserID].toDate = pages[e.FundraiserID].toDate.Add(raisedBy(e))
		}
		if e.OccurredAt.Before(p.From) || !e.OccurredAt.Before(p.To) {
			continue
		}
		m := months[e.OccurredAt.In(london).Format("2006-01")]
		switch e.Kind {
		case ledger.KindGift:
			want.Gifts++
			want.Gross = want.Gross.Add(e.Amount)
			m.Gifts++
			m.Gross = m.Gross.Add(e.Amount)
			f := &want.OneOff
			if e.Monthly {
				f = &want.Monthly
			}
			f.Count++
			f.Gross = f.Gross.Add(e.Amount)
			tf := tiers[se.tier]
			if tf == nil {
				tf = other
			}
			tf.Count++
			tf.Gross = tf.Gross.Add(e.Amount)
			if se.unmatched {
				want.Unmatched.Count++
				want.Unmatched.Amount = want.Unmatched.Amount.Add(e.Amount)
			}
			if e.FundraiserID != 0 {
				pages[e.FundraiserID].count++
			}
		case ledger.KindRefund:
			want.Refunds = want.Refunds.Sub(e.Amount)
			m.Refunds = m.Refunds.Sub(e.Amount)
		case ledger.KindDisputeHold, ledger.KindDisputeRelease:
			want.Disputed = want.Disputed.Sub(e.Amount)
		case ledger.KindDisputeLost:
			want.DisputesLost = want.DisputesLost.Sub(e.Amount)
		}
		want.Fees = want.Fees.Add(e.Fee)
		m.Fees = m.Fees.Add(e.Fee)
		m.Raised = m.Raised.Add(raisedBy(e))
		want.Raised = want.Raised.Add(raisedBy(e))
		want.GiftAidBase = want.GiftAidBase.Add(e.GiftAidBase)
		if se.claimed {
			want.GiftAidClaimedBase = want.GiftAidClaimedBase.Add(e.Amount)
		}
		if e.FundraiserID != 0 {
			pages[e.FundraiserID].raised = pages[e.FundraiserID].raised.Add(raisedBy(e))
		}
	}
	want.Net = want.Raised.Sub(want.Fees)
	want.GiftAidClaimable = floorTax(want.GiftAidBase, a.GiftAidRate)
	want.GiftAidClaimed = floorTax(want.GiftAidClaimedBase, a.GiftAidRate)
	for _, tier := range a.Tiers { // active tiers, cheapest first
		want.ByTier = append(want.ByTier, *tiers[tier.ID])
	}
	want.ByTier = append(want.ByTier, *other)
	for _, key := range order {
		m := months[key]
		m.Net = m.Raised.Sub(m.Fees)
		want.ByMonth = append(want.ByMonth, *m)
	}
	for _, id := range []int64{seed.ruby, seed.quiet} {
		pg := pages[id]
		f := reports.FundraiserFigures{FundraiserID: id, Status: "approved", Count: pg.count, Raised: pg.raised, RaisedToDate: pg.toDate}
		if id == seed.ruby {
			f.Slug, f.Title, f.Target = "ruby-dash", "Ruby runs for freedom", d("500")
		} else {
			f.Slug, f.Title, f.Target = "quiet-dash", "A quiet page", z
		}
		f.Percent = floorPercent(f.RaisedToDate, f.Target)
		want.ByFundraiser = append(want.ByFundraiser, f)
	}
	sort.SliceStable(want.ByFundraiser, func(i, j int) bool {
		x, y := want.ByFundraiser[i], want.ByFundraiser[j]
		if !x.Raised.Equal(y.Raised) { // most raised first, then by title
			return x.Raised.GreaterThan(y.Raised)
		}
		return strings.ToLower(x.Title) < strings.ToLower(y.Title)
	})
	for _, dd := range seed.donations {
		if !dd.monthly || dd.otherAppeal {
			continue
		}
		switch dd.status {
		case donations.StatusActive, donations.StatusPastDue:
			want.ActiveMonthlyDonors++
			want.MonthlyRecurringIncome = want.MonthlyRecurringIncome.Add(d(dd.amount))
			if dd.fee != "" {
				want.MonthlyRecurringIncome = want.MonthlyRecurringIncome.Add(d(dd.fee))
			}
		}
		switch dd.status {
		case donations.StatusPastDue:
			want.FailedMonthly++
		case donations.StatusCancelled:
			want.CancelledMonthly++
		}
	}
	want.Progress = reports.Progress{Target: a.Target, Raised: progress, Percent: floorPercent(progress, a.Target)}
	// The running total: what was raised before the period, plus each month's raised.
	want.RaisedBefore = before
	for _, m := range want.ByMonth {
		before = before.Add(m.Raised)
		want.Cumulative = append(want.Cumulative, reports.CumulativePoint{Month: m.Month, Raised: before})
	}
	return want
}

// figures flattens a value into "path = value" for every field, so that a comparison
// cannot skip one: decimals as fixed two-place strings, times in RFC 3339.
func figures(v any) map[string]string {
	out := map[string]string{}
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch x := v.Interface().(type) {
		case decimal.Decimal:
			out[path] = x.StringFixed(2)
			return
		case time.Time:
			out[path] = x.UTC().Format(time.RFC3339Nano)
			return
		}
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Slice:
			out[path+".len"] = fmt.Sprint(v.Len())
			for i := range v.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
			}
		default:
			out[path] = fmt.Sprint(v.Interface())
		}
	}
	walk("", reflect.ValueOf(v))
	return out
}

func compareFigures(t *testing.T, label string, got, want any) {
	t.Helper()
	g, w := figures(got), figures(want)
	var keys []string
	for k := range w {
		keys = append(keys, k)
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var diffs []string
	for _, k := range keys {
		if g[k] != w[k] {
			diffs = append(diffs, fmt.Sprintf("%s = %q, want %q", k, g[k], w[k]))
		}
	}
	if len(diffs) > 0 {
		t.Errorf("%s: %d figures differ:\n%s", label, len(diffs), strings.Join(diffs, "\n"))
	}
}

func TestDashboardMatchesTheLedger(t *testing.T) {
	t.Parallel()
	s, a := campaignstest.Seeded(t, 8)
	seed := seedDashboard(t, s, a)
	ctx := context.Background()
	if err := reports.CompareDashboardSummary(ctx, s); err != nil {
		t.Fatal(err)
	}
	periods := map[string]reports.Period{
		"January to March": reports.MonthPeriod(2025, time.January, 3),
		"February only":    reports.MonthPeriod(2025, time.February, 1),
		// Not whole months: the edges come from the daily summary.
		"15 January to 5 March": reports.DayPeriod(mustTime(t, "2025-01-15T12:00:00Z"), mustTime(t, "2025-03-05T12:00:00Z")),
		"within February":       reports.DayPeriod(mustTime(t, "2025-02-03T12:00:00Z"), mustTime(t, "2025-02-15T12:00:00Z")),
		"tax year 2024-25":      reports.DayPeriod(mustTime(t, "2024-04-06T12:00:00Z"), mustTime(t, "2025-04-06T12:00:00Z")),
		"a year with nothing":   reports.MonthPeriod(2023, time.January, 12),
	}
	for name, p := range periods {
		got, err := reports.ReadDashboard(ctx, s, a.ID, p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// Monthly giving health depends on today and is worked out by hand in its own
		// test (TestMonthlyGivingHealth); everything else is compared here.
		got.Health = reports.Health{}
		compareFigures(t, name, got, expectDashboard(t, seed, p))
	}

	// The same figures by hand, so that the Go model above cannot share a mistake with the
	// code under test. January to March 2025:
	got, err := reports.ReadDashboard(ctx, s, a.ID, reports.MonthPeriod(2025, time.January, 3))
	if err != nil {
		t.Fatal(err)
	}
	// Gifts: 3 + 3 + 15.50 + 42.42 + 100 + 15 + 50 + 3 × 15.50 + 2 × 10.35 + 3 + 25 + 7 = 331.12
	// Raised: 331.12 - refunds 4.00 - open dispute 50.00 - lost 15.00 = 262.12
	// Fees: 0.25+0.05+0.25+0.45+0.80+1.70+0.43+20.00+0.95+0.90+0.70+0.25+0.58+0.30 = 27.61
	// Gift Aid base: 3 + 3 - 3 + 15.50 + 100 - 100 + 100 + 15 - 15 + 15 - 15 + 46.50 + 3 - 1 = 167.00
	//   -> 41.75 claimable; claimed 3 + 15.50 + 15.50 = 34.00 -> 8.50.
	// Unmatched: 25 (flagged) + 7 (no donation) = 32.00 in 2 gifts.
	// Monthly: active 15.50 + 40.00 + past due 10.35 = 65.85 from 3 donors.
	byHand := map[string]string{
		"Gifts": "15", "Gross": "331.12", "Refunds": "4.00", "Disputed": "50.00", "DisputesLost": "15.00",
		"Raised": "262.12", "Fees": "27.61", "Net": "234.51", "GiftAidClaimable": "41.75", "GiftAidClaimed": "8.50",
		"OneOff": "{9 260.92}", "Monthly": "{6 70.20}", "Unmatched": "{2 32.00}",
		"ActiveMonthlyDonors": "3", "MonthlyRecurringIncome": "65.85", "FailedMonthly": "1", "CancelledMonthly": "1",
	}
	gotHand := map[string]string{
		"Gifts": fmt.Sprint(got.Gifts), "Gross": got.Gross.StringFixed(2), "Refunds": got.Refunds.StringFixed(2),
		"Disputed": got.Disputed.StringFixed(2), "DisputesLost": got.DisputesLost.StringFixed(2),
		"Raised": got.Raised.StringFixed(2), "Fees": got.Fees.StringFixed(2), "Net": got.Net.StringFixed(2),
		"GiftAidClaimable": got.GiftAidClaimable.StringFixed(2), "GiftAidClaimed": got.GiftAidClaimed.StringFixed(2),
		"OneOff":              fmt.Sprintf("{%d %s}", got.OneOff.Count, got.OneOff.Gross.StringFixed(2)),
		"Monthly":             fmt.Sprintf("{%d %s}", got.Monthly.Count, got.Monthly.Gross.StringFixed(2)),
		"Unmatched":           fmt.Sprintf("{%d %s}", got.Unmatched.Count, got.Unmatched.Amount.StringFixed(2)),
		"ActiveMonthlyDonors": fmt.Sprint(got.ActiveMonthlyDonors), "MonthlyRecurringIncome": got.MonthlyRecurringIncome.StringFixed(2),
		"FailedMonthly": fmt.Sprint(got.FailedMonthly), "CancelledMonthly": fmt.Sprint(got.CancelledMonthly),
	}
	for k, v := range byHand {
		if gotHand[k] != v {
			t.Errorf("%s = %s, want %s (by hand)", k, gotHand[k], v)
		}
	}
	// Ruby's page: 15.50 + 100 + 3 - 1 in the period; 2,000 more on 1 April; target 500.
	if len(got.ByFundraiser) != 2 || got.ByFundraiser[0].Slug != "ruby-dash" || got.ByFundraiser[0].Raised.StringFixed(2) != "117.50" ||
		got.ByFundraiser[0].Count != 3 || got.ByFundraiser[0].RaisedToDate.StringFixed(2) != "2117.50" ||
		got.ByFundraiser[0].Percent.String() != "423.5" {
		t.Errorf("pages = %+v, want Ruby's first: 3 gifts, 117.50 raised, 2117.50 to date, 423.5%%", got.ByFundraiser)
	}
	if len(got.ByMonth) != 3 || got.ByMonth[2].Month != "2025-03" || got.ByMonth[2].Gross.StringFixed(2) != "114.92" {
		t.Errorf("months = %+v, want March gross 114.92 (42.42 + 50 + 15.50 + 7)", got.ByMonth)
	}
}

func TestDashboardPeriodExcludesOtherGifts(t *testing.T) {
	t.Parallel()
	s, a := campaignstest.Seeded(t, 8)
	ctx := context.Background()
	at := func(s string) time.Time { return mustTime(t, s) }
	// One gift in each of three London months, two of them on the UTC edge of a month.
	campaignstest.Record(t, s, ledger.Entry{AppealID: a.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "pi_jan", Amount: d("1.00"), OccurredAt: at("2025-01-31T23:59:59Z")})
	campaignstest.Record(t, s, ledger.Entry{AppealID: a.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "pi_jun", Amount: d("2.00"), OccurredAt: at("2025-06-30T23:30:00Z")}) // 1 July, BST
	campaignstest.Record(t, s, ledger.Entry{AppealID: a.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "pi_jul", Amount: d("4.00"), OccurredAt: at("2025-07-31T22:30:00Z")}) // 31 July, BST
	cases := []struct {
		p     reports.Period
		gross string
	}{
		{reports.MonthPeriod(2025, time.January, 1), "1.00"},
		{reports.MonthPeriod(2025, time.February, 5), "0.00"},
		{reports.MonthPeriod(2025, time.June, 1), "0.00"},
		{reports.MonthPeriod(2025, time.July, 1), "6.00"},
		{reports.DayPeriod(at("2025-07-01T12:00:00Z"), at("2025-07-31T12:00:00Z")), "2.00"},
		{reports.DayPeriod(at("2025-07-31T12:00:00Z"), at("2025-08-01T12:00:00Z")), "4.00"},
		{reports.MonthPeriod(2025, time.January, 12), "7.00"},
	}
	for _, c := range cases {
		got, err := reports.ReadDashboard(ctx, s, a.ID, c.p)
		if err != nil {
			t.Fatal(err)
		}
		if got.Gross.StringFixed(2) != c.gross {
			t.Errorf("%s to %s: gross %s, want %s", c.p.From, c.p.To, got.Gross.StringFixed(2), c.gross)
		}
	}
}

func TestDashboardOfAnEmptyAppealIsZeros(t *testing.T) {
	t.Parallel()
	s, a := campaignstest.Seeded(t, 8)
	ctx := context.Background()
	p := reports.MonthPeriod(2025, time.April, 12)
	got, err := reports.ReadDashboard(ctx, s, a.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	want := expectDashboard(t, dashSeed{appeal: a}, p)
	want.ByFundraiser = nil
	// No monthly gifts: every health month quiet, no churn to measure, nothing forecast.
	for _, m := range got.Health.Months {
		if !m.Quiet() || m.ChurnKnown {
			t.Errorf("empty appeal: health for %s is %+v, want quiet", m.Month, m)
		}
	}
	if len(got.Health.Months) != 12 || got.Health.TrailingChurnKnown || !got.Health.ForecastTotal.IsZero() || len(got.Health.Forecast) != reports.ForecastMonths {
		t.Errorf("empty appeal: health %+v, want 12 quiet months and £0.00 forecast", got.Health)
	}
	got.Health = reports.Health{}
	compareFigures(t, "empty appeal", got, want)
	if len(got.ByMonth) != 12 || got.ByMonth[0].Month != "2025-04" || got.ByMonth[11].Month != "2026-03" {
		t.Errorf("months = %+v, want April 2025 to March 2026", got.ByMonth)
	}
	if !got.Gross.IsZero() || !got.Progress.Percent.IsZero() || len(got.ByTier) != len(a.Tiers)+1 {
		t.Errorf("empty appeal: %+v", got)
	}

	if _, err := reports.ReadDashboard(ctx, s, a.ID+1000, p); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("missing appeal: err = %v, want ErrNotFound", err)
	}
	var v *campaigns.ValidationError
	for _, bad := range []reports.Period{
		{},
		{From: p.To, To: p.From},
		{From: p.From.Add(time.Hour), To: p.To},
	} {
		if _, err := reports.ReadDashboard(ctx, s, a.ID, bad); !errors.As(err, &v) {
			t.Errorf("period %+v: err = %v, want a validation error", bad, err)
		}
	}
}

// The summary follows the ledger through claims, and a tampered summary is caught.
func TestDashboardSummaryComparison(t *testing.T) {
	t.Parallel()
	s, a := campaignstest.Seeded(t, 8)
	ctx := context.Background()
	seedDashboard(t, s, a)
	if _, err := s.Pool().Exec(ctx, `DELETE FROM gift_aid_claim_items WHERE ledger_entry_id = (SELECT min(ledger_entry_id) FROM gift_aid_claim_items)`); err != nil {
		t.Fatal(err)
	}
	if err := reports.CompareDashboardSummary(ctx, s); err != nil {
		t.Fatalf("after removing a claim item: %v", err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE ledger_summary SET amount = amount + 1
		WHERE ctid = (SELECT ctid FROM ledger_summary WHERE kind = 'gift' LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	if err := reports.CompareDashboardSummary(ctx, s); err == nil || !strings.Contains(err.Error(), "1 rows") {
		t.Fatalf("tampered summary: err = %v, want one row named", err)
	}
}

// Every appeal together is the sum of each appeal's own figures, to the penny, and reads
// the same summary: two appeals with gifts, refunds and disputes in each.
func TestDashboardOfEveryAppealIsTheSumOfEach(t *testing.T) {
	t.Parallel()
	s, a := campaignstest.Seeded(t, 8)
	ctx := context.Background()
	seed := seedDashboard(t, s, a)
	// The other appeal already has a £500 gift in February ("elsewhere"): add another gift,
	// a part refund of it and a dispute, still open, on the first.
	for _, e := range []ledger.Entry{
		{Kind: ledger.KindGift, SourceRef: "pi_other2", Amount: d("80.00"), Fee: d("1.20"), GiftAidBase: d("80.00"), DonorKey: "donor:other2", OccurredAt: mustTime(t, "2025-01-12T10:00:00Z")},
		{Kind: ledger.KindRefund, SourceRef: "ch_other2", Seq: "2000", Amount: d("-20.00"), GiftAidBase: d("-20.00"), OccurredAt: mustTime(t, "2025-03-12T10:00:00Z")},
		{Kind: ledger.KindDisputeHold, SourceRef: "dp_elsewhere", Amount: d("-500.00"), GiftAidBase: d("-500.00"), OccurredAt: mustTime(t, "2025-03-14T10:00:00Z")},
	} {
		e.AppealID, e.Source = seed.other, ledger.SourceStripe
		campaignstest.Record(t, s, e)
	}
	if err := reports.CompareDashboardSummary(ctx, s); err != nil {
		t.Fatal(err)
	}
	periods := map[string]reports.Period{
		"January to March":      reports.MonthPeriod(2025, time.January, 3),
		"15 January to 5 March": reports.DayPeriod(mustTime(t, "2025-01-15T12:00:00Z"), mustTime(t, "2025-03-05T12:00:00Z")),
		"tax year 2024-25":      reports.DayPeriod(mustTime(t, "2024-04-06T12:00:00Z"), mustTime(t, "2025-04-06T12:00:00Z")),
	}
	for name, p := range periods {
		all, err := reports.ReadAllAppeals(ctx, s, p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		mine, err := reports.ReadDashboard(ctx, s, a.ID, p)
		if err != nil {
			t.Fatal(err)
		}
		other, err := reports.ReadDashboard(ctx, s, seed.other, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(all.Appeals) != 2 || all.Appeals[0].AppealID != a.ID || all.Appeals[1].AppealID != seed.other || all.Appeals[1].Name != "Other" {
			t.Fatalf("%s: appeals %+v, want the main appeal then Other", name, all.Appeals)
		}
		// Each appeal inside every appeal's dashboard is that appeal's own dashboard.
		for i, own := range []reports.Dashboard{mine, other} {
			compareFigures(t, name+": "+all.Appeals[i].Name, all.Appeals[i].Dashboard, own)
		}
		// Every figure that adds up is the sum of the two, field by field, so a figure
		// added to the dashboard later cannot be left out of the sum unnoticed.
		got, m, o := figures(all), figures(mine), figures(other)
		checked := 0
		for k, v := range got {
			switch {
			case strings.HasPrefix(k, ".Appeals"), strings.HasPrefix(k, ".ByTier"), strings.HasPrefix(k, ".ByFundraiser"),
				strings.HasPrefix(k, ".Health"), strings.HasPrefix(k, ".Period"), strings.HasPrefix(k, ".Progress.Target"),
				strings.HasPrefix(k, ".Progress.Percent"), k == ".AppealID", k == ".GiftAidRate", strings.HasSuffix(k, ".Month"),
				strings.HasSuffix(k, ".len"):
				continue
			}
			mv, mok := m[k]
			ov, ook := o[k]
			if !mok || !ook {
				t.Errorf("%s: %s is in every appeal's dashboard but not in each appeal's", name, k)
				continue
			}
			sum := d(mv).Add(d(ov))
			if !d(v).Equal(sum) {
				t.Errorf("%s: %s = %s for every appeal, want %s + %s = %s", name, k, v, mv, ov, sum.StringFixed(2))
			}
			checked++
		}
		if checked < 50 {
			t.Errorf("%s: only %d figures compared", name, checked)
		}
		if len(all.ByTier) != 0 || !all.Progress.Target.IsZero() || len(all.ByFundraiser) != len(mine.ByFundraiser)+len(other.ByFundraiser) {
			t.Errorf("%s: tiers %+v, target %s, %d pages: want no tiers (each appeal has its own), no single target, every page",
				name, all.ByTier, all.Progress.Target, len(all.ByFundraiser))
		}
		var active int64
		for _, h := range all.Health.Months {
			active += h.ActiveAtStart
		}
		var activeEach int64
		for _, h := range append(mine.Health.Months, other.Health.Months...) {
			activeEach += h.ActiveAtStart
		}
		if active != activeEach {
			t.Errorf("%s: monthly gifts running at the months' starts %d, want %d", name, active, activeEach)
		}
	}

	// By hand, January to March 2025: the main appeal's figures (TestDashboardMatchesTheLedger)
	// and the other appeal's gifts of 500 + 80, refund of 20 and open dispute of 500.
	all, err := reports.ReadAllAppeals(ctx, s, reports.MonthPeriod(2025, time.January, 3))
	if err != nil {
		t.Fatal(err)
	}
	byHand := map[string][2]string{
		"Gifts":            {fmt.Sprint(all.Gifts), "17"},
		"Gross":            {all.Gross.StringFixed(2), "911.12"},  // 331.12 + 500 + 80
		"Refunds":          {all.Refunds.StringFixed(2), "24.00"}, // 4 + 20
		"Disputed":         {all.Disputed.StringFixed(2), "550.00"},
		"Raised":           {all.Raised.StringFixed(2), "322.12"}, // 262.12 + 580 - 20 - 500
		"Fees":             {all.Fees.StringFixed(2), "35.81"},    // 27.61 + 7.00 + 1.20
		"Net":              {all.Net.StringFixed(2), "286.31"},
		"GiftAidClaimable": {all.GiftAidClaimable.StringFixed(2), "56.75"},      // 41.75 + 60 × 25%
		"Progress.Raised":  {all.Progress.Raised.StringFixed(2), "2325.12"},     // 262.12 + 3 before + 2000 after, + 60 to the other
		"Cumulative[2]":    {all.Cumulative[2].Raised.StringFixed(2), "325.12"}, // 3 before + 262.12 + 60
	}
	for k, v := range byHand {
		if v[0] != v[1] {
			t.Errorf("every appeal: %s = %s, want %s (by hand)", k, v[0], v[1])
		}
	}
}
