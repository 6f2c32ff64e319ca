package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"giving/campaigns"
	"giving/campaigns/outbox"
	"giving/payments"
)

// smtpConfig is SMTP_URL: smtp://user:password@host:587 (STARTTLS when the server offers
// it, and required before a password is sent to anything but localhost) or
// smtps://user:password@host:465 (TLS from the start); ?from=appeal@example.org sets the
// sender, which otherwise is the user name when it is an address, else no-reply@ the
// BASE_URL host.
type smtpConfig struct {
	Host, Port  string
	User, Pass  string
	ImplicitTLS bool
	From        string
}

// String never includes the password.
func (c smtpConfig) String() string {
	scheme := "smtp"
	if c.ImplicitTLS {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(c.Host, c.Port)}
	if c.User != "" {
		u.User = url.User(c.User)
	}
	return u.String()
}

const smtpURLHelp = "SMTP_URL must be smtp://user:password@host:587 or smtps://user:password@host:465, optionally with ?from=appeal@example.org"

// parseSMTPURL reads SMTP_URL; unset is nil (mail stays in the local outbox). Errors name
// the setting and never repeat its value, which holds a password.
func parseSMTPURL(getenv func(string) string) (*smtpConfig, error) {
	raw := strings.TrimSpace(getenv("SMTP_URL"))
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New(smtpURLHelp)
	}
	c := &smtpConfig{Host: u.Hostname(), Port: u.Port()}
	switch u.Scheme {
	case "smtp":
		if c.Port == "" {
			c.Port = "587"
		}
	case "smtps":
		c.ImplicitTLS = true
		if c.Port == "" {
			c.Port = "465"
		}
	default:
		return nil, fmt.Errorf("%s (the scheme is not smtp or smtps)", smtpURLHelp)
	}
	if c.Host == "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return nil, fmt.Errorf("%s (it needs a host and nothing after it but ?from=)", smtpURLHelp)
	}
	if u.User != nil {
		c.User = u.User.Username()
		c.Pass, _ = u.User.Password()
	}
	q := u.Query()
	for k := range q {
		if k != "from" {
			return nil, fmt.Errorf("%s (unknown parameter %q)", smtpURLHelp, k)
		}
	}
	c.From = q.Get("from")
	if c.From == "" && strings.Contains(c.User, "@") {
		c.From = c.User
	}
	if c.From != "" {
		a, err := mail.ParseAddress(c.From)
		if err != nil || a.Name != "" {
			return nil, fmt.Errorf("%s (from is not a plain email address)", smtpURLHelp)
		}
		c.From = a.Address
	}
	return c, nil
}

// smtpSender sends each message over its own connection with net/smtp: mail is light, and
// a fresh connection cannot be left half-way through a previous message.
type smtpSender struct {
	cfg  smtpConfig
	from string
	helo string
	// tls is nil in production (the system roots, the SMTP host's name); tests trust their own.
	tls *tls.Config
}

// sendTimeout bounds one message end to end; the mail worker's lease is longer.
const sendTimeout = 30 * time.Second

func newSMTPSender(c smtpConfig, base *url.URL) *smtpSender {
	helo := "localhost"
	if base != nil && base.Hostname() != "" && net.ParseIP(base.Hostname()) == nil {
		helo = base.Hostname()
	}
	from := c.From
	if from == "" {
		from = "no-reply@" + helo
	}
	return &smtpSender{cfg: c, from: from, helo: helo}
}

func (s *smtpSender) tlsConfig() *tls.Config {
	if s.tls != nil {
		return s.tls
	}
	return &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
}

