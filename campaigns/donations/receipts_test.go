package donations_test

import (
	"testing"
	"time"

	"giving/campaigns"
	"giving/campaigns/donations"
)

func TestNextMonthlyPaymentKeepsTheDayAsStripeBills(t *testing.T) {
	t.Parallel()
	lon := campaigns.London()
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, lon) }
	cases := []struct {
		anchor, after time.Time
		want, day     string
	}{
		{at(2026, 1, 15, 10), at(2026, 1, 15, 10), "15 February 2026", "the 15th of each month"},
		{at(2026, 1, 31, 10), at(2026, 1, 31, 10), "28 February 2026", "the 31st of each month (the last day, in a shorter month)"},
		{at(2026, 1, 31, 10), at(2026, 2, 28, 11), "31 March 2026", "the 31st of each month (the last day, in a shorter month)"},
		{at(2027, 12, 30, 10), at(2028, 1, 30, 10), "29 February 2028", "the 30th of each month (the last day, in a shorter month)"},
		{at(2026, 3, 2, 9), at(2027, 6, 20, 9), "2 July 2027", "the 2nd of each month"},
		{at(2026, 3, 1, 0), at(2026, 3, 1, 0), "1 April 2026", "the 1st of each month"},                                                      // across the clocks going forward
		{time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), "1 May 2026", "the 1st of each month"}, // already 1 April in London
		{at(2026, 5, 23, 9), at(2026, 5, 23, 9), "23 June 2026", "the 23rd of each month"},
	}
	for _, c := range cases {
		if got := donations.UKDate(donations.NextMonthlyPayment(c.anchor, c.after)); got != c.want {
			t.Errorf("anchor %s, after %s: next %s, want %s", c.anchor, c.after, got, c.want)
		}
		if got := donations.DayOfMonth(c.anchor); got != c.day {
			t.Errorf("anchor %s: %q, want %q", c.anchor, got, c.day)
		}
	}
}
