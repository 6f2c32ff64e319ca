package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"giving/campaigns/appeals"
	"giving/payments"
)

func cmdReconcile(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("reconcile", "reconcile [--since 2026-11-01] [--appeal SLUG] [--recover]", `Compares the ledger with Stripe for the period since the given day (UTC; default 30 days
ago) and prints what it finds, exiting with status 1 while any difference remains:
  missing_locally    Stripe has money the ledger lacks: a paid charge with no gift, a
                     refund, a dispute, its close, or a charge's fee
  missing_at_stripe  the ledger holds a gift no paid Stripe charge accounts for (gifts
                     made in the offline sandbox are left out)
  amount_mismatch    both have it with different amounts: the gift, the refunded total,
                     the disputed amount or outcome, or the fee
It lists charges, refunds, disputes, payouts, and the events of the last 30 days Stripe could
not deliver. Without --recover it changes nothing. With --recover it first applies those
undelivered events, and records the fees the ledger lacks, through the same idempotent
path as the webhook: an event already stored changes nothing, so running it twice is safe.
With --appeal it compares one appeal only: its ledger entries, and the Stripe records whose
payment the ledger matches to its gifts; records the ledger matches to no appeal are listed
too, marked "not matched". Recovery, payouts and undelivered events are the whole account's.
Needs DATABASE_URL and STRIPE_SECRET_KEY (honours STRIPE_API_BASE); it cannot run in
sandbox mode, which has no Stripe account to compare with.`, stdout)
	sinceFlag := fs.String("since", "", "first day of the period, YYYY-MM-DD in UTC (default 30 days ago)")
	recover := fs.Bool("recover", false, "apply undelivered events and record missing fees before comparing")
	appeal := fs.String("appeal", "", "only this appeal's slug (default: every appeal)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	since := time.Now().UTC().AddDate(0, 0, -30)
	if *sinceFlag != "" {
		t, err := time.Parse("2006-01-02", strings.TrimSpace(*sinceFlag))
		if err != nil {
			return usageError{fmt.Sprintf("reconcile: --since %q must be a day such as 2026-11-01", *sinceFlag)}
		}
		if t.After(time.Now()) {
			return usageError{fmt.Sprintf("reconcile: --since %s is in the future", *sinceFlag)}
		}
		since = t
	}
	key := strings.TrimSpace(env("STRIPE_SECRET_KEY"))
	if key == "" {
		return errors.New("reconcile: STRIPE_SECRET_KEY is not set: this is sandbox mode, and there is no Stripe account to reconcile with")
	}
	if !strings.HasPrefix(key, "sk_") && !strings.HasPrefix(key, "rk_") {
		return errors.New("reconcile: STRIPE_SECRET_KEY does not look like a Stripe secret key (sk_test_..., sk_live_...)")
	}
	// Reconciling needs the database and the key, not a webhook secret or a public URL.
	cfg, store, err := checkedStore(ctx, env)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	var appealID int64
	var appealName string
	if *appeal != "" {
		a, err := appeals.AppealBySlug(ctx, store, *appeal)
		if err != nil {
			return fmt.Errorf("reconcile: appeal %q: %w", *appeal, err)
		}
		appealID, appealName = a.ID, a.Name
	}
	live, _ := payments.KeyMode(key)
	log := newLogger(stderr, true)
	hooks := payments.NewWebhooks(store, cfg.WebhookSecrets, live, log, payments.NewMetrics(nil))
	hooks.GiftMax = cfg.Money.Limits.Max
	hooks.DonorMail = cfg.donorMail(store.Now)
	rec := &payments.Reconciler{
		API:      payments.NewStripeClient(key, cfg.StripeAPIBase, &http.Client{Timeout: 30 * time.Second}),
		Store:    store,
		Webhooks: hooks,
	}
	rep, err := rec.RunFor(ctx, since, *recover, appealID)
	if err != nil {
		return err
	}
	rep.Appeal = appealName
	if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if n := len(rep.Differences); n > 0 {
		return fmt.Errorf("reconcile: %d differences with Stripe remain", n)
	}
	return nil
}
