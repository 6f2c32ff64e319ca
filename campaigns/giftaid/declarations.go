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
	// OwnMoneyConfirmed: a fundraiser giving on her own page confirmed the gift is her own
	// money, not money she collected from others.
	OwnMoneyConfirmed bool
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
const GiftAidWordingVersion = "2026-12-hmrc-model-v2"

// ScopeChoice is one choice of what a declaration covers, as the donate form offers it:
// Sentence is the declaration's own first sentence for that scope, naming the charity.
type ScopeChoice struct{ Value, Sentence string }

// Scopes are the choices offered to a donor, in order, each with its own sentence.
// charity is the charity's legal name (CHARITY_NAME): the declaration is made to the
// charity, never to an appeal.
func Scopes(charity string) []ScopeChoice {
	return []ScopeChoice{
		{ScopeThis, ScopeSentence(charity, ScopeThis)},
		{ScopeThisAndFuture, ScopeSentence(charity, ScopeThisAndFuture)},
		{ScopeThisFutureAndPast, ScopeSentence(charity, ScopeThisFutureAndPast)},
	}
}

// ScopeSentence is HMRC's model sentence for scope, naming the charity ("" for a scope
// that is not one of the three).
func ScopeSentence(charity, scope string) string {
	switch scope {
	case ScopeThis:
		return "I want to Gift Aid this donation to " + charity + "."
	case ScopeThisAndFuture:
		return "I want to Gift Aid this donation and any donations I make in the future to " + charity + "."
	case ScopeThisFutureAndPast:
		return "I want to Gift Aid this donation and any donations I make in the future or have made in the past 4 years to " + charity + "."
	}
	return ""
}

// DeclarationTerms is the rest of the declaration, the same whatever it covers: the tax
// the donor must have paid, and that she tells the charity when that or her name or home
// address changes.
func DeclarationTerms(charity string) string {
	return "I am a UK taxpayer and understand that if I pay less Income Tax and/or Capital Gains Tax than the amount " +
		"of Gift Aid claimed on all my donations in that tax year it is my responsibility to pay any difference. " +
		"I will tell " + charity + " if I want to cancel this declaration, change my name or home address, or no longer " +
		"pay sufficient tax on my income and/or capital gains. If I pay Income Tax at the higher or additional rate and " +
		"want to receive the additional tax relief due to me, I must include all my Gift Aid donations on my Self " +
		"Assessment tax return or ask HM Revenue and Customs to adjust my tax code."
}

// Wording is the whole declaration a donor makes by ticking the box with scope chosen:
// the scope's sentence, one space, then the terms, each exactly as the donate form shows
// them (web/templates/_donate.html renders ScopeSentence and DeclarationTerms). It is what
// a declaration stores, with GiftAidWordingVersion.
func Wording(charity, scope string) string {
	return ScopeSentence(charity, scope) + " " + DeclarationTerms(charity)
}

// OverseasPostcode is the postcode HMRC's schedule takes for a donor whose home is outside
// the UK; her full address then goes in the house name or number field.
const OverseasPostcode = "X"

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
