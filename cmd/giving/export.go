package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/appeals"
	"giving/campaigns/giftaid"
	"giving/campaigns/reports"
	"giving/migrations"
)

const exportUsage = `Usage: giving export <gifts|gift-aid> [flags]

  gifts     every gift, refund, dispute and late Stripe fee in a period, as CSV
  gift-aid  the HMRC Charities Online Gift Aid claim schedule, as CSV; makes the claim
            and locks the gifts it includes unless --preview

'giving export gifts --help' and 'giving export gift-aid --help' explain each.
Files are UTF-8 with a byte-order mark (Excel opens them cleanly), every field quoted,
CRLF line ends; text that a spreadsheet would run as a formula starts with an apostrophe.
Needs DATABASE_URL.
`

func cmdExport(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, exportUsage)
		return usageError{"export: say what to export: gifts or gift-aid"}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, exportUsage)
		return nil
	case "gifts":
		return exportGifts(ctx, args[1:], env, stdout, stderr)
	case "gift-aid":
		return exportGiftAid(ctx, args[1:], env, stdout, stderr)
	}
	fmt.Fprint(stderr, exportUsage)
	return usageError{fmt.Sprintf("export: unknown export %q (gifts or gift-aid)", args[0])}
}

// parseDay reads YYYY-MM-DD as the start of that day in London, the charity's books' time.
func parseDay(flagName, s string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(s), campaigns.London())
	if err != nil {
		return time.Time{}, usageError{fmt.Sprintf("export: --%s %q must be a date such as 2026-01-31", flagName, s)}
	}
	return t, nil
}

func exportGifts(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("export gifts", "export gifts --from 2026-01-01 --to 2026-12-31 [--appeal SLUG] [--out gifts.csv]", `Writes every ledger entry from the first day to the last, both included (UK dates):
gifts, refunds (negative), disputes held, released and lost, and Stripe fees learned
after the gift. Columns: Date (DD/MM/YYYY), Appeal, Fundraiser page, Kind, Frequency,
Amount (signed, two decimals), Fee, Gift Aid eligible, Donor name ("Anonymous" when the
donor hid it), Message, Reference (the Stripe id, or "offline taking N"), Donation id,
Unmatched (money Stripe reported for no donation we created, to review). Rows are
streamed: any size of ledger exports.`, stdout)
	from := fs.String("from", "", "first day, YYYY-MM-DD (required)")
	to := fs.String("to", "", "last day, YYYY-MM-DD, included (required)")
	appeal := fs.String("appeal", "", "only this appeal's slug (default: every appeal)")
	out := fs.String("out", "", "write to this file instead of standard output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return usageError{"export gifts: --from and --to are required (e.g. --from 2026-01-01 --to 2026-12-31)"}
	}
	start, err := parseDay("from", *from)
	if err != nil {
		return err
	}
	last, err := parseDay("to", *to)
	if err != nil {
		return err
	}
	if last.Before(start) {
		return usageError{fmt.Sprintf("export gifts: --to %s is before --from %s", *to, *from)}
	}
	_, store, err := checkedStore(ctx, env)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	var appealID int64
	if *appeal != "" {
		a, err := appeals.AppealBySlug(ctx, store, *appeal)
		if err != nil {
			return fmt.Errorf("export gifts: appeal %q: %w", *appeal, err)
		}
		appealID = a.ID
	}
	w, done, err := openOut(*out, stdout)
	if err != nil {
		return err
	}
	err = reports.ExportGifts(ctx, store, accounts.CommandLine(), w, start, last.AddDate(0, 0, 1), appealID)
	if err := done(err == nil); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(stdout, "export gifts: wrote %s\n", *out)
	}
	return nil
}

