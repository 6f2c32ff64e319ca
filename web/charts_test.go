package web

import (
	"testing"

	"github.com/shopspring/decimal"

	"giving/campaigns/reports"
	"giving/web/webtest"
)

func TestBarChartEscapesAndScales(t *testing.T) {
	t.Parallel()
	svg := string(barChart("Raised by month", []Bar{
		{Label: "2026-10", Value: decimal.RequireFromString("1000.00")},
		{Label: `<script>alert(1)</script>`, Value: decimal.RequireFromString("250.00")},
		{Label: "2026-12", Value: decimal.RequireFromString("0.01")},
	}))
	webtest.None(t, svg, "script") // a label that was not escaped
	labels := webtest.Find(t, svg, "svg.chart text.chart-label")
	if len(labels) != 3 || webtest.NodeText(labels[1]) != "<script>alert(1)</script>" {
		t.Errorf("the labels should read as text, <script> and all:\n%s", svg)
	}
	if got := webtest.Attr(t, svg, "svg.chart", "role"); got != "img" {
		t.Errorf("chart role %q, want img:\n%s", got, svg)
	}
	if got := webtest.Text(t, svg, "svg.chart > title"); got != "Raised by month" {
		t.Errorf("chart title %q:\n%s", got, svg)
	}
	if labelledBy, id := webtest.Attr(t, svg, "svg.chart", "aria-labelledby"), webtest.Attr(t, svg, "svg.chart > title", "id"); labelledBy != id {
		t.Errorf("chart aria-labelledby %q, but its title is #%s", labelledBy, id)
	}
	values, bars := webtest.Find(t, svg, "svg.chart text.chart-value"), webtest.Find(t, svg, "svg.chart rect.chart-bar")
	for i, want := range []struct{ value, width string }{{"£1,000.00", "250"}, {"£250.00", "62"}, {"£0.01", "1"}} {
		if len(values) != 3 || len(bars) != 3 {
			t.Fatalf("%d values and %d bars, want 3 of each:\n%s", len(values), len(bars), svg)
		}
		if got := webtest.NodeText(values[i]); got != want.value {
			t.Errorf("bar %d value %q, want %s:\n%s", i+1, got, want.value, svg)
		}
		if got, _ := webtest.NodeAttr(bars[i], "width"); got != want.width {
			t.Errorf("bar %d width %q, want %s:\n%s", i+1, got, want.width, svg)
		}
	}
	if got := webtest.Text(t, string(barChart("Empty", nil)), "svg.chart text.chart-empty"); got != "Nothing in this period" {
		t.Errorf("empty chart says %q", got)
	}
}

// Months read as people say them, and every bar carries the charity's colour.
func TestChartMonthsAndColour(t *testing.T) {
	t.Parallel()
	for month, want := range map[string]string{"2026-01": "Jan 2026", "2025-12": "Dec 2025", "odd": "odd"} {
		if got := (reports.MonthFigures{Month: month}).Label(); got != want {
			t.Errorf("month %s reads %q, want %q", month, got, want)
		}
	}
	svg := string(barChart("Raised by month", []Bar{{Label: "Jan 2026", Value: decimal.RequireFromString("10")}, {Label: "Feb 2026", Value: decimal.Zero}}))
	for _, bar := range webtest.Find(t, svg, "rect.chart-bar") {
		if fill, _ := webtest.NodeAttr(bar, "fill"); fill != chartColour || chartColour != "#6b2d8f" {
			t.Errorf("a bar's fill is %q, want the charity's purple:\n%s", fill, svg)
		}
	}
}
