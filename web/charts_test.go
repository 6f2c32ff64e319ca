package web

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestBarChartEscapesAndScales(t *testing.T) {
	t.Parallel()
	svg := string(barChart("Raised by month", []Bar{
		{Label: "2026-10", Value: decimal.RequireFromString("1000.00")},
		{Label: `<script>alert(1)</script>`, Value: decimal.RequireFromString("250.00")},
		{Label: "2026-12", Value: decimal.RequireFromString("0.01")},
	}))
	if strings.Contains(svg, "<script>") {
		t.Fatal("a label was not escaped")
	}
	for _, want := range []string{`role="img"`, "<title", "Raised by month", "£1,000.00", "£250.00", `width="360"`, `width="90"`, `width="1"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %s:\n%s", want, svg)
		}
	}
	if empty := string(barChart("Empty", nil)); !strings.Contains(empty, "Nothing in this period") {
		t.Errorf("empty chart: %s", empty)
	}
}
