package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/campaigns/ledger"
	"giving/migrations/testdb"
)

func TestExportHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"export", "--help"}, {"help", "export"}} {
		out, err := runCmd(t, nil, args...)
		if err != nil || !strings.Contains(out, "gift-aid") || !strings.Contains(out, "gifts") {
			t.Errorf("giving %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, c := range []struct{ sub, want string }{
		{"gifts", "Usage: giving export gifts --from"},
		{"gift-aid", "Without --preview this MAKES the claim"},
	} {
		out, err := runCmd(t, nil, "export", c.sub, "--help")
		if err != nil || !strings.Contains(out, c.want) || !strings.Contains(out, "-out") {
			t.Errorf("giving export %s --help: %v\n%s", c.sub, err, out)
		}
	}
	var u usageError
	for _, args := range [][]string{{"export"}, {"export", "donors"}, {"export", "gifts"},
		{"export", "gifts", "--from", "2026-13-01", "--to", "2026-12-31"},
		{"export", "gift-aid", "--aggregation-limit", "1000.01"}, {"export", "gift-aid", "--aggregation-limit", "twenty"}} {
		if _, err := runCmd(t, map[string]string{"DATABASE_URL": testdb.DefaultURL}, args...); !errors.As(err, &u) {
			t.Errorf("giving %s: %v, want a usage error", strings.Join(args, " "), err)
		}
	}
}

func TestExportCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := map[string]string{"USER": "trustee"}
	store, pool, appeal := seededStore(t, env)
	gift := func(amount string, name string, declared bool, at time.Time, pi string) {
		n := donations.NewDonation{AppealID: appeal.ID, Amount: decimal.RequireFromString(amount), DisplayName: name}
		if declared {
			n.Declaration = &giftaid.Declaration{FirstName: "Ada", LastName: "Smith-Jones", House: "12", Postcode: "sw1a1aa",
				Scope: giftaid.ScopeThis, WordingVersion: "test", Wording: "I want to Gift Aid my donation"}
		}
		dn, err := donations.Create(ctx, store, n)
		if err != nil {
			t.Fatal(err)
		}
		e := ledger.Entry{AppealID: appeal.ID, DonationID: dn.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: pi, PaymentIntent: pi,
			Amount: n.Amount, DonorKey: dn.DonorKey(), OccurredAt: at}
		if declared {
			e.GiftAidBase = n.Amount
		}
		if err := store.InTx(ctx, func(tx pgx.Tx) error { _, err := ledger.Record(ctx, tx, e); return err }); err != nil {
			t.Fatal(err)
		}
	}
	gift("50.00", "@Ada", true, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), "pi_a")
	gift("10.00", "Bo", true, time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC), "pi_b")
	gift("25.00", "Cy", false, time.Date(2027, 1, 1, 10, 0, 0, 0, time.UTC), "pi_c")

	dir := t.TempDir()
	giftsFile := filepath.Join(dir, "gifts.csv")
	out, err := runCmd(t, env, "export", "gifts", "--from", "2026-01-01", "--to", "2026-12-31", "--out", giftsFile)
	if err != nil {
		t.Fatalf("export gifts: %v\n%s", err, out)
	}
	b, err := os.ReadFile(giftsFile)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.HasPrefix(s, "\uFEFF") || strings.Count(s, "\r\n") != 3 || !strings.Contains(s, `"'@Ada"`) || strings.Contains(s, "pi_c") {
		t.Errorf("gifts.csv for 2026:\n%s", s)
	}
	if out, err := runCmd(t, env, "export", "gifts", "--from", "2026-01-01", "--to", "2026-12-31", "--appeal", "no-such-appeal"); err == nil {
		t.Errorf("an unknown appeal was accepted:\n%s", out)
	}

	// A preview claims nothing; the claim locks the gifts; a second claim finds nothing.
	out, err = runCmd(t, env, "export", "gift-aid", "--preview")
	if err != nil || !strings.Contains(out, `"","Ada","Smith Jones","12","SW1A 1AA","","","02/03/26","50.00"`) ||
		!strings.Contains(out, `"Small online donations","","03/03/26","10.00"`) {
		t.Fatalf("preview: %v\n%s", err, out)
	}
	claimFile := filepath.Join(dir, "claim.csv")
	out, err = runCmd(t, env, "export", "gift-aid", "--aggregation-limit", "5", "--out", claimFile)
	if err != nil || !strings.Contains(out, `claim 1 made by "trustee"`) || !strings.Contains(out, "Gift Aid £15.00") {
		t.Fatalf("claim: %v\n%s", err, out)
	}
	b, err = os.ReadFile(claimFile)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Count(s, "\r\n") != 3 || strings.Contains(s, "Small online donations") {
		t.Errorf("claim.csv with a £5 aggregation limit names both gifts:\n%s", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "claim-adjustments.csv")); err != nil {
		t.Errorf("the adjustments file: %v", err)
	}
	var items int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM gift_aid_claim_items`).Scan(&items); err != nil || items != 2 {
		t.Errorf("%d gifts locked (%v), want 2", items, err)
	}
	// Every export that left the service is in the audit log, under who made it; the
	// refused one (an unknown appeal) is not.
	rows, err := pool.Query(ctx, `SELECT actor_email || ': ' || action FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	audited, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if want := "command line: export gifts|trustee: export gift aid preview|trustee: export gift aid claim"; err != nil || strings.Join(audited, "|") != want {
		t.Errorf("audit log after the exports: %q (%v), want %q", audited, err, want)
	}
	again := filepath.Join(dir, "again.csv")
	if out, err := runCmd(t, env, "export", "gift-aid", "--out", again); err != nil {
		t.Fatalf("second claim: %v\n%s", err, out)
	}
	if _, err := os.Stat(again); !os.IsNotExist(err) {
		t.Errorf("a claim with nothing in it wrote a file: %v", err)
	}
}
