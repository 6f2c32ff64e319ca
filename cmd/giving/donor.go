package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"giving/campaigns/accounts"
	"giving/campaigns/donors"
	"giving/payments"
)

const donorUsage = `Usage: giving donor <export|erase|erase-due> [flags]

A donor's data rights (UK GDPR). A donor is found by email, whatever its case, on their
donations, together with every donation carrying the same Stripe customer, the Gift Aid
declarations linked to those donations, their ledger entries, and the stored Stripe
events naming their Stripe objects (customer, checkout session, payment intent,
subscription, charge, invoice).

  export --email E [--out file.json]
            everything held about the donor, as one JSON document (amounts as strings
            with two decimals, times in UK time)
  erase --email E [--yes]
            erase the donor's personal data; without --yes, print what would happen
            and change nothing
  erase-due [--yes]
            erase the Gift Aid declarations kept for HMRC whose donors asked for erasure,
            once HMRC no longer requires them (run it from time to time, e.g. monthly)

What erase does, in one transaction:
  - each donation: the email, display name and message are blanked and the name hidden
    (the donor wall shows "Anonymous");
  - the stored Stripe events: customer_details, customer_email, billing_details,
    receipt_email, shipping and the customer's name, address and phone become null
    wherever they appear;
  - each Gift Aid declaration whose gifts are all older than HMRC's retention period:
    title, names, house and postcode are blanked.

What erase keeps, and why:
  - amounts, statuses, dates, Stripe ids and the ledger: they are the charity's accounts
    (needed for its books, refunds and reconciliation with Stripe) and hold no contact
    details; every total stays the same and 'giving replay' still agrees;
  - a Gift Aid declaration covering a gift in the last 6 years after the end of that
    gift's tax year (to the 5 April following it): HMRC requires the charity to keep
    declarations, with the donor's name and address, for at least 6 years after the end
    of the accounting period of the last gift they cover, to support its Gift Aid claims.
    It is marked as erasure requested and 'giving donor erase-due' erases it once that
    period has passed. The output names the date it is kept until.

Both export and erase write to the audit log, naming the donor by a hash of the email,
never the email itself; a dry run changes nothing and writes nothing.
A monthly gift still live in Stripe brings the donor's email back with its next
renewal: cancel the subscription in Stripe first.
Needs DATABASE_URL.
`

func cmdDonor(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, donorUsage)
		return usageError{"donor: say what to do: export, erase or erase-due"}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, donorUsage)
		return nil
	case "export":
		return donorExport(ctx, args[1:], env, stdout, stderr)
	case "erase":
		return donorErase(ctx, args[1:], env, stdout)
	case "erase-due":
		return donorEraseDue(ctx, args[1:], env, stdout)
	}
	fmt.Fprint(stderr, donorUsage)
	return usageError{fmt.Sprintf("donor: unknown subcommand %q (export, erase or erase-due)", args[0])}
}

func donorEmail(cmd, email string) (string, error) {
	e, err := donors.DonorEmail(email)
	switch {
	case err == nil:
		return e, nil
	case accounts.NormalizeEmail(email) == "":
		return "", usageError{fmt.Sprintf("donor %s: --email is required (see giving donor %s --help)", cmd, cmd)}
	default:
		return "", usageError{fmt.Sprintf("donor %s: --email %q is not an email address", cmd, email)}
	}
}

