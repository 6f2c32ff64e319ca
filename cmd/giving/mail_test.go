package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/campaignstest"
	"giving/campaigns/outbox"
	"giving/campaigns/outbox/mailpittest"
	"giving/campaigns/testwait"
	"giving/migrations/testdb"
	"giving/web/webtest"
)

func TestSMTPURL(t *testing.T) {
	t.Parallel()
	good := map[string]smtpConfig{
		"smtp://apikey:s3cret@mail.example.org:2525?from=appeal@example.org": {Host: "mail.example.org", Port: "2525", User: "apikey", Pass: "s3cret", From: "appeal@example.org"},
		"smtp://mail.example.org":                              {Host: "mail.example.org", Port: "587"},
		"smtps://appeal%40example.org:s3cret@mail.example.org": {Host: "mail.example.org", Port: "465", User: "appeal@example.org", Pass: "s3cret", ImplicitTLS: true, From: "appeal@example.org"},
	}
	for raw, want := range good {
		got, err := parseSMTPURL(envFrom(map[string]string{"SMTP_URL": raw}))
		if err != nil || got == nil || *got != want {
			t.Errorf("%s: %+v, %v; want %+v", raw, got, err, want)
			continue
		}
		if strings.Contains(got.String(), "s3cret") {
			t.Errorf("%s: the printed form shows the password: %s", raw, got)
		}
	}
	if c, err := parseSMTPURL(envFrom(nil)); c != nil || err != nil {
		t.Errorf("unset: %v, %v; want the local outbox", c, err)
	}
	for _, raw := range []string{
		"mail.example.org:587",
		"http://user:s3cret@mail.example.org",
		"smtp://user:s3cret@",
		"smtp://user:s3cret@mail.example.org:587/inbox",
		"smtp://user:s3cret@mail.example.org:587?from=not-an-address",
		"smtp://user:s3cret@mail.example.org:587?tls=off",
		"smtp://user:s3cret@mail example.org:587",
	} {
		_, err := loadConfig(envFrom(map[string]string{"SMTP_URL": raw}), needs{})
		if err == nil || !strings.Contains(err.Error(), "SMTP_URL") || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want one line naming SMTP_URL without the password", raw, err)
		}
	}
}

// smtpTestBody is an email's text with what breaks naive MIME: non-ASCII, a line far past
// 78 characters, a line that is only a dot, markup, and a link.
const smtpTestBody = "Hello Zoë,\n\n" + "A long line that must survive intact. A long line that must survive intact. A long line that must survive intact.\n" +
	".\nA line that is only a dot, above. <b>Not bold</b> & not markup.\n\nChoose a new password: https://give.example.org/reset/abc123\n"

// crlf normalises line ends as a mail client reading the part would.
func crlf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

func mailpitSender(mp *mailpittest.Server, c smtpConfig, now time.Time) *smtpSender {
	c.Host, c.Port = mp.Host, mp.Port
	s := newSMTPSender(c, nil, func() time.Time { return now })
	s.tls = mp.TLSConfig
	return s
}

