package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/campaigns/ledger"
	"giving/migrations/testdb"
)

func TestDonorHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"donor", "--help"}, {"help", "donor"}} {
		out, err := runCmd(t, nil, args...)
		if err != nil {
			t.Fatalf("giving %s: %v", strings.Join(args, " "), err)
		}
		for _, want := range []string{"export --email", "erase --email", "--yes", "HMRC", "6 years", "5 April",
			"name and address", "audit log", "giving replay", "erase-due"} {
			if !strings.Contains(out, want) {
				t.Errorf("giving %s does not explain %q:\n%s", strings.Join(args, " "), want, out)
			}
		}
	}
	for _, sub := range []string{"export", "erase", "erase-due"} {
		out, err := runCmd(t, nil, "donor", sub, "--help")
		if err != nil || !strings.Contains(out, "Usage: giving donor "+sub) {
			t.Errorf("giving donor %s --help: %v\n%s", sub, err, out)
		}
	}
	if out, _ := runCmd(t, nil, "donor", "erase", "--help"); !strings.Contains(out, "HMRC") || !strings.Contains(out, "changes nothing") {
		t.Errorf("giving donor erase --help does not explain what is kept:\n%s", out)
	}
	if out, _ := runCmd(t, nil, "help"); !strings.Contains(out, "donor") {
		t.Error("giving help does not list donor")
	}
	var u usageError
	for _, args := range [][]string{{"donor"}, {"donor", "forget"}, {"donor", "erase"}, {"donor", "export", "--email", "not-an-email"}} {
		if _, err := runCmd(t, map[string]string{"DATABASE_URL": testdb.DefaultURL}, args...); !errors.As(err, &u) {
			t.Errorf("giving %s: %v, want a usage error", strings.Join(args, " "), err)
		}
	}
}

func TestDonorCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := map[string]string{}
	store, pool, appeal := seededStore(t, env)
	gift := func(email, name, amount string, at time.Time, pi string) donations.Donation {
		t.Helper()
		n := donations.NewDonation{AppealID: appeal.ID, Amount: decimal.RequireFromString(amount), DisplayName: name,
			Message: "from " + name, Email: email, Declaration: &giftaid.Declaration{FirstName: name, LastName: "Example",
				House: "1", Postcode: "SW1A 1AA", Scope: giftaid.ScopeThis, WordingVersion: "test", Wording: "I want to Gift Aid my donation"}}
		dn, err := donations.Create(ctx, store, n)
		if err != nil {
			t.Fatal(err)
		}
		e := ledger.Entry{AppealID: appeal.ID, DonationID: dn.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: pi, PaymentIntent: pi,
			Amount: n.Amount, GiftAidBase: n.Amount, DonorKey: dn.DonorKey(), OccurredAt: at}
		if err := store.InTx(ctx, func(tx pgx.Tx) error { _, err := ledger.Record(ctx, tx, e); return err }); err != nil {
			t.Fatal(err)
		}
		return dn
	}
	ada := gift("ada@example.org", "Ada", "20.00", time.Now().Add(-time.Hour), "pi_ada")
	gift("bob@example.org", "Bob", "7.50", time.Now().Add(-time.Hour), "pi_bob")
	state := func() string {
		t.Helper()
		var s string
		if err := pool.QueryRow(ctx, `SELECT (SELECT string_agg(d::text, '|' ORDER BY d.id) FROM donations d) ||
			(SELECT string_agg(g::text, '|' ORDER BY g.id) FROM gift_aid_declarations g)`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	audits := func() int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Export to a file: Ada's gift and declaration, nobody else's, and an audit entry.
	file := filepath.Join(t.TempDir(), "ada.json")
	out, err := runCmd(t, env, "donor", "export", "--email", "ADA@example.org", "--out", file)
	if err != nil || !strings.Contains(out, "1 donations") {
		t.Fatalf("export: %v\n%s", err, out)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Found     bool `json:"found"`
		Donations []struct {
			Amount string `json:"amount"`
			Email  string `json:"email"`
		} `json:"donations"`
		Declarations []struct {
			FirstName string `json:"first_name"`
		} `json:"gift_aid_declarations"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.Found || len(doc.Donations) != 1 || doc.Donations[0].Amount != "20.00" || doc.Donations[0].Email != "ada@example.org" ||
		len(doc.Declarations) != 1 || doc.Declarations[0].FirstName != "Ada" || strings.Contains(string(b), "bob") {
		t.Fatalf("export file:\n%s", b)
	}
	if info, err := os.Stat(file); err != nil || info.Mode().Perm()&0o077 != 0 {
		t.Errorf("export file mode: %v %v", info.Mode(), err)
	}
	if n := audits(); n != 1 {
		t.Fatalf("audit entries after the export: %d", n)
	}

	// A dry run says what would happen and changes nothing, not even the audit log.
	before := state()
	out, err = runCmd(t, env, "donor", "erase", "--email", "ada@example.org")
	if err != nil || !strings.Contains(out, "DRY RUN") || !strings.Contains(out, "1 donation would be scrubbed") ||
		!strings.Contains(out, "kept for HMRC until 05/04/") || !strings.Contains(out, "--yes") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if state() != before || audits() != 1 {
		t.Fatal("the dry run changed something")
	}

	// --yes erases, and is audited.
	out, err = runCmd(t, env, "donor", "erase", "--email", "ada@example.org", "--yes")
	if err != nil || !strings.Contains(out, "1 donation scrubbed") || strings.Contains(out, "DRY RUN") {
		t.Fatalf("erase: %v\n%s", err, out)
	}
	got, err := donations.Lookup(ctx, store, donations.DonationLookup{ID: ada.ID})
	if err != nil || got.Email != "" || got.DisplayName != "" || got.Message != "" || !got.Amount.Equal(decimal.RequireFromString("20.00")) {
		t.Fatalf("after erase: %+v %v", got, err)
	}
	log, err := audit.Log(ctx, store.Pool(), 1)
	if err != nil || len(log) != 1 || log[0].Action != "donor erased" || log[0].ActorEmail != accounts.CommandLine().Email ||
		regexp.MustCompile(`(?i)\bada\b`).MatchString(log[0].Detail) { // a word: "ada" is hex, and ids are too
		t.Fatalf("audit: %+v %v", log, err)
	}

	// Nothing held: says so.
	out, err = runCmd(t, env, "donor", "erase", "--email", "ada@example.org", "--yes")
	if err != nil || !strings.Contains(out, "nothing is held") {
		t.Fatalf("erase again: %v\n%s", err, out)
	}
	out, err = runCmd(t, env, "donor", "erase-due")
	if err != nil || !strings.Contains(out, "0 Gift Aid declarations would be erased") {
		t.Fatalf("erase-due: %v\n%s", err, out)
	}
}
