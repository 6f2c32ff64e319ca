package payments_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unicode"

	"github.com/shopspring/decimal"

	"giving/payments"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in    string
		pence int64
		err   error // nil: pence is expected
	}{
		// What people type.
		{"25", 2500, nil},
		{"25.50", 2550, nil},
		{"3.5", 350, nil},
		{"3.05", 305, nil},
		{" 3.00 ", 300, nil},
		{"\t3\n", 300, nil},
		{"£3", 300, nil},
		{"£ 3", 300, nil},
		{"£1,000.50", 100050, nil},
		{"1,000", 100000, nil},
		{"1,000,000", 100000000, nil},
		{"999", 99900, nil},
		{"2000", 200000, nil},
		{"0.01", 1, nil},
		{"0.5", 50, nil},
		{"007", 700, nil},
		{"GBP 5", 500, nil},
		{"GBP5", 500, nil},
		{"5 GBP", 500, nil},
		{"5gbp", 500, nil},
		{"gbp 5", 500, nil},
		{"£5 GBP", 500, nil},
		{"GBP £5", 500, nil},
		{"9,999,999,999.99", 999_999_999_999, nil},
		// Fractions of a penny: refused, never rounded.
		{"3.999", 0, payments.ErrAmountSubPenny},
		{"3.001", 0, payments.ErrAmountSubPenny},
		{"3.500", 0, payments.ErrAmountSubPenny},
		{"£1,000.505", 0, payments.ErrAmountSubPenny},
		// Zero and below.
		{"0", 0, payments.ErrAmountNotPositive},
		{"0.00", 0, payments.ErrAmountNotPositive},
		{"£0", 0, payments.ErrAmountNotPositive},
		{"-5", 0, payments.ErrAmountNotPositive},
		{"- 5", 0, payments.ErrAmountNotPositive},
		{"-£5", 0, payments.ErrAmountNotPositive},
		{"£-5", 0, payments.ErrAmountNotPositive},
		{"\u22125", 0, payments.ErrAmountNotPositive},
		{"-0", 0, payments.ErrAmountNotPositive},
		// Other currencies: refused, never converted.
		{"$5", 0, payments.ErrCurrency},
		{"€5", 0, payments.ErrCurrency},
		{"5€", 0, payments.ErrCurrency},
		{"US$5", 0, payments.ErrCurrency},
		{"¥500", 0, payments.ErrCurrency},
		{"5 USD", 0, payments.ErrCurrency},
		{"USD 5", 0, payments.ErrCurrency},
		{"5 eur", 0, payments.ErrCurrency},
		{"5EUR", 0, payments.ErrCurrency},
		// Not plainly a number.
		{"", 0, payments.ErrAmountFormat},
		{"   ", 0, payments.ErrAmountFormat},
		{"abc", 0, payments.ErrAmountFormat},
		{"1e3", 0, payments.ErrAmountFormat},
		{"1E3", 0, payments.ErrAmountFormat},
		{"NaN", 0, payments.ErrAmountFormat},
		{"nan", 0, payments.ErrAmountFormat},
		{"Infinity", 0, payments.ErrAmountFormat},
		{"Inf", 0, payments.ErrAmountFormat},
		{"0x10", 0, payments.ErrAmountFormat},
		{"1_000", 0, payments.ErrAmountFormat},
		{"+5", 0, payments.ErrAmountFormat},
		{"--5", 0, payments.ErrAmountFormat},
		{"5p", 0, payments.ErrAmountFormat},
		{"5 pounds", 0, payments.ErrAmountFormat},
		{"1 000", 0, payments.ErrAmountFormat},
		{"..", 0, payments.ErrAmountFormat},
		{".", 0, payments.ErrAmountFormat},
		{"3.", 0, payments.ErrAmountFormat},
		{".5", 0, payments.ErrAmountFormat},
		{"£.50", 0, payments.ErrAmountFormat},
		{"1.2.3", 0, payments.ErrAmountFormat},
		{"3..5", 0, payments.ErrAmountFormat},
		{"5£", 0, payments.ErrAmountFormat},
		{"££5", 0, payments.ErrAmountFormat},
		{"GBPGBP 5", 0, payments.ErrAmountFormat},
		{"５", 0, payments.ErrAmountFormat}, // full-width digit
		{"٥", 0, payments.ErrAmountFormat}, // Arabic-Indic digit
		{"3.5x", 0, payments.ErrAmountFormat},
		{"3.99x9", 0, payments.ErrAmountFormat},
		{"\xff5", 0, payments.ErrAmountFormat},
		// Thousands groups must be proper groups of three.
		{"1,00", 0, payments.ErrAmountFormat},
		{"1,0000", 0, payments.ErrAmountFormat},
		{"10,00,000", 0, payments.ErrAmountFormat},
		{",100", 0, payments.ErrAmountFormat},
		{"1,", 0, payments.ErrAmountFormat},
		{"1,,000", 0, payments.ErrAmountFormat},
		{"1000,000", 0, payments.ErrAmountFormat},
		{"0,100", 0, payments.ErrAmountFormat},
		{"1.000,50", 0, payments.ErrAmountFormat}, // European style
		{"1,000.5,0", 0, payments.ErrAmountFormat},
		// Too long to be an amount, too large to store.
		{strings.Repeat("1", 33), 0, payments.ErrAmountFormat},
		{"£" + strings.Repeat("0", 31) + "1", 0, payments.ErrAmountFormat},
		{strings.Repeat("0", 31) + "1", 1_00, nil},
		{"10,000,000,000", 0, payments.ErrAmountTooLarge},
		{"99999999999999999999", 0, payments.ErrAmountTooLarge},
	}
	if len(tests) < 30 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tc := range tests {
		got, err := payments.ParseAmount(tc.in)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("ParseAmount(%q) = %v, %v; want error %q", tc.in, got, err, tc.err)
			}
			var ae *payments.AmountError
			if !errors.As(err, &ae) || ae.Reason == "" {
				t.Errorf("ParseAmount(%q): error %v has no reason for the donor", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAmount(%q): unexpected error %v", tc.in, err)
			continue
		}
		p, err := payments.ToPence(got)
		if err != nil || p != tc.pence {
			t.Errorf("ParseAmount(%q) = %s (%d pence, %v); want %d pence", tc.in, got, p, err, tc.pence)
		}
		if got.Exponent() != -2 {
			t.Errorf("ParseAmount(%q) = %s with exponent %d; want -2", tc.in, got, got.Exponent())
		}
	}
}

