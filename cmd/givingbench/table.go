package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one line of the table; Result is PASS, FAIL or empty for a figure given for context.
type row struct {
	Measure, Value, Baseline, Ratio, Target, Result string
}

const mib = 1 << 20

func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 1:
		return fmt.Sprintf("%.3f", v)
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.1f", v)
	}
}

func count(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func perSec(v float64) string { return count(int64(math.Round(v))) }

func passIf(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func capNote(r loadResult) string {
	if r.CapHit {
		return " (time cap hit)"
	}
	return ""
}

func droppedNote(p pacedResult) string {
	if p.Dropped == 0 {
		return ""
	}
	return fmt.Sprintf(", %s dropped at time cap", count(int64(p.Dropped)))
}

// shortSize is 10k, 1M...
func shortSize(n int64) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 < 1000:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000:
		return fmt.Sprintf("%dk", n/1000)
	default:
		return fmt.Sprint(n)
	}
}

// buildRows turns one run's results into the table, judging each target.
func buildRows(r results) []row {
	a, t, h := r.Appeal, r.Totals, r.Hooks
	var rows []row

	rows = append(rows,
		row{Measure: fmt.Sprintf("appeal JSON req/s (%d conc, %s req)", r.Targets.HTTP.Concurrency, count(int64(a.JSON.Completed))) + capNote(a.JSON),
			Value: perSec(a.JSON.PerSecond()), Baseline: "bare chi " + perSec(a.Bare.PerSecond()) + capNote(a.Bare),
			Ratio: fmt.Sprintf("%.2f", a.Ratio()), Target: ">= 0.50", Result: passIf(a.Ratio() >= 0.5)},
		row{Measure: "appeal JSON p50 / p99 ms",
			Value: ms(a.JSON.P(0.5)) + " / " + ms(a.JSON.P(0.99)), Baseline: "bare " + ms(a.Bare.P(0.5)) + " / " + ms(a.Bare.P(0.99))},
		row{Measure: fmt.Sprintf("appeal page (HTML, gzip) req/s (%d conc, %s req)", r.Targets.HTTP.Concurrency, count(int64(a.Page.Completed))) + capNote(a.Page),
			Value: perSec(a.Page.PerSecond()), Baseline: "bare chi " + perSec(a.Bare.PerSecond()),
			Ratio: fmt.Sprintf("%.2f", a.PageRatio()), Target: ">= 0.50", Result: passIf(a.PageRatio() >= 0.5)},
	)

	small, big := shortSize(t.SmallRows), shortSize(t.BigRows)
	p50r := t.P50Ratio()
	rows = append(rows,
		row{Measure: fmt.Sprintf("total read p50 ms @%s / @%s (%d reads each, alternating)", small, big, len(t.Big)),
			Value: ms(quantile(t.Small, 0.5)) + " / " + ms(quantile(t.Big, 0.5)), Baseline: "@" + small,
			Ratio: fmt.Sprintf("%.2f", p50r), Target: "within 20%", Result: passIf(p50r >= 0.8 && p50r <= 1.2)},
		row{Measure: fmt.Sprintf("total read p99 ms @%s / @%s", small, big),
			Value: ms(quantile(t.Small, 0.99)) + " / " + ms(quantile(t.Big, 0.99)), Baseline: "@" + small,
			Ratio: fmt.Sprintf("%.2f", ratio(float64(quantile(t.Big, 0.99)), float64(quantile(t.Small, 0.99))))},
		row{Measure: fmt.Sprintf("ledger bulk load (COPY) %s rows (%s-row batches)", count(t.InsertRows), count(r.Targets.Batch)),
			Value:    fmt.Sprintf("%.1f s", t.InsertTook.Seconds()),
			Baseline: perSec(ratio(float64(t.InsertRows), t.InsertTook.Seconds())) + " rows/s"},
		row{Measure: fmt.Sprintf("CompareTotals @%s (%s gifts)", big, count(t.Gifts)),
			Value: fmt.Sprintf("%d differences", len(t.Diffs)), Baseline: fmt.Sprintf("took %.1f s", t.CompareTook.Seconds()),
			Target: "none", Result: passIf(len(t.Diffs) == 0 && t.Gifts == t.BigRows)},
		row{Measure: fmt.Sprintf("trustee dashboard ms @%s gifts, 12 months (p50 / max of %d)", big, len(t.Dashboard)),
			Value:  ms(quantile(t.Dashboard, 0.5)) + " / " + ms(quantile(t.Dashboard, 1)),
			Target: "p50 < 100 ms", Result: passIf(len(t.Dashboard) > 0 && quantile(t.Dashboard, 0.5) < 100*time.Millisecond)},
		row{Measure: fmt.Sprintf("trustee dashboard p50 ms @%s / @%s", small, big),
			Value: ms(quantile(t.SmallDashboard, 0.5)) + " / " + ms(quantile(t.Dashboard, 0.5)), Baseline: "@" + small,
			Ratio: fmt.Sprintf("%.2f", t.DashboardRatio()), Target: "within 20%", Result: passIf(t.DashboardRatio() >= 0.8 && t.DashboardRatio() <= 1.2)},
	)

	hs := r.Targets.Hooks
	rows = append(rows,
		row{Measure: fmt.Sprintf("webhook events/s (%d conc, %s events)", hs.Load.Concurrency, count(int64(h.Real.Completed))) + capNote(h.Real),
			Value: perSec(h.Real.PerSecond()), Baseline: "1-INSERT " + perSec(h.Ceiling.PerSecond()) + capNote(h.Ceiling),
			Ratio: fmt.Sprintf("%.2f", h.Ratio()), Target: ">= 0.50", Result: passIf(h.Ratio() >= 0.5)},
		row{Measure: "applying events/s, sustained (closed loop: first delivery to last applied)",
			Value: perSec(h.ApplyRate()), Baseline: "1-INSERT " + perSec(h.Ceiling.PerSecond()),
			Ratio: fmt.Sprintf("%.2f", ratio(h.ApplyRate(), h.Ceiling.PerSecond())), Target: ">= 0.50",
			Result: passIf(ratio(h.ApplyRate(), h.Ceiling.PerSecond()) >= 0.5)},
		row{Measure: "webhook p50 / p99 ms",
			Value: ms(h.Real.P(0.5)) + " / " + ms(h.Real.P(0.99)), Baseline: "1-INSERT " + ms(h.Ceiling.P(0.5)) + " / " + ms(h.Ceiling.P(0.99))},
		row{Measure: fmt.Sprintf("paced webhooks: achieved rate (%s sent%s)", count(int64(h.Paced.Sent)), droppedNote(h.Paced)),
			Value: perSec(h.Paced.Achieved) + "/s", Baseline: fmt.Sprintf("asked %s/s", count(int64(hs.PacedRate))),
			Ratio: fmt.Sprintf("%.2f", ratio(h.Paced.Achieved, float64(hs.PacedRate))), Target: ">= 0.95", Result: passIf(h.Paced.Achieved >= 0.95*float64(hs.PacedRate))},
		row{Measure: fmt.Sprintf("paced webhook p99 ms @%s/s (from due time)", count(int64(hs.PacedRate))),
			Value: ms(quantile(h.Paced.FromSchedule, 0.99)), Baseline: "service-only " + ms(quantile(h.Paced.Service, 0.99)),
			Target: "< 50 ms", Result: passIf(quantile(h.Paced.FromSchedule, 0.99) < 50*time.Millisecond)},
		row{Measure: "queued after the closed loop, then applied in",
			Value: count(int64(h.ClosedBacklog)) + " events", Baseline: fmt.Sprintf("%.1f s", h.ClosedSettle.Seconds()),
			Ratio: fmt.Sprintf("%s/s", perSec(float64(h.ClosedBacklog)/max(h.ClosedSettle.Seconds(), 0.001)))},
		row{Measure: "queued after the paced run, then applied in",
			Value: count(int64(h.Backlog)) + " events", Baseline: fmt.Sprintf("%.2f s", h.Settle.Seconds()),
			Ratio:  fmt.Sprintf("%s/s", perSec(float64(h.Backlog)/max(h.Settle.Seconds(), 0.001))),
			Target: "empty < 1 s", Result: passIf(h.Settle < time.Second)},
		row{Measure: fmt.Sprintf("delivery to public total, p50 / p99 ms @%s/s (%s gifts)", count(int64(hs.PacedRate)), count(int64(len(h.Lag)))),
			Value: ms(quantile(h.Lag, 0.5)) + " / " + ms(quantile(h.Lag, 0.99)), Baseline: "totals rows, polled every 2 ms",
			Target: "p99 < 1 s", Result: passIf(len(h.Lag) > 0 && quantile(h.Lag, 0.99) < time.Second)},
		row{Measure: "webhook 503s resent (Stripe would retry)",
			Value: count(int64(h.Retries())), Baseline: fmt.Sprintf("of %s events", count(int64(h.Sent))),
			Target: "0", Result: passIf(h.Retries() == 0)},
		row{Measure: "appeal gifts after webhooks = events sent",
			Value: count(h.Gifts) + " = " + count(int64(h.Sent)), Baseline: fmt.Sprintf("%d differences", len(h.Diffs)),
			Target: "equal, none", Result: passIf(h.Gifts == int64(h.Sent) && len(h.Diffs) == 0)},
	)

	var one instancesResult
	for _, in := range r.Instances {
		if in.N == 1 {
			one = in
		}
	}
	for _, in := range r.Instances {
		rows = append(rows,
			row{Measure: fmt.Sprintf("%d instance(s), one database: answered events/s (%s events)", in.N, count(int64(in.Answered.Completed))) + capNote(in.Answered),
				Value: perSec(in.Answered.PerSecond()), Baseline: "1 instance " + perSec(one.Answered.PerSecond()),
				Ratio: fmt.Sprintf("%.2f", ratio(in.Answered.PerSecond(), one.Answered.PerSecond()))},
			row{Measure: fmt.Sprintf("%d instance(s): applied events/s (first delivery to last applied)", in.N),
				Value: perSec(in.AppliedRate()), Baseline: "1 instance " + perSec(one.AppliedRate()),
				Ratio: fmt.Sprintf("%.2f", ratio(in.AppliedRate(), one.AppliedRate()))})
	}
	if len(r.Instances) > 0 {
		c := r.InstancesCheck
		rows = append(rows, row{Measure: "appeal gifts added over the instances = events sent",
			Value: count(c.GiftsAfter-c.GiftsBefore) + " = " + count(int64(c.Sent)), Baseline: fmt.Sprintf("%d differences", len(c.Diffs)),
			Target: "equal, none", Result: passIf(c.GiftsAfter-c.GiftsBefore == int64(c.Sent) && len(c.Diffs) == 0)})
	}

	m := h.Mem
	hwm := fmt.Sprintf("%.1f MiB", float64(m.HWMAfter)/mib)
	base := fmt.Sprintf("RSS before %.1f MiB", float64(m.RSSBefore)/mib)
	if !m.PeakReset {
		base += " (peak not reset: whole run)"
	}
	rows = append(rows,
		row{Measure: "peak RSS in webhook load (service+client, 1 process)", Value: hwm, Baseline: base,
			Target: "< 100 MiB", Result: passIf(m.ProcStatusReadable && m.HWMAfter < 100*mib)},
		row{Measure: "Go heap in use: peak / after webhook load",
			Value:    fmt.Sprintf("%.1f / %.1f MiB", float64(m.HeapInusePeak)/mib, float64(m.HeapInuseAfter)/mib),
			Baseline: fmt.Sprintf("events %.1f MiB prebuilt, off-heap", float64(h.EventBytes*(hs.Load.Total+hs.PacedTotal()))/mib)},
	)
	return rows
}

