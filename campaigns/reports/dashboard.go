package reports

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/dbq"
	"giving/campaigns/ledger"
	"giving/campaigns/pages"
)

// Period is a half-open span of time [From, To) for the trustee dashboard. Both ends are
// midnights in Europe/London (a London day); months are London months, so a gift paid at
// 23:30 UTC on 30 June is a July gift.
type Period struct{ From, To time.Time }

// MonthPeriod is the period of n London months starting with year/month.
func MonthPeriod(year int, month time.Month, n int) Period {
	from := time.Date(year, month, 1, 0, 0, 0, 0, campaigns.London())
	return Period{From: from, To: from.AddDate(0, n, 0)}
}

// DayPeriod is the period of London days from the day of from up to, not including, the
// day of to (both read in London), e.g. a UK tax year: 6 April to 6 April.
func DayPeriod(from, to time.Time) Period {
	day := func(t time.Time) time.Time {
		t = t.In(campaigns.London())
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, campaigns.London())
	}
	return Period{From: day(from), To: day(to)}
}

// Validate reports a period the dashboard cannot answer: a missing or reversed end, or an
// end that is not a London midnight (the summary the dashboard reads is kept by day).
func (p Period) Validate() error {
	v := &campaigns.ValidationError{}
	for _, end := range []struct {
		field string
		t     time.Time
	}{{"from", p.From}, {"to", p.To}} {
		l := end.t.In(campaigns.London())
		switch {
		case end.t.IsZero():
			v.Add(end.field, "Choose a date")
		case l.Hour() != 0 || l.Minute() != 0 || l.Second() != 0 || l.Nanosecond() != 0:
			v.Add(end.field, "A period starts and ends at midnight, UK time")
		}
	}
	if v.OrNil() == nil && !p.From.Before(p.To) {
		v.Add("to", "The end must be after the start")
	}
	return v.OrNil()
}

// MaxDashboardYears bounds the period one dashboard shows: it draws a bar per month, and
// 0001-01-01 to 9999-12-31 was 3.9 s of work and 47 MB of HTML. Exports are not bounded.
const MaxDashboardYears = 5

// The dates a dashboard may show: none of this charity's money moved before 2000.
var (
	dashboardFirstDay = time.Date(2000, 1, 1, 0, 0, 0, 0, campaigns.London())
	dashboardEndDay   = time.Date(2100, 1, 1, 0, 0, 0, 0, campaigns.London())
)

// ValidateForDashboard is Validate, and the period lies between 2000 and 2099 and is at
// most MaxDashboardYears long; each problem names the field to change.
func (p Period) ValidateForDashboard() error {
	if err := p.Validate(); err != nil {
		return err
	}
	v := &campaigns.ValidationError{}
	if p.From.Before(dashboardFirstDay) {
		v.Add("from", "Choose a start from 01/01/2000 on.")
	}
	if p.To.After(dashboardEndDay) {
		v.Add("to", "Choose an end before 2100.")
	}
	if limit := p.From.AddDate(MaxDashboardYears, 0, 0); v.OrNil() == nil && p.To.After(limit) {
		v.Add("to", fmt.Sprintf("The dashboard shows at most %d years at a time: choose an end on or before %s, or a later start.",
			MaxDashboardYears, limit.AddDate(0, 0, -1).Format("02/01/2006")))
	}
	return v.OrNil()
}

// Months lists the London months the period touches, as "YYYY-MM".
func (p Period) Months() []string {
	var out []string
	from, to := p.From.In(campaigns.London()), p.To.In(campaigns.London())
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, campaigns.London()); m.Before(to); m = m.AddDate(0, 1, 0) {
		out = append(out, m.Format("2006-01"))
	}
	return out
}