func TestAmountReasons(t *testing.T) {
	// The reasons are shown to donors as they stand.
	for err, want := range map[error]string{
		payments.ErrAmountFormat:      "Enter an amount in pounds, like 25 or 25.50",
		payments.ErrAmountSubPenny:    "Amounts can't have fractions of a penny",
		payments.ErrAmountNotPositive: "Enter an amount above zero",
		payments.ErrCurrency:          "We can only take gifts in pounds sterling (GBP)",
	} {
		if err.Error() != want {
			t.Errorf("reason %q, want %q", err.Error(), want)
		}
	}
}

func TestAmountLimits(t *testing.T) {
	lim := payments.DefaultLimits
	tests := []struct {
		in     string
		reason string // "" for accepted
	}{
		{"1.00", ""},
		{"3.00", ""},
		{"2000.00", ""},
		{"10000.00", ""},
		{"0.99", "The smallest gift is £1.00"},
		{"0.30", "The smallest gift is £1.00"},
		{"10000.01", "The largest gift is £10,000.00"},
		{"25000", "The largest gift is £10,000.00"},
		{"0", "Enter an amount above zero"},
		{"-1", "Enter an amount above zero"},
		{"5.001", "Amounts can't have fractions of a penny"},
	}
	for _, tc := range tests {
		err := lim.Check(decimal.RequireFromString(tc.in))
		var ae *payments.AmountError
		switch {
		case tc.reason == "" && err != nil:
			t.Errorf("Check(%s) = %v; want nil", tc.in, err)
		case tc.reason != "" && (!errors.As(err, &ae) || ae.Reason != tc.reason):
			t.Errorf("Check(%s) = %v; want %q", tc.in, err, tc.reason)
		}
	}
	custom := payments.AmountLimits{Min: decimal.RequireFromString("5"), Max: decimal.RequireFromString("1234567.5")}
	if err := custom.Check(decimal.RequireFromString("1234567.51")); err == nil || err.Error() != "The largest gift is £1,234,567.50" {
		t.Errorf("custom max: %v", err)
	}
	if err := (payments.AmountLimits{}).Check(decimal.RequireFromString("1000000")); err != nil {
		t.Errorf("zero limits refuse: %v", err)
	}
}

