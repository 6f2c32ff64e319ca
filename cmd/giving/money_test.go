package main

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// Each money setting: good values are read exactly; a bad one is one line naming it.
func TestMoneyConfig(t *testing.T) {
	d := decimal.RequireFromString
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

	def, err := loadMoney(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !def.Limits.Min.Equal(d("1")) || !def.Limits.Max.Equal(d("10000")) || !def.Fees.Percent.Equal(d("1.5")) ||
		!def.Fees.Fixed.Equal(d("0.20")) || !def.AggregationLimit.Equal(d("20")) {
		t.Errorf("defaults %+v", def)
	}

	good := []struct {
		env  map[string]string
		read func(moneySettings) decimal.Decimal
		want string
	}{
		{map[string]string{"GIFT_MIN": "5"}, func(m moneySettings) decimal.Decimal { return m.Limits.Min }, "5.00"},
		{map[string]string{"GIFT_MIN": "£2.50"}, func(m moneySettings) decimal.Decimal { return m.Limits.Min }, "2.50"},
		{map[string]string{"GIFT_MAX": "25,000"}, func(m moneySettings) decimal.Decimal { return m.Limits.Max }, "25000.00"},
		{map[string]string{"GIFT_MIN": "50", "GIFT_MAX": "50"}, func(m moneySettings) decimal.Decimal { return m.Limits.Max }, "50.00"},
		{map[string]string{"CARD_FEE_PERCENT": "1.4"}, func(m moneySettings) decimal.Decimal { return m.Fees.Percent }, "1.4"},
		{map[string]string{"CARD_FEE_PERCENT": "0"}, func(m moneySettings) decimal.Decimal { return m.Fees.Percent }, "0"},
		{map[string]string{"CARD_FEE_PERCENT": "10"}, func(m moneySettings) decimal.Decimal { return m.Fees.Percent }, "10"},
		{map[string]string{"CARD_FEE_FIXED": "0"}, func(m moneySettings) decimal.Decimal { return m.Fees.Fixed }, "0"},
		{map[string]string{"CARD_FEE_FIXED": "0.25"}, func(m moneySettings) decimal.Decimal { return m.Fees.Fixed }, "0.25"},
		{map[string]string{"CARD_FEE_FIXED": "5"}, func(m moneySettings) decimal.Decimal { return m.Fees.Fixed }, "5.00"},
		{map[string]string{"GIFT_AID_AGGREGATION_LIMIT": "30"}, func(m moneySettings) decimal.Decimal { return m.AggregationLimit }, "30.00"},
		{map[string]string{"GIFT_AID_AGGREGATION_LIMIT": "1000"}, func(m moneySettings) decimal.Decimal { return m.AggregationLimit }, "1000.00"},
	}
	for _, g := range good {
		m, err := loadMoney(env(g.env))
		if err != nil {
			t.Errorf("%v: %v", g.env, err)
			continue
		}
		if got := g.read(m); !got.Equal(d(g.want)) {
			t.Errorf("%v: read %s, want %s", g.env, got, g.want)
		}
	}

	bad := []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"GIFT_MIN": "one pound"}, "GIFT_MIN"},
		{map[string]string{"GIFT_MIN": "0"}, "GIFT_MIN"},
		{map[string]string{"GIFT_MIN": "0.10"}, "GIFT_MIN"},
		{map[string]string{"GIFT_MIN": "2.999"}, "GIFT_MIN"},
		{map[string]string{"GIFT_MAX": "-5"}, "GIFT_MAX"},
		{map[string]string{"GIFT_MAX": "1e4"}, "GIFT_MAX"},
		{map[string]string{"GIFT_MAX": "$100"}, "GIFT_MAX"},
		{map[string]string{"GIFT_MIN": "50", "GIFT_MAX": "20"}, "GIFT_MIN"},
		{map[string]string{"CARD_FEE_PERCENT": "10.01"}, "CARD_FEE_PERCENT"},
		{map[string]string{"CARD_FEE_PERCENT": "-1"}, "CARD_FEE_PERCENT"},
		{map[string]string{"CARD_FEE_PERCENT": "1e1"}, "CARD_FEE_PERCENT"},
		{map[string]string{"CARD_FEE_PERCENT": "1.5%"}, "CARD_FEE_PERCENT"},
		{map[string]string{"CARD_FEE_FIXED": "0.205"}, "CARD_FEE_FIXED"},
		{map[string]string{"CARD_FEE_FIXED": "5.01"}, "CARD_FEE_FIXED"},
		{map[string]string{"CARD_FEE_FIXED": "20p"}, "CARD_FEE_FIXED"},
		{map[string]string{"CARD_FEE_PERCENT": "0", "CARD_FEE_FIXED": "0"}, "CARD_FEE_PERCENT"},
		{map[string]string{"GIFT_AID_AGGREGATION_LIMIT": "0"}, "GIFT_AID_AGGREGATION_LIMIT"},
		{map[string]string{"GIFT_AID_AGGREGATION_LIMIT": "1000.01"}, "GIFT_AID_AGGREGATION_LIMIT"},
		{map[string]string{"GIFT_AID_AGGREGATION_LIMIT": "twenty"}, "GIFT_AID_AGGREGATION_LIMIT"},
	}
	for _, b := range bad {
		_, err := loadMoney(env(b.env))
		if err == nil {
			t.Errorf("%v: accepted", b.env)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, b.name) || strings.Contains(msg, "\n") || !strings.Contains(msg, "such as") {
			t.Errorf("%v: %q, want one line naming %s with an example", b.env, msg, b.name)
		}
	}
}
