package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"giving/campaigns"
	"giving/payments"
	"giving/web"
)

// running is an http.Server on a loopback port.
type running struct {
	URL  string // http://127.0.0.1:port
	srv  *http.Server
	stop func() // stops background work (the webhook appliers), if any
}

func (r *running) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
	if r.stop != nil {
		r.stop()
	}
}

// serveLoopback serves h on 127.0.0.1 with the timeouts serve uses.
func serveLoopback(h http.Handler, log *slog.Logger) (*running, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() { _ = srv.Serve(ln) }()
	return &running{URL: "http://" + ln.Addr().String(), srv: srv}, nil
}

// benchLogger keeps the service's errors on stderr and drops the rest.
func benchLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// newWebhookSecret is the signing secret of this run's webhook endpoint.
func newWebhookSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "whsec_bench_" + hex.EncodeToString(b)
}

// startSite runs the real site in this process, wired as serve wires it with no Stripe key:
// the sandbox checkout, the webhook endpoint signed with secret, a fresh metrics registry.
func startSite(store *campaigns.Store, secret string, log *slog.Logger) (*running, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	reg := prometheus.NewRegistry()
	sb, err := payments.NewSandbox(store, "", base, base.JoinPath("/webhooks/stripe").String(), secret, payments.DefaultFees)
	if err != nil {
		ln.Close()
		return nil, err
	}
	hooks := payments.NewWebhooks(store, []string{secret}, false, log, payments.NewMetrics(reg))
	site, err := web.New(web.Deps{
		Store: store, Log: log, Registry: reg, BaseURL: base,
		Checkout: sb, Sandbox: sb, Webhooks: hooks,
	})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("start site: %w", err)
	}
	applyCtx, stopApplying := context.WithCancel(context.Background())
	applied := make(chan struct{})
	go func() { defer close(applied); hooks.Run(applyCtx) }()
	srv := &http.Server{
		Handler:           site.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() { _ = srv.Serve(ln) }()
	return &running{URL: base.String(), srv: srv, stop: func() { stopApplying(); <-applied }}, nil
}

// bareJSON is the bare chi router's constant answer, about the size of the appeal's JSON.
const bareJSON = `{"slug":"bare","name":"Bare chi handler","currency":"GBP","target":"50000.00","raised":"0.00","gift_aid":"0.00","donations":0,"donors":0}` + "\n"

// startBare runs a chi router with one route writing a constant JSON body: the ceiling
// for any JSON endpoint on this machine.
func startBare(log *slog.Logger) (*running, error) {
	r := chi.NewRouter()
	r.Get("/bare", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(bareJSON))
	})
	return serveLoopback(r, log)
}
