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

// Each scope has its own sentence naming the charity (not the appeal), and the stored
// wording is that sentence and the terms, exactly as the form shows them.
func TestGiftAidWordingFollowsScope(t *testing.T) {
	t.Parallel()
	const charity = "Freedom Trust UK"
	seen := map[string]bool{}
	for _, c := range giftaid.Scopes(charity) {
		if seen[c.Sentence] || !strings.HasSuffix(c.Sentence, " to Freedom Trust UK.") {
			t.Errorf("scope %s: sentence %q, want its own, naming the charity", c.Value, c.Sentence)
		}
		seen[c.Sentence] = true
		if got, want := giftaid.Wording(charity, c.Value), c.Sentence+" "+giftaid.DeclarationTerms(charity); got != want {
			t.Errorf("scope %s: wording %q, want the sentence then the terms %q", c.Value, got, want)
		}
	}
	past := giftaid.Wording(charity, giftaid.ScopeThisFutureAndPast)
	for _, want := range []string{"in the future or have made in the past 4 years", "I am a UK taxpayer",
		"it is my responsibility to pay any difference", "I will tell Freedom Trust UK if I want to cancel this declaration",
		"change my name or home address", "no longer pay sufficient tax", "Self Assessment tax return"} {
		if !strings.Contains(past, want) {
			t.Errorf("wording lacks %q: %s", want, past)
		}
	}
	if strings.Contains(past, "Fundraising for Freedom") {
		t.Errorf("the declaration names the appeal, not the charity: %s", past)
	}
}
