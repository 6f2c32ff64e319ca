package reports

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/dbq"
)

// Monthly giving health: how the appeal's monthly gifts came and went month by month, the
// churn rate, and a forecast of the income the running gifts will bring. Counted from the
// donations (first payment, how and when a gift ended), the confirmed pauses, the stored
// invoice.payment_failed events and the ledger's monthly payments.

// ChurnMonths is how many whole months before this one the forecast's churn is read over.
const ChurnMonths = 3

// ForecastMonths is how many months ahead the income forecast runs.
const ForecastMonths = 12

// HealthMonth is one London month of monthly giving. ActiveAtStart counts the gifts that
// had paid at least once and had not ended when the month began; Churn is Cancelled as a
// percentage of ActiveAtStart (rounded to 0.1), unknown (ChurnKnown false) when no gift
// was running at the start.
type HealthMonth struct {
	Month         string // "2006-01"
	ActiveAtStart int64
	New           int64 // first payment in the month
	Cancelled     int64
	// Cancelled by reason: the donor, an admin for the donor, a dispute, Stripe after
	// failed payments, and the rest (ended at Stripe).
	ByDonor, ByAdmin, ByDispute, ByPaymentFailure, AtStripe int64
	Paused                                                  int64 // pauses Stripe confirmed in the month
	Failed                                                  int64 // gifts with a failed payment in the month
	Recovered                                               int64 // gifts paid again in the month after a failed payment
	Churn                                                   decimal.Decimal
	ChurnKnown                                              bool
}

// Label is the month as a person reads it: "Jan 2026".
func (h HealthMonth) Label() string { return MonthFigures{Month: h.Month}.Label() }

// ForecastMonth is the monthly income expected in one coming month.
type ForecastMonth struct {
	Month  string // "2006-01"
	Income decimal.Decimal
}

// Label is the month as a person reads it: "Jan 2026".
func (f ForecastMonth) Label() string { return MonthFigures{Month: f.Month}.Label() }

// Health is the appeal's monthly giving health for the dashboard's period, and the
// forecast from now.
type Health struct {
	Months []HealthMonth // every London month of the period, oldest first
	// TrailingChurn is the churn over the ChurnMonths whole months before this one: the
	// gifts cancelled in them over the sum of those running at each one's start, as a
	// percentage rounded to 0.1 (the forecast uses the exact fraction).
	TrailingChurn      decimal.Decimal
	TrailingChurnKnown bool
	// Forecast is the income of each of the next ForecastMonths months, assuming the
	// monthly gifts running now continue at their current amounts (paused ones from the
	// month they resume, past-due ones as if Stripe's retry succeeds), and each month
	// TrailingChurn of them stop: month k brings the running amounts times
	// (1 - churn)^k, rounded to the penny.
	Forecast      []ForecastMonth
	ForecastTotal decimal.Decimal
}

// healthGift is one monthly gift as health counts it.
type healthGift struct {
	id          string
	running     bool // active or past due now
	amount      decimal.Decimal
	pausedUntil *time.Time
	started     time.Time
	ended       *time.Time
	endedBy     string
}

func (g healthGift) runningAt(t time.Time) bool {
	return g.started.Before(t) && (g.ended == nil || !g.ended.Before(t))
}

func monthStart(t time.Time) time.Time {
	l := t.In(campaigns.London())
	return time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, campaigns.London())
}

func inMonth(t, start time.Time) bool {
	return !t.Before(start) && t.Before(start.AddDate(0, 1, 0))
}

// healthInputs are what monthly giving health is counted from: one appeal's monthly
// gifts, pauses, failed payments and recoveries, or several appeals' put together.
type healthInputs struct {
	gifts     []healthGift
	pauses    []time.Time
	failures  []dbq.HealthFailuresRow
	recovered []time.Time
}

// add puts another appeal's inputs with these (each donation belongs to one appeal).
func (in *healthInputs) add(o healthInputs) {
	in.gifts = append(in.gifts, o.gifts...)
	in.pauses = append(in.pauses, o.pauses...)
	in.failures = append(in.failures, o.failures...)
	in.recovered = append(in.recovered, o.recovered...)
}

// count is the health of the period, with the forecast from now.
func (in healthInputs) count(p Period, now time.Time) Health {
	return countHealth(in.gifts, in.pauses, in.failures, in.recovered, p, now)
}

