// Command givingbench measures Giving on this machine in one run and prints one table of
// figures, ratios, targets and PASS/FAIL. See -help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"giving/campaigns"
)

const usage = `givingbench measures the Giving service on this machine and prints one table: each
figure, the baseline it is judged against, their ratio, the target and PASS or FAIL.

  1. GET /api/campaigns/fundraising-for-freedom on the real site (web.New wired as 'giving
     serve' wires it, sandbox payments) against a bare chi handler writing constant JSON:
     requests/s, p50 and p99 at the same concurrency. Target: JSON >= 0.5 x bare.
  1b. The appeal page GET / (HTML, as a visitor not logged in gets it: from the page
     cache, gzipped, the request saying Accept-Encoding: gzip as every browser's does)
     against the same bare handler. Target: HTML >= 0.5 x bare. The bare handler, the
     JSON and the page take turns, four times, each a quarter of the requests.
  2. ledger.ReadTotals on a small and a large ledger (10,000 and 10,000,000 gifts, -ledger
     to change the large size, each in its own database, bulk-loaded with COPY and
     spread over the same last year, totals set to match and moved by a few real gifts),
     p50 and p99 of reads alternating between
     the two. Target: p50 within 20%. CompareTotals on the large ledger must then find no
     difference; the trustee dashboard for the last 12 months (100 reads on each ledger,
     alternating, on new connections) must take under 100 ms over it and within 20% of its
     time over the small one.
  3. POST /webhooks/stripe with signed checkout.session.completed events for pending
     donations, against a bare handler doing one INSERT per request (the ceiling), taking
     turns (ceiling, endpoint; twice, each turn on a vacuumed database with the queue
     applied): events/s, p50, p99 over both turns. Target: >= 0.5 x ceiling. The
     endpoint answers once an event is stored; the events it leaves queued are applied
     by the appliers, and the run waits for them (and reports how long) before a paced
     run at 1,000 events/s for 5 s. Target: p99 < 50 ms. Applying, sustained (the closed
     loop's events over the time from its first delivery to its last event applied):
     target >= 0.5 x ceiling. After the paced run the queue must be empty within 1 s, and
     the time from each paced delivery to the appeal's totals counting it must have p99
     < 1 s. An event answered 503 is resent at once (up to 5 times, as
     Stripe would retry it) and counted; target: none. The appeal's gift count must equal
     the events sent and CompareTotals must find no difference.
  3b. The same closed-loop webhook load (half the count) sent round robin to 1, 2 and 3
     service instances (each its own site, pool and appliers) on the one database:
     answered and applied events/s, then the appeal's gifts and CompareTotals checked.
  4. Peak RSS (VmHWM) of this process during the webhook load - the service, its pool and
     the load generator all run in this one process - and the Go heap in use.
     Target: < 100 MiB.

Everything runs on loopback. Every run is bounded in count and in time. PostgreSQL is
TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable),
where the tool creates scratch databases named givingbench_<random>_*, migrates and seeds
them, and drops them at the end.

Exit status: 0 when every measurement ran, even if a target is missed (FAIL in the
table); 1 on an error or when a correctness check fails (totals that disagree with the
ledger); 2 on bad usage.

Usage: go run ./cmd/givingbench [-quick] [-ledger N]

Flags:
`

// sizes scale every measurement; full and quick are the two the command offers.
type sizes struct {
	HTTP                          loadSpec
	LedgerSmall, LedgerBig, Batch int64
	Reads                         int
	ReadCap                       time.Duration
	Hooks                         webhookSpec
}

var (
	fullSizes = sizes{
		HTTP:        loadSpec{Concurrency: 16, Total: 20_000, Cap: 15 * time.Second},
		LedgerSmall: 10_000, LedgerBig: 10_000_000, Batch: 500_000,
		Reads: 2_000, ReadCap: 20 * time.Second,
		Hooks: webhookSpec{Load: loadSpec{Concurrency: 16, Total: 5_000, Cap: 30 * time.Second, Retry503: 5},
			PacedRate: 1_000, PacedDur: 5 * time.Second},
	}
	quickSizes = sizes{
		HTTP:        loadSpec{Concurrency: 16, Total: 4_000, Cap: 5 * time.Second},
		LedgerSmall: 10_000, LedgerBig: 100_000, Batch: 100_000,
		Reads: 500, ReadCap: 10 * time.Second,
		Hooks: webhookSpec{Load: loadSpec{Concurrency: 16, Total: 1_000, Cap: 10 * time.Second, Retry503: 5},
			PacedRate: 1_000, PacedDur: time.Second},
	}
)

// results is everything one run measured.
type results struct {
	Appeal appealResult
	Totals totalsResult
	Hooks  webhookResult
	// Instances are the webhook load over 1, 2 and 3 service instances on one database.
	Instances      []instancesResult
	InstancesCheck instancesCheck
	Targets        sizes
}

