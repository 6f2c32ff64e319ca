package giftaid

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/dbq"
)

// Declaration is a Gift Aid declaration as the donor made it, with the exact wording
// shown (a versioned snapshot) so the charity can prove what was declared.
type Declaration struct {
	Title          string
	FirstName      string
	LastName       string
	House          string
	Postcode       string
	Scope          string // "this", "this_and_future" or "this_future_and_past"
	WordingVersion string
	Wording        string
}

// DeclarationByID returns a stored Gift Aid declaration.
func DeclarationByID(ctx context.Context, s *campaigns.Store, id string) (Declaration, error) {
	r, err := dbq.New(s.Pool()).DeclarationByID(ctx, id)
	g := Declaration(r)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, fmt.Errorf("declaration: %w", campaigns.ErrNotFound)
	}
	return g, err
}

// GiftAidWordingVersion names the declaration text below. Change the text only together
// with the version: every declaration keeps the exact words its donor saw.
const GiftAidWordingVersion = "2026-11-hmrc-model-v1"

// GiftAidScopes are the choices offered to a donor, in order, with their wording.
var GiftAidScopes = []struct{ Value, Label string }{
	{ScopeThis, "This donation only"},
	{ScopeThisAndFuture, "This donation and any I make in the future"},
	{ScopeThisFutureAndPast, "This donation, any I make in the future, and any I have made in the past 4 years"},
}

// GiftAidWording returns the declaration exactly as shown to the donor for amount (e.g.
// "£10.00") and scope, HMRC's model wording.
func GiftAidWording(amount, scope string) string {
	covers := ""
	switch scope {
	case ScopeThisAndFuture:
		covers = " and any donations I make in the future"
	case ScopeThisFutureAndPast:
		covers = " and any donations I make in the future or have made in the past 4 years"
	}
	return fmt.Sprintf("Boost your donation by 25p of Gift Aid for every £1 you donate. "+
		"I want to Gift Aid my donation of %s%s to %s. "+
		"I am a UK taxpayer and understand that if I pay less Income Tax and/or Capital Gains Tax than the amount "+
		"of Gift Aid claimed on all my donations in that tax year it is my responsibility to pay any difference. "+
		"Please tell us if you want to cancel this declaration, change your name or home address, or no longer pay "+
		"sufficient tax on your income and/or capital gains. If you pay Income Tax at the higher or additional rate "+
		"and want to receive the additional tax relief due to you, you must include all your Gift Aid donations on "+
		"your Self Assessment tax return or ask HM Revenue and Customs to adjust your tax code.",
		amount, covers, campaigns.CharityName)
}

var postcodeRE = regexp.MustCompile(`^(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKS-UW]|[A-HK-Y][0-9][ABEHMNPRVWXY]) ?[0-9][ABD-HJLNP-UW-Z]{2})$`)

// NormalisePostcode returns a UK postcode in HMRC's form (capitals, one space before the
// inward code) and whether it has a valid shape.
func NormalisePostcode(s string) (string, bool) {
	p := strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if !postcodeRE.MatchString(p) || len(p) < 5 {
		return strings.TrimSpace(s), false
	}
	return p[:len(p)-3] + " " + p[len(p)-3:], true
}

// Gift Aid declaration scopes (see the package documentation).
const (
	ScopeThis              = "this"
	ScopeThisAndFuture     = "this_and_future"
	ScopeThisFutureAndPast = "this_future_and_past"
)