// A message goes through a real SMTP server (Mailpit), logged in with the URL's user and
// password, and arrives as a mail client reads it: the charity's name and address as the
// sender, the subject in UTF-8, the date from the store's clock, a Message-ID of the
// sender's domain, the text part exactly, and an HTML part rendered from it whose link is
// the text's link.
func TestSMTPSenderDeliversTextAndHTML(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Start(t, mailpittest.Options{Users: map[string]string{"apikey": "s3cret"}})
	when := time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC)
	s := mailpitSender(mp, smtpConfig{User: "apikey", Pass: "s3cret", From: "appeal@example.org"}, when)
	subject := "Thank you, Zoë — £25 received"
	if err := s.SendMail(context.Background(), outbox.Mail{To: "zoe@example.org", Subject: subject, Body: smtpTestBody}); err != nil {
		t.Fatal(err)
	}
	msgs := mp.Messages(t)
	if len(msgs) != 1 {
		t.Fatalf("mailpit received %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From == nil || m.From.Name != campaigns.CharityName || m.From.Address != "appeal@example.org" {
		t.Errorf("from %+v", m.From)
	}
	if len(m.To) != 1 || m.To[0].Address != "zoe@example.org" {
		t.Errorf("to %+v", m.To)
	}
	if m.Subject != subject || !m.Date.Equal(when) || m.Username != "apikey" {
		t.Errorf("subject %q, date %s, login %q", m.Subject, m.Date, m.Username)
	}
	if !strings.HasSuffix(m.MessageID, "@example.org") || len(m.MessageID) < 40 {
		t.Errorf("Message-ID %q", m.MessageID)
	}
	if crlf(m.Text) != smtpTestBody {
		t.Errorf("text part\n%q\nwant\n%q", m.Text, smtpTestBody)
	}
	if want := outbox.RenderHTML(subject, smtpTestBody); crlf(m.HTML) != want {
		t.Errorf("HTML part\n%s\nwant\n%s", m.HTML, want)
	}
	if href := webtest.Attr(t, m.HTML, "a", "href"); href != "https://give.example.org/reset/abc123" {
		t.Errorf("the HTML part links to %q", href)
	}
	if got := webtest.Text(t, m.HTML, "p:nth-of-type(2)"); !strings.HasSuffix(got, "intact. . A line that is only a dot, above. <b>Not bold</b> & not markup.") {
		t.Errorf("the HTML part reads %q", got)
	}
	h := mp.Headers(t, m.ID)
	if got := h["Auto-Submitted"]; len(got) != 1 || got[0] != "auto-generated" {
		t.Errorf("Auto-Submitted %q", got)
	}
	if ct := strings.Join(h["Content-Type"], ""); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type %q, want multipart/alternative", ct)
	}
	raw := mp.Raw(t, m.ID)
	if i, j := strings.Index(raw, "text/plain"), strings.Index(raw, "text/html"); i < 0 || j < i {
		t.Errorf("want the text part before the HTML part (clients show the last they can):\n%s", raw)
	}

	// The caller's own HTML part is sent as it is.
	own := "<!DOCTYPE html><p>Own <a href=\"https://give.example.org/x\">link</a></p>"
	if err := s.SendMail(context.Background(), outbox.Mail{To: "zoe@example.org", Subject: "Own", Body: "Own text", HTML: own}); err != nil {
		t.Fatal(err)
	}
	if msgs := mp.Messages(t); len(msgs) != 2 || crlf(msgs[1].HTML) != own || crlf(msgs[1].Text) != "Own text" {
		t.Errorf("with the caller's HTML: %+v", msgs[len(msgs)-1])
	}

	// A wrong password is the operator's to fix: retried, never given up.
	bad := mailpitSender(mp, smtpConfig{User: "apikey", Pass: "wrong", From: "appeal@example.org"}, when)
	err := bad.SendMail(context.Background(), outbox.Mail{To: "zoe@example.org", Subject: "Hi", Body: "x"})
	if err == nil || errors.Is(err, outbox.ErrPermanent) || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong password: %v, want a failure to retry that does not show the password", err)
	}
	if n := len(mp.Messages(t)); n != 2 {
		t.Errorf("%d messages after a refused login, want 2", n)
	}
}

// smtp:// upgrades with STARTTLS, and smtps:// speaks TLS from the start, verifying the
// server's certificate, before the password is sent: Mailpit here refuses anything
// unencrypted.
func TestSMTPSenderTLS(t *testing.T) {
	t.Parallel()
	for _, implicit := range []bool{false, true} {
		name := "STARTTLS"
		if implicit {
			name = "implicit TLS"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			mp := mailpittest.Start(t, mailpittest.Options{Users: map[string]string{"apikey": "s3cret"}, STARTTLS: !implicit, ImplicitTLS: implicit})
			c := smtpConfig{User: "apikey", Pass: "s3cret", From: "appeal@example.org", ImplicitTLS: implicit}
			s := mailpitSender(mp, c, time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC))
			if err := s.SendMail(context.Background(), outbox.Mail{To: "ruby@example.org", Subject: "Over TLS", Body: "Hello Ruby"}); err != nil {
				t.Fatal(err)
			}
			msgs := mp.Messages(t)
			if len(msgs) != 1 || msgs[0].Subject != "Over TLS" || msgs[0].Username != "apikey" || crlf(msgs[0].Text) != "Hello Ruby" {
				t.Fatalf("received %+v", msgs)
			}
			// A certificate the system does not trust stops the send (retried: it may be fixed).
			untrusting := mailpitSender(mp, c, time.Now())
			untrusting.tls = nil
			err := untrusting.SendMail(context.Background(), outbox.Mail{To: "ruby@example.org", Subject: "Hi", Body: "x"})
			if err == nil || errors.Is(err, outbox.ErrPermanent) || !strings.Contains(err.Error(), "certificate") {
				t.Errorf("untrusted certificate: %v, want a failure to retry naming the certificate", err)
			}
			if n := len(mp.Messages(t)); n != 1 {
				t.Errorf("%d messages, want 1", n)
			}
		})
	}
}

