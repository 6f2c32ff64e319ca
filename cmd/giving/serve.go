package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"giving/campaigns"
	"giving/migrations"
	"giving/payments"
	"giving/web"
)

func cmdServe(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "serve", `Runs the web service on LISTEN_ADDR and Prometheus metrics on METRICS_ADDR. Needs
DATABASE_URL and refuses to start on a schema older than this binary ('giving migrate').
Without STRIPE_SECRET_KEY payments go through the offline sandbox gateway.
Stops gracefully on SIGINT/SIGTERM, finishing requests in flight.
GIFT_MIN, GIFT_MAX, CARD_FEE_PERCENT, CARD_FEE_FIXED and GIFT_AID_AGGREGATION_LIMIT set the
gift limits, the card fee a donor may cover and the Gift Aid aggregation limit ('giving help').
CHARITY_NAME, CHARITY_NUMBER, CHARITY_ADDRESS and CHARITY_EMAIL name the charity on every
donor's receipt: required with a Stripe key; the sandbox uses plainly example values.`, stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(env, needs{database: true, webhooks: true})
	if err != nil {
		return err
	}
	lns, err := listen(cfg)
	if err != nil {
		return err
	}
	defer lns.close()
	log := newLogger(stderr, false)
	store, err := openStoreWith(ctx, cfg.DatabaseURL, cfg.Pool)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	if err := migrations.Check(ctx, store.Pool()); err != nil {
		return err
	}
	return serve(ctx, cfg, lns, store, log, stdout, false)
}

// paymentDeps wires Stripe, or the sandbox when there is no key. The sandbox signs its
// events with a secret of its own, made up at start unless one is configured.
func paymentDeps(cfg config, store *campaigns.Store, log *slog.Logger, reg prometheus.Registerer, selfWebhook string) (web.Deps, error) {
	var d web.Deps
	live, _ := payments.KeyMode(cfg.StripeKey)
	secrets := cfg.WebhookSecrets
	if cfg.sandbox() {
		if len(secrets) == 0 {
			b := make([]byte, 24)
			if _, err := rand.Read(b); err != nil {
				return d, err
			}
			secrets = []string{"whsec_sandbox_" + hex.EncodeToString(b)}
		}
		sb, err := payments.NewSandbox(store, cfg.StripeKey, cfg.BaseURL, selfWebhook, secrets[0], cfg.Money.Fees)
		if err != nil {
			return d, err
		}
		sb.BacsFees = cfg.Money.BacsFees
		d.Sandbox, d.Checkout = sb, sb
	}
	hooks := payments.NewWebhooks(store, secrets, live, log, payments.NewMetrics(reg))
	hooks.GiftMax = cfg.Money.Limits.Max
	hooks.DonorMail = cfg.donorMail(store.Now)
	if d.Sandbox != nil {
		hooks.Subscriptions = d.Sandbox
	}
	if !cfg.sandbox() {
		api := payments.NewStripeClient(cfg.StripeKey, cfg.StripeAPIBase, &http.Client{Timeout: 30 * time.Second})
		d.Checkout = payments.StripeCheckout{API: api}
		hooks.Balance = payments.StripeBalance{API: api}
		hooks.Subscriptions = payments.StripeSubscriptions{API: api}
		hooks.Events = payments.StripeEvents{API: api}
		d.Reconciler = &payments.Reconciler{API: api, Store: store, Webhooks: hooks}
	}
	d.Webhooks = hooks
	return d, nil
}

// listeners are the web and metrics sockets. They are opened first, before a database is
// started or migrated, so a port in use stops the start at once with the setting named.
type listeners struct{ web, metrics net.Listener }

func listen(cfg config) (listeners, error) {
	var l listeners
	var err error
	if l.web, err = listenOn("LISTEN_ADDR", cfg.ListenAddr); err != nil {
		return l, err
	}
	if l.metrics, err = listenOn("METRICS_ADDR", cfg.MetricsAddr); err != nil {
		l.web.Close()
		return l, err
	}
	return l, nil
}

func (l listeners) close() {
	l.web.Close()
	l.metrics.Close()
}

func listenOn(name, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s %s is already in use (another giving, or another program): stop it, or set %s to a free address, e.g. %s=%s",
			name, addr, name, name, nextPort(addr))
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", name, addr, err)
	}
	return ln, nil
}

