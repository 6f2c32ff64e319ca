package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"giving/campaigns"
	"giving/campaigns/outbox"
	"giving/campaigns/testwait"
	"giving/migrations/testdb"
	"giving/web/webtest"
)

// fakeSMTP is a small SMTP server that accepts everything (PLAIN auth, no TLS, so only on
// localhost) except recipients starting "bounce", which it refuses for good.
type fakeSMTP struct {
	addr string
	mu   sync.Mutex
	msgs []receivedMail
	auth []string
}

type receivedMail struct {
	from, to string
	data     string
}

func newFakeSMTP(t *testing.T) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f := &fakeSMTP{addr: ln.Addr().String()}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(conn)
		}
	}()
	return f
}

func (f *fakeSMTP) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	say := func(s string) { _, _ = io.WriteString(conn, s+"\r\n") }
	say("220 fake.example ESMTP")
	var m receivedMail
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch verb {
		case "EHLO", "HELO":
			say("250-fake.example")
			say("250 AUTH PLAIN")
		case "AUTH":
			f.mu.Lock()
			f.auth = append(f.auth, line)
			f.mu.Unlock()
			say("235 ok")
		case "MAIL":
			m = receivedMail{from: line}
			say("250 ok")
		case "RCPT":
			if strings.Contains(strings.ToLower(line), "<bounce") {
				say("550 5.1.1 no such user")
				continue
			}
			m.to = line
			say("250 ok")
		case "DATA":
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			m.data = b.String()
			f.mu.Lock()
			f.msgs = append(f.msgs, m)
			f.mu.Unlock()
			say("250 queued")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

func (f *fakeSMTP) received() []receivedMail {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]receivedMail(nil), f.msgs...)
}

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

func TestSMTPSenderDeliversAMIMEMessage(t *testing.T) {
	t.Parallel()
	srv := newFakeSMTP(t)
	host, port, _ := net.SplitHostPort(srv.addr)
	s := newSMTPSender(smtpConfig{Host: host, Port: port, User: "apikey", Pass: "s3cret", From: "appeal@example.org"}, nil)
	body := "Hello Zoë,\n\n" + strings.Repeat("A long line that must survive intact. ", 10) + "\n.\nA line that is only a dot, above.\n"
	err := s.SendMail(context.Background(), outbox.Mail{To: "zoe@example.org", Subject: "Thank you, Zoë — £25 received", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.received()
	if len(got) != 1 || !strings.Contains(got[0].from, "<appeal@example.org>") || !strings.Contains(got[0].to, "<zoe@example.org>") {
		t.Fatalf("received %+v", got)
	}
	if len(srv.auth) != 1 || !strings.Contains(srv.auth[0], base64.StdEncoding.EncodeToString([]byte("\x00apikey\x00s3cret"))) {
		t.Errorf("auth %q, want PLAIN with the URL's user and password", srv.auth)
	}
	// Undo the SMTP dot-stuffing, then read it as a mail client would.
	data := strings.ReplaceAll(got[0].data, "\r\n..", "\r\n.")
	msg, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "Thank you, Zoë — £25 received" {
		t.Errorf("subject %q (%v)", subject, err)
	}
	from, err := mail.ParseAddress(msg.Header.Get("From"))
	if err != nil || from.Address != "appeal@example.org" || from.Name != campaigns.CharityName {
		t.Errorf("from %q", msg.Header.Get("From"))
	}
	if msg.Header.Get("To") != "<zoe@example.org>" || msg.Header.Get("Message-Id") == "" || msg.Header.Get("Date") == "" {
		t.Errorf("headers %v", msg.Header)
	}
	if !strings.HasPrefix(msg.Header.Get("Content-Type"), "text/plain; charset=utf-8") {
		t.Errorf("content type %q", msg.Header.Get("Content-Type"))
	}
	decoded, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(body, "\n", "\r\n"); string(decoded) != want {
		t.Errorf("body\n%q\nwant\n%q", decoded, want)
	}
}

func TestSMTPSenderFailures(t *testing.T) {
	t.Parallel()
	srv := newFakeSMTP(t)
	host, port, _ := net.SplitHostPort(srv.addr)
	s := newSMTPSender(smtpConfig{Host: host, Port: port, From: "appeal@example.org"}, nil)
	err := s.SendMail(context.Background(), outbox.Mail{To: "bounce@example.org", Subject: "Hi", Body: "x"})
	if !errors.Is(err, outbox.ErrPermanent) || !strings.Contains(err.Error(), "550") {
		t.Errorf("refused recipient: %v, want a permanent failure", err)
	}
	// A server that is down is worth retrying.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	_, deadPort, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	dead := newSMTPSender(smtpConfig{Host: "127.0.0.1", Port: deadPort, From: "appeal@example.org"}, nil)
	err = dead.SendMail(context.Background(), outbox.Mail{To: "ruby@example.org", Subject: "Hi", Body: "x"})
	if err == nil || errors.Is(err, outbox.ErrPermanent) {
		t.Errorf("server down: %v, want a failure to retry", err)
	}
}

// The whole binary with SMTP_URL: a sign-up's welcome goes to the mail server, once, the
// send is counted, and there is no development outbox page.
func TestServeSendsMailOverSMTP(t *testing.T) {
	t.Parallel()
	srv := newFakeSMTP(t)
	env := map[string]string{"DATABASE_URL": testdb.DSN(t), "SMTP_URL": "smtp://apikey:s3cret@" + srv.addr + "?from=appeal@example.org"}
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
	testwait.Eventually(t, "the mail server received a message", func() bool { return len(srv.received()) != 0 })
	got := srv.received()
	if len(got) != 1 || !strings.Contains(got[0].to, "ruby@example.org") || !strings.Contains(got[0].data, "Subject: Welcome to") {
		t.Fatalf("the mail server received %+v", got)
	}
	// The server has the message before the worker records it: wait for the count.
	testwait.Eventually(t, "the send counted in the metrics", func() bool {
		_, metrics := get(t, s.Metrics)
		return strings.Contains(metrics, `giving_mail_sends_total{outcome="sent"} 1`)
	})
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
