package web

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/shopspring/decimal"

	"giving/payments"
)

// Bar is one bar of a chart: a label and a money figure.
type Bar struct {
	Label string
	Value decimal.Decimal
}

// chartColour is the charity's purple (--accent in static/style.css), set on every bar as
// an attribute too, so a chart keeps its colour wherever its SVG is shown.
const chartColour = "#6b2d8f"

// barChart draws a horizontal bar chart as inline SVG on the server: no scripts, no CDN.
// The chart is an image with a text alternative; the same figures are always in a table
// beside it, which is what screen readers and spreadsheets use. It is drawn 480 units
// wide, so that scaled to a phone's width its text stays readable (style.css sizes it).
func barChart(title string, bars []Bar) template.HTML {
	const width, rowH, labelW, valueW = 480, 28, 130, 100
	max := decimal.Zero
	for _, b := range bars {
		if b.Value.GreaterThan(max) {
			max = b.Value
		}
	}
	var sb strings.Builder
	h := rowH*len(bars) + 8
	if len(bars) == 0 {
		h = rowH
	}
	fmt.Fprintf(&sb, `<svg class="chart" role="img" aria-labelledby="%[1]s-t" viewBox="0 0 %[2]d %[3]d" width="100%%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">`,
		slug(title), width, h)
	fmt.Fprintf(&sb, `<title id="%s-t">%s</title>`, slug(title), template.HTMLEscapeString(title))
	if len(bars) == 0 {
		sb.WriteString(`<text x="0" y="18" class="chart-empty">Nothing in this period</text>`)
	}
	barMax := decimal.NewFromInt(width - labelW - valueW)
	for i, b := range bars {
		y := i*rowH + 4
		w := int64(0)
		if max.Sign() > 0 && b.Value.Sign() > 0 {
			w = b.Value.Mul(barMax).Div(max).IntPart()
			if w == 0 {
				w = 1 // a small figure still shows
			}
		}
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="end" class="chart-label">%s</text>`, labelW-8, y+18, template.HTMLEscapeString(b.Label))
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%d" height="%d" class="chart-bar" fill="%s"/>`, labelW, y+4, w, rowH-10, chartColour)
		fmt.Fprintf(&sb, `<text x="%d" y="%d" class="chart-value">%s</text>`, labelW+int(w)+6, y+18, payments.FormatPounds(b.Value))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) // every text was escaped above
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return "c-" + b.String()
}
