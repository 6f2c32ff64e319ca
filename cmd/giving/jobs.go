package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"giving/campaigns"
	"giving/campaigns/donations"
	"giving/campaigns/donors"
	"giving/campaigns/outbox"
	"giving/campaigns/payouts"
	"giving/payments"
	"giving/web"
)

// jobsMaxConns is the size of River's pool: its listener, fetching and completing jobs for
// three workers, and the leader's maintenance.
const jobsMaxConns = 5

// startJobs starts this instance's River client, which works the background jobs: mail
// (mail.go), the cancellation at Stripe of disputed monthly gifts, the question to Stripe
// about a refused webhook (is its event real?), the recording of each payout Stripe
// announces, the pruning of sent mail, each April the donors' statement emails, and in the
// sandbox its daily payout. Jobs live in PostgreSQL, so any instance works them and
// one that stops leaves the rest waiting durably. stop lets the jobs in hand finish (up to 30 s).
func startJobs(ctx context.Context, cfg config, store *campaigns.Store, log *slog.Logger, reg prometheus.Registerer, deps web.Deps) (stop func(), err error) {
	workers := river.NewWorkers()
	mail, err := mailWorker(cfg, deps.DevOutbox, store, log, reg)
	if err != nil {
		return nil, err
	}
	mail.Footer = donors.MailFooter(cfg.Charity, deps.BaseURL.String(), store) // the charity, and a donor's link to stop
	river.AddWorker(workers, mail)
	river.AddWorker(workers, &donations.ManageLinksWorker{Store: store}) // manage links asked for by email
	if hooks, ok := deps.Webhooks.(*payments.Webhooks); ok {
		if w := hooks.SubscriptionCancelWorker(); w != nil {
			river.AddWorker(workers, w)
		}
		if w := hooks.SignatureCheckWorker(); w != nil {
			river.AddWorker(workers, w)
		}
		if w := hooks.ManageWorker(); w != nil { // a donor's changes to a monthly gift
			river.AddWorker(workers, w)
		}
	}
	if deps.Reconciler != nil { // the payouts Stripe announces (payout.paid), read back from Stripe
		river.AddWorker(workers, deps.Reconciler.PayoutWorker(log.With("component", "payouts")))
	}
	// River's own pool: its listener holds a connection for good, and a burst of jobs must
	// never take the connections that answer donors and Stripe.
	pc := store.Pool().Config().Copy()
	pc.MaxConns, pc.MinConns = jobsMaxConns, 0
	jobsPool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("background jobs: open a pool: %w", err)
	}
	periodic := []*river.PeriodicJob{outbox.Prune(workers, store)}
	if cfg.sandbox() { // the sandbox pays out daily, as Stripe does
		periodic = append(periodic, payouts.SandboxPayouts(workers, store))
	}
	if dm := cfg.donorMail(store.Now); dm != nil { // each April, donors' statements for the tax year just ended
		periodic = append(periodic, donors.StatementMails(workers, store, dm))
	}
	client, err := store.NewJobClient(jobsPool, log.With("component", "jobs"), workers, periodic...)
	if err != nil {
		jobsPool.Close()
		return nil, err
	}
	runCtx := context.WithoutCancel(ctx)
	if err := client.Start(runCtx); err != nil {
		jobsPool.Close()
		return nil, fmt.Errorf("start background jobs: %w", err)
	}
	return func() {
		stopCtx, cancel := context.WithTimeout(runCtx, 30*time.Second)
		defer cancel()
		if err := client.Stop(stopCtx); err != nil {
			log.Warn("background jobs did not stop cleanly", "err", err)
		}
		jobsPool.Close()
	}, nil
}