// A recipient the server refuses for good (550) is a permanent failure; a temporary refusal
// (451) and a server that is down are retried, and the retry goes through.
func TestSMTPSenderFailures(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Start(t, mailpittest.Options{AllowedRecipients: `^ruby@example\.org$`, Chaos: true})
	s := mailpitSender(mp, smtpConfig{From: "appeal@example.org"}, time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC))
	ctx := context.Background()
	err := s.SendMail(ctx, outbox.Mail{To: "bounce@example.org", Subject: "Hi", Body: "x"})
	if !errors.Is(err, outbox.ErrPermanent) || !strings.Contains(err.Error(), "550") {
		t.Errorf("refused recipient: %v, want a permanent failure with the server's 550", err)
	}
	mp.SetRecipientFailure(t, 451)
	err = s.SendMail(ctx, outbox.Mail{To: "ruby@example.org", Subject: "Hi", Body: "x"})
	if err == nil || errors.Is(err, outbox.ErrPermanent) || !strings.Contains(err.Error(), "451") {
		t.Errorf("busy server: %v, want a failure to retry", err)
	}
	mp.SetRecipientFailure(t, 0)
	if err := s.SendMail(ctx, outbox.Mail{To: "ruby@example.org", Subject: "Hi", Body: "x"}); err != nil {
		t.Errorf("the retry: %v", err)
	}
	if msgs := mp.Messages(t); len(msgs) != 1 || msgs[0].To[0].Address != "ruby@example.org" {
		t.Errorf("received %+v, want only Ruby's message", msgs)
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	_, deadPort, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	dead := newSMTPSender(smtpConfig{Host: "127.0.0.1", Port: deadPort, From: "appeal@example.org"}, nil, time.Now)
	err = dead.SendMail(ctx, outbox.Mail{To: "ruby@example.org", Subject: "Hi", Body: "x"})
	if err == nil || errors.Is(err, outbox.ErrPermanent) {
		t.Errorf("server down: %v, want a failure to retry", err)
	}
}

