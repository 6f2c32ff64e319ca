package outbox

import (
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"giving/campaigns"
)

// urlPattern finds web addresses in a plain-text email; trailing punctuation is trimmed off
// by linkify, since a sentence may end just after an address.
var urlPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// wrapWidth: a line at least this long, followed by one that carries on the sentence in
// lower case, was only wrapped to fit a plain-text reader (the emails are written wrapped
// at about 90 columns), so the HTML part joins the two and lets the reader's screen wrap.
const wrapWidth = 60

// RenderHTML is the HTML part of an email whose caller wrote only text: every character
// escaped, a paragraph for each run of lines between blank lines, the other line breaks
// kept (except a break that only wrapped a long line of prose, see wrapWidth), every
// http(s) address a link showing the address itself, and a short footer with the charity's
// name. It uses inline styles only, no images, scripts, remote fonts or colours of its own
// (the reader's mail client picks the colours, so dark mode works), and declares the
// language and both colour schemes.
func RenderHTML(subject, text string) string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="supported-color-schemes" content="light dark">
<title>`)
	b.WriteString(html.EscapeString(subject))
	b.WriteString(`</title>
</head>
<body style="margin:0;padding:0;">
<div role="article" aria-label="`)
	b.WriteString(html.EscapeString(subject))
	b.WriteString(`" lang="en-GB" style="max-width:36em;margin:0 auto;padding:24px 16px;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;">
`)
	for _, para := range paragraphs(text) {
		b.WriteString(`<p style="margin:0 0 16px 0;">`)
		for i, line := range para {
			if i > 0 {
				if joinLines(para[i-1], line) {
					b.WriteString(" ")
				} else {
					b.WriteString("<br>\n")
				}
			}
			b.WriteString(linkify(strings.TrimRight(line, " \t")))
		}
		b.WriteString("</p>\n")
	}
	b.WriteString(`<p style="margin:32px 0 0 0;padding-top:12px;border-top:1px solid #999999;font-size:14px;">`)
	b.WriteString(html.EscapeString(campaigns.CharityName))
	b.WriteString(`</p>
</div>
</body>
</html>
`)
	return b.String()
}

// paragraphs splits text at blank lines (whitespace only), dropping empty runs.
func paragraphs(text string) [][]string {
	var out [][]string
	var cur []string
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			if cur != nil {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, line)
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

// joinLines says whether the break between prev and next only wrapped prose: prev is long
// and next carries on in lower case.
func joinLines(prev, next string) bool {
	if utf8.RuneCountInString(strings.TrimRight(prev, " \t")) < wrapWidth {
		return false
	}
	r, _ := utf8.DecodeRuneInString(next)
	return unicode.IsLower(r)
}

// linkify escapes line and makes each web address in it a link to itself.
func linkify(line string) string {
	var b strings.Builder
	last := 0
	for _, m := range urlPattern.FindAllStringIndex(line, -1) {
		start, end := m[0], m[1]
		end = start + len(strings.TrimRight(line[start:end], ".,;:!?)]}'"))
		if end-start <= len("https://") {
			continue
		}
		u := line[start:end]
		b.WriteString(html.EscapeString(line[last:start]))
		b.WriteString(`<a href="`)
		b.WriteString(html.EscapeString(u))
		b.WriteString(`" style="overflow-wrap:anywhere;word-break:break-word;">`)
		b.WriteString(html.EscapeString(u))
		b.WriteString(`</a>`)
		last = end
	}
	b.WriteString(html.EscapeString(line[last:]))
	return b.String()
}

// WithFooter ends m with foot (plain text, a line each): after a "--" line in the text
// part, and as a small paragraph at the foot of the HTML part (before the end of its
// article, where RenderHTML puts the charity's name), each address a link. An empty foot
// changes nothing.
func WithFooter(m Mail, foot string) Mail {
	foot = strings.TrimSpace(foot)
	if foot == "" {
		return m
	}
	m.Body = strings.TrimRight(m.Body, " \t\r\n") + "\n\n--\n" + foot + "\n"
	var b strings.Builder
	b.WriteString(`<p style="margin:8px 0 0 0;font-size:13px;line-height:1.4;">`)
	for i, line := range strings.Split(foot, "\n") {
		if i > 0 {
			b.WriteString("<br>\n")
		}
		b.WriteString(linkify(strings.TrimSpace(line)))
	}
	b.WriteString("</p>\n")
	at := strings.LastIndex(m.HTML, "</div>")
	if at < 0 {
		at = strings.LastIndex(m.HTML, "</body>")
	}
	if at < 0 {
		m.HTML += b.String()
	} else {
		m.HTML = m.HTML[:at] + b.String() + m.HTML[at:]
	}
	return m
}
