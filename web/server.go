// Package web is Giving's HTTP face: chi routes (all in routes.go), handlers that return
// errors, embedded templates and static files, health checks and HTTP metrics.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/migrations"
	"giving/payments"
)

// Deps is everything the web layer needs, passed in by cmd.
type Deps struct {
	Store    *campaigns.Store
	Log      *slog.Logger
	Registry prometheus.Registerer
	BaseURL  *url.URL
	// CacheTTL bounds how stale a public total may be (0: default 1s; negative: no cache,
	// for tests that read a total straight after a gift).
	CacheTTL time.Duration
	// Webhooks is Stripe's POST /webhooks/stripe.
	Webhooks http.Handler
	// Checkout creates payment sessions: Stripe's, or the sandbox's.
	Checkout payments.Checkout
	// Sandbox serves the offline checkout pages; nil with a Stripe key.
	Sandbox *payments.Sandbox
	// Reconciler compares the ledger with Stripe; nil in the sandbox.
	Reconciler *payments.Reconciler
	Fees       payments.FeeSchedule
	// BacsFees is the Direct Debit fee schedule behind the "cover the fee" offer for a gift
	// paid by Direct Debit (zero: payments.DefaultBacsFees).
	BacsFees payments.FeeSchedule
	Limits   Limits
	// AggregationLimit: Gift Aid gifts at or under it share aggregated rows of the HMRC
	// schedule (zero: campaigns.DefaultAggregationLimit).
	AggregationLimit decimal.Decimal
	// CheckoutPerMinute limits checkout sessions per client (0: 10 a minute, burst 5).
	CheckoutPerMinute float64
	// TrustedProxies (TRUSTED_PROXIES) are believed about who their client is; the zero
	// value believes nobody's X-Forwarded-For (clientip.go).
	TrustedProxies TrustedProxies
	// DevOutbox serves GET /dev/outbox, the mail outbox, for development: only when no
	// SMTP server is configured, since it shows every reset link.
	DevOutbox bool
	// Require2FA lists the roles that must enrol in two-factor sign-in (REQUIRE_2FA_FOR)
	// before doing anything else once logged in (twofactor.go).
	Require2FA []accounts.Role
	// Charity is CHARITY_NAME, CHARITY_NUMBER, CHARITY_ADDRESS and CHARITY_EMAIL: the footer
	// of every page, the charity's own pages and the consent wording name it (charity.go).
	Charity donations.Charity
}

// Server holds the handlers' dependencies.
type Server struct {
	store   *campaigns.Store
	log     *slog.Logger
	metrics *httpMetrics
	views   *views
	baseURL *url.URL
	sandbox bool
	cache   *totalsCache
	pages   *pageCache // the public pages as rendered (pagecache.go)
	limiter *limiter
	proxies TrustedProxies
	deps    Deps
	// auth holds the sessions (stored in PostgreSQL) behind log-in; see auth.go.
	auth *auth
}

// New parses every template (a broken template stops the boot, not a request) and
// registers the metrics.
func New(d Deps) (*Server, error) {
	v, err := loadViews()
	if err != nil {
		return nil, fmt.Errorf("load templates: %w", err)
	}
	m, err := newHTTPMetrics(d.Registry, d.Store)
	if err != nil {
		return nil, err
	}
	ttl := d.CacheTTL
	if ttl == 0 {
		ttl = time.Second
	}
	if d.Fees.Percent.IsZero() && d.Fees.Fixed.IsZero() {
		d.Fees = payments.DefaultFees
	}
	if d.BacsFees.Percent.IsZero() && d.BacsFees.Fixed.IsZero() {
		d.BacsFees = payments.DefaultBacsFees
	}
	if d.Limits.Amount.Max.IsZero() {
		d.Limits.Amount = payments.DefaultLimits
	}
	if d.AggregationLimit.IsZero() {
		d.AggregationLimit = giftaid.DefaultAggregationLimit
	}
	if d.Charity.Name == "" {
		d.Charity.Name = campaigns.CharityName
	}
	perMinute := d.CheckoutPerMinute
	if perMinute == 0 {
		perMinute = 10
	}
	return &Server{store: d.Store, log: d.Log, metrics: m, views: v, baseURL: d.BaseURL,
		sandbox: d.Sandbox != nil, cache: newTotalsCache(ttl, d.Store.Now), pages: newPageCache(ttl, d.Store.Now), limiter: newLimiter(perMinute, 5, d.Store.Now), proxies: d.TrustedProxies, deps: d, auth: newAuth(d)}, nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte("ok\n"))
	return err
}

// readyz: the database answers and its schema is the one this binary expects.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := migrations.Check(ctx, s.store.Pool()); err != nil {
		s.log.Warn("not ready", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready: database unavailable or schema behind\n"))
		return nil
	}
	_, err := w.Write([]byte("ready\n"))
	return err
}
