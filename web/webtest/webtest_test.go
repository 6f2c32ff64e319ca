package webtest

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing: Fatalf stops the
// call under test as the testing package's would, by unwinding its goroutine.
type recorder struct {
	testing.TB
	errors []string
	fatal  bool
}

type stopped struct{}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
	r.fatal = true
	panic(stopped{})
}

// run calls f with a recorder and reports what it recorded.
func run(t *testing.T, f func(testing.TB)) *recorder {
	t.Helper()
	r := &recorder{TB: t}
	func() {
		defer func() {
			if v := recover(); v != nil {
				if _, ok := v.(stopped); !ok {
					panic(v)
				}
			}
		}()
		f(r)
	}()
	return r
}

const page = `<!doctype html>
<html><head><title>Donate · Giving</title></head>
<body>
<main id="main">
  <h1 id="donate-h">Give   to the
     appeal</h1>
  <form id="donate" method="post" action="/donate" novalidate>
    <label for="amount">Amount</label>
    <p class="field-error" id="amount-error">Enter an amount<br>of at least £1</p>
    <input type="text" id="amount" name="amount" value="" aria-invalid="true" aria-describedby="amount-error">
    <input type="checkbox" id="gift_aid" name="gift_aid" value="1" checked>
    <input type="checkbox" id="news" name="news" value="1">
    <p>Your <strong>£10.00</strong> gift, <a href="/about">read more</a>.</p>
    <button type="submit">Donate</button>
  </form>
  <ul class="wall"><li>Ada</li><li>Bob</li><li class="anon">Anonymous</li></ul>
</main>
</body></html>`

func TestFind(t *testing.T) {
	if got := Find(t, page, "form#donate input[name=amount]"); len(got) != 1 || got[0].Data != "input" {
		t.Errorf("Find: %v", got)
	}
	if got := Find(t, page, "ul.wall li"); len(got) != 3 {
		t.Errorf("Find ul.wall li: %d matches, want 3", len(got))
	}
	if got := Find(t, page, `form[action="/donate"] > button[type=submit]`); len(got) != 1 {
		t.Errorf("child combinator: %d", len(got))
	}
}

func TestFindFailsWhenNothingMatches(t *testing.T) {
	r := run(t, func(tb testing.TB) { Find(tb, page, "form#donate input[name=amonut]") })
	if !r.fatal || len(r.errors) != 1 {
		t.Fatalf("a selector that matches nothing should fail the test at once: %+v", r)
	}
	msg := r.errors[0]
	for _, want := range []string{
		`"form#donate input[name=amonut]"`, // the selector
		`"form#donate" matches 1`,          // where the search gave out
		`<form id="donate"`,                // and an excerpt from there
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %s:\n%s", want, msg)
		}
	}
	if len(msg) > 2*excerptLen {
		t.Errorf("message is %d bytes; the excerpt should be trimmed:\n%s", len(msg), msg)
	}

	// With no leading part matching, the excerpt is of <main>.
	r = run(t, func(tb testing.TB) { Text(tb, page, "section.thanks h1") })
	if !r.fatal || !strings.Contains(r.errors[0], `<main id="main">`) {
		t.Errorf("Text of a missing element: %+v", r)
	}
}

func TestBadSelectorFails(t *testing.T) {
	for _, sel := range []string{"form[name=", "##donate", "input[", ""} {
		for name, f := range map[string]func(testing.TB){
			"Find":  func(tb testing.TB) { Find(tb, page, sel) },
			"Count": func(tb testing.TB) { Count(tb, page, sel) },
			"None":  func(tb testing.TB) { None(tb, page, sel) },
		} {
			if r := run(t, f); !r.fatal || !strings.Contains(r.errors[0], "bad selector") {
				t.Errorf("%s(%q) should fail as a bad selector: %+v", name, sel, r)
			}
		}
	}
}

func TestTextNormalisesWhitespace(t *testing.T) {
	for sel, want := range map[string]string{
		"h1":                        "Give to the appeal",
		"#amount-error":             "Enter an amount of at least £1", // <br> breaks the text
		"form p:not([id])":          "Your £10.00 gift, read more.",   // inline elements do not
		"ul.wall":                   "Ada Bob Anonymous",              // block elements do
		"title":                     "Donate · Giving",
		"ul.wall li:nth-of-type(2)": "Bob",
	} {
		if got := Text(t, page, sel); got != want {
			t.Errorf("Text(%q) = %q, want %q", sel, got, want)
		}
	}
	// The first match, when several do.
	if got := Text(t, page, "ul.wall li"); got != "Ada" {
		t.Errorf("Text of several: %q", got)
	}
}

func TestAttr(t *testing.T) {
	if got := Attr(t, page, "form#donate", "action"); got != "/donate" {
		t.Errorf("action %q", got)
	}
	if got := Attr(t, page, "#amount", "aria-describedby"); got != "amount-error" {
		t.Errorf("aria-describedby %q", got)
	}
	if got := Attr(t, page, "#gift_aid", "checked"); got != "" {
		t.Errorf("checked %q", got)
	}
	r := run(t, func(tb testing.TB) { Attr(tb, page, "#news", "checked") })
	if !r.fatal || !strings.Contains(r.errors[0], "with no checked attribute") || !strings.Contains(r.errors[0], `id="news"`) {
		t.Errorf("a missing attribute should fail: %+v", r)
	}
}

func TestCountAndNone(t *testing.T) {
	for sel, want := range map[string]int{
		"ul.wall li":               3,
		"input[type=checkbox]":     2,
		"input[checked]":           1,
		"#recovery-codes":          0,
		"[aria-invalid=true]":      1,
		"main form label, main h1": 2,
	} {
		if got := Count(t, page, sel); got != want {
			t.Errorf("Count(%q) = %d, want %d", sel, got, want)
		}
	}
	if r := run(t, func(tb testing.TB) { None(tb, page, "#recovery-codes") }); len(r.errors) != 0 {
		t.Errorf("None of an absent element failed: %v", r.errors)
	}
	r := run(t, func(tb testing.TB) { None(tb, page, "li.anon") })
	if r.fatal || len(r.errors) != 1 || !strings.Contains(r.errors[0], `"li.anon"`) || !strings.Contains(r.errors[0], "Anonymous") {
		t.Errorf("None of a present element should fail, and go on: %+v", r)
	}
}

func TestCompounds(t *testing.T) {
	for sel, want := range map[string][]string{
		"form#donate input[name=amount]": {"form#donate", " input[name=amount]"},
		`a > b[title="x y"] c`:           {"a", " > b[title=\"x y\"]", " c"},
		"a, b":                           nil,
		"p:not(.x .y)":                   {"p:not(.x .y)"},
	} {
		if got := compounds(sel); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("compounds(%q) = %q, want %q", sel, got, want)
		}
	}
}