// Dashboard is what trustees see for one appeal and period. Money is pounds and pence,
// never float64. Refunds, Disputed and DisputesLost are positive amounts taken off Gross.
type Dashboard struct {
	AppealID    int64
	Period      Period
	GiftAidRate decimal.Decimal // the appeal's basic-rate Gift Aid rate (0.25)

	Gifts        int64           // gifts received in the period
	Gross        decimal.Decimal // every gift as paid
	Refunds      decimal.Decimal
	Disputed     decimal.Decimal // held back by disputes opened and not decided in the period
	DisputesLost decimal.Decimal
	Fees         decimal.Decimal // Stripe's fees, including dispute fees
	Raised       decimal.Decimal // Gross less Refunds, Disputed and DisputesLost
	Net          decimal.Decimal // Raised less Fees

	// GiftAidBase is the signed amount in the period on which Gift Aid may be claimed;
	// GiftAidClaimable the tax on it at the appeal's rate, rounded down once on the total.
	GiftAidBase      decimal.Decimal
	GiftAidClaimable decimal.Decimal
	// GiftAidClaimedBase is the amount of the period's entries already in a Gift Aid claim
	// (gifts less the refunds netted from them); GiftAidClaimed the tax on it, rounded down.
	GiftAidClaimedBase decimal.Decimal
	GiftAidClaimed     decimal.Decimal

	OneOff  FrequencyFigures
	Monthly FrequencyFigures

	ByTier       []TierFigures       // active tiers by amount, then "Other amount"
	ByFundraiser []FundraiserFigures // most raised in the period first
	ByMonth      []MonthFigures      // every London month of the period, oldest first

	// Monthly gifts as they stand now, whatever the period.
	ActiveMonthlyDonors    int64           // monthly donations active or past due
	MonthlyRecurringIncome decimal.Decimal // their amounts plus any fee the donor covers
	FailedMonthly          int64           // past due: the last payment failed
	CancelledMonthly       int64
	// Of the running monthly gifts, those the donor paused (Stripe confirmed) and not yet
	// resumed now: counted among the active donors, their amounts left out of
	// MonthlyRecurringIncome while paused.
	PausedMonthly int64
	PausedIncome  decimal.Decimal
	// Why the cancelled monthly gifts ended: by the donor (manage link), by an admin for
	// the donor, by a dispute, by Stripe after failed payments; the rest ended at Stripe.
	CancelledByDonor, CancelledByAdmin, CancelledByDispute, CancelledByPaymentFailure int64
	// Monthly amounts donors changed, up or down, confirmed by Stripe in the period.
	AmountsRaised, AmountsLowered int64
	// Processing is money on its way now, whatever the period: gifts whose Direct Debit is
	// set up and not yet collected, in number and amount. None of it is in Raised.
	Processing       int64
	ProcessingAmount decimal.Decimal

	Unmatched UnmatchedFigures
	Progress  Progress

	// RaisedBefore is what the appeal raised before the period; Cumulative its running
	// total at the end of each month of the period (health.go).
	RaisedBefore decimal.Decimal
	Cumulative   []CumulativePoint
	// Health is monthly giving month by month, the churn rate and the income forecast.
	Health Health

	// Appeals is each appeal's own dashboard when this one is every appeal's together
	// (ReadAllAppeals), the default appeal first; nil for one appeal's.
	Appeals []AppealDashboard
}

// FrequencyFigures are the gifts of one frequency (one-off or monthly) in the period.
type FrequencyFigures struct {
	Count int64
	Gross decimal.Decimal
}

// OtherAmountTitle names gifts of a typed amount rather than a tier.
const OtherAmountTitle = "Other amount"

// TierFigures are the gifts given through one tier in the period. TierID 0 is every gift
// of a typed amount (and money that came with no donation we know).
type TierFigures struct {
	TierID int64
	Title  string
	Amount decimal.Decimal // the tier's amount; zero for "Other amount"
	Count  int64
	Gross  decimal.Decimal // what those gifts paid, including any fee the donor covered
}

// FundraiserFigures are one fundraiser page's figures: Count and Raised in the period,
// RaisedToDate and Percent (of Target) since the page began.
type FundraiserFigures struct {
	FundraiserID int64
	Slug         string
	Title        string
	Status       string
	Count        int64
	Raised       decimal.Decimal
	Target       decimal.Decimal
	RaisedToDate decimal.Decimal
	Percent      decimal.Decimal // RaisedToDate as a percentage of Target, rounded down to 0.1
}

