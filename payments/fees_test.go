package payments

import (
	"testing"

	"github.com/shopspring/decimal"
)

func TestCoverLeavesTheCharityTheWholeGift(t *testing.T) {
	t.Parallel()
	cases := map[string]string{"3.00": "0.25", "10.00": "0.36", "2000.00": "30.66", "25.00": "0.58"}
	for gift, want := range cases {
		g := decimal.RequireFromString(gift)
		got := DefaultFees.Cover(g)
		if got.StringFixed(2) != want {
			t.Errorf("Cover(%s) = %s, want %s", gift, got.StringFixed(2), want)
		}
		total := g.Add(got)
		if total.Sub(DefaultFees.Fee(total)).LessThan(g) {
			t.Errorf("gift %s + cover %s leaves the charity short", gift, got)
		}
		// One penny less would leave the charity short: the cover is the smallest that works.
		less := total.Sub(decimal.New(1, -2))
		if !less.Sub(DefaultFees.Fee(less)).LessThan(g) {
			t.Errorf("Cover(%s) = %s is more than needed", gift, got)
		}
	}
}
