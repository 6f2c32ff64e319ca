package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"giving/migrations/testdb"
	"giving/payments/paymentstest"
)

func TestReconcileRefusesTheSandbox(t *testing.T) {
	t.Parallel()
	for _, env := range []map[string]string{nil, {"DATABASE_URL": testdb.DefaultURL}} {
		out, err := runCmd(t, env, "reconcile")
		if err == nil || !strings.Contains(err.Error(), "STRIPE_SECRET_KEY is not set") || !strings.Contains(err.Error(), "sandbox") ||
			strings.Contains(err.Error(), "\n") || out != "" {
			t.Fatalf("reconcile without a key: %v, output %q; want one line refusing sandbox mode", err, out)
		}
	}
}

func TestReconcileHelpAndBadFlags(t *testing.T) {
	t.Parallel()
	out, err := runCmd(t, nil, "reconcile", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Usage: giving reconcile", "--since", "--recover", "missing_locally", "missing_at_stripe", "amount_mismatch", "sandbox"} {
		if !strings.Contains(out, s) {
			t.Errorf("reconcile --help does not mention %s:\n%s", s, out)
		}
	}
	if out, _ := runCmd(t, nil, "help"); !strings.Contains(out, "reconcile") {
		t.Error("giving help does not list reconcile")
	}
	for _, since := range []string{"yesterday", "2026-13-01", "2999-01-01"} {
		_, err := runCmd(t, map[string]string{"STRIPE_SECRET_KEY": "sk_test_x"}, "reconcile", "--since", since)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("--since %s: %v, want a usage error", since, err)
		}
	}
}

// TestReconcileAgainstStripeMock runs the whole command: stripe-mock's fixtures are in US
// dollars, so nothing is compared and an empty ledger agrees.
func TestReconcileAgainstStripeMock(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"DATABASE_URL":      testdb.DSN(t),
		"STRIPE_SECRET_KEY": "sk_test_reconcile",
		"STRIPE_API_BASE":   paymentstest.StripeMockURL(t),
	}
	out, err := runCmd(t, env, "reconcile", "--since", "2026-11-01")
	if err != nil || !strings.Contains(out, "No differences") || !strings.Contains(out, "Listed at Stripe") {
		t.Fatalf("reconcile: %v\n%s", err, out)
	}
	if out, err := runCmd(t, env, "reconcile", "--recover"); err != nil || !strings.Contains(out, "Undelivered events applied") {
		t.Fatalf("reconcile --recover: %v\n%s", err, out)
	}
	// One appeal, named in the report; an appeal that does not exist is refused.
	conn, err := pgx.Connect(context.Background(), env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `INSERT INTO appeals (slug, name, target, surplus_statement)
		VALUES ('winter-rec', 'Winter', 1000, 'Any surplus goes to our other work.')`); err != nil {
		t.Fatal(err)
	}
	if out, err := runCmd(t, env, "reconcile", "--since", "2026-11-01", "--appeal", "winter-rec"); err != nil ||
		!strings.Contains(out, "For Winter only: its ledger entries") || !strings.Contains(out, "No differences") {
		t.Fatalf("reconcile --appeal winter-rec: %v\n%s", err, out)
	}
	if out, err := runCmd(t, env, "reconcile", "--appeal", "no-such-appeal"); err == nil || !strings.Contains(err.Error(), `appeal "no-such-appeal"`) {
		t.Fatalf("reconcile --appeal no-such-appeal: %v\n%s", err, out)
	}
}