// MonthFigures are one London month's money.
type MonthFigures struct {
	Month   string // "2006-01"
	Gifts   int64
	Gross   decimal.Decimal
	Refunds decimal.Decimal
	Fees    decimal.Decimal
	Raised  decimal.Decimal
	Net     decimal.Decimal
}

// StatusLabel is the page's status as a person reads it ("Waiting for approval", not
// "pending").
func (f FundraiserFigures) StatusLabel() string { return pages.StatusLabel(f.Status) }

// Label is the month as a person reads it: "Jan 2026" (the month itself if it is not
// in the "2006-01" form).
func (m MonthFigures) Label() string {
	t, err := time.Parse("2006-01", m.Month)
	if err != nil {
		return m.Month
	}
	return t.Format("Jan 2006")
}

// UnmatchedFigures are the period's gifts that came with no donation this service created
// (flagged for review) or with no donation at all.
type UnmatchedFigures struct {
	Count  int64
	Amount decimal.Decimal
}

// Progress is the appeal's all-time progress toward its target, from the derived totals.
// For every appeal together (ReadAllAppeals) Raised is all of theirs and Target and
// Percent are zero: each appeal has its own target.
type Progress struct {
	Target  decimal.Decimal
	Raised  decimal.Decimal
	Percent decimal.Decimal // rounded down to 0.1
}

var hundred = decimal.NewFromInt(100)

func percentOf(v, target decimal.Decimal) decimal.Decimal {
	if target.Sign() <= 0 {
		return decimal.Zero
	}
	return v.Mul(hundred).Div(target).RoundFloor(1)
}

// summaryRanges splits a valid period into whole months and the edge days, as London dates.
func summaryRanges(p Period) (months, head, tail [2]pgtype.Date) {
	date := func(t time.Time) pgtype.Date { return pgtype.Date{Time: t, Valid: true} }
	from, to := p.From.In(campaigns.London()), p.To.In(campaigns.London())
	firstWhole := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, campaigns.London())
	if from.Day() != 1 {
		firstWhole = firstWhole.AddDate(0, 1, 0)
	}
	endWhole := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, campaigns.London())
	if !firstWhole.Before(endWhole) {
		// No whole month: every day from the day grain.
		f, t := date(from), date(to)
		return [2]pgtype.Date{f, f}, [2]pgtype.Date{f, t}, [2]pgtype.Date{t, t}
	}
	fw, ew := date(firstWhole), date(endWhole)
	return [2]pgtype.Date{fw, ew}, [2]pgtype.Date{date(from), fw}, [2]pgtype.Date{ew, date(to)}
}

// sums are the ledger's sums for one slice of the summary.
type sums struct {
	gross, refunds, disputed, lost, fees, base, claimed decimal.Decimal
	gifts                                               int64
}

func (s *sums) add(kind ledger.Kind, amount, fee, base, claimed decimal.Decimal, entries int64) {
	switch kind {
	case ledger.KindGift:
		s.gross = s.gross.Add(amount)
		s.gifts += entries
	case ledger.KindRefund:
		s.refunds = s.refunds.Sub(amount)
	case ledger.KindDisputeHold, ledger.KindDisputeRelease:
		s.disputed = s.disputed.Sub(amount)
	case ledger.KindDisputeLost:
		s.lost = s.lost.Sub(amount)
	}
	s.fees = s.fees.Add(fee)
	s.base = s.base.Add(base)
	s.claimed = s.claimed.Add(claimed)
}

func (s sums) raised() decimal.Decimal {
	return s.gross.Sub(s.refunds).Sub(s.disputed).Sub(s.lost)
}

