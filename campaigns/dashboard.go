package campaigns

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Period is a half-open span of time [From, To) for the trustee dashboard. Both ends are
// midnights in Europe/London (a London day); months are London months, so a gift paid at
// 23:30 UTC on 30 June is a July gift.
type Period struct{ From, To time.Time }

// MonthPeriod is the period of n London months starting with year/month.
func MonthPeriod(year int, month time.Month, n int) Period {
	from := time.Date(year, month, 1, 0, 0, 0, 0, London())
	return Period{From: from, To: from.AddDate(0, n, 0)}
}

// DayPeriod is the period of London days from the day of from up to, not including, the
// day of to (both read in London), e.g. a UK tax year: 6 April to 6 April.
func DayPeriod(from, to time.Time) Period {
	day := func(t time.Time) time.Time {
		t = t.In(London())
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, London())
	}
	return Period{From: day(from), To: day(to)}
}

// Validate reports a period the dashboard cannot answer: a missing or reversed end, or an
// end that is not a London midnight (the summary the dashboard reads is kept by day).
func (p Period) Validate() error {
	v := &ValidationError{}
	for _, end := range []struct {
		field string
		t     time.Time
	}{{"from", p.From}, {"to", p.To}} {
		l := end.t.In(London())
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
	dashboardFirstDay = time.Date(2000, 1, 1, 0, 0, 0, 0, London())
	dashboardEndDay   = time.Date(2100, 1, 1, 0, 0, 0, 0, London())
)

// ValidateForDashboard is Validate, and the period lies between 2000 and 2099 and is at
// most MaxDashboardYears long; each problem names the field to change.
func (p Period) ValidateForDashboard() error {
	if err := p.Validate(); err != nil {
		return err
	}
	v := &ValidationError{}
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
	from, to := p.From.In(London()), p.To.In(London())
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, London()); m.Before(to); m = m.AddDate(0, 1, 0) {
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

	Unmatched UnmatchedFigures
	Progress  Progress
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

// UnmatchedFigures are the period's gifts that came with no donation this service created
// (flagged for review) or with no donation at all.
type UnmatchedFigures struct {
	Count  int64
	Amount decimal.Decimal
}

// Progress is the appeal's all-time progress toward its target, from the derived totals.
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

// Stays in Go: reads ledger_summary, made by migration 0004, which sqlc's catalog cannot parse.
// summarySQL sums the summary rows of the period: whole months from the month grain, the
// days before the first whole month and after the last from the day grain.
const summarySQL = `
SELECT dim, dim_id, frequency, kind,
       CASE WHEN dim = 'tier' THEN to_char(starts, 'YYYY-MM') ELSE '' END AS month,
       sum(amount), sum(fee), sum(gift_aid_base), sum(claimed), sum(entries)::bigint
FROM ledger_summary
WHERE appeal_id = $1 AND (
      (grain = 'month' AND starts >= $2::date AND starts < $3::date)
   OR (grain = 'day' AND ((starts >= $4::date AND starts < $5::date) OR (starts >= $6::date AND starts < $7::date))))
GROUP BY 1, 2, 3, 4, 5`

// summaryRanges splits a valid period into whole months and the edge days, as dates.
func summaryRanges(p Period) (months, head, tail [2]string) {
	const layout = "2006-01-02"
	from, to := p.From.In(London()), p.To.In(London())
	firstWhole := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, London())
	if from.Day() != 1 {
		firstWhole = firstWhole.AddDate(0, 1, 0)
	}
	endWhole := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, London())
	if !firstWhole.Before(endWhole) {
		// No whole month: every day from the day grain.
		f, t := from.Format(layout), to.Format(layout)
		return [2]string{f, f}, [2]string{f, t}, [2]string{t, t}
	}
	fw, ew := firstWhole.Format(layout), endWhole.Format(layout)
	return [2]string{fw, ew}, [2]string{from.Format(layout), fw}, [2]string{ew, to.Format(layout)}
}

// sums are the ledger's sums for one slice of the summary.
type sums struct {
	gross, refunds, disputed, lost, fees, base, claimed decimal.Decimal
	gifts                                               int64
}

func (s *sums) add(kind Kind, amount, fee, base, claimed decimal.Decimal, entries int64) {
	switch kind {
	case KindGift:
		s.gross = s.gross.Add(amount)
		s.gifts += entries
	case KindRefund:
		s.refunds = s.refunds.Sub(amount)
	case KindDisputeHold, KindDisputeRelease:
		s.disputed = s.disputed.Sub(amount)
	case KindDisputeLost:
		s.lost = s.lost.Sub(amount)
	}
	s.fees = s.fees.Add(fee)
	s.base = s.base.Add(base)
	s.claimed = s.claimed.Add(claimed)
}

func (s sums) raised() decimal.Decimal {
	return s.gross.Sub(s.refunds).Sub(s.disputed).Sub(s.lost)
}

