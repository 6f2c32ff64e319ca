package main

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"giving/campaigns/giftaid"
	"giving/payments"
)

// moneySettings are the charity's own choices about money, from the environment: the
// smallest and largest gift online, the card fee a donor may offer to cover, and the
// size at or under which Gift Aid gifts go into an aggregated row of the HMRC schedule.
type moneySettings struct {
	Limits           payments.AmountLimits
	Fees             payments.FeeSchedule
	BacsFees         payments.FeeSchedule // Direct Debit: a percentage plus a fixed fee, capped
	AggregationLimit decimal.Decimal
}

// loadMoney reads the money settings. Each is parsed as an exact decimal (never a float);
// a bad one stops the start with a line naming it, its range and an example.
func loadMoney(getenv func(string) string) (moneySettings, error) {
	m := moneySettings{Limits: payments.DefaultLimits, Fees: payments.DefaultFees, BacsFees: payments.DefaultBacsFees, AggregationLimit: giftaid.DefaultAggregationLimit}
	read := func(name string, into *decimal.Decimal, min, max decimal.Decimal, minIncluded, pence bool, example string) error {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return nil
		}
		var d decimal.Decimal
		ok := false
		if pence {
			// Pounds go through the same parser as a donor's amount: exact pence, "£" allowed,
			// "1e1", "+5" and fractions of a penny refused. It refuses zero, which a fixed fee
			// may be, so a plain zero is read here.
			if strings.Trim(v, "0.") == "" && strings.Count(v, ".") <= 1 && strings.Trim(v, ".") != "" {
				d, ok = decimal.Zero, true
			} else if p, err := payments.ParseAmount(v); err == nil {
				d, ok = p, true
			}
		} else {
			// A percentage: plain digits and one point only; decimal.NewFromString would also
			// take "1e1" or "+5", which nobody means.
			p, err := decimal.NewFromString(v)
			if err == nil && strings.Trim(v, "0123456789.") == "" && strings.Count(v, ".") <= 1 {
				d, ok = p, true
			}
		}
		ok = ok && d.LessThanOrEqual(max) && (d.GreaterThan(min) || (minIncluded && d.Equal(min)))
		if !ok {
			rng := fmt.Sprintf("above %s", min)
			if minIncluded {
				rng = fmt.Sprintf("from %s", min)
			}
			unit := ""
			if pence {
				unit = ", in whole pence"
			}
			return fmt.Errorf("%s=%q must be a number %s to %s%s, such as %s", name, v, rng, max, unit, example)
		}
		*into = d
		return nil
	}
	zero, pounds := decimal.Zero, func(s string) decimal.Decimal { return decimal.RequireFromString(s) }
	for _, s := range []struct {
		name        string
		into        *decimal.Decimal
		min, max    decimal.Decimal
		minIncluded bool
		pence       bool
		example     string
	}{
		{"GIFT_MIN", &m.Limits.Min, pounds("0.30"), pounds("100000"), true, true, "1.00"},
		{"GIFT_MAX", &m.Limits.Max, pounds("0.30"), pounds("100000"), true, true, "10000.00"},
		{"CARD_FEE_PERCENT", &m.Fees.Percent, zero, pounds("10"), true, false, "1.5"},
		{"CARD_FEE_FIXED", &m.Fees.Fixed, zero, pounds("5"), true, true, "0.20"},
		{"BACS_FEE_PERCENT", &m.BacsFees.Percent, zero, pounds("10"), true, false, "1"},
		{"BACS_FEE_FIXED", &m.BacsFees.Fixed, zero, pounds("5"), true, true, "0.20"},
		{"BACS_FEE_CAP", &m.BacsFees.Cap, zero, pounds("50"), true, true, "2.00 (0 for no cap)"},
		{"GIFT_AID_AGGREGATION_LIMIT", &m.AggregationLimit, zero, pounds("1000"), false, true, "20 or 30.00"},
	} {
		if err := read(s.name, s.into, s.min, s.max, s.minIncluded, s.pence, s.example); err != nil {
			return m, err
		}
	}
	// web.New reads an all-zero schedule as "not set" and uses the default, so 0 + 0 would
	// silently become 1.5% + 20p; refuse it rather than surprise the charity.
	if m.Fees.Percent.IsZero() && m.Fees.Fixed.IsZero() {
		return m, fmt.Errorf("CARD_FEE_PERCENT and CARD_FEE_FIXED must not both be 0 (the fee offer would add nothing), such as 1.5 and 0.20")
	}
	if m.BacsFees.Percent.IsZero() && m.BacsFees.Fixed.IsZero() {
		return m, fmt.Errorf("BACS_FEE_PERCENT and BACS_FEE_FIXED must not both be 0 (the fee offer would add nothing), such as 1 and 0.20")
	}
	if m.Limits.Min.GreaterThan(m.Limits.Max) {
		return m, fmt.Errorf("GIFT_MIN (%s) must not be above GIFT_MAX (%s), such as GIFT_MIN=1.00 and GIFT_MAX=10000.00", m.Limits.Min.StringFixed(2), m.Limits.Max.StringFixed(2))
	}
	return m, nil
}
