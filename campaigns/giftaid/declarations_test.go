package giftaid_test

import (
	"strings"
	"testing"

	"giving/campaigns/giftaid"
)

func TestNormalisePostcode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"sw1a1aa", "SW1A 1AA", true}, {" SW1A 1AA ", "SW1A 1AA", true}, {"m1 1ae", "M1 1AE", true},
		{"B33 8TH", "B33 8TH", true}, {"cr26xh", "CR2 6XH", true}, {"DN55 1PT", "DN55 1PT", true},
		{"EC1A 1BB", "EC1A 1BB", true}, {"12345", "12345", false}, {"SW1A", "SW1A", false}, {"", "", false},
		{"QQ1 1AA", "QQ1 1AA", false}, {"SW1A 1AA'; DROP", "SW1A 1AA'; DROP", false},
	}
	for _, c := range cases {
		got, ok := giftaid.NormalisePostcode(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("NormalisePostcode(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestGiftAidWordingFollowsScope(t *testing.T) {
	t.Parallel()
	this := giftaid.GiftAidWording("£10.00", giftaid.ScopeThis)
	past := giftaid.GiftAidWording("£10.00", giftaid.ScopeThisFutureAndPast)
	if !strings.Contains(this, "I want to Gift Aid my donation of £10.00 to Fundraising for Freedom.") {
		t.Errorf("wording for this gift: %s", this)
	}
	if !strings.Contains(past, "in the future or have made in the past 4 years") || !strings.Contains(past, "UK taxpayer") {
		t.Errorf("wording for past and future gifts: %s", past)
	}
}
