package payments

// This file is the one place where money changes representation: between the decimal
// pounds the service keeps (shopspring/decimal, numeric(12,2) in PostgreSQL) and the
// integer pence Stripe speaks. Nothing here ever goes through float64, so there is no
// binary rounding anywhere on the way from a donor's keyboard to a Stripe charge.

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// AmountError is a problem with an amount. Reason is written for the donor and is shown
// beside the form field as it stands.
type AmountError struct{ Reason string }

func (e *AmountError) Error() string { return e.Reason }

// The fixed reasons are sentinels, so callers may use errors.Is as well as errors.As.
// Limit errors (AmountLimits.Check) carry the configured limit and are made afresh.
var (
	ErrAmountFormat      = &AmountError{"Enter an amount in pounds, like 25 or 25.50"}
	ErrAmountSubPenny    = &AmountError{"Amounts can't have fractions of a penny"}
	ErrAmountNotPositive = &AmountError{"Enter an amount above zero"}
	ErrAmountTooLarge    = &AmountError{"That amount is too large for us to take online"}
	ErrCurrency          = &AmountError{"We can only take gifts in pounds sterling (GBP)"}
)

const (
	// maxAmountInput bounds what ParseAmount will look at: "£9,999,999,999.99 GBP" is 21
	// characters, so anything beyond 32 is not an amount and is refused unread.
	maxAmountInput = 32
	// maxPence is the largest amount numeric(12,2) can store (£9,999,999,999.99). Parsing
	// and conversion share it so any amount ParseAmount accepts also converts and stores.
	maxPence int64 = 999_999_999_999
	// maxWholeDigits is the number of pound digits in maxPence; capping digits before
	// converting means strconv can never overflow.
	maxWholeDigits = 10
)

// ParseAmount reads an amount in pounds as people type it and returns it with exactly
// two decimal places (exponent -2).
//
// Accepted: "25", "25.50", "3.5" (= 3.50), " 3.00 ", "£3", "£ 3", "1,000", "£1,000.50",
// "GBP 5", "5 GBP", "5gbp". Thousands separators are optional but, when used, must make
// proper groups of three ("1,000,000", not "1,00" or "10,00,000").
//
// Refused, with a reason for the donor:
//   - fractions of a penny ("3.999", also "3.500", which may be a European 3,500);
//   - zero and negatives ("0", "0.00", "-5", "-£5");
//   - other currencies ("$5", "€5", "5 USD"): refused, never converted;
//   - anything that is not plainly a number: "", "abc", "1e3", "NaN", "Infinity", "0x10",
//     "1 000", "..", "+5", full-width or other non-ASCII digits, more than 32 characters.
//
// A stray point at either end ("3." or ".5") is refused as a likely typo: did "3." mean
// £3 or was "3.50" cut short? Asking costs the donor one keystroke; guessing wrong costs
// them money.
//
// ParseAmount checks form only; whether a gift of that size is welcome is AmountLimits'
// business.
func ParseAmount(s string) (decimal.Decimal, error) {
	t := strings.TrimSpace(s)
	if t == "" || utf8.RuneCountInString(t) > maxAmountInput || !utf8.ValidString(t) {
		return decimal.Zero, ErrAmountFormat
	}
	// Any currency symbol but the pound means another currency, wherever it appears
	// ("$5", "US$5", "5€").
	for _, r := range t {
		if r != '£' && unicode.Is(unicode.Sc, r) {
			return decimal.Zero, ErrCurrency
		}
	}
	neg := false
	t, neg = trimMinus(t, neg)
	t, err := trimCurrency(t)
	if err != nil {
		return decimal.Zero, err
	}
	t, neg = trimMinus(t, neg) // "£-5" as well as "-£5"

	pence, err := parsePence(t)
	if err != nil {
		return decimal.Zero, err
	}
	if neg || pence == 0 {
		return decimal.Zero, ErrAmountNotPositive
	}
	return FromPence(pence), nil
}

// trimMinus strips one leading minus sign (ASCII or U+2212), remembering it was there.
func trimMinus(t string, neg bool) (string, bool) {
	if neg {
		return t, neg
	}
	for _, m := range []string{"-", "\u2212"} {
		if rest, ok := strings.CutPrefix(t, m); ok {
			return strings.TrimSpace(rest), true
		}
	}
	return t, false
}

// trimCurrency strips the marks of pounds sterling: a leading "£", and a "GBP" code
// before or after the number (either or both). A three-letter code other than GBP is
// refused as another currency.
func trimCurrency(t string) (string, error) {
	if code, rest, ok := cutCode(t, true); ok {
		if !strings.EqualFold(code, "GBP") {
			return "", ErrCurrency
		}
		t = rest
	}
	if code, rest, ok := cutCode(t, false); ok {
		if !strings.EqualFold(code, "GBP") {
			return "", ErrCurrency
		}
		t = rest
	}
	if rest, ok := strings.CutPrefix(t, "£"); ok {
		t = strings.TrimSpace(rest)
	}
	return t, nil
}

