package web

import (
	"github.com/shopspring/decimal"

	"giving/campaigns/reports"
)

// The dashboard's cumulative line and monthly giving health (dashboard.html's "desk"
// sections), drawn on the server from reports.Dashboard.
func deskDashboard(data map[string]any, d reports.Dashboard) {
	points := make([]Point, 0, len(d.Cumulative))
	for _, c := range d.Cumulative {
		points = append(points, Point{Label: c.Label(), Value: c.Raised})
	}
	data["CumulativeChart"] = lineChart("Raised since the appeal began, at the end of each month, against the target", points, d.Progress.Target)
	forecast := make([]Bar, 0, len(d.Health.Forecast))
	for _, f := range d.Health.Forecast {
		forecast = append(forecast, Bar{Label: f.Label(), Value: f.Income})
	}
	data["HealthRows"] = reports.FoldHealth(d.Health.Months)
	data["ForecastChart"] = barChart("Monthly income forecast for the next 12 months", forecast)
}

// pctOf is v as a percentage of target, rounded down to 0.1 ("–" with no target).
func pctOf(v, target decimal.Decimal) string {
	if target.Sign() <= 0 {
		return "–"
	}
	return pct(v.Mul(decimal.NewFromInt(100)).Div(target).RoundFloor(1))
}
