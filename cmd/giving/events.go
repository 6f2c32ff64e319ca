package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/reports"
	"giving/payments"
)

// eventsHelp is what 'giving events -h' says after the synopsis.
const eventsHelp = `Stored Stripe webhook events that need a person, and what to do about them. Every event
Stripe sends is stored once, with its raw payload, before it is answered; most are applied
to the ledger at once. The rest wait here:

  error       could not be applied (the reason is in the detail): wrong in itself, or
              still failing after 5 tries over about 15 s. Once the cause is fixed,
              'giving events retry' applies it again through the same idempotent path
              as a delivery, and the audit log records the retry.
  review      Stripe's data cannot be true for this charity: a refund or dispute larger
              than its gift, an amount above GIFT_MAX x 100, text with a NUL byte. Not
              applied, so no total moved; if it is right after all (say GIFT_MAX was
              raised), 'giving events retry' applies it.
  malformed   signed by Stripe but not an event this service can read: kept for review.
  wrong_mode  a live event at a test-mode service, or the reverse: kept, never applied.
  unmatched   money for something this service never created (a Payment Link, a session
              made before a crash): recorded against the appeal; resolve it on /admin.
  deferred    a refund, dispute or fee whose gift has not arrived yet: applied with it.
  queued      stored and waiting for an applier (seconds, normally); one that failed
              waits for its next try, with the last failure in the detail.

'giving events' (or 'giving events list') prints how many there are of each, then the
newest error, review, malformed and wrong_mode events; --outcome lists another kind. The
giving_webhook_events_for_review metric and the shipped alert rules watch the same counts.

Needs DATABASE_URL.
`

func cmdEvents(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "retry" {
		return eventsRetry(ctx, args[1:], env, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "list" {
		args = args[1:]
	}
	fs := newFlags("events", "events [list] [--outcome O] [--limit N]\n       giving events retry EVENT_ID...", eventsHelp, stdout)
	listable := append(slices.Clone(reports.ReviewOutcomes), "queued")
	outcome := fs.String("outcome", "", "list only this outcome: "+strings.Join(listable, ", "))
	limit := fs.Int("limit", 50, "list at most this many events, newest first")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	outcomes := []string{"error", "review", "malformed", "wrong_mode"}
	if *outcome != "" {
		if !slices.Contains(listable, *outcome) {
			return usageError{fmt.Sprintf("events: --outcome %q is not one of %s", *outcome, strings.Join(listable, ", "))}
		}
		outcomes = []string{*outcome}
	}
	if *limit < 1 || *limit > 10000 {
		return usageError{fmt.Sprintf("events: --limit %d must be between 1 and 10000", *limit)}
	}
	_, store, err := checkedStore(ctx, env)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	b, err := reports.ReadBacklogs(ctx, store)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "stored events waiting: %d queued (oldest %.0f s)", b.EventsQueued, b.OldestQueuedSeconds)
	for _, o := range reports.ReviewOutcomes {
		fmt.Fprintf(stdout, ", %d %s", b.EventsForReview[o], o)
	}
	fmt.Fprintln(stdout)
	list, err := reports.StoredEvents(ctx, store, outcomes, *limit)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintf(stdout, "no %s events\n", strings.Join(outcomes, ", "))
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RECEIVED (UK)\tEVENT\tTYPE\tOUTCOME\tDETAIL")
	for _, e := range list {
		detail := strings.Join(strings.Fields(e.Detail), " ")
		if r := []rune(detail); len(r) > 120 {
			detail = string(r[:119]) + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.ReceivedAt.In(campaigns.London()).Format("02/01/2006 15:04:05"), e.ID, e.Type, e.Outcome, detail)
	}
	return tw.Flush()
}

func eventsRetry(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("events retry", "events retry EVENT_ID...", `Applies again stored events that failed to apply (outcome error), once the cause is
fixed: each is put back in the queue and applied at once, through the same idempotent
path as a delivery (a gift already recorded is not recorded twice). Each retry is in the
audit log. Events held for review (outcome review) are applied the same way once the
bound they failed allows them. Prints each event's new outcome; exits 1 if any is still
not applied.`, stdout)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	ids := fs.Args()
	if len(ids) == 0 {
		return usageError{"events retry: name the events to retry (see giving events)"}
	}
	cfg, store, err := checkedStore(ctx, env)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	live, _ := payments.KeyMode(cfg.StripeKey)
	hooks := payments.NewWebhooks(store, cfg.WebhookSecrets, live, newLogger(stderr, true), payments.NewMetrics(nil))
	hooks.GiftMax = cfg.Money.Limits.Max
	hooks.DonorMail = cfg.donorMail(store.Now)
	failed := 0
	for _, id := range ids {
		outcome, detail, err := hooks.Retry(ctx, accounts.CommandLine(), id)
		switch {
		case errors.Is(err, campaigns.ErrNotFound):
			failed++
			fmt.Fprintf(stdout, "%s: no stored event has this id\n", id)
		case errors.Is(err, payments.ErrNotRetryable):
			failed++
			fmt.Fprintf(stdout, "%s: not retried: %v\n", id, err)
		case err != nil:
			return err
		case outcome == "error":
			failed++
			fmt.Fprintf(stdout, "%s: still not applied: %s\n", id, detail)
		case outcome == "review":
			failed++
			fmt.Fprintf(stdout, "%s: still held for review: %s\n", id, detail)
		case outcome == "queued":
			failed++
			fmt.Fprintf(stdout, "%s: not applied yet, the service tries again: %s\n", id, detail)
		default:
			fmt.Fprintf(stdout, "%s: %s\n", id, outcome)
		}
	}
	if failed > 0 {
		return fmt.Errorf("events retry: %d of %d events not applied", failed, len(ids))
	}
	return nil
}
