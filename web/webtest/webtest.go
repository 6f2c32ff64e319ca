// Package webtest holds assertions on rendered HTML for the web and command tests:
// they select elements with CSS selectors (github.com/andybalholm/cascadia over
// golang.org/x/net/html) instead of searching the markup for a substring, so a check
// is about an element, an attribute or an element's text, and not about how the
// template happens to space or order its attributes.
//
// Every function takes the body as the server sent it. A selector that does not
// parse always fails the test at once: a typo must never pass as "not found".
//
//	webtest.Find(t, body, "form#donate input[name=amount]") // the matches; fails when none
//	webtest.Text(t, body, "#amount-error")                  // the first match's text, whitespace collapsed
//	webtest.Attr(t, body, `form[action="/login"] input#email`, "aria-invalid")
//	webtest.Count(t, body, "table.audit-log tbody tr")
//	webtest.None(t, body, "#recovery-codes")                // fails when anything matches
//
// NodeText and NodeAttr read the elements Find returns, for checks on each of several.
//
// Only tests import it.
package webtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// excerptLen bounds the markup quoted in a failure message.
const excerptLen = 600

// Find returns the elements of body that match selector, in document order. When
// none match it fails the test at once (t.Fatalf), quoting the selector and an excerpt
// of the markup: of the element matched by the longest leading part of the selector
// that does match, or else of the page's <main> or <body>. So the result is never empty.
func Find(t testing.TB, body, selector string) []*html.Node {
	t.Helper()
	doc, sel := parse(t, body, selector)
	found := sel.MatchAll(doc)
	if len(found) == 0 {
		t.Fatalf("no element matches %q\n%s", selector, nearest(doc, selector))
	}
	return found
}

// Text is the text of the first element that matches selector, as a reader sees it:
// the text nodes in order, with a space where block-level elements and <br> break
// the text, every run of whitespace collapsed to one space, and trimmed. It fails the
// test at once when nothing matches.
func Text(t testing.TB, body, selector string) string {
	t.Helper()
	return NodeText(Find(t, body, selector)[0])
}

// Attr is the value of attribute name on the first element that matches selector.
// It fails the test at once when nothing matches, or when that element has no such
// attribute (so Attr(..., "checked") == "" means the attribute is there, empty).
func Attr(t testing.TB, body, selector, name string) string {
	t.Helper()
	n := Find(t, body, selector)[0]
	if v, ok := NodeAttr(n, name); ok {
		return v
	}
	t.Fatalf("%q matches an element with no %s attribute: %s", selector, name, excerpt(n))
	return ""
}

// Count is how many elements match selector; zero is not a failure.
func Count(t testing.TB, body, selector string) int {
	t.Helper()
	doc, sel := parse(t, body, selector)
	return len(sel.MatchAll(doc))
}

// None asserts that no element matches selector. When one does it fails the test
// (t.Errorf, so the test goes on), quoting the first element that matches.
func None(t testing.TB, body, selector string) {
	t.Helper()
	doc, sel := parse(t, body, selector)
	if found := sel.MatchAll(doc); len(found) > 0 {
		t.Errorf("want no element matching %q; %d do, the first: %s", selector, len(found), excerpt(found[0]))
	}
}

// NodeAttr is the value of attribute name on n, and whether n has it: for the
// elements Find returns.
func NodeAttr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

// NodeText is n's text, normalised as Text normalises it.
func NodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			return
		case html.CommentNode:
			return
		case html.ElementNode:
			if n.Data == "script" || n.Data == "style" || n.Data == "template" {
				return
			}
		}
		block := n.Type == html.ElementNode && !inline[n.Data]
		if block {
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if block {
			b.WriteByte(' ')
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// inline are the phrasing elements that do not break the text around them.
var inline = map[string]bool{
	"a": true, "abbr": true, "b": true, "bdi": true, "bdo": true, "cite": true, "code": true,
	"data": true, "del": true, "dfn": true, "em": true, "i": true, "ins": true, "kbd": true,
	"label": true, "mark": true, "q": true, "s": true, "samp": true, "small": true, "span": true,
	"strong": true, "sub": true, "sup": true, "time": true, "u": true, "var": true, "wbr": true,
}

func parse(t testing.TB, body, selector string) (*html.Node, cascadia.Selector) {
	t.Helper()
	sel, err := cascadia.Compile(selector)
	if err != nil {
		t.Fatalf("bad selector %q: %v", selector, err)
	}
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML for %q: %v", selector, err)
	}
	return doc, sel
}

// nearest describes where the search for selector gave out: the longest leading part
// of the selector that matches, and an excerpt of the element it matches.
func nearest(doc *html.Node, selector string) string {
	parts := compounds(selector)
	for i := len(parts) - 1; i > 0; i-- {
		prefix := strings.TrimRight(strings.Join(parts[:i], ""), " >+~")
		sel, err := cascadia.Compile(prefix)
		if err != nil {
			continue
		}
		if found := sel.MatchAll(doc); len(found) > 0 {
			return fmt.Sprintf("%q matches %d element(s), but nothing after it does; the first is:\n%s", prefix, len(found), excerpt(found[0]))
		}
	}
	for _, tag := range []string{"main", "body"} {
		if n := cascadia.MustCompile(tag).MatchFirst(doc); n != nil {
			return fmt.Sprintf("the page's <%s> is:\n%s", tag, excerpt(n))
		}
	}
	return "the page is:\n" + excerpt(doc)
}

// compounds splits selector before each combinator outside brackets, parentheses and
// quotes, each piece keeping the combinator that leads into it; nil for a selector list.
func compounds(selector string) []string {
	var parts []string
	depth, start := 0, 0
	var quote rune
	for i, r := range selector {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '[' || r == '(':
			depth++
		case r == ']' || r == ')':
			depth--
		case r == ',' && depth == 0:
			return nil
		case depth == 0 && strings.ContainsRune(" >+~", r):
			if i > start && !strings.ContainsRune(" >+~", rune(selector[i-1])) {
				parts = append(parts, selector[start:i])
				start = i
			}
		}
	}
	return append(parts, selector[start:])
}

// excerpt is n's markup with whitespace collapsed, cut to excerptLen bytes.
func excerpt(n *html.Node) string {
	var b strings.Builder
	if err := html.Render(&b, n); err != nil {
		return fmt.Sprintf("(cannot render: %v)", err)
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	if len(s) > excerptLen {
		cut := excerptLen
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + " …"
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