func TestToPence(t *testing.T) {
	ok := map[string]int64{
		"0": 0, "0.01": 1, "3": 300, "3.5": 350, "2000.00": 200000, "2000.000": 200000,
		"9999999999.99": 999_999_999_999,
	}
	for in, want := range ok {
		got, err := payments.ToPence(decimal.RequireFromString(in))
		if err != nil || got != want {
			t.Errorf("ToPence(%s) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"3.999", "0.001", "-0.01", "-5", "10000000000", "1e30", "92233720368547758.08"} {
		if got, err := payments.ToPence(decimal.RequireFromString(in)); err == nil {
			t.Errorf("ToPence(%s) = %d; want error", in, got)
		}
	}
	if _, err := payments.ToPence(decimal.RequireFromString("1.005")); !errors.Is(err, payments.ErrAmountSubPenny) {
		t.Errorf("ToPence(1.005) = %v; want sub-penny error", err)
	}
}

func TestPenceRoundTrip(t *testing.T) {
	for _, p := range []int64{0, 1, 9, 10, 99, 100, 101, 300, 350, 199999, 200000, 1_000_000_00, 999_999_999_999} {
		d := payments.FromPence(p)
		if d.Exponent() != -2 {
			t.Errorf("FromPence(%d) exponent %d", p, d.Exponent())
		}
		back, err := payments.ToPence(d)
		if err != nil || back != p {
			t.Errorf("ToPence(FromPence(%d)) = %d, %v", p, back, err)
		}
		if p == 0 {
			continue
		}
		parsed, err := payments.ParseAmount(payments.FormatAmount(d))
		if err != nil || !parsed.Equal(d) {
			t.Errorf("ParseAmount(FormatAmount(%d)) = %s, %v", p, parsed, err)
		}
		parsed, err = payments.ParseAmount(payments.FormatPounds(d))
		if err != nil || !parsed.Equal(d) {
			t.Errorf("ParseAmount(FormatPounds(%d)) = %s, %v", p, parsed, err)
		}
	}
	// Refund deltas are negative; FromPence keeps them exact.
	if got := payments.FromPence(-250); got.String() != "-2.5" || payments.FormatAmount(got) != "-2.50" {
		t.Errorf("FromPence(-250) = %s", got)
	}
	if got := payments.FromPence(math.MaxInt64); payments.FormatAmount(got) != "92233720368547758.07" {
		t.Errorf("FromPence(max) = %s", payments.FormatAmount(got))
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ in, amount, pounds string }{
		{"2000", "2000.00", "£2,000.00"},
		{"3", "3.00", "£3.00"},
		{"3.5", "3.50", "£3.50"},
		{"0", "0.00", "£0.00"},
		{"0.01", "0.01", "£0.01"},
		{"999.99", "999.99", "£999.99"},
		{"1000", "1000.00", "£1,000.00"},
		{"12345.6", "12345.60", "£12,345.60"},
		{"123456", "123456.00", "£123,456.00"},
		{"1234567.89", "1234567.89", "£1,234,567.89"},
		{"-5", "-5.00", "-£5.00"},
		{"-1234.5", "-1234.50", "-£1,234.50"},
	}
	for _, tc := range tests {
		d := decimal.RequireFromString(tc.in)
		if got := payments.FormatAmount(d); got != tc.amount {
			t.Errorf("FormatAmount(%s) = %q, want %q", tc.in, got, tc.amount)
		}
		if got := payments.FormatPounds(d); got != tc.pounds {
			t.Errorf("FormatPounds(%s) = %q, want %q", tc.in, got, tc.pounds)
		}
	}
}

func TestCheckCurrency(t *testing.T) {
	for _, c := range []string{"gbp", "GBP", "Gbp"} {
		if err := payments.CheckCurrency(c); err != nil {
			t.Errorf("CheckCurrency(%q) = %v", c, err)
		}
	}
	for _, c := range []string{"", "usd", "eur", "USD", "gb", "gbpx", " gbp", "£"} {
		if err := payments.CheckCurrency(c); !errors.Is(err, payments.ErrCurrency) {
			t.Errorf("CheckCurrency(%q) = %v; want the GBP error", c, err)
		}
	}
	if got := payments.ErrCurrency.Error(); got != "We can only take gifts in pounds sterling (GBP)" {
		t.Errorf("currency reason %q", got)
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{
		"25", "25.50", "3.5", " 3.00 ", "£3", "£1,000.50", "1,000", "GBP 5", "5 GBP", "0.01",
		"3.999", "0", "-5", "-£5", "abc", "", "1e3", "NaN", "Infinity", "$5", "€5", "5 USD",
		"1,00", "..", "3.", ".5", "9,999,999,999.99", "10,000,000,000", "٥", "\xff", "£-0.00",
		strings.Repeat("9", 40),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := payments.ParseAmount(s)
		if err != nil {
			var ae *payments.AmountError
			if !errors.As(err, &ae) || ae.Reason == "" {
				t.Fatalf("ParseAmount(%q): error %v is not an AmountError with a reason", s, err)
			}
			return
		}
		if d.Sign() <= 0 {
			t.Fatalf("ParseAmount(%q) = %s, not above zero", s, d)
		}
		if d.Exponent() != -2 || !d.Shift(2).IsInteger() {
			t.Fatalf("ParseAmount(%q) = %s, more than two decimals", s, d)
		}
		p, err := payments.ToPence(d)
		if err != nil {
			t.Fatalf("ToPence(ParseAmount(%q) = %s): %v", s, d, err)
		}
		if back := payments.FromPence(p); !back.Equal(d) {
			t.Fatalf("FromPence(ToPence(%s)) = %s", d, back)
		}
		again, err := payments.ParseAmount(payments.FormatAmount(d))
		if err != nil || !again.Equal(d) {
			t.Fatalf("ParseAmount(FormatAmount(%s)) = %s, %v", d, again, err)
		}
		// An independent, looser reading must agree: drop the currency marks, spaces and
		// separators, and what is left is a plain decimal of the same value.
		plain := strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) || r == '£' || r == ',' {
				return -1
			}
			return r
		}, strings.ReplaceAll(strings.ToUpper(s), "GBP", ""))
		for _, r := range plain {
			if (r < '0' || r > '9') && r != '.' {
				t.Fatalf("ParseAmount(%q) accepted %q, with %q in it", s, d, r)
			}
		}
		if want, err := decimal.NewFromString(plain); err != nil || !want.Equal(d) {
			t.Fatalf("ParseAmount(%q) = %s; plain reading %q gives %s, %v", s, d, plain, want, err)
		}
	})
}