// Dashboard gathers the trustee dashboard for an appeal and period. Period figures come
// from the ledger summary (kept by triggers in the ledger's own transactions), so the cost
// does not grow with the ledger; all figures are read from one snapshot. ErrNotFound when
// the appeal does not exist; a ValidationError for a period it cannot answer.
func (s *Store) Dashboard(ctx context.Context, appealID int64, p Period) (Dashboard, error) {
	if err := p.ValidateForDashboard(); err != nil {
		return Dashboard{}, fmt.Errorf("dashboard: %w", err)
	}
	dash := Dashboard{AppealID: appealID, Period: p}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		return readDashboard(ctx, tx, &dash)
	})
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard for appeal %d: %w", appealID, err)
	}
	return dash, nil
}

type tierRow struct {
	TierFigures
	active   bool
	position int
}

func readDashboard(ctx context.Context, tx pgx.Tx, dash *Dashboard) error {
	id, p := dash.AppealID, dash.Period
	months, head, tail := summaryRanges(p)

	var (
		found     bool
		total     sums
		freq      = map[string]*sums{"one_off": {}, "monthly": {}}
		byTier    = map[int64]*sums{}
		byPage    = map[int64]*sums{}
		byMonth   = map[string]*sums{}
		tiers     []tierRow
		pages     []FundraiserFigures
		appealRow struct{ target, rate decimal.Decimal }
	)
	// Stays in Go: one batch, one round trip, on the dashboard's hot read path (six generated
	// queries would be six round trips), and summarySQL reads ledger_summary (migration 0004).
	b := &pgx.Batch{}
	b.Queue(`SELECT target, gift_aid_rate FROM appeals WHERE id = $1`, id).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&appealRow.target, &appealRow.rate)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	b.Queue(summarySQL, id, months[0], months[1], head[0], head[1], tail[0], tail[1]).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var dim, frequency, kind, month string
			var dimID, entries int64
			var amount, fee, base, claimed decimal.Decimal
			if err := rows.Scan(&dim, &dimID, &frequency, &kind, &month, &amount, &fee, &base, &claimed, &entries); err != nil {
				return err
			}
			k := Kind(kind)
			if dim == "fundraiser" {
				if byPage[dimID] == nil {
					byPage[dimID] = &sums{}
				}
				byPage[dimID].add(k, amount, fee, base, claimed, entries)
				continue
			}
			// Tier rows summed over every tier are the appeal's figures.
			total.add(k, amount, fee, base, claimed, entries)
			if f := freq[frequency]; f != nil {
				f.add(k, amount, fee, base, claimed, entries)
			}
			if byTier[dimID] == nil {
				byTier[dimID] = &sums{}
			}
			byTier[dimID].add(k, amount, fee, base, claimed, entries)
			if byMonth[month] == nil {
				byMonth[month] = &sums{}
			}
			byMonth[month].add(k, amount, fee, base, claimed, entries)
		}
		return rows.Err()
	})
	b.Queue(`SELECT id, title, amount, active, position FROM tiers WHERE appeal_id = $1`, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var t tierRow
			if err := rows.Scan(&t.TierID, &t.Title, &t.Amount, &t.active, &t.position); err != nil {
				return err
			}
			tiers = append(tiers, t)
		}
		return rows.Err()
	})
	b.Queue(`SELECT f.id, f.slug, f.title, f.status, f.target, COALESCE(t.raised, 0)
		FROM fundraisers f
		LEFT JOIN LATERAL (SELECT sum(gross - refunded - disputed - lost) AS raised
		                   FROM totals WHERE scope = 'fundraiser' AND scope_id = f.id) t ON true
		WHERE f.appeal_id = $1`, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var f FundraiserFigures
			if err := rows.Scan(&f.FundraiserID, &f.Slug, &f.Title, &f.Status, &f.Target, &f.RaisedToDate); err != nil {
				return err
			}
			pages = append(pages, f)
		}
		return rows.Err()
	})
	b.Queue(`SELECT count(*) FILTER (WHERE status IN ('active', 'past_due')),
		       COALESCE(sum(amount + cover_fee) FILTER (WHERE status IN ('active', 'past_due')), 0),
		       count(*) FILTER (WHERE status = 'past_due'), count(*) FILTER (WHERE status = 'cancelled')
		FROM donations WHERE appeal_id = $1 AND frequency = 'monthly' AND status IN ('active', 'past_due', 'cancelled')`,
		id).QueryRow(func(row pgx.Row) error {
		return row.Scan(&dash.ActiveMonthlyDonors, &dash.MonthlyRecurringIncome, &dash.FailedMonthly, &dash.CancelledMonthly)
	})
	// Flagged donations are few, and gifts with no donation at all rarer still: both are
	// found through indexes, never by scanning the appeal's ledger.
	b.Queue(`SELECT count(*), COALESCE(sum(e.amount), 0) FROM (
		    SELECT e.amount FROM donations d JOIN ledger_entries e ON e.donation_id = d.id
		    WHERE d.appeal_id = $1 AND d.unmatched AND e.appeal_id = $1 AND e.kind = 'gift'
		      AND e.occurred_at >= $2 AND e.occurred_at < $3
		    UNION ALL
		    SELECT e.amount FROM ledger_entries e
		    WHERE e.donation_id IS NULL AND e.appeal_id = $1 AND e.kind = 'gift'
		      AND e.stripe_object NOT LIKE 'offline\_%' -- verified offline takings are not unmatched
		      AND e.occurred_at >= $2 AND e.occurred_at < $3) e`,
		id, p.From, p.To).QueryRow(func(row pgx.Row) error {
		return row.Scan(&dash.Unmatched.Count, &dash.Unmatched.Amount)
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("appeal %d: %w", id, ErrNotFound)
	}
	progress, err := ReadTotals(ctx, tx, AppealScope(id))
	if err != nil {
		return err
	}

	dash.GiftAidRate = appealRow.rate
	dash.Gifts, dash.Gross, dash.Refunds, dash.Disputed, dash.DisputesLost, dash.Fees =
		total.gifts, total.gross, total.refunds, total.disputed, total.lost, total.fees
	dash.Raised = total.raised()
	dash.Net = dash.Raised.Sub(dash.Fees)
	dash.GiftAidBase, dash.GiftAidClaimable = total.base, GiftAidTax(total.base, appealRow.rate)
	dash.GiftAidClaimedBase, dash.GiftAidClaimed = total.claimed, GiftAidTax(total.claimed, appealRow.rate)
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
	sort.SliceStable(dash.ByFundraiser, func(i, j int) bool {
		a, b := dash.ByFundraiser[i], dash.ByFundraiser[j]
		if c := a.Raised.Cmp(b.Raised); c != 0 {
			return c > 0
		}
		if a.Title != b.Title {
			return strings.ToLower(a.Title) < strings.ToLower(b.Title)
		}
		return a.FundraiserID < b.FundraiserID
	})

	for _, m := range p.Months() {
		g := byMonth[m]
		if g == nil {
			g = &sums{}
		}
		raised := g.raised()
		dash.ByMonth = append(dash.ByMonth, MonthFigures{Month: m, Gifts: g.gifts, Gross: g.gross, Refunds: g.refunds,
			Fees: g.fees, Raised: raised, Net: raised.Sub(g.fees)})
	}

	dash.Progress = Progress{Target: appealRow.target, Raised: progress.Raised(),
		Percent: percentOf(progress.Raised(), appealRow.target)}
	return nil
}