// ReadDashboard gathers the trustee dashboard for an appeal and period. Period figures come
// from the ledger summary (kept by triggers in the ledger's own transactions), so the cost
// does not grow with the ledger; all figures are read from one snapshot. ErrNotFound when
// the appeal does not exist; a ValidationError for a period it cannot answer.
func ReadDashboard(ctx context.Context, s *campaigns.Store, appealID int64, p Period) (Dashboard, error) {
	if err := p.ValidateForDashboard(); err != nil {
		return Dashboard{}, fmt.Errorf("dashboard: %w", err)
	}
	dash := Dashboard{AppealID: appealID, Period: p}
	err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		_, err := fillDashboard(ctx, tx, &dash, s.Now())
		return err
	})
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard for appeal %d: %w", appealID, err)
	}
	return dash, nil
}

// AppealDashboard is one appeal's own dashboard, as part of every appeal's.
type AppealDashboard struct {
	Slug, Name string
	Open       bool
	Dashboard
}

// ReadAllAppeals gathers the trustee dashboard of every appeal together for a period: each
// appeal's dashboard is read as ReadDashboard reads it (from the ledger summary, in one
// snapshot for all of them), and every money figure and count is the sum of the appeals'
// own, to the penny. Gift Aid is each appeal's tax at its own rate, added up; tiers belong
// to one appeal, so ByTier is empty and each appeal's tiers are in Appeals. The appeals'
// targets differ, so there is no single target: Progress.Target and Percent are zero, and
// each appeal's own progress is in Appeals. Monthly giving health counts every appeal's
// monthly gifts together (its churn is of them all, not an average of the appeals').
func ReadAllAppeals(ctx context.Context, s *campaigns.Store, p Period) (Dashboard, error) {
	if err := p.ValidateForDashboard(); err != nil {
		return Dashboard{}, fmt.Errorf("dashboard: %w", err)
	}
	var all Dashboard
	err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		list, err := dbq.New(tx).ListAppeals(ctx)
		if err != nil {
			return err
		}
		per := make([]AppealDashboard, 0, len(list))
		var health healthInputs
		for _, a := range list {
			ad := AppealDashboard{Slug: a.Slug, Name: a.Name, Open: a.Status == "open", Dashboard: Dashboard{AppealID: a.ID, Period: p}}
			in, err := fillDashboard(ctx, tx, &ad.Dashboard, s.Now())
			if err != nil {
				return fmt.Errorf("appeal %d: %w", a.ID, err)
			}
			health.add(in)
			per = append(per, ad)
		}
		all = sumDashboards(p, per)
		all.Health = health.count(p, s.Now())
		return nil
	})
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard for every appeal: %w", err)
	}
	return all, nil
}

