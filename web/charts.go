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

// Point is one point of a line chart: a label for the x axis and a money figure.
type Point struct {
	Label string
	Value decimal.Decimal
}

// lineChart draws a running total as a line, with a dashed line at the target, as inline
// SVG drawn on the server in the charity's colour (no scripts, no CDN). Like barChart it
// is an image with a text alternative, its figures in a table folded under it. The x axis
// names the first and last points (and the middle one when there are five or more); the
// y axis runs from £0 to the larger of the target and the highest point.
func lineChart(title string, points []Point, target decimal.Decimal) template.HTML {
	const width, height, left, right, top, bottom = 480, 240, 90, 16, 16, 34
	plotW, plotH := width-left-right, height-top-bottom
	top1 := target
	for _, p := range points {
		if p.Value.GreaterThan(top1) {
			top1 = p.Value
		}
	}
	var sb strings.Builder
	id := slug(title)
	fmt.Fprintf(&sb, `<svg class="chart chart-line" role="img" aria-labelledby="%[1]s-t" viewBox="0 0 %[2]d %[3]d" width="100%%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">`,
		id, width, height)
	fmt.Fprintf(&sb, `<title id="%s-t">%s</title>`, id, template.HTMLEscapeString(title))
	if len(points) == 0 || top1.Sign() <= 0 {
		sb.WriteString(`<text x="0" y="18" class="chart-empty">Nothing in this period</text></svg>`)
		return template.HTML(sb.String())
	}
	y := func(v decimal.Decimal) int64 {
		return int64(top+plotH) - v.Mul(decimal.NewFromInt(int64(plotH))).Div(top1).Round(0).IntPart()
	}
	x := func(i int) int64 {
		if len(points) == 1 {
			return int64(left + plotW/2)
		}
		return int64(left + i*plotW/(len(points)-1))
	}
	// Axes, and the £0 and top labels.
	fmt.Fprintf(&sb, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="chart-axis" stroke="#5f5f6b" stroke-width="1"/>`, left, top+plotH, width-right, top+plotH)
	fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="end" class="chart-label">£0</text>`, left-6, top+plotH+5)
	if target.Sign() > 0 {
		ty := y(target)
		fmt.Fprintf(&sb, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="chart-target" stroke="#5f5f6b" stroke-width="2" stroke-dasharray="6 4"/>`, left, ty, width-right, ty)
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="end" class="chart-label">%s</text>`, left-6, ty+5, payments.FormatPounds(target))
		fmt.Fprintf(&sb, `<text x="%d" y="%d" class="chart-value">target</text>`, left+4, ty-6)
	}
	var path strings.Builder
	for i, p := range points {
		if i > 0 {
			path.WriteByte(' ')
		}
		fmt.Fprintf(&path, "%d,%d", x(i), y(p.Value))
	}
	fmt.Fprintf(&sb, `<polyline points="%s" class="chart-run" fill="none" stroke="%s" stroke-width="3" stroke-linejoin="round"/>`, path.String(), chartColour)
	for i, p := range points {
		fmt.Fprintf(&sb, `<circle cx="%d" cy="%d" r="4" class="chart-dot" fill="%s"/>`, x(i), y(p.Value), chartColour)
	}
	last := points[len(points)-1]
	lx, anchor := x(len(points)-1), "end"
	if len(points) == 1 {
		anchor = "middle"
	}
	fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="%s" class="chart-value">%s</text>`, lx, y(last.Value)-10, anchor, payments.FormatPounds(last.Value))
	// x-axis labels: first (anchored at its start), middle, last (anchored at its end).
	type axisLabel struct {
		i      int
		anchor string
	}
	labels := []axisLabel{{0, "start"}}
	if len(points) >= 5 {
		labels = append(labels, axisLabel{(len(points) - 1) / 2, "middle"})
	}
	if len(points) > 1 {
		labels = append(labels, axisLabel{len(points) - 1, "end"})
	} else {
		labels[0].anchor = "middle"
	}
	for _, l := range labels {
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="%s" class="chart-label">%s</text>`, x(l.i), height-8, l.anchor, template.HTMLEscapeString(points[l.i].Label))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) // every text was escaped above
}