// runAll runs the measurements: the site and webhooks on siteStore, the total reads on two
// more databases (small and big ledgers; the webhook gift count starts from zero).
func runAll(ctx context.Context, siteStore *campaigns.Store, siteDSN string, siteAppeal int64,
	small, big ledgerDB, sz sizes, progress io.Writer) (results, error) {
	res := results{Targets: sz}
	log := benchLogger()
	secret := newWebhookSecret()
	site, err := startSite(siteStore, secret, log)
	if err != nil {
		return res, err
	}
	defer site.Close()
	bare, err := startBare(log)
	if err != nil {
		return res, err
	}
	defer bare.Close()

	step := func(name string) func() {
		fmt.Fprintf(progress, "givingbench: %s ...", name)
		t0 := time.Now()
		return func() { fmt.Fprintf(progress, " %.1f s\n", time.Since(t0).Seconds()) }
	}

	done := step(fmt.Sprintf("appeal JSON vs bare chi (%d requests each, %d at a time)", sz.HTTP.Total, sz.HTTP.Concurrency))
	if res.Appeal, err = measureAppeal(ctx, site.URL, bare.URL, sz.HTTP); err != nil {
		return res, fmt.Errorf("appeal JSON: %w", err)
	}
	done()

	done = step(fmt.Sprintf("total reads at %d and %d ledger entries", sz.LedgerSmall, sz.LedgerBig))
	if res.Totals, err = measureTotals(ctx, small, big, sz.LedgerSmall, sz.LedgerBig, sz.Batch, sz.Reads, sz.ReadCap); err != nil {
		return res, fmt.Errorf("total reads: %w", err)
	}
	done()

	done = step(fmt.Sprintf("webhooks (%d closed-loop, then %d/s for %s)", sz.Hooks.Load.Total, sz.Hooks.PacedRate, sz.Hooks.PacedDur))
	if res.Hooks, err = measureWebhooks(ctx, siteStore, siteDSN, siteAppeal, site.URL, secret, sz.Hooks); err != nil {
		return res, fmt.Errorf("webhooks: %w", err)
	}
	done()

	spread := sz.Hooks.Load
	spread.Total = max(1, spread.Total/2)
	done = step(fmt.Sprintf("webhooks over 1, 2 and 3 instances (%d closed-loop each)", spread.Total))
	if res.Instances, res.InstancesCheck, err = measureInstances(ctx, siteStore, siteDSN, siteAppeal, site.URL, secret, spread, []int{1, 2, 3}); err != nil {
		return res, fmt.Errorf("instances: %w", err)
	}
	done()
	return res, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "givingbench:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("givingbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "smoke run with smaller counts (100,000 ledger rows, 1,000 webhook events, 1 s paced); about a minute")
	bigLedger := fs.Int64("ledger", 0, "gifts in the large ledger (0: 10,000,000, or 100,000 with -quick); its bulk insert takes minutes at 10,000,000")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "givingbench: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return errUsage
	}
	sz, mode := fullSizes, "full"
	if *quick {
		sz, mode = quickSizes, "quick"
	}
	if *bigLedger < 0 || (*bigLedger > 0 && *bigLedger < sz.LedgerSmall) {
		fmt.Fprintf(stderr, "givingbench: -ledger %d: want at least the small ledger's %d gifts\n", *bigLedger, sz.LedgerSmall)
		return errUsage
	}
	if *bigLedger > 0 {
		sz.LedgerBig = *bigLedger
	}
	admin := getenv("TEST_DATABASE_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(ctx, 45*time.Minute) // an outer bound on the whole run
	defer cancel()

	tag := randomTag()
	var dbs []scratchDB
	defer func() {
		if derr := dropScratch(admin, dbs); derr != nil && err == nil {
			err = derr
		}
	}()
	siteDB, err := createScratch(ctx, admin, tag, "site")
	if err != nil {
		return err
	}
	dbs = append(dbs, siteDB)
	siteStore, siteAppeal, err := openSeeded(ctx, siteDB.DSN)
	if err != nil {
		return err
	}
	defer siteStore.Pool().Close()
	var ledgers [2]ledgerDB
	for i, suffix := range []string{"small", "big"} {
		db, err := createScratch(ctx, admin, tag, suffix)
		if err != nil {
			return err
		}
		dbs = append(dbs, db)
		if ledgers[i].Store, ledgers[i].Appeal, err = openSeeded(ctx, db.DSN); err != nil {
			return err
		}
		defer ledgers[i].Store.Pool().Close()
	}
	var pgVersion string
	_ = siteStore.Pool().QueryRow(ctx, `SELECT current_setting('server_version')`).Scan(&pgVersion)

	fmt.Fprintf(stderr, "givingbench: %s run, scratch databases givingbench_%s_{site,small,big}\n", mode, tag)
	started, loadBefore := time.Now(), loadAvg()
	res, err := runAll(ctx, siteStore, siteDB.DSN, siteAppeal, ledgers[0], ledgers[1], sz, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Giving benchmark (%s) - %s, GOMAXPROCS %d, %d CPUs, %s, PostgreSQL %s on %s, took %.0f s\n",
		mode, time.Now().Format("2006-01-02 15:04"), runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(),
		pgVersion, redactHost(admin), time.Since(started).Seconds())
	fmt.Fprintf(stdout, "Client, service and PostgreSQL share this machine; all traffic is loopback. Load average %s before, %s after.\n",
		loadBefore, loadAvg())
	fmt.Fprintln(stdout)
	rows := buildRows(res)
	printTable(stdout, rows)
	if bad := correctnessFailures(res); len(bad) > 0 {
		return fmt.Errorf("correctness check failed: %s", strings.Join(bad, "; "))
	}
	return nil
}

// loadAvg is the 1-minute load average, a hint that something else was using the machine.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// redactHost names the server without credentials.
func redactHost(raw string) string {
	r := redact(raw)
	if i := strings.Index(r, "?"); i >= 0 {
		r = r[:i]
	}
	return r
}
