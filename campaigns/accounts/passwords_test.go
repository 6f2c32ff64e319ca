package accounts

import (
	"strings"
	"testing"
)

// NIST SP 800-63B: refuse what an attacker tries first, require nothing else.
func TestPasswordProblemRefusesGuessablePasswords(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		password, email, says string
	}{
		{strings.Repeat(" ", 12), "", "spaces only"},
		{"\t \t \t \t \t \t ", "", "spaces only"},
		{"aaaaaaaaaaaa", "", "repeats"},
		{"abcabcabcabc", "", "repeats"},
		{"121212121212", "", "repeats"},
		{"123456789012", "", "run of characters"},
		{"abcdefghijkl", "", "run of characters"},
		{"987654321098", "", "run of characters"},
		{"qazwsxedcrfv", "", "most commonly used"},
		{"QWERTY123456", "", "most commonly used"},
		{"1q2w3e4r5t6y", "", "most commonly used"},
		{"Sunshine2024!", "", "digits or symbols added"},
		{"123456password", "", "digits or symbols added"},
		{"Fundraising for Freedom", "", "site's name"},
		{"giving123456", "", "site's name"},
		{"Ruby.Smith 2024!", "ruby.smith@example.org", "your email"},
		{"ruby.smith@example.org", "Ruby.Smith@example.org", "your email"},
	} {
		got := PasswordProblem(c.password, c.email)
		if !strings.Contains(got, c.says) {
			t.Errorf("%q: %q, want it refused as %q", c.password, got, c.says)
		}
	}
	for _, ok := range []string{"a long enough passphrase", "correct horse battery", "three words is plenty",
		"Zebra lamp October", "pa55-word-safe-here", "sam likes the sea", "1234 abcd wxyz", "sam's own long passphrase"} {
		if got := PasswordProblem(ok, "sam@example.org"); got != "" {
			t.Errorf("%q refused: %s", ok, got)
		}
	}
}
