package payments

import "github.com/shopspring/decimal"

// FeeSchedule is a card fee: a percentage of the amount plus a fixed charge, as Stripe
// prices UK cards (1.5% + 20p at standard rates; charities can negotiate lower).
type FeeSchedule struct {
	Percent decimal.Decimal // 1.5 means 1.5%
	Fixed   decimal.Decimal // 0.20
}

// DefaultFees is Stripe's standard UK card pricing.
var DefaultFees = FeeSchedule{Percent: decimal.RequireFromString("1.5"), Fixed: decimal.RequireFromString("0.20")}

// Fee is what the schedule charges on a payment of total, rounded half up to the penny as
// Stripe rounds its fees.
func (f FeeSchedule) Fee(total decimal.Decimal) decimal.Decimal {
	return total.Mul(f.Percent).Div(decimal.NewFromInt(100)).Add(f.Fixed).Round(2)
}

// Cover is the extra a donor adds so that the charity receives at least gift after the fee:
// the smallest total T, in whole pence, with T - Fee(T) >= gift. The rule is stated to
// donors as "rounded up to the next penny, so the charity never receives less than your
// gift".
func (f FeeSchedule) Cover(gift decimal.Decimal) decimal.Decimal {
	rate := f.Percent.Div(decimal.NewFromInt(100))
	// T = (gift + fixed) / (1 - rate), rounded up, then adjusted by pennies for Stripe's
	// half-up rounding of the fee.
	total := gift.Add(f.Fixed).Div(decimal.NewFromInt(1).Sub(rate)).RoundCeil(2)
	penny := decimal.New(1, -2)
	for total.Sub(f.Fee(total)).LessThan(gift) {
		total = total.Add(penny)
	}
	// The fee's own rounding can also make a penny less enough.
	for less := total.Sub(penny); less.GreaterThan(gift) && !less.Sub(f.Fee(less)).LessThan(gift); less = less.Sub(penny) {
		total = less
	}
	return total.Sub(gift)
}