func (s *smtpSender) SendMail(ctx context.Context, m outbox.Mail) (err error) {
	msg, err := s.message(m)
	if err != nil {
		return fmt.Errorf("%w: %v", outbox.ErrPermanent, err)
	}
	deadline := time.Now().Add(sendTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	addr := net.JoinHostPort(s.cfg.Host, s.cfg.Port)
	dialer := &net.Dialer{Deadline: deadline}
	var conn net.Conn
	if s.cfg.ImplicitTLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: s.tlsConfig()}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(deadline); err != nil {
		return err
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return fmt.Errorf("smtp greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(s.helo); err != nil {
		return fmt.Errorf("smtp hello: %w", err)
	}
	if !s.cfg.ImplicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tlsConfig()); err != nil {
				return fmt.Errorf("smtp starttls: %w", err)
			}
		}
	}
	if s.cfg.User != "" {
		// PlainAuth itself refuses to send the password without TLS, except to localhost.
		if err := c.Auth(smtp.PlainAuth("", s.cfg.User, s.cfg.Pass, s.cfg.Host)); err != nil {
			return fmt.Errorf("smtp auth as %s: %w", s.cfg.User, err)
		}
	}
	if err := c.Mail(s.from); err != nil {
		return fmt.Errorf("smtp mail from: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		// 5xx to RCPT: the server refuses this address for good; retrying cannot help.
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			return fmt.Errorf("%w: recipient refused: %v", outbox.ErrPermanent, err)
		}
		return fmt.Errorf("smtp rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	// The message is accepted; a failed QUIT does not unsend it.
	_ = c.Quit()
	return nil
}

// message renders m as a MIME message: UTF-8 plain text, quoted-printable, so any
// character and any line length arrive intact.
func (s *smtpSender) message(m outbox.Mail) ([]byte, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	domain := s.from[strings.LastIndexByte(s.from, '@')+1:]
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", (&mail.Address{Name: campaigns.CharityName, Address: s.from}).String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", time.Now().Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(m.Body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// mailMetrics counts sends by outcome: sent, retry (failed, will try again), failed (refused for good).
func mailMetrics(reg prometheus.Registerer) (func(string), error) {
	sends := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "giving_mail_sends_total",
		Help: "Emails the mail worker tried to send, by outcome: sent, retry or failed.",
	}, []string{"outcome"})
	for _, o := range []string{"sent", "retry", "failed"} {
		sends.WithLabelValues(o)
	}
	if err := reg.Register(sends); err != nil {
		return nil, fmt.Errorf("register mail metrics: %w", err)
	}
	return func(outcome string) { sends.WithLabelValues(outcome).Inc() }, nil
}

// devOutbox says whether to serve /dev/outbox: only without SMTP_URL, and only when the
// site is on this machine, since the page shows every password reset link to whoever opens
// it: BASE_URL on a loopback host AND the web listener itself bound to a loopback address
// only (never all interfaces, never another interface, whatever BASE_URL says). A public
// copy without SMTP_URL keeps its mail in the outbox table, with a log line per message,
// and no page.
func devOutbox(cfg config, listening net.Addr) bool {
	if cfg.SMTP != nil {
		return false
	}
	if cfg.BaseURL != nil {
		h := cfg.BaseURL.Hostname()
		if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return false
		}
	}
	tcp, ok := listening.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// mailWorker is the worker that sends the outbox: over SMTP when SMTP_URL is set, else to
// the local outbox (shown at /dev/outbox).
func mailWorker(cfg config, devOutbox bool, store *campaigns.Store, log *slog.Logger, reg prometheus.Registerer) (*outbox.MailWorker, error) {
	w := &outbox.MailWorker{Store: store, Log: log}
	if cfg.SMTP == nil {
		if live, _ := payments.KeyMode(cfg.StripeKey); live {
			return nil, errors.New("SMTP_URL is not set: with a live Stripe key, fundraisers' password reset emails must really be sent")
		}
		w.Sender, w.Local = outbox.LocalOutbox{Log: log}, true
		if devOutbox {
			log.Info("no SMTP_URL: email is kept in the local outbox, listed at /dev/outbox")
		} else {
			log.Warn("no SMTP_URL: email is not sent, only kept in the mail_outbox table")
		}
	} else {
		w.Sender = newSMTPSender(*cfg.SMTP, cfg.BaseURL)
		log.Info("sending email", "smtp", cfg.SMTP.String())
	}
	var err error
	if w.Observe, err = mailMetrics(reg); err != nil {
		return nil, err
	}
	return w, nil
}