// correctnessFailures lists the checks whose failure is a bug, not a missed target.
func correctnessFailures(r results) []string {
	var bad []string
	if n := len(r.Totals.Diffs); n > 0 {
		bad = append(bad, fmt.Sprintf("CompareTotals found %d differences on the large ledger (first: %s)", n, r.Totals.Diffs[0]))
	}
	if r.Totals.Gifts != r.Totals.BigRows {
		bad = append(bad, fmt.Sprintf("large ledger: totals count %d gifts, %d were written", r.Totals.Gifts, r.Totals.BigRows))
	}
	if n := len(r.Hooks.Diffs); n > 0 {
		bad = append(bad, fmt.Sprintf("CompareTotals found %d differences after the webhooks (first: %s)", n, r.Hooks.Diffs[0]))
	}
	if r.Hooks.Gifts != int64(r.Hooks.Sent) {
		bad = append(bad, fmt.Sprintf("webhooks: totals count %d gifts, %d events were sent", r.Hooks.Gifts, r.Hooks.Sent))
	}
	if c := r.InstancesCheck; len(r.Instances) > 0 && (c.GiftsAfter-c.GiftsBefore != int64(c.Sent) || len(c.Diffs) > 0) {
		bad = append(bad, fmt.Sprintf("instances: totals gained %d gifts for %d events sent, %d differences", c.GiftsAfter-c.GiftsBefore, c.Sent, len(c.Diffs)))
	}
	return bad
}

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tvalue\tbaseline\tratio\ttarget\tresult")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Measure, r.Value, r.Baseline, r.Ratio, r.Target, r.Result)
	}
	_ = tw.Flush()
}
