package outbox_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"golang.org/x/net/html"

	"giving/campaigns"
	"giving/campaigns/campaignstest"
	"giving/campaigns/outbox"
	"giving/web/webtest"
)

// textWithBreaks is n's text with a line break for each <br>.
func textWithBreaks(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.ElementNode && c.Data == "br":
			b.WriteString("\n")
		case c.Type == html.TextNode:
			b.WriteString(strings.ReplaceAll(c.Data, "\n", ""))
		default:
			b.WriteString(webtest.NodeText(c))
		}
	}
	return b.String()
}

// A text-only email gets an HTML part a reader can use: the text escaped, paragraphs at blank
// lines, short lines kept, lines only wrapped for plain text joined, addresses as links, the
// charity's name at the foot, and nothing fetched or run.
func TestRenderHTMLFromText(t *testing.T) {
	t.Parallel()
	text := "Hello Zoë <script>alert(1)</script> & friends,\n" +
		"\n" +
		"Thank you for signing up to fundraise for us. To confirm that this is\n" +
		"your email address and log in, open this link. It works once:\n" +
		"\n" +
		"https://give.example.org/signup/confirm/abc?x=1&y=2\n" +
		"\n" +
		"Amount: £10.00\n" +
		"Date: 4 December 2026\n" +
		"See https://give.example.org/manage. Or reply.\n"
	page := outbox.RenderHTML("Welcome <Zoë>", text)

	if got := webtest.Text(t, page, "title"); got != "Welcome <Zoë>" {
		t.Errorf("title %q", got)
	}
	if got := webtest.Attr(t, page, "html", "lang"); got != "en-GB" {
		t.Errorf("lang %q", got)
	}
	for _, bad := range []string{"<script", "<img", "<link", "<style", "src=", "http://", "background"} {
		if strings.Contains(page, bad) {
			t.Errorf("the HTML part contains %q:\n%s", bad, page)
		}
	}
	if !strings.Contains(page, `content="light dark"`) {
		t.Error("no color-scheme: dark mode clients may not adapt it")
	}
	var paras []string
	for _, p := range webtest.Find(t, page, `div[role="article"] > p`) {
		paras = append(paras, textWithBreaks(p))
	}
	want := []string{
		"Hello Zoë <script>alert(1)</script> & friends,",
		// The wrapped sentence is one line; the break before the colon's list stays.
		"Thank you for signing up to fundraise for us. To confirm that this is your email address and log in, open this link. It works once:",
		"https://give.example.org/signup/confirm/abc?x=1&y=2",
		"Amount: £10.00\nDate: 4 December 2026\nSee https://give.example.org/manage. Or reply.",
		campaigns.CharityName,
	}
	if strings.Join(paras, "|") != strings.Join(want, "|") {
		t.Errorf("paragraphs\n%q\nwant\n%q", paras, want)
	}
	var links []string
	for _, a := range webtest.Find(t, page, "a") {
		href, _ := webtest.NodeAttr(a, "href")
		if text := webtest.NodeText(a); text != href {
			t.Errorf("a link to %q shows %q, want the address itself", href, text)
		}
		links = append(links, href)
	}
	if strings.Join(links, " ") != "https://give.example.org/signup/confirm/abc?x=1&y=2 https://give.example.org/manage" {
		t.Errorf("links %q (the full stop after an address is not part of it)", links)
	}
}

// QueueMail keeps the caller's own HTML part, and renders one when there is none.
func TestQueueMailStoresBothParts(t *testing.T) {
	t.Parallel()
	s := campaignstest.Store(t, 8)
	ctx := context.Background()
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if err := outbox.QueueMail(ctx, tx, outbox.Mail{To: "own@example.org", Subject: "Own", Body: "Text", HTML: "<p>Own HTML</p>"}); err != nil {
			return err
		}
		return outbox.QueueMail(ctx, tx, outbox.Mail{To: "text@example.org", Subject: "Text only", Body: "Just text"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := outboxRowFor(t, s, "own@example.org"); r.html != "<p>Own HTML</p>" || r.body != "Text" {
		t.Errorf("caller's HTML: %+v", r)
	}
	if r := outboxRowFor(t, s, "text@example.org"); r.html != outbox.RenderHTML("Text only", "Just text") {
		t.Errorf("rendered HTML: %q", r.html)
	}
}

// The footer ends both parts: after a "--" line in the text, and inside the HTML article,
// its address a link.
func TestWithFooter(t *testing.T) {
	m := outbox.Mail{To: "ada@example.org", Subject: "Your receipt", Body: "Hello Ada,\n\nThank you.\n"}
	m.HTML = outbox.RenderHTML(m.Subject, m.Body)
	foot := "Freedom Trust UK, registered charity number 1234567.\nStop emails about our work: https://give.example.org/preferences/abc.def"
	got := outbox.WithFooter(m, foot)
	if want := "Hello Ada,\n\nThank you.\n\n--\n" + foot + "\n"; got.Body != want {
		t.Errorf("text part:\n%q\nwant\n%q", got.Body, want)
	}
	if !strings.Contains(got.HTML, `<a href="https://give.example.org/preferences/abc.def"`) ||
		strings.Index(got.HTML, "Freedom Trust UK") > strings.LastIndex(got.HTML, "</div>") {
		t.Errorf("HTML part lacks the footer inside its article:\n%s", got.HTML)
	}
	if same := outbox.WithFooter(m, " "); same != m {
		t.Error("an empty footer changed the message")
	}
}