// readHealthInputs reads what the monthly giving health of the appeal is counted from.
func readHealthInputs(ctx context.Context, q *dbq.Queries, appealID int64, p Period) (healthInputs, error) {
	rows, err := q.HealthMonthlyGifts(ctx, appealID)
	if err != nil {
		return healthInputs{}, err
	}
	gifts := make([]healthGift, 0, len(rows))
	for _, r := range rows {
		g := healthGift{id: r.DonationID, running: r.Status != "cancelled", amount: r.Amount, pausedUntil: r.PausedUntil,
			started: r.StartedAt, endedBy: r.EndedBy}
		if r.Status == "cancelled" {
			ended := r.UpdatedAt
			if r.StatusEventAt != nil {
				ended = *r.StatusEventAt
			}
			g.ended = &ended
		}
		gifts = append(gifts, g)
	}
	pauses, err := q.HealthPauses(ctx, dbq.HealthPausesParams{AppealID: appealID, ToAt: p.To})
	if err != nil {
		return healthInputs{}, err
	}
	failures, err := q.HealthFailures(ctx, dbq.HealthFailuresParams{AppealID: appealID, ToAt: p.To})
	if err != nil {
		return healthInputs{}, err
	}
	failedIDs := map[string]bool{}
	for _, f := range failures {
		failedIDs[f.DonationID] = true
	}
	ids := make([]string, 0, len(failedIDs))
	for id := range failedIDs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var payments []dbq.HealthPaymentsOfRow
	if len(ids) > 0 {
		if payments, err = q.HealthPaymentsOf(ctx, dbq.HealthPaymentsOfParams{Ids: ids, ToAt: p.To}); err != nil {
			return healthInputs{}, err
		}
	}
	return healthInputs{gifts: gifts, pauses: pauses, failures: failures, recovered: recoveries(failures, payments)}, nil
}

// recoveries are the times of the payments that followed a failed payment of the same
// gift with no payment between.
func recoveries(failures []dbq.HealthFailuresRow, payments []dbq.HealthPaymentsOfRow) []time.Time {
	paid := map[string][]time.Time{}
	for _, p := range payments {
		paid[p.DonationID] = append(paid[p.DonationID], p.OccurredAt)
	}
	failed := map[string][]time.Time{}
	for _, f := range failures {
		failed[f.DonationID] = append(failed[f.DonationID], f.FailedAt)
	}
	var out []time.Time
	for id, times := range paid {
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
		for i, t := range times {
			var prev time.Time
			if i > 0 {
				prev = times[i-1]
			}
			for _, f := range failed[id] {
				if f.After(prev) && f.Before(t) {
					out = append(out, t)
					break
				}
			}
		}
	}
	return out
}

// countHealth counts the month rows, the trailing churn and the forecast.
func countHealth(gifts []healthGift, pauses []time.Time, failures []dbq.HealthFailuresRow, recovered []time.Time, p Period, now time.Time) Health {
	var h Health
	for _, m := range p.Months() {
		start, _ := time.ParseInLocation("2006-01", m, campaigns.London())
		row := HealthMonth{Month: m}
		for _, g := range gifts {
			if g.runningAt(start) {
				row.ActiveAtStart++
			}
			if inMonth(g.started, start) {
				row.New++
			}
			if g.ended != nil && inMonth(*g.ended, start) {
				row.Cancelled++
				switch g.endedBy {
				case "donor":
					row.ByDonor++
				case "admin":
					row.ByAdmin++
				case "dispute":
					row.ByDispute++
				case "payment_failed":
					row.ByPaymentFailure++
				default:
					row.AtStripe++
				}
			}
		}
		for _, t := range pauses {
			if inMonth(t, start) {
				row.Paused++
			}
		}
		failedIn := map[string]bool{}
		for _, f := range failures {
			if inMonth(f.FailedAt, start) {
				failedIn[f.DonationID] = true
			}
		}
		row.Failed = int64(len(failedIn))
		for _, t := range recovered {
			if inMonth(t, start) {
				row.Recovered++
			}
		}
		if row.ActiveAtStart > 0 {
			row.ChurnKnown = true
			row.Churn = decimal.NewFromInt(row.Cancelled).Mul(hundred).Div(decimal.NewFromInt(row.ActiveAtStart)).Round(1)
		}
		h.Months = append(h.Months, row)
	}

	// Trailing churn over the whole months before this one.
	thisMonth := monthStart(now)
	var cancelled, running int64
	for i := 1; i <= ChurnMonths; i++ {
		start := thisMonth.AddDate(0, -i, 0)
		for _, g := range gifts {
			if g.runningAt(start) {
				running++
			}
			if g.ended != nil && inMonth(*g.ended, start) {
				cancelled++
			}
		}
	}
	churn := decimal.Zero
	if running > 0 {
		h.TrailingChurnKnown = true
		churn = decimal.NewFromInt(cancelled).Div(decimal.NewFromInt(running))
		h.TrailingChurn = churn.Mul(hundred).Round(1)
	}
	keep := decimal.NewFromInt(1).Sub(churn)
	factor := decimal.NewFromInt(1)
	h.ForecastTotal = decimal.Zero
	// Each month's base is the running gifts not paused at its start. A gift with no pause,
	// or one over by the first forecast month, counts in every month: summed once. A
	// paused one counts from the month its pause is over.
	first := thisMonth.AddDate(0, 1, 0)
	everyMonth := decimal.Zero
	var paused []healthGift
	for _, g := range gifts {
		switch {
		case !g.running:
		case g.pausedUntil == nil || !g.pausedUntil.After(first):
			everyMonth = everyMonth.Add(g.amount)
		default:
			paused = append(paused, g)
		}
	}
	for k := 1; k <= ForecastMonths; k++ {
		start := thisMonth.AddDate(0, k, 0)
		base := everyMonth
		for _, g := range paused {
			if !g.pausedUntil.After(start) {
				base = base.Add(g.amount)
			}
		}
		factor = factor.Mul(keep)
		income := base.Mul(factor).Round(2)
		h.Forecast = append(h.Forecast, ForecastMonth{Month: start.Format("2006-01"), Income: income})
		h.ForecastTotal = h.ForecastTotal.Add(income)
	}
	return h
}

