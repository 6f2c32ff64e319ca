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
gift limits, the card fee a donor may cover and the Gift Aid aggregation limit ('giving help').`, stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(env, needs{database: true, webhooks: true})
	if err != nil {
		return err
	}
	log := newLogger(stderr, false)
	store, err := openStoreWith(ctx, cfg.DatabaseURL, cfg.Pool)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	if err := migrations.Check(ctx, store.Pool()); err != nil {
		return err
	}
	return serve(ctx, cfg, store, log, stdout)
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
		d.Sandbox, d.Checkout = sb, sb
	}
	hooks := payments.NewWebhooks(store, secrets, live, log, payments.NewMetrics(reg))
	hooks.GiftMax = cfg.Money.Limits.Max
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

// serve runs the web and metrics listeners until ctx is cancelled, then shuts down
// gracefully: in-flight requests finish (up to 20 s), new ones are refused.
func serve(ctx context.Context, cfg config, store *campaigns.Store, log *slog.Logger, stdout io.Writer) error {
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR %s: %w", cfg.ListenAddr, err)
	}
	defer ln.Close()
	mln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("METRICS_ADDR %s: %w", cfg.MetricsAddr, err)
	}
	defer mln.Close()
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
	deps.DevOutbox = devOutbox(cfg)
	deps.TrustedProxies = cfg.TrustedProxies
	deps.Fees, deps.Limits.Amount, deps.AggregationLimit = cfg.Money.Fees, cfg.Money.Limits, cfg.Money.AggregationLimit
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
	mode := "Stripe"
	if cfg.sandbox() {
		mode = "sandbox (no real money moves)"
	}
	fmt.Fprintf(stdout, "giving: serving %s (payments: %s)\n", cfg.BaseURL, mode)
	fmt.Fprintf(stdout, "giving: listening on http://%s\n", ln.Addr())
	fmt.Fprintf(stdout, "giving: metrics on http://%s/metrics\n", mln.Addr())
	log.Info("serving", "addr", ln.Addr().String(), "metrics", mln.Addr().String(), "sandbox", cfg.sandbox(), "trusted_proxies", cfg.TrustedProxies.String())

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
