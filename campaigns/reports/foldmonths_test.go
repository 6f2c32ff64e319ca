package reports_test

import (
	"slices"
	"testing"

	"github.com/shopspring/decimal"

	"giving/campaigns/reports"
)

// Runs of three or more quiet months fold into one row, labelled across a year end too;
// shorter runs, and months with any money (a refund alone counts), stay rows of their own.
func TestFoldMonths(t *testing.T) {
	quiet := func(m string) reports.MonthFigures {
		return reports.MonthFigures{Month: m, Gross: decimal.Zero, Refunds: decimal.Zero, Fees: decimal.Zero, Raised: decimal.Zero, Net: decimal.Zero}
	}
	gift := func(m string) reports.MonthFigures {
		f := quiet(m)
		f.Gifts, f.Gross, f.Raised, f.Net = 1, decimal.NewFromInt(5), decimal.NewFromInt(5), decimal.NewFromInt(5)
		return f
	}
	refundOnly := quiet("2026-04")
	refundOnly.Refunds, refundOnly.Raised, refundOnly.Net = decimal.NewFromInt(5), decimal.NewFromInt(-5), decimal.NewFromInt(-5)
	months := []reports.MonthFigures{quiet("2025-10"), quiet("2025-11"), quiet("2025-12"), quiet("2026-01"), gift("2026-02"),
		quiet("2026-03"), refundOnly, quiet("2026-05"), quiet("2026-06"), gift("2026-07"), quiet("2026-08"), quiet("2026-09"), quiet("2026-10")}
	var got []string
	for _, r := range reports.FoldMonths(months) {
		label := r.Label()
		if r.Quiet {
			label += " (quiet)"
		}
		got = append(got, label)
	}
	want := []string{"Oct 2025–Jan 2026 (quiet)", "Feb 2026", "Mar 2026", "Apr 2026", "May 2026", "Jun 2026", "Jul 2026", "Aug–Oct 2026 (quiet)"}
	if !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
}