func donorExport(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("donor export", "donor export --email E [--out file.json]", `Writes everything held about the donor as one JSON document: their donations (amounts,
dates, statuses, display name, message, privacy choices, Stripe ids), their Gift Aid
declarations (names, address, scope, the exact wording, dates, cancellation, how long
HMRC requires it kept), the ledger entries of their money, and the stored Stripe events
naming their Stripe objects, with the payloads as held. An email nothing is held for
gives a document with "found": false. The export is recorded in the audit log (by a
hash of the email). The file is readable by its owner only.`, stdout)
	email := fs.String("email", "", "the donor's email address (required)")
	out := fs.String("out", "", "write to this file instead of standard output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	e, err := donorEmail("export", *email)
	if err != nil {
		return err
	}
	_, store, err := checkedStore(ctx, env)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	// Open the file first, so a bad path fails before anything is read or audited.
	w, done, err := openOut(*out, stdout)
	if err != nil {
		return err
	}
	recs, err := donors.ExportDonorRecords(ctx, store, accounts.CommandLine(), e)
	if err != nil {
		_ = done(false)
		return err
	}
	err = donors.WriteDonorJSON(w, recs)
	if derr := done(err == nil); err == nil {
		err = derr
	}
	if err != nil {
		return err
	}
	report := stdout
	if *out == "" {
		report = stderr // where it cannot corrupt the JSON
	}
	if !recs.Found() {
		fmt.Fprintf(report, "donor export: nothing is held for %s\n", e)
	} else {
		fmt.Fprintf(report, "donor export: %d donations, %d Gift Aid declarations, %d ledger entries, %d stored Stripe events\n",
			len(recs.Donations), len(recs.Declarations), len(recs.Ledger), len(recs.Events))
	}
	if *out != "" {
		fmt.Fprintf(report, "donor export: wrote %s\n", *out)
	}
	return nil
}

func donorErase(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs := newFlags("donor erase", "donor erase --email E [--yes]", `Erases the donor's personal data: blanks the email, display name and message of each of
their donations (the donor wall shows "Anonymous"), nulls their contact details inside the
stored Stripe events, and blanks the name and address of their Gift Aid declarations that
HMRC no longer requires. Kept: amounts, statuses, dates, Stripe ids and the ledger (the
charity's accounts, no contact details; totals and 'giving replay' are unchanged), and,
while HMRC requires it (6 years after the end of the tax year, 5 April, of the last gift
it covers), a declaration's name and address: it is marked for erasure and erased later
by 'giving donor erase-due'.
Without --yes it prints what would happen and changes nothing. With --yes it is done in
one transaction and recorded in the audit log as "donor erased" (by a hash of the email).`, stdout)
	email := fs.String("email", "", "the donor's email address (required)")
	yes := fs.Bool("yes", false, "really erase (default: only show what would happen)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	e, err := donorEmail("erase", *email)
	if err != nil {
		return err
	}
	_, store, err := checkedStore(ctx, env)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	var rep donors.ErasureReport
	if *yes {
		rep, err = payments.EraseDonor(ctx, store, accounts.CommandLine(), e, time.Now())
	} else {
		rep, err = payments.PlanErasure(ctx, store, accounts.CommandLine(), e, time.Now())
	}
	if err != nil {
		return err
	}
	if !rep.Found() {
		if *yes {
			fmt.Fprintf(stdout, "donor erase: nothing is held for %s; nothing changed (the request is recorded in the audit log)\n", e)
		} else {
			fmt.Fprintf(stdout, "donor erase: DRY RUN: nothing is held for %s; nothing would change\n", e)
		}
		return nil
	}
	lead := "donor erase: "
	if !*yes {
		lead = "donor erase: DRY RUN, nothing changed: "
	}
	// The same sentences as the admin's donor page (campaigns.ErasureReport.Facts).
	for _, f := range rep.Facts(*yes) {
		if f.Warning {
			fmt.Fprintf(stdout, "%sWARNING: %s\n", lead, f.Text)
		} else {
			fmt.Fprintf(stdout, "%s%s\n", lead, f.Text)
		}
	}
	if *yes {
		fmt.Fprintln(stdout, "donor erase: done; recorded in the audit log as", rep.DonorHash)
	} else {
		fmt.Fprintln(stdout, "donor erase: run again with --yes to erase")
	}
	return nil
}

func donorEraseDue(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs := newFlags("donor erase-due", "donor erase-due [--yes]", `Erases the name and address of every Gift Aid declaration kept for HMRC after its donor
asked for erasure, once HMRC no longer requires it: 6 years after the 5 April following
the last gift it covers. Without --yes it only counts them. With --yes it records "gift
aid declarations erased" in the audit log.`, stdout)
	yes := fs.Bool("yes", false, "really erase (default: only count)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	_, store, err := checkedStore(ctx, env)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	n, err := donors.EraseDueDeclarations(ctx, store, accounts.CommandLine(), time.Now(), *yes)
	if err != nil {
		return err
	}
	if *yes {
		fmt.Fprintf(stdout, "donor erase-due: %d Gift Aid declarations erased\n", n)
	} else {
		fmt.Fprintf(stdout, "donor erase-due: DRY RUN: %d Gift Aid declarations would be erased; run again with --yes\n", n)
	}
	return nil
}