func exportGiftAid(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("export gift-aid", "export gift-aid [--preview] [--aggregation-limit 20] [--upto 2026-12-31] [--out claim.csv]",
		`Writes the HMRC Charities Online claim schedule: Title, First name, Last name, House
name or number, Postcode, Aggregated donations, Sponsored event, Donation date (DD/MM/YY),
Amount. It includes every gift covered by a Gift Aid declaration (not cancelled before the
gift) that no earlier claim included, net of refunds; never offline or unmatched money.
A donor's monthly gifts share one row; gifts at or under the aggregation limit are summed
into rows of at most £1,000 with no name or address.

Without --preview this MAKES the claim: it is recorded, and the gifts in it are locked so
no later claim includes them again. Refunds of gifts already claimed are queued as
adjustments (the tax to give back) and attached to the next claim they fit in; they are
written to --adjustments-out (default: the --out file name ending -adjustments.csv) or, when
the schedule goes to standard output, listed on standard error.
With --preview nothing changes: run it first and check the schedule.`, stdout)
	money, err := loadMoney(env)
	if err != nil {
		return err
	}
	preview := fs.Bool("preview", false, "show the claim without making it or locking any gift")
	limit := fs.String("aggregation-limit", money.AggregationLimit.StringFixed(2), "gifts at or under this many pounds are aggregated (at most 1000; default GIFT_AID_AGGREGATION_LIMIT)")
	upto := fs.String("upto", "", "only gifts up to this day, YYYY-MM-DD, included (default: every gift so far)")
	out := fs.String("out", "", "write the schedule to this file instead of standard output")
	adjOut := fs.String("adjustments-out", "", "write the adjustments to this file")
	actor := fs.String("actor", "", "who is making the claim, recorded on it (default: $USER)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	lim, err := decimal.NewFromString(strings.TrimPrefix(strings.TrimSpace(*limit), "£"))
	if err != nil || lim.Sign() <= 0 || lim.GreaterThan(decimal.NewFromInt(1000)) || !lim.Equal(lim.Round(2)) {
		return usageError{fmt.Sprintf("export gift-aid: --aggregation-limit %q must be an amount in pounds above 0 and at most 1000, such as 20 or 30.00", *limit)}
	}
	if *actor == "" {
		*actor = env("USER")
	}
	opt := giftaid.ClaimOptions{AggregationLimit: lim, Actor: accounts.User{Email: *actor}}
	if *upto != "" {
		day, err := parseDay("upto", *upto)
		if err != nil {
			return err
		}
		opt.Upto = day.AddDate(0, 0, 1)
	}
	if *adjOut == "" && *out != "" {
		*adjOut = strings.TrimSuffix(*out, filepath.Ext(*out)) + "-adjustments.csv"
	}
	_, store, err := checkedStore(ctx, env)
	if err != nil {
		return err
	}
	defer store.Pool().Close()

	// Open the files before making the claim, so a bad path fails before anything is locked.
	w, done, err := openOut(*out, stdout)
	if err != nil {
		return err
	}
	var aw io.Writer
	adjDone := func(bool) error { return nil }
	if *adjOut != "" {
		if aw, adjDone, err = openOut(*adjOut, nil); err != nil {
			_ = done(false)
			return err
		}
	}
	var claim giftaid.Claim
	if *preview {
		claim, err = giftaid.ExportClaimPreview(ctx, store, opt)
	} else {
		claim, err = giftaid.MakeClaim(ctx, store, opt)
	}
	if errors.Is(err, giftaid.ErrNothingToClaim) || (err == nil && len(claim.Rows) == 0) {
		_, _ = done(false), adjDone(false)
		fmt.Fprintln(stderr, "export gift-aid: nothing to claim: every eligible gift is already in a claim")
		return nil
	}
	if err != nil {
		_, _ = done(false), adjDone(false)
		return err
	}
	err = giftaid.WriteClaimCSV(w, claim)
	if derr := done(err == nil); err == nil {
		err = derr
	}
	if aw != nil {
		aerr := giftaid.WriteAdjustments(aw, claim)
		if derr := adjDone(aerr == nil); aerr == nil {
			aerr = derr
		}
		err = errors.Join(err, aerr)
	}
	if err != nil {
		if claim.ID != 0 {
			// The claim stands (its gifts are locked); say so rather than leave it unexplained.
			return fmt.Errorf("export gift-aid: claim %d was made but its file was not written: %w", claim.ID, err)
		}
		return err
	}

	// The summary goes where it cannot corrupt the CSV.
	report := stdout
	if *out == "" {
		report = stderr
	}
	what := fmt.Sprintf("claim %d made by %q", claim.ID, claim.CreatedBy)
	if *preview {
		what = "PREVIEW (nothing claimed or locked)"
	}
	fmt.Fprintf(report, "export gift-aid: %s: %d rows, donations £%s, Gift Aid £%s, adjustments £%s (%d), to claim £%s\n",
		what, len(claim.Rows), claim.Total.StringFixed(2), claim.Tax.StringFixed(2), claim.AdjustmentTotal.StringFixed(2),
		len(claim.Adjustments), claim.NetTax().StringFixed(2))
	if aw == nil {
		for _, a := range claim.Adjustments {
			fmt.Fprintf(report, "export gift-aid: adjustment %s £%s %s\n", a.RefundedAt.In(campaigns.London()).Format("02/01/06"),
				a.TaxAmount.StringFixed(2), a.Note)
		}
	}
	for _, warn := range claim.Warnings {
		fmt.Fprintln(report, "export gift-aid: CHECK", warn)
	}
	if *out != "" {
		fmt.Fprintf(report, "export gift-aid: wrote %s", *out)
		if aw != nil {
			fmt.Fprintf(report, " and %s", *adjOut)
		}
		fmt.Fprintln(report)
	}
	return nil
}

// checkedStore reads the configuration and opens the database, refusing one whose schema
// is older than the binary: what the one-shot commands (export, donor, events, reconcile)
// start with.
func checkedStore(ctx context.Context, env func(string) string) (config, *campaigns.Store, error) {
	cfg, err := loadConfig(env, needs{database: true})
	if err != nil {
		return cfg, nil, err
	}
	store, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return cfg, nil, err
	}
	if err := migrations.Check(ctx, store.Pool()); err != nil {
		store.Pool().Close()
		return cfg, nil, err
	}
	return cfg, store, nil
}

// openOut returns where to write: stdout when path is empty, else a temporary file beside
// path that done(true) renames into place, so a failed export never leaves half a file.
// The file is readable by its owner only: it holds donors' names and addresses.
func openOut(path string, stdout io.Writer) (io.Writer, func(ok bool) error, error) {
	if path == "" {
		return stdout, func(bool) error { return nil }, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, nil, fmt.Errorf("export: cannot write %s: %w", path, err)
	}
	done := func(ok bool) error {
		cerr := f.Close()
		if !ok || cerr != nil {
			_ = os.Remove(f.Name())
			return cerr
		}
		if err := os.Rename(f.Name(), path); err != nil {
			_ = os.Remove(f.Name())
			return fmt.Errorf("export: cannot write %s: %w", path, err)
		}
		return nil
	}
	return f, done, nil
}