// sumDashboards adds up the appeals' dashboards of one period (all but Health).
func sumDashboards(p Period, per []AppealDashboard) Dashboard {
	z := decimal.Zero
	all := Dashboard{Period: p, GiftAidRate: z, Gross: z, Refunds: z, Disputed: z, DisputesLost: z, Fees: z, Raised: z, Net: z,
		GiftAidBase: z, GiftAidClaimable: z, GiftAidClaimedBase: z, GiftAidClaimed: z,
		OneOff: FrequencyFigures{Gross: z}, Monthly: FrequencyFigures{Gross: z}, MonthlyRecurringIncome: z, PausedIncome: z,
		ProcessingAmount: z, Unmatched: UnmatchedFigures{Amount: z}, Progress: Progress{Target: z, Raised: z, Percent: z},
		RaisedBefore: z, Appeals: per}
	for _, m := range p.Months() {
		all.ByMonth = append(all.ByMonth, MonthFigures{Month: m, Gross: z, Refunds: z, Fees: z, Raised: z, Net: z})
	}
	for _, a := range per {
		d := a.Dashboard
		all.Gifts += d.Gifts
		all.Gross = all.Gross.Add(d.Gross)
		all.Refunds = all.Refunds.Add(d.Refunds)
		all.Disputed = all.Disputed.Add(d.Disputed)
		all.DisputesLost = all.DisputesLost.Add(d.DisputesLost)
		all.Fees = all.Fees.Add(d.Fees)
		all.Raised = all.Raised.Add(d.Raised)
		all.Net = all.Net.Add(d.Net)
		all.GiftAidBase = all.GiftAidBase.Add(d.GiftAidBase)
		all.GiftAidClaimable = all.GiftAidClaimable.Add(d.GiftAidClaimable)
		all.GiftAidClaimedBase = all.GiftAidClaimedBase.Add(d.GiftAidClaimedBase)
		all.GiftAidClaimed = all.GiftAidClaimed.Add(d.GiftAidClaimed)
		all.OneOff.Count += d.OneOff.Count
		all.OneOff.Gross = all.OneOff.Gross.Add(d.OneOff.Gross)
		all.Monthly.Count += d.Monthly.Count
		all.Monthly.Gross = all.Monthly.Gross.Add(d.Monthly.Gross)
		all.ByFundraiser = append(all.ByFundraiser, d.ByFundraiser...)
		for i := range all.ByMonth {
			if i >= len(d.ByMonth) {
				break
			}
			m, o := &all.ByMonth[i], d.ByMonth[i]
			m.Gifts += o.Gifts
			m.Gross, m.Refunds, m.Fees = m.Gross.Add(o.Gross), m.Refunds.Add(o.Refunds), m.Fees.Add(o.Fees)
			m.Raised, m.Net = m.Raised.Add(o.Raised), m.Net.Add(o.Net)
		}
		all.ActiveMonthlyDonors += d.ActiveMonthlyDonors
		all.MonthlyRecurringIncome = all.MonthlyRecurringIncome.Add(d.MonthlyRecurringIncome)
		all.FailedMonthly += d.FailedMonthly
		all.CancelledMonthly += d.CancelledMonthly
		all.PausedMonthly += d.PausedMonthly
		all.PausedIncome = all.PausedIncome.Add(d.PausedIncome)
		all.CancelledByDonor += d.CancelledByDonor
		all.CancelledByAdmin += d.CancelledByAdmin
		all.CancelledByDispute += d.CancelledByDispute
		all.CancelledByPaymentFailure += d.CancelledByPaymentFailure
		all.AmountsRaised += d.AmountsRaised
		all.AmountsLowered += d.AmountsLowered
		all.Processing += d.Processing
		all.ProcessingAmount = all.ProcessingAmount.Add(d.ProcessingAmount)
		all.Unmatched.Count += d.Unmatched.Count
		all.Unmatched.Amount = all.Unmatched.Amount.Add(d.Unmatched.Amount)
		all.Progress.Raised = all.Progress.Raised.Add(d.Progress.Raised)
		all.RaisedBefore = all.RaisedBefore.Add(d.RaisedBefore)
	}
	sortFundraisers(all.ByFundraiser)
	all.Cumulative = cumulative(all.RaisedBefore, all.ByMonth)
	return all
}

type tierRow struct {
	TierFigures
	active   bool
	position int
}

