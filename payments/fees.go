package payments

import "github.com/shopspring/decimal"

// FeeSchedule is a payment method's fee: a percentage of the amount plus a fixed charge,
// at most Cap when Cap is set. Stripe prices UK cards at 1.5% + 20p (standard rates;
// charities can negotiate lower) and Bacs Direct Debit at 1% + 20p, at most £2.
type FeeSchedule struct {
	Percent decimal.Decimal // 1.5 means 1.5%
	Fixed   decimal.Decimal // 0.20
	Cap     decimal.Decimal // 2.00; zero means no cap
}

// DefaultFees is Stripe's standard UK card pricing.
var DefaultFees = FeeSchedule{Percent: decimal.RequireFromString("1.5"), Fixed: decimal.RequireFromString("0.20")}

// DefaultBacsFees is Stripe's standard UK Bacs Direct Debit pricing.
var DefaultBacsFees = FeeSchedule{Percent: decimal.RequireFromString("1"), Fixed: decimal.RequireFromString("0.20"),
	Cap: decimal.RequireFromString("2.00")}

// Fee is what the schedule charges on a payment of total, rounded half up to the penny as
// Stripe rounds its fees, and no more than the cap.
func (f FeeSchedule) Fee(total decimal.Decimal) decimal.Decimal {
	fee := total.Mul(f.Percent).Div(decimal.NewFromInt(100)).Add(f.Fixed).Round(2)
	if f.Cap.IsPositive() && fee.GreaterThan(f.Cap) {
		return f.Cap
	}
	return fee
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
	if capped := gift.Add(f.Cap); f.Cap.IsPositive() && capped.LessThan(total) {
		total = capped // past the cap the fee stops growing: the gift plus the cap is enough
	}
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
