package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/ledger"
	"giving/migrations"
	"giving/payments"
)

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `giving: donation and fundraising tracker for the Fundraising for Freedom appeal.

Usage: giving <command> [flags]

Commands:
  dev       run everything locally: a private PostgreSQL under .data/ (unless DATABASE_URL
            is set), migrations, the seeded appeal and the sandbox payment gateway
  serve     run the web service (needs DATABASE_URL and a migrated database)
  migrate   apply database migrations (safe to run from several instances at once)
  seed      create the Fundraising for Freedom appeal and its tiers if missing (idempotent)
  export    export gifts as CSV, or the HMRC Gift Aid claim schedule (export gift-aid)
  replay    recompute every total from the ledger and from the stored Stripe events and
            report any difference (exit 1 if any)
  reconcile compare the ledger with Stripe (--since DAY, --recover); exit 1 on a difference
  stripe register-webhook
            create the Stripe webhook endpoint, pinned to API version 2023-10-16
  user add  create an admin, trustee or fundraiser account (password read from stdin)
  donor     a donor's data: export everything held, or erase it (keeping what HMRC requires)
  events    stored Stripe events that were not applied (failed, malformed, wrong mode...):
            list them, or retry those that failed once the cause is fixed
  help      show this help, or 'giving help <command>' for one command

Environment:
  DATABASE_URL           PostgreSQL URL, e.g. postgres://giving@127.0.0.1:5432/giving
  LISTEN_ADDR            web address (default 127.0.0.1:8080)
  BASE_URL               public URL used in links and Stripe redirects (default http://LISTEN_ADDR)
  METRICS_ADDR           Prometheus /metrics address (default 127.0.0.1:9090)
  STRIPE_SECRET_KEY      sk_test_... or sk_live_...; unset: the offline sandbox gateway
  STRIPE_WEBHOOK_SECRET  whsec_... (several, comma-separated, while rotating)
  STRIPE_API_BASE        optional Stripe API base URL, e.g. stripe-mock at http://127.0.0.1:12111
  SMTP_URL               mail server for fundraisers' emails, e.g. smtp://user:password@host:587
                         (smtps:// for TLS from the start; ?from=appeal@example.org sets the
                         sender); unset: email stays in a local outbox shown at /dev/outbox
  DATABASE_MAX_CONNS     connections one serving instance may hold (default 20)
  DATABASE_ACQUIRE_TIMEOUT
                         how long a request waits for a free connection before it is
                         answered 503 with Retry-After (default 2s; 0: no bound)
  GIFT_MIN, GIFT_MAX     smallest and largest gift online, in pounds (default 1.00 and 10000.00)
  CARD_FEE_PERCENT, CARD_FEE_FIXED
                         the card fee a donor may offer to cover: percent plus pounds
                         (default 1.5 and 0.20, Stripe's standard UK pricing)
  GIFT_AID_AGGREGATION_LIMIT
                         Gift Aid gifts at or under this many pounds are aggregated on the
                         HMRC schedule (default 20.00; at most 1000)
  REQUIRE_2FA_FOR        roles that must use two-factor sign-in, e.g. admin,trustee (default:
                         none; anyone of those roles may still turn it on for themselves)
  CHARITY_NAME, CHARITY_NUMBER, CHARITY_ADDRESS, CHARITY_EMAIL
                         the charity's legal name, registered number, postal address (one
                         line) and contact email, on every donor's receipt; required to
                         serve with a Stripe key (the sandbox uses plainly example values)
`

type command struct {
	summary string
	run     func(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":   {"run the web service", cmdServe},
		"dev":     {"run everything locally on the embedded default", cmdDev},
		"migrate": {"apply database migrations", cmdMigrate},
		"seed":    {"create the appeal and its tiers if missing", cmdSeed},
		"replay":  {"check every stored total against the ledger and the events", cmdReplay},
		"export":  {"export gifts, or the Gift Aid claim schedule, as CSV", cmdExport},
		"stripe":  {"Stripe set-up: register-webhook", cmdStripe},
		"user":    {"accounts: user add", cmdUser},
		"donor":   {"a donor's data: export, erase, erase-due", cmdDonor},
		"events":  {"stored webhook events needing a person: list, retry", cmdEvents},

		"reconcile": {"compare the ledger with Stripe and recover undelivered events", cmdReconcile},
	}
}