// fillDashboard reads one appeal's dashboard in tx, and returns what its monthly giving
// health was counted from.
func fillDashboard(ctx context.Context, tx pgx.Tx, dash *Dashboard, now time.Time) (healthInputs, error) {
	id, p := dash.AppealID, dash.Period
	months, head, tail := summaryRanges(p)

	var (
		total   sums
		freq    = map[string]*sums{"one_off": {}, "monthly": {}}
		byTier  = map[int64]*sums{}
		byPage  = map[int64]*sums{}
		byMonth = map[string]*sums{}
		tiers   []tierRow
		pages   []FundraiserFigures
	)
	q := dbq.New(tx)
	appealRow, err := q.DashboardAppeal(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return healthInputs{}, fmt.Errorf("appeal %d: %w", id, campaigns.ErrNotFound)
	} else if err != nil {
		return healthInputs{}, err
	}
	summary, err := q.DashboardSummary(ctx, dbq.DashboardSummaryParams{AppealID: id, MonthsFrom: months[0], MonthsTo: months[1],
		HeadFrom: head[0], HeadTo: head[1], TailFrom: tail[0], TailTo: tail[1]})
	if err != nil {
		return healthInputs{}, err
	}
	for _, r := range summary {
		k := ledger.Kind(r.Kind)
		if r.Dim == "fundraiser" {
			if byPage[r.DimID] == nil {
				byPage[r.DimID] = &sums{}
			}
			byPage[r.DimID].add(k, r.Amount, r.Fee, r.GiftAidBase, r.Claimed, r.Entries)
			continue
		}
		// Tier rows summed over every tier are the appeal's figures.
		total.add(k, r.Amount, r.Fee, r.GiftAidBase, r.Claimed, r.Entries)
		if f := freq[r.Frequency]; f != nil {
			f.add(k, r.Amount, r.Fee, r.GiftAidBase, r.Claimed, r.Entries)
		}
		if byTier[r.DimID] == nil {
			byTier[r.DimID] = &sums{}
		}
		byTier[r.DimID].add(k, r.Amount, r.Fee, r.GiftAidBase, r.Claimed, r.Entries)
		if byMonth[r.Month] == nil {
			byMonth[r.Month] = &sums{}
		}
		byMonth[r.Month].add(k, r.Amount, r.Fee, r.GiftAidBase, r.Claimed, r.Entries)
	}
	tierRows, err := q.DashboardTiers(ctx, id)
	if err != nil {
		return healthInputs{}, err
	}
	for _, t := range tierRows {
		tiers = append(tiers, tierRow{TierFigures: TierFigures{TierID: t.ID, Title: t.Title, Amount: t.Amount}, active: t.Active, position: int(t.Position)})
	}
	pageRows, err := q.DashboardPages(ctx, id)
	if err != nil {
		return healthInputs{}, err
	}
	for _, f := range pageRows {
		pages = append(pages, FundraiserFigures{FundraiserID: f.ID, Slug: f.Slug, Title: f.Title, Status: f.Status, Target: f.Target,
			RaisedToDate: f.RaisedToDate})
	}
	monthly, err := q.DashboardMonthly(ctx, id)
	if err != nil {
		return healthInputs{}, err
	}
	dash.ActiveMonthlyDonors, dash.MonthlyRecurringIncome, dash.FailedMonthly, dash.CancelledMonthly =
		monthly.Active, monthly.Income, monthly.PastDue, monthly.Cancelled
	if err := fillMonthlyChanges(ctx, q, dash, now); err != nil {
		return healthInputs{}, err
	}
	processing, err := q.DashboardProcessing(ctx, id)
	if err != nil {
		return healthInputs{}, err
	}
	dash.Processing, dash.ProcessingAmount = processing.Gifts, processing.Amount
	unmatched, err := q.DashboardUnmatched(ctx, dbq.DashboardUnmatchedParams{AppealID: id, FromAt: p.From, ToAt: p.To})
	if err != nil {
		return healthInputs{}, err
	}
	dash.Unmatched.Count, dash.Unmatched.Amount = unmatched.Gifts, unmatched.Amount
	progress, err := ledger.ReadTotals(ctx, tx, ledger.AppealScope(id))
	if err != nil {
		return healthInputs{}, err
	}

	dash.GiftAidRate = appealRow.GiftAidRate
	dash.Gifts, dash.Gross, dash.Refunds, dash.Disputed, dash.DisputesLost, dash.Fees =
		total.gifts, total.gross, total.refunds, total.disputed, total.lost, total.fees
	dash.Raised = total.raised()
	dash.Net = dash.Raised.Sub(dash.Fees)
	dash.GiftAidBase, dash.GiftAidClaimable = total.base, ledger.GiftAidTax(total.base, appealRow.GiftAidRate)
	dash.GiftAidClaimedBase, dash.GiftAidClaimed = total.claimed, ledger.GiftAidTax(total.claimed, appealRow.GiftAidRate)
	dash.OneOff = FrequencyFigures{Count: freq["one_off"].gifts, Gross: freq["one_off"].gross}
	dash.Monthly = FrequencyFigures{Count: freq["monthly"].gifts, Gross: freq["monthly"].gross}

	// Tiers: every active tier, any retired tier that still had gifts, then typed amounts.
	sort.Slice(tiers, func(i, j int) bool {
		if !tiers[i].Amount.Equal(tiers[j].Amount) {
			return tiers[i].Amount.LessThan(tiers[j].Amount)
		}
		return tiers[i].TierID < tiers[j].TierID
	})
	known := map[int64]bool{}
	for _, t := range tiers {
		known[t.TierID] = true
		g := byTier[t.TierID]
		if !t.active && (g == nil || g.gifts == 0) {
			continue
		}
		f := t.TierFigures
		f.Gross = decimal.Zero
		if g != nil {
			f.Count, f.Gross = g.gifts, g.gross
		}
		dash.ByTier = append(dash.ByTier, f)
	}
	other := TierFigures{Title: OtherAmountTitle, Amount: decimal.Zero, Gross: decimal.Zero}
	for tierID, g := range byTier {
		if !known[tierID] { // 0, or a tier of another appeal: never expected, never dropped
			other.Count += g.gifts
			other.Gross = other.Gross.Add(g.gross)
		}
	}
	dash.ByTier = append(dash.ByTier, other)

	// Pages: every approved page, and any other page that had money in the period.
	for _, f := range pages {
		g := byPage[f.FundraiserID]
		if f.Status != "approved" && g == nil {
			continue
		}
		f.Raised = decimal.Zero
		if g != nil {
			f.Count, f.Raised = g.gifts, g.raised()
		}
		f.Percent = percentOf(f.RaisedToDate, f.Target)
		dash.ByFundraiser = append(dash.ByFundraiser, f)
	}
	sortFundraisers(dash.ByFundraiser)

	for _, m := range p.Months() {
		g := byMonth[m]
		if g == nil {
			g = &sums{}
		}
		raised := g.raised()
		dash.ByMonth = append(dash.ByMonth, MonthFigures{Month: m, Gifts: g.gifts, Gross: g.gross, Refunds: g.refunds,
			Fees: g.fees, Raised: raised, Net: raised.Sub(g.fees)})
	}

	dash.Progress = Progress{Target: appealRow.Target, Raised: progress.Raised(),
		Percent: percentOf(progress.Raised(), appealRow.Target)}

	before, err := q.RaisedBefore(ctx, dbq.RaisedBeforeParams{AppealID: id, Before: pgtype.Date{Time: p.From.In(campaigns.London()), Valid: true}})
	if err != nil {
		return healthInputs{}, err
	}
	dash.RaisedBefore, dash.Cumulative = before, cumulative(before, dash.ByMonth)
	in, err := readHealthInputs(ctx, q, id, p)
	if err != nil {
		return healthInputs{}, err
	}
	dash.Health = in.count(p, now)
	return in, nil
}

