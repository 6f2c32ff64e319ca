package accounts

import (
	_ "embed"
	"fmt"
	"giving/campaigns"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A new password is checked as NIST SP 800-63B asks: long enough, and not one an attacker
// tries first (a common password, a character or pattern repeated, a run like 123456789012,
// only spaces, the account's own email or the site's name). No composition rules: a long
// passphrase of plain words is fine.

//go:embed common_passwords.txt
var commonPasswordsText string

// commonPasswords is the blocklist, lower-cased.
var commonPasswords = func() map[string]struct{} {
	m := make(map[string]struct{}, 10000)
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[line] = struct{}{}
		}
	}
	return m
}()

// siteWords are names of this site a password must not simply be.
var siteWords = []string{"giving", strings.ToLower(campaigns.CharityName), strings.ToLower(strings.ReplaceAll(campaigns.CharityName, " ", ""))}

const chooseAnother = " Choose another: three or four unrelated words make a strong password that is easy to remember."

// PasswordProblem explains what is wrong with a new password, or returns "" when it will do.
// email, when known, is the account's address, which the password must not contain.
func PasswordProblem(password string, email ...string) string {
	switch n := utf8.RuneCountInString(password); {
	case n < MinPasswordLen:
		return fmt.Sprintf("The password must be at least %d characters long.", MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Sprintf("The password must be at most %d characters long.", MaxPasswordLen)
	}
	lower := strings.ToLower(password)
	switch {
	case strings.TrimSpace(password) == "":
		return "A password of spaces only is easy to guess." + chooseAnother
	case repeated(lower):
		return "A password that repeats one character or a short pattern is easy to guess." + chooseAnother
	case sequence(lower):
		return "A run of characters in order, like 123456789012 or abcdefghijkl, is easy to guess." + chooseAnother
	}
	if _, ok := commonPasswords[lower]; ok {
		return "This password is one of the most commonly used, so it is among the first an attacker tries." + chooseAnother
	}
	// A common password or the site's name dressed with digits or symbols ("sunshine2024!")
	// is guessed nearly as fast.
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if _, ok := commonPasswords[core]; ok && core != "" {
		return "This password is a commonly used one with digits or symbols added, so it is easy to guess." + chooseAnother
	}
	for _, w := range siteWords {
		if core == w || strings.ReplaceAll(core, " ", "") == w {
			return "The password must not be this site's name." + chooseAnother
		}
	}
	// The account's own address, or its name part dressed with digits or symbols. A name
	// inside a passphrase ("ruby's own long passphrase") is fine.
	for _, e := range email {
		e = NormalizeEmail(e)
		local, _, _ := strings.Cut(e, "@")
		if e != "" && (strings.Contains(lower, e) || (lettersOnly(local) != "" && lettersOnly(lower) == lettersOnly(local))) {
			return "The password must not be your email address." + chooseAnother
		}
	}
	return ""
}

// repeated: s is one short unit (up to a third of s) over and over, like "aaaa..." or "abcabc...".
func repeated(s string) bool {
	r := []rune(s)
	for unit := 1; unit <= len(r)/3; unit++ {
		if len(r)%unit != 0 {
			continue
		}
		same := true
		for i := unit; i < len(r) && same; i++ {
			same = r[i] == r[i-unit]
		}
		if same {
			return true
		}
	}
	return false
}

// sequence: every character is the one after (or every one the one before) its
// predecessor, digits wrapping from 9 to 0: "123456789012", "zyxwvutsrqpo".
func sequence(s string) bool {
	r := []rune(s)
	step := func(a, b rune, d rune) bool {
		if a >= '0' && a <= '9' && b >= '0' && b <= '9' {
			return (a-'0'+10+d)%10 == b-'0'
		}
		return a+d == b
	}
	for _, d := range []rune{1, -1} {
		all := true
		for i := 1; i < len(r) && all; i++ {
			all = step(r[i-1], r[i], d)
		}
		if all {
			return true
		}
	}
	return false
}

func lettersOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return -1
	}, s)
}