// CumulativePoint is the appeal's raised total, since it began, at the end of a month.
type CumulativePoint struct {
	Month  string // "2006-01"
	Raised decimal.Decimal
}

// Label is the month as a person reads it: "Jan 2026".
func (c CumulativePoint) Label() string { return MonthFigures{Month: c.Month}.Label() }

// cumulative is the running total of raised at the end of each month of the period,
// starting from what was raised before it.
func cumulative(before decimal.Decimal, months []MonthFigures) []CumulativePoint {
	out := make([]CumulativePoint, 0, len(months))
	run := before
	for _, m := range months {
		run = run.Add(m.Raised)
		out = append(out, CumulativePoint{Month: m.Month, Raised: run})
	}
	return out
}

// CancelReasons says why the month's gifts were cancelled, e.g. "2 by the donor, 1 after
// failed payments"; "" when none were.
func (h HealthMonth) CancelReasons() string {
	var parts []string
	for _, r := range []struct {
		n    int64
		what string
	}{{h.ByDonor, "by the donor"}, {h.ByAdmin, "by an admin"}, {h.ByDispute, "after a dispute"},
		{h.ByPaymentFailure, "after failed payments"}, {h.AtStripe, "at Stripe"}} {
		if r.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", r.n, r.what))
		}
	}
	return strings.Join(parts, ", ")
}

// Quiet reports a month in which no monthly gift was running, began, ended, paused or
// failed.
func (h HealthMonth) Quiet() bool {
	return h.ActiveAtStart == 0 && h.New == 0 && h.Cancelled == 0 && h.Paused == 0 && h.Failed == 0 && h.Recovered == 0
}

// HealthRow is one row of the health table: a month, or a run of at least MinQuietRun
// quiet months folded into one (Quiet, Months the run's length).
type HealthRow struct {
	HealthMonth
	Quiet  bool
	Months int
	label  string
}

// Label is the row as a person reads it: "Jan 2026", or for a folded run "Feb–Oct 2026".
func (r HealthRow) Label() string { return r.label }

// FoldHealth is the health months as table rows, each run of MinQuietRun or more quiet
// months folded into one, labelled as the month table labels them.
func FoldHealth(months []HealthMonth) []HealthRow {
	var rows []HealthRow
	for _, r := range foldRuns(len(months), func(i int) bool { return months[i].Quiet() }) {
		label := months[r.from].Label()
		if r.quiet {
			label = MonthRow{MonthFigures: MonthFigures{Month: months[r.from].Month}, Quiet: true, through: months[r.to-1].Month}.Label()
		}
		rows = append(rows, HealthRow{HealthMonth: months[r.from], Quiet: r.quiet, Months: r.to - r.from, label: label})
	}
	return rows
}
