package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	gomail "github.com/wneessen/go-mail"

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

// smtpSender sends each message over its own connection with go-mail
// (github.com/wneessen/go-mail): it writes the multipart text-and-HTML message, speaks SMTP
// with STARTTLS or implicit TLS, and authenticates. Mail is light, and a fresh connection
// cannot be left half-way through a previous message.
type smtpSender struct {
	cfg  smtpConfig
	from string
	helo string
	// now is the store's clock, for the Date header.
	now func() time.Time
	// tls is nil in production (the system roots, the SMTP host's name); tests trust their own.
	tls *tls.Config
}

// sendTimeout bounds one message end to end; the mail worker's lease is longer.
const sendTimeout = 30 * time.Second

func newSMTPSender(c smtpConfig, base *url.URL, now func() time.Time) *smtpSender {
	helo := "localhost"
	if base != nil && base.Hostname() != "" && net.ParseIP(base.Hostname()) == nil {
		helo = base.Hostname()
	}
	from := c.From
	if from == "" {
		from = "no-reply@" + helo
	}
	return &smtpSender{cfg: c, from: from, helo: helo, now: now}
}

func (s *smtpSender) tlsConfig() *tls.Config {
	if s.tls != nil {
		return s.tls
	}
	return &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
}

func (s *smtpSender) client() (*gomail.Client, error) {
	port, err := strconv.Atoi(s.cfg.Port)
	if err != nil {
		return nil, fmt.Errorf("smtp port %q: %w", s.cfg.Port, err)
	}
	opts := []gomail.Option{
		gomail.WithPort(port), gomail.WithHELO(s.helo), gomail.WithTimeout(sendTimeout),
		gomail.WithTLSConfig(s.tlsConfig()),
	}
	if s.cfg.ImplicitTLS {
		opts = append(opts, gomail.WithSSL())
	} else {
		// STARTTLS whenever the server offers it, as before.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.cfg.User != "" {
		// PLAIN refuses to send the password without TLS, except to localhost.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(s.cfg.User), gomail.WithPassword(s.cfg.Pass))
	}
	return gomail.NewClient(s.cfg.Host, opts...)
}

func (s *smtpSender) SendMail(ctx context.Context, m outbox.Mail) error {
	msg, err := s.message(m)
	if err != nil {
		return fmt.Errorf("%w: %v", outbox.ErrPermanent, err)
	}
	c, err := s.client()
	if err != nil {
		return fmt.Errorf("%w: %v", outbox.ErrPermanent, err)
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	addr := net.JoinHostPort(s.cfg.Host, s.cfg.Port)
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		// 5xx to RCPT TO, or to the message itself: the server refuses it for good;
		// retrying cannot help. Anything else (down, busy, 4xx, TLS, auth) is retried.
		var se *gomail.SendError
		if errors.As(err, &se) && se.ErrorCode() >= 500 &&
			(se.Reason == gomail.ErrSMTPRcptTo || se.Reason == gomail.ErrSMTPDataClose) {
			return fmt.Errorf("%w: refused by %s: %v", outbox.ErrPermanent, addr, err)
		}
		if msg.IsDelivered() {
			// The server accepted the message; only the goodbye failed, which does not unsend it.
			return nil
		}
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	return nil
}

// message builds m as a multipart/alternative message: UTF-8 plain text, then the HTML
// part (outbox renders one from the text when the caller gave none), each
// quoted-printable, so any character and any line length arrive intact.
func (s *smtpSender) message(m outbox.Mail) (*gomail.Msg, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	if err := msg.FromFormat(campaigns.CharityName, s.from); err != nil {
		return nil, fmt.Errorf("sender: %w", err)
	}
	if err := msg.To(to.Address); err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(s.now())
	msg.SetMessageIDWithValue(hex.EncodeToString(id) + "@" + s.from[strings.LastIndexByte(s.from, '@')+1:])
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	html := m.HTML
	if html == "" {
		html = outbox.RenderHTML(m.Subject, m.Body)
	}
	msg.AddAlternativeString(gomail.TypeTextHTML, html)
	return msg, nil
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
		w.Sender = newSMTPSender(*cfg.SMTP, cfg.BaseURL, store.Now)
		log.Info("sending email", "smtp", cfg.SMTP.String())
	}
	var err error
	if w.Observe, err = mailMetrics(reg); err != nil {
		return nil, err
	}
	return w, nil
}