// sortFundraisers puts the pages that raised most in the period first, then by title.
func sortFundraisers(pages []FundraiserFigures) {
	sort.SliceStable(pages, func(i, j int) bool {
		a, b := pages[i], pages[j]
		if c := a.Raised.Cmp(b.Raised); c != 0 {
			return c > 0
		}
		if a.Title != b.Title {
			return strings.ToLower(a.Title) < strings.ToLower(b.Title)
		}
		return a.FundraiserID < b.FundraiserID
	})
}

// CompareDashboardSummary recomputes the dashboard's summary from the ledger and reports an
// error naming the rows that disagree (any is a bug), nil when they are equal. It reads
// one repeatable-read snapshot so gifts arriving meanwhile cannot cause a false alarm.
func CompareDashboardSummary(ctx context.Context, s *campaigns.Store) error {
	var diffs []string
	var count int
	err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := dbq.New(tx).DashboardSummaryDifferences(ctx)
		if err != nil {
			return err
		}
		count = len(rows)
		for _, r := range rows[:min(len(rows), 10)] {
			diffs = append(diffs, fmt.Sprintf("%s: summary has %s, ledger has %s", r.RowKey, r.Stored, r.FromLedger))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("compare dashboard summary with the ledger: %w", err)
	}
	if count > 0 {
		return fmt.Errorf("dashboard summary differs from the ledger in %d rows: %s", count, strings.Join(diffs, "; "))
	}
	return nil
}

