package reports_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"giving/campaigns"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/reports"
)

// TestMonthlyGivingHealth: the health table, the churn rate and the forecast on a fixture
// whose every figure was worked out by hand (below). Eight monthly gifts:
//
//	A £10  first paid 10 Dec 2025, running
//	B £20  first paid 10 Dec 2025, cancelled by the donor 15 Feb 2026
//	C £5   first paid 5 Jan 2026 (and 5 Feb); payment failed 5 Mar, paid again 8 Mar; running
//	D £15  first paid 20 Jan 2026 (and 20 Feb); payment failed 20 Mar; cancelled after failed payments 25 Mar
//	E £30  first paid 2 Feb 2026; paused on 10 Apr until 1 Aug 2026; running
//	F £10  first paid 3 Mar 2026, cancelled by an admin 10 Apr 2026
//	G £50  first paid 1 Apr 2026, running
//	H £8   first paid 12 Apr 2026, past due now (Stripe retrying)
//
// Running at the start of each month, new, cancelled, churn = cancelled / running at start:
//
//	Jan 2026: A B = 2; new C D = 2; cancelled 0;            churn 0/2 = 0.0%
//	Feb 2026: A B C D = 4; new E = 1; cancelled B (donor);  churn 1/4 = 25.0%
//	Mar 2026: A C D E = 4; new F = 1; cancelled D (failed payments); failed C D = 2;
//	          recovered C = 1;                               churn 1/4 = 25.0%
//	Apr 2026: A C E F = 4; new G H = 2; cancelled F (admin); paused E = 1; churn 1/4 = 25.0%
//
// Now is 15 May 2026: the trailing churn over Feb, Mar and Apr is (1+1+1)/(4+4+4) = 25.0%.
// Running now: A 10 + C 5 + G 50 + H 8 = £73 unpaused, £103 once E resumes in August.
// Forecast month k = running amount x 0.75^k, rounded to the penny:
//
//	Jun 73 x 0.75       = 54.75         Jul 73 x 0.5625   = 41.0625 -> 41.06
//	Aug 103 x 0.421875  = 43.453125 -> 43.45   Sep 103 x 0.31640625 = 32.5898... -> 32.59
//	Oct 103 x 0.2373046875 = 24.4423... -> 24.44   Nov 103 x 0.17797851... = 18.3317... -> 18.33
//	Dec 13.7488... -> 13.75  Jan 10.3116... -> 10.31  Feb 7.7337... -> 7.73
//	Mar 5.8002... -> 5.80    Apr 4.3502... -> 4.35    May 3.2626... -> 3.26
//
// Total 259.82.
func TestMonthlyGivingHealth(t *testing.T) {
	w := campaignstest.NewGiftWorld(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 15, 12, 0, 0, 0, time.UTC)
	s := w.S.WithClock(func() time.Time { return now })
	at := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 12, 0, 0, 0, time.UTC) }
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := s.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	type gift struct {
		name, amount string
		paid         []time.Time
		status       string
		endedBy      string
		endedAt      time.Time
		pausedUntil  *time.Time
	}
	resume := time.Date(2026, 8, 1, 0, 0, 0, 0, campaigns.London())
	gifts := []gift{
		{name: "A", amount: "10.00", paid: []time.Time{at(2025, 12, 10)}, status: "active"},
		{name: "B", amount: "20.00", paid: []time.Time{at(2025, 12, 10)}, status: "cancelled", endedBy: "donor", endedAt: at(2026, 2, 15)},
		{name: "C", amount: "5.00", paid: []time.Time{at(2026, 1, 5), at(2026, 2, 5), at(2026, 3, 8)}, status: "active"},
		{name: "D", amount: "15.00", paid: []time.Time{at(2026, 1, 20), at(2026, 2, 20)}, status: "cancelled", endedBy: "payment_failed", endedAt: at(2026, 3, 25)},
		{name: "E", amount: "30.00", paid: []time.Time{at(2026, 2, 2)}, status: "active", pausedUntil: &resume},
		{name: "F", amount: "10.00", paid: []time.Time{at(2026, 3, 3)}, status: "cancelled", endedBy: "admin", endedAt: at(2026, 4, 10)},
		{name: "G", amount: "50.00", paid: []time.Time{at(2026, 4, 1)}, status: "active"},
		{name: "H", amount: "8.00", paid: []time.Time{at(2026, 4, 12)}, status: "past_due"},
	}
	ids := map[string]string{}
	for _, g := range gifts {
		dn := w.Donation(donations.NewDonation{Amount: d(g.amount), Monthly: true})
		ids[g.name] = dn.ID
		sub := "sub_health_" + g.name
		exec(`UPDATE donations SET subscription_id = $2, status = $3, status_event_at = $4, ended_by = NULLIF($5, ''), paused_until = $6 WHERE id = $1::uuid`,
			dn.ID, sub, g.status, g.endedAt, g.endedBy, g.pausedUntil)
		for i, p := range g.paid {
			w.Gift(w.Reload(dn.ID), fmt.Sprintf("in_health_%s_%d", g.name, i), fmt.Sprintf("ch_health_%s_%d", g.name, i), "", g.amount, "0.00", p)
		}
	}
	// A one-off gift is no monthly gift at all.
	one := w.Donation(donations.NewDonation{Amount: d("100.00")})
	w.Gift(one, "cs_health_one", "ch_health_one", "pi_health_one", "100.00", "0.00", at(2026, 3, 1))

	fail := func(name string, when time.Time) {
		payload, _ := json.Marshal(map[string]any{"type": "invoice.payment_failed",
			"data": map[string]any{"object": map[string]any{"object": "invoice", "subscription": "sub_health_" + name}}})
		exec(`INSERT INTO stripe_events (id, type, created, payload, outcome) VALUES ($1, 'invoice.payment_failed', $2, $3, 'applied')`,
			"evt_health_fail_"+name, when, payload)
	}
	fail("C", at(2026, 3, 5))
	fail("D", at(2026, 3, 20))
	exec(`INSERT INTO manage_requests (donation_id, subscription_id, kind, actor, resumes_at, requested_at, confirmed_at)
	      VALUES ($1::uuid, 'sub_health_E', 'pause', 'donor', $2, $3, $3)`, ids["E"], resume, at(2026, 4, 10))

	dash, err := reports.ReadDashboard(ctx, s, w.Appeal.ID, reports.MonthPeriod(2026, time.January, 4))
	if err != nil {
		t.Fatal(err)
	}
	h := dash.Health
	type row struct {
		Month                                                          string
		Running, New, Cancelled, Donor, Admin, Dispute, Failing, Other int64
		Paused, Failed, Recovered                                      int64
		Churn                                                          string
	}
	var got []row
	for _, m := range h.Months {
		churn := "unknown"
		if m.ChurnKnown {
			churn = m.Churn.StringFixed(1)
		}
		got = append(got, row{m.Label(), m.ActiveAtStart, m.New, m.Cancelled, m.ByDonor, m.ByAdmin, m.ByDispute, m.ByPaymentFailure, m.AtStripe,
			m.Paused, m.Failed, m.Recovered, churn})
	}
	want := []row{
		{"Jan 2026", 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, "0.0"},
		{"Feb 2026", 4, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, "25.0"},
		{"Mar 2026", 4, 1, 1, 0, 0, 0, 1, 0, 0, 2, 1, "25.0"},
		{"Apr 2026", 4, 2, 1, 0, 1, 0, 0, 0, 1, 0, 0, "25.0"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("health months:\n got %v\nwant %v", got, want)
	}
	if !h.TrailingChurnKnown || h.TrailingChurn.StringFixed(1) != "25.0" {
		t.Errorf("trailing churn %s (known %v), want 25.0", h.TrailingChurn, h.TrailingChurnKnown)
	}
	wantForecast := []string{"Jun 2026 54.75", "Jul 2026 41.06", "Aug 2026 43.45", "Sep 2026 32.59", "Oct 2026 24.44", "Nov 2026 18.33",
		"Dec 2026 13.75", "Jan 2027 10.31", "Feb 2027 7.73", "Mar 2027 5.80", "Apr 2027 4.35", "May 2027 3.26"}
	var gotForecast []string
	for _, f := range h.Forecast {
		gotForecast = append(gotForecast, f.Label()+" "+f.Income.StringFixed(2))
	}
	if fmt.Sprint(gotForecast) != fmt.Sprint(wantForecast) {
		t.Errorf("forecast:\n got %v\nwant %v", gotForecast, wantForecast)
	}
	if h.ForecastTotal.StringFixed(2) != "259.82" {
		t.Errorf("forecast total %s, want 259.82", h.ForecastTotal.StringFixed(2))
	}

	// The cumulative line starts from what was raised before January (A and B's December
	// payments, £30) and adds each month's raised: Jan 30+5+15 = 50; Feb 50+5+15+30 = 100;
	// Mar 100+5+10+100 (the one-off) = 215; Apr 215+50+8 = 273.
	var cum []string
	for _, c := range dash.Cumulative {
		cum = append(cum, c.Label()+" "+c.Raised.StringFixed(2))
	}
	if want := "[Jan 2026 50.00 Feb 2026 100.00 Mar 2026 215.00 Apr 2026 273.00]"; fmt.Sprint(cum) != want {
		t.Errorf("cumulative %v, want %s", cum, want)
	}
	if dash.RaisedBefore.StringFixed(2) != "30.00" {
		t.Errorf("raised before the period %s, want 30.00", dash.RaisedBefore)
	}
}