// Two River clients (as in two instances) work one outbox through the SMTP sender, and the
// mail server receives every message exactly once.
func TestTwoInstancesSendEachMailOnceOverSMTP(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Start(t, mailpittest.Options{Users: map[string]string{"apikey": "s3cret"}})
	s := campaignstest.Store(t, 8)
	ctx := context.Background()
	const n = 20
	for i := range n {
		err := s.InTx(ctx, func(tx pgx.Tx) error {
			return outbox.QueueMail(ctx, tx, outbox.Mail{To: fmt.Sprintf("supporter%d@example.org", i), Subject: fmt.Sprintf("Thank you, supporter %d", i), Body: "Thank you."})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sender := newSMTPSender(smtpConfig{Host: mp.Host, Port: mp.Port, User: "apikey", Pass: "s3cret", From: "appeal@example.org"}, nil, s.Now)
	mailpittest.SendWithInstances(t, s, 2, sender)
	msgs := mp.Messages(t)
	got := map[string]int{}
	ids := map[string]bool{}
	for _, m := range msgs {
		got[m.To[0].Address]++
		ids[m.MessageID] = true
		if want := "Thank you, " + strings.TrimSuffix(strings.Replace(m.To[0].Address, "supporter", "supporter ", 1), "@example.org"); m.Subject != want {
			t.Errorf("%s got %q, want %q", m.To[0].Address, m.Subject, want)
		}
	}
	if len(msgs) != n || len(got) != n || len(ids) != n {
		t.Errorf("mailpit received %d messages for %d recipients with %d Message-IDs, want %d of each", len(msgs), len(got), len(ids), n)
	}
	for to, k := range got {
		if k != 1 {
			t.Errorf("%s received %d copies", to, k)
		}
	}
}

// The whole binary with SMTP_URL: a sign-up's welcome goes to the mail server, once, with
// both parts carrying the same working confirmation link; the send is counted, and there is
// no development outbox page.
func TestServeSendsMailOverSMTP(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Start(t, mailpittest.Options{Users: map[string]string{"apikey": "s3cret"}})
	env := map[string]string{"DATABASE_URL": testdb.DSN(t), "SMTP_URL": "smtp://apikey:s3cret@" + mp.SMTPAddr() + "?from=appeal@example.org"}
	s := start(t, env, "serve")
	if code, _ := get(t, s.URL+"/dev/outbox"); code != http.StatusNotFound {
		t.Errorf("/dev/outbox with SMTP_URL: %d, want 404", code)
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(s.URL+"/signup", url.Values{"display_name": {"Ruby"}, "email": {"ruby@example.org"}, "password": {"three words is plenty"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign up: %d", resp.StatusCode)
	}
	testwait.Eventually(t, "the mail server received a message", func() bool { return len(mp.Messages(t)) != 0 })
	// The server has the message before the worker records it: wait for the count.
	testwait.Eventually(t, "the send counted in the metrics", func() bool {
		_, metrics := get(t, s.Metrics)
		return strings.Contains(metrics, `giving_mail_sends_total{outcome="sent"} 1`)
	})
	msgs := mp.Messages(t)
	if len(msgs) != 1 {
		t.Fatalf("the mail server received %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.To[0].Address != "ruby@example.org" || m.From.Address != "appeal@example.org" || m.Username != "apikey" ||
		m.Subject != "Welcome to "+campaigns.CharityName+": confirm your email address" || !strings.HasPrefix(m.Text, "Hello Ruby,") {
		t.Fatalf("received %+v", m)
	}
	var link string
	for _, a := range webtest.Find(t, m.HTML, "a") {
		if href, _ := webtest.NodeAttr(a, "href"); strings.HasPrefix(href, s.URL+"/signup/confirm/") {
			link = href
		}
	}
	if link == "" || !strings.Contains(crlf(m.Text), "\n"+link+"\n") {
		t.Fatalf("the confirmation link %q is not in both parts:\n%s\n%s", link, m.Text, m.HTML)
	}
	if code, page := get(t, link); code != http.StatusOK || webtest.Text(t, page, "main h1") == "" {
		t.Errorf("the emailed link: %d", code)
	}
}

// Without SMTP_URL the development outbox is served on a local site only: it shows every
// reset link, so a public copy without SMTP_URL must not serve it.
func TestDevOutboxOnlyOnALocalSite(t *testing.T) {
	t.Parallel()
	dsn := testdb.DSN(t)
	local := start(t, map[string]string{"DATABASE_URL": dsn}, "serve")
	if code, page := get(t, local.URL+"/dev/outbox"); code != http.StatusOK || webtest.Text(t, page, "main h1") != "Outbox" {
		t.Errorf("/dev/outbox on a local site without SMTP_URL: %d", code)
	}
	public := start(t, map[string]string{"DATABASE_URL": dsn, "BASE_URL": "https://give.example.org"}, "serve")
	if code, _ := get(t, public.URL+"/dev/outbox"); code != http.StatusNotFound {
		t.Errorf("/dev/outbox on a public site: %d, want 404", code)
	}
}

func TestLiveKeyNeedsSMTP(t *testing.T) {
	t.Parallel()
	_, err := runCmd(t, map[string]string{"DATABASE_URL": testdb.DSN(t), "STRIPE_SECRET_KEY": "sk_live_x",
		"STRIPE_WEBHOOK_SECRET": "whsec_x", "BASE_URL": "https://give.example.org", "LISTEN_ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0",
		"CHARITY_NAME": "Freedom Trust UK", "CHARITY_NUMBER": "1234567", "CHARITY_ADDRESS": "1 High Street, London EC1A 1AA",
		"CHARITY_EMAIL": "supporters@example.org"}, "serve")
	if err == nil || !strings.Contains(err.Error(), "SMTP_URL") {
		t.Fatalf("serve with a live key and no SMTP_URL: %v", err)
	}
}