// CompareDashboardSummary recomputes the dashboard's summary from the ledger and reports an
// error naming the rows that disagree (any is a bug), nil when they are equal. It reads
// one repeatable-read snapshot so gifts arriving meanwhile cannot cause a false alarm.
func (s *Store) CompareDashboardSummary(ctx context.Context) error {
	var diffs []string
	var count int
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		// Stays in Go: reads ledger_summary and ledger_summary_source, made by migration 0004,
		// which sqlc's catalog cannot parse.
		rows, err := tx.Query(ctx, `
			WITH ledger AS (
			    SELECT appeal_id, grain, starts, dim, dim_id, frequency, kind, shard,
			           sum(amount) AS amount, sum(fee) AS fee, sum(gift_aid_base) AS gift_aid_base,
			           sum(claimed) AS claimed, count(*) AS entries
			    FROM ledger_summary_source GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
			)
			SELECT format('%s %s %s %s %s %s %s shard %s', COALESCE(l.appeal_id, s.appeal_id), COALESCE(l.grain, s.grain),
			           COALESCE(l.starts, s.starts), COALESCE(l.dim, s.dim), COALESCE(l.dim_id, s.dim_id),
			           COALESCE(l.frequency, s.frequency), COALESCE(l.kind, s.kind), COALESCE(l.shard, s.shard)),
			       format('amount %s fee %s gift_aid_base %s claimed %s entries %s',
			           s.amount, s.fee, s.gift_aid_base, s.claimed, s.entries),
			       format('amount %s fee %s gift_aid_base %s claimed %s entries %s',
			           l.amount, l.fee, l.gift_aid_base, l.claimed, l.entries)
			FROM ledger l FULL OUTER JOIN ledger_summary s USING (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard)
			WHERE (l.amount, l.fee, l.gift_aid_base, l.claimed, l.entries)
			      IS DISTINCT FROM (s.amount, s.fee, s.gift_aid_base, s.claimed, s.entries)
			  -- a summary row every entry of which is now unclaimed, or never was, is still right
			  AND NOT (l.appeal_id IS NULL AND s.amount = 0 AND s.fee = 0 AND s.gift_aid_base = 0
			           AND s.claimed = 0 AND s.entries = 0)
			ORDER BY 1`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var key, stored, ledger string
			if err := rows.Scan(&key, &stored, &ledger); err != nil {
				return err
			}
			count++
			if len(diffs) < 10 {
				diffs = append(diffs, fmt.Sprintf("%s: summary has %s, ledger has %s", key, stored, ledger))
			}
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("compare dashboard summary with the ledger: %w", err)
	}
	if count > 0 {
		return fmt.Errorf("dashboard summary differs from the ledger in %d rows: %s", count, strings.Join(diffs, "; "))
	}
	return nil
}