// cutCode finds a three-letter code at the start (leading) or end of t that stands apart
// from the number: "GBP 5", "GBP5", "5 usd". "abc" or "NaN" alone are not codes (nothing
// is left), and neither are the ends of longer words like "Infinity".
func cutCode(t string, leading bool) (code, rest string, ok bool) {
	if len(t) < 4 {
		return "", "", false
	}
	var other byte
	if leading {
		code, rest, other = t[:3], t[3:], t[3]
	} else {
		code, rest, other = t[len(t)-3:], t[:len(t)-3], t[len(t)-4]
	}
	if !isASCIILetters(code) || isASCIILetter(other) {
		return "", "", false
	}
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return "", "", false
	}
	return code, rest, true
}

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

func isASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isASCIILetter(s[i]) {
			return false
		}
	}
	return true
}

func isASCIIDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parsePence reads "1,234.5" as 123450 using integers only.
func parsePence(t string) (int64, error) {
	whole, frac, hasPoint := strings.Cut(t, ".")
	if whole == "" || (hasPoint && frac == "") || !isASCIIDigits(frac) {
		return 0, ErrAmountFormat
	}
	if strings.Contains(whole, ",") {
		groups := strings.Split(whole, ",")
		// The first group has one to three digits and no leading zero ("0,100" is not a
		// way of writing a hundred); every later group has exactly three.
		if first := groups[0]; len(first) == 0 || len(first) > 3 || first[0] == '0' {
			return 0, ErrAmountFormat
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return 0, ErrAmountFormat
			}
		}
		whole = strings.Join(groups, "")
	}
	if !isASCIIDigits(whole) {
		return 0, ErrAmountFormat
	}
	// Only now, with a well-formed number, is a third decimal place about pennies.
	if len(frac) > 2 {
		return 0, ErrAmountSubPenny
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > maxWholeDigits {
		return 0, ErrAmountTooLarge
	}
	// "3.5" means 3.50: pad the pence on the right, never round.
	digits := whole + frac + strings.Repeat("0", 2-len(frac))
	p, err := strconv.ParseInt(digits, 10, 64) // at most 12 digits: cannot overflow
	if err != nil {
		return 0, ErrAmountFormat
	}
	if p > maxPence {
		return 0, ErrAmountTooLarge
	}
	return p, nil
}

// AmountLimits bound a single gift. A zero Max means no upper limit beyond what can be
// stored.
type AmountLimits struct{ Min, Max decimal.Decimal }

// DefaultLimits: from £1.00 (Stripe's own minimum is 30p, but below a pound the card fee
// takes a large share of the gift) to £10,000.00 online; larger gifts are better made by
// bank transfer, which costs the charity nothing.
var DefaultLimits = AmountLimits{Min: decimal.New(100, -2), Max: decimal.New(10_000_00, -2)}

// Check refuses an amount outside the limits, or one that is not a whole number of pence,
// with a reason for the donor such as "The smallest gift is £1.00".
func (l AmountLimits) Check(d decimal.Decimal) error {
	if d.Sign() <= 0 {
		return ErrAmountNotPositive
	}
	if !d.Shift(2).IsInteger() {
		return ErrAmountSubPenny
	}
	if d.LessThan(l.Min) {
		return &AmountError{"The smallest gift is " + FormatPounds(l.Min)}
	}
	if l.Max.Sign() > 0 && d.GreaterThan(l.Max) {
		return &AmountError{"The largest gift is " + FormatPounds(l.Max)}
	}
	return nil
}

// ToPence is the one conversion from pounds to Stripe's integer minor units. It refuses
// rather than rounds: an amount that is not a whole number of pence is a bug upstream, and
// silently charging a different sum would hide it. Negative amounts and amounts beyond
// numeric(12,2) are refused too; zero is allowed (a zero fee).
func ToPence(d decimal.Decimal) (int64, error) {
	p := d.Shift(2)
	if !p.IsInteger() {
		return 0, ErrAmountSubPenny
	}
	if p.Sign() < 0 {
		return 0, fmt.Errorf("amount %s is negative", d.String())
	}
	if p.GreaterThan(decimal.NewFromInt(maxPence)) {
		return 0, fmt.Errorf("amount %s is out of range", d.String())
	}
	return p.IntPart(), nil
}

// FromPence is the one conversion from Stripe's minor units to pounds. Exact: the result
// has exponent -2 and needs no rounding. Negative pence (a refund delta) are fine.
func FromPence(p int64) decimal.Decimal { return decimal.New(p, -2) }

// FormatAmount writes an amount with exactly two decimals and no symbol ("2000.00",
// "-5.00"), as JSON and CSV carry money. Amounts in the service are whole pence, so this
// never rounds; were it handed a sub-penny value it would round half away from zero.
func FormatAmount(d decimal.Decimal) string { return d.StringFixed(2) }

// FormatPounds writes an amount for people: "£2,000.00", "-£5.00".
func FormatPounds(d decimal.Decimal) string {
	whole, frac, _ := strings.Cut(d.Abs().StringFixed(2), ".")
	var b strings.Builder
	if d.Shift(2).Round(0).Sign() < 0 {
		b.WriteByte('-')
	}
	b.WriteString("£")
	for i := 0; i < len(whole); i++ {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(whole[i])
	}
	b.WriteByte('.')
	b.WriteString(frac)
	return b.String()
}

// CheckCurrency accepts GBP only ("gbp" as Stripe writes it, or "GBP"): other currencies
// are refused, never converted.
func CheckCurrency(c string) error {
	if strings.EqualFold(c, "gbp") {
		return nil
	}
	return ErrCurrency
}