// fillMonthlyChanges reads how monthly gifts ended, paused and changed amount
// (campaigns/donations/manage.go).
func fillMonthlyChanges(ctx context.Context, q *dbq.Queries, dash *Dashboard, now time.Time) error {
	ends, err := q.DashboardMonthlyEnds(ctx, dbq.DashboardMonthlyEndsParams{Now: now, AppealID: dash.AppealID})
	if err != nil {
		return err
	}
	dash.CancelledByDonor, dash.CancelledByAdmin, dash.CancelledByDispute, dash.CancelledByPaymentFailure =
		ends.ByDonor, ends.ByAdmin, ends.ByDispute, ends.ByPaymentFailure
	dash.PausedMonthly, dash.PausedIncome = ends.Paused, ends.PausedIncome
	dash.MonthlyRecurringIncome = dash.MonthlyRecurringIncome.Sub(ends.PausedIncome)
	changes, err := q.DashboardAmountChanges(ctx, dbq.DashboardAmountChangesParams{AppealID: dash.AppealID, FromAt: dash.Period.From, ToAt: dash.Period.To})
	if err != nil {
		return err
	}
	dash.AmountsRaised, dash.AmountsLowered = changes.Up, changes.Down
	return nil
}

// Quiet reports a month with no money moving at all: no gifts, refunds, disputes or fees.
func (m MonthFigures) Quiet() bool {
	return m.Gifts == 0 && m.Gross.IsZero() && m.Refunds.IsZero() && m.Fees.IsZero() && m.Raised.IsZero() && m.Net.IsZero()
}

// MinQuietRun is the shortest run of quiet months the month table folds into one row: one
// or two quiet months read fine as rows of zeros, a long quiet stretch does not.
const MinQuietRun = 3

// MonthRow is one row of the dashboard's month table: a month with its figures, or a run
// of at least MinQuietRun quiet months folded into one (Quiet, Months the run's length).
type MonthRow struct {
	MonthFigures
	Quiet   bool
	Months  int
	through string // the run's last month, "2006-01"
}

// Label is the row as a person reads it: "Jan 2026", or for a folded run "Feb–Oct 2026"
// ("Nov 2025–Feb 2026" across a year end).
func (r MonthRow) Label() string {
	if !r.Quiet {
		return r.MonthFigures.Label()
	}
	first, ferr := time.Parse("2006-01", r.Month)
	last, lerr := time.Parse("2006-01", r.through)
	if ferr != nil || lerr != nil {
		return r.Month + "–" + r.through
	}
	if first.Year() == last.Year() {
		return first.Format("Jan") + "–" + last.Format("Jan 2006")
	}
	return first.Format("Jan 2006") + "–" + last.Format("Jan 2006")
}

// FoldMonths is the months as table rows, oldest first, each run of MinQuietRun or more
// quiet months folded into one row.
func FoldMonths(months []MonthFigures) []MonthRow {
	var rows []MonthRow
	for _, r := range foldRuns(len(months), func(i int) bool { return months[i].Quiet() }) {
		if r.quiet {
			rows = append(rows, MonthRow{MonthFigures: months[r.from], Quiet: true, Months: r.to - r.from, through: months[r.to-1].Month})
			continue
		}
		rows = append(rows, MonthRow{MonthFigures: months[r.from], Months: 1, through: months[r.from].Month})
	}
	return rows
}

// run is rows [from, to) of a table: one row, or a quiet run to fold into one.
type run struct {
	from, to int
	quiet    bool
}

// foldRuns splits n rows into single rows and runs of MinQuietRun or more quiet rows.
func foldRuns(n int, quiet func(i int) bool) []run {
	var runs []run
	for i := 0; i < n; {
		j := i
		for j < n && quiet(j) {
			j++
		}
		if j-i >= MinQuietRun {
			runs = append(runs, run{from: i, to: j, quiet: true})
			i = j
			continue
		}
		if j == i {
			j = i + 1
		}
		for ; i < j; i++ {
			runs = append(runs, run{from: i, to: i + 1})
		}
	}
	return runs
}