// run is the whole program: tests call it with their own arguments, environment and
// output streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			if _, ok := commands()[rest[0]]; ok {
				return run(ctx, []string{rest[0], "-h"}, getenv, stdout, stderr)
			}
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	c, ok := commands()[name]
	if !ok {
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", name)}
	}
	err := c.run(ctx, rest, getenv, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// newFlags makes a flag set whose -h prints the command's own help to stdout.
func newFlags(name, synopsis, detail string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: giving %s\n\n%s\n", synopsis, strings.TrimSpace(detail))
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(stdout, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

func newLogger(w io.Writer, text bool) *slog.Logger {
	if text {
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// openStore connects and checks the server answers, naming DATABASE_URL when it does not.
// One-shot commands leave the connection wait unbounded: nothing queues behind them.
func openStore(ctx context.Context, dsn string) (*campaigns.Store, error) {
	return openStoreWith(ctx, dsn, campaigns.PoolOptions{MaxConns: defaultMaxConns})
}

func cmdMigrate(ctx context.Context, args []string, env func(string) string, stdout, _ io.Writer) error {
	fs := newFlags("migrate", "migrate", `Applies every embedded migration the database lacks, in order, one transaction per
file, under an advisory lock: several instances may run it at once.`, stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(env, needs{database: true})
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	applied, err := migrations.Apply(ctx, store.Pool())
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "migrate: schema is up to date")
	}
	for _, v := range applied {
		fmt.Fprintln(stdout, "migrate: applied", v)
	}
	return nil
}

func cmdSeed(ctx context.Context, args []string, env func(string) string, stdout, _ io.Writer) error {
	fs := newFlags("seed", "seed [--target 50000.00]", `Creates the Fundraising for Freedom appeal (slug fundraising-for-freedom) with its giving
tiers, from £3 (a survivor's meal) to £2,000 (a woman's entire stay at a safe house), if it
does not exist. Running it again changes nothing, so trustees' later edits are kept.`, stdout)
	target := fs.String("target", appeals.DefaultTarget.StringFixed(2), "the appeal's target in pounds, used only when the appeal is created")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := decimal.NewFromString(strings.TrimSpace(*target))
	if err != nil || t.Sign() <= 0 || !t.Equal(t.Round(2)) {
		return usageError{fmt.Sprintf("seed: --target %q must be an amount in pounds such as 50000 or 50000.00", *target)}
	}
	cfg, err := loadConfig(env, needs{database: true})
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	if err := migrations.Check(ctx, store.Pool()); err != nil {
		return err
	}
	created, err := appeals.Seed(ctx, store, appeals.SeedOptions{Target: t})
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "seed: created the appeal %q with target £%s\n", appeals.DefaultAppealSlug, t.StringFixed(2))
	} else {
		fmt.Fprintf(stdout, "seed: the appeal %q already exists; nothing changed\n", appeals.DefaultAppealSlug)
	}
	if cfg.exampleCharity {
		fmt.Fprintf(stdout, "seed: receipts name an example charity (%s, number %s) until CHARITY_NAME, CHARITY_NUMBER, CHARITY_ADDRESS and CHARITY_EMAIL are set; serving real payments needs them\n",
			cfg.Charity.Name, cfg.Charity.Number)
	}
	return nil
}

func cmdReplay(ctx context.Context, args []string, env func(string) string, stdout, _ io.Writer) error {
	fs := newFlags("replay", "replay", `Checks every total two ways and prints each difference, exiting with status 1 if
there is any (a difference is a bug):
  1. recomputes every appeal and fundraiser total from the ledger and compares it with the
     stored totals the pages show;
  2. rebuilds the ledger from the stored Stripe events alone, in a scratch schema, through
     the same code that applied them live, and compares the totals it gets.`, stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(env, needs{database: true})
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	diffs, err := ledger.CompareTotals(ctx, store)
	if err != nil {
		return err
	}
	for _, d := range diffs {
		fmt.Fprintln(stdout, "replay: DIFFERENCE (totals vs ledger):", d)
	}
	live, _ := payments.KeyMode(cfg.StripeKey)
	res, err := payments.ReplayEvents(ctx, store.Pool(), live)
	if err != nil {
		return err
	}
	for _, d := range res.Differences {
		fmt.Fprintln(stdout, "replay: DIFFERENCE (totals vs events):", d)
	}
	if n := len(diffs) + len(res.Differences); n > 0 {
		return fmt.Errorf("replay: %d differences found", n)
	}
	fmt.Fprintf(stdout, "replay: every total agrees with the ledger and with the %d stored Stripe events\n", res.Events)
	if res.Queued > 0 {
		fmt.Fprintf(stdout, "replay: %d more stored events are queued, not yet applied; the service applies them\n", res.Queued)
	}
	return nil
}