// nextPort is addr with the port after its own, as an example of another address.
func nextPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n >= 65535 {
		return addr
	}
	return net.JoinHostPort(host, strconv.Itoa(n+1))
}

// serve runs the web and metrics listeners until ctx is cancelled, then shuts down
// gracefully: in-flight requests finish (up to 20 s), new ones are refused. dev leaves the
// start-up log line out: the block of addresses on stdout says it on a developer's terminal.
func serve(ctx context.Context, cfg config, lns listeners, store *campaigns.Store, log *slog.Logger, stdout io.Writer, dev bool) error {
	ln, mln := lns.web, lns.metrics
	if cfg.BaseURL == nil {
		cfg.BaseURL = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	deps, err := paymentDeps(cfg, store, log, reg, "http://"+ln.Addr().String()+"/webhooks/stripe")
	if err != nil {
		return err
	}
	deps.Store, deps.Log, deps.Registry, deps.BaseURL = store, log, reg, cfg.BaseURL
	deps.DevOutbox = devOutbox(cfg, ln.Addr())
	deps.TrustedProxies = cfg.TrustedProxies
	deps.Require2FA = cfg.Require2FA
	deps.Charity = cfg.Charity
	deps.Fees, deps.Limits.Amount, deps.AggregationLimit = cfg.Money.Fees, cfg.Money.Limits, cfg.Money.AggregationLimit
	deps.BacsFees = cfg.Money.BacsFees
	site, err := web.New(deps)
	if err != nil {
		return err
	}

	srv := &http.Server{
		Handler:           site.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	metricsMux := http.NewServeMux()
	metricsMux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	msrv := &http.Server{Handler: metricsMux, ReadHeaderTimeout: 10 * time.Second}

	// The appliers apply webhook events that requests left queued; they stop after the
	// last request has finished, and anything still queued waits durably for the next start.
	applyCtx, stopApplying := context.WithCancel(context.WithoutCancel(ctx))
	applied := make(chan struct{})
	if hooks, ok := deps.Webhooks.(*payments.Webhooks); ok {
		go func() { defer close(applied); hooks.Run(applyCtx) }()
	} else {
		close(applied)
	}
	defer func() { stopApplying(); <-applied }()

	// Background jobs (jobs.go: mail, cancellations at Stripe); like the appliers they stop
	// after the last request, and unfinished jobs wait durably for the next start.
	stopJobs, err := startJobs(ctx, cfg, store, log, reg, deps)
	if err != nil {
		return err
	}
	defer stopJobs()

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	go func() { errc <- msrv.Serve(mln) }()
	printAddresses(stdout, cfg, ln.Addr(), mln.Addr(), deps.DevOutbox, dev)
	if !dev {
		log.Info("serving", "addr", ln.Addr().String(), "metrics", mln.Addr().String(), "base_url", cfg.BaseURL.String(), "sandbox", cfg.sandbox())
	}

	select {
	case err := <-errc:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	_ = msrv.Shutdown(shutdownCtx)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Fprintln(stdout, "giving: stopped")
	return nil
}

// printAddresses is the one block a person reads at start-up: where the site is, where it
// listens and where its metrics are. Tests read the "listening" and "metrics" lines.
func printAddresses(w io.Writer, cfg config, web, metrics net.Addr, outbox, dev bool) {
	mode := "Stripe"
	if cfg.sandbox() {
		mode = "sandbox (no real money moves)"
	}
	// One write, so no log line lands inside the block.
	var b strings.Builder
	fmt.Fprintf(&b, "giving: ready, payments through %s\n", mode)
	fmt.Fprintf(&b, "  site       %s/\n", cfg.BaseURL)
	fmt.Fprintf(&b, "  listening  http://%s\n", web)
	fmt.Fprintf(&b, "  metrics    http://%s/metrics\n", metrics)
	if outbox {
		fmt.Fprintf(&b, "  mail       %s/dev/outbox (nothing is sent without SMTP_URL)\n", cfg.BaseURL)
	}
	if dev {
		b.WriteString("  Ctrl-C stops the service and the private PostgreSQL.\n")
	}
	_, _ = io.WriteString(w, b.String())
}
