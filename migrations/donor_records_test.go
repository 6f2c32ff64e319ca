package migrations_test

import (
	"context"
	"testing"

	"giving/migrations"
)

// Migration 0021 gives every address already given with one donor record, links each
// donation to it (the same person however the address was typed), and counts monthly gifts
// set up before it as already confirmed, so a late event sends no set-up email for them.
func TestDonorRecordsAreBackfilledFromDonations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := emptyPool(t)
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	// The database as the release before 0021 left it: every later file counts as applied
	// for now, so Apply stops short of them.
	if _, err := pool.Exec(ctx, `CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.Version >= "0021" {
			if _, err := pool.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := migrations.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO appeals (slug, name, target) VALUES ('a', 'Appeal', 100);
		INSERT INTO donations (appeal_id, amount, frequency, email) SELECT id, 10, 'one_off', ' Grace@Example.org' FROM appeals;
		INSERT INTO donations (appeal_id, amount, frequency, email, subscription_id) SELECT id, 5, 'monthly', 'grace@example.org', 'sub_old' FROM appeals;
		INSERT INTO donations (appeal_id, amount, frequency, email) SELECT id, 3, 'one_off', 'alan@example.org' FROM appeals;
		INSERT INTO donations (appeal_id, amount, frequency, email) SELECT id, 3, 'one_off', '' FROM appeals;
		DELETE FROM schema_migrations WHERE version >= '0021'`); err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}

	count := func(query string) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM donors`); n != 2 {
		t.Errorf("%d donor records, want Grace's and Alan's", n)
	}
	if n := count(`SELECT count(DISTINCT donor_id) FROM donations WHERE lower(btrim(email)) = 'grace@example.org'`); n != 1 {
		t.Errorf("Grace's two gifts are %d people", n)
	}
	if n := count(`SELECT count(*) FROM donations d JOIN donors r ON r.id = d.donor_id WHERE r.email = lower(btrim(d.email))`); n != 3 {
		t.Errorf("%d donations linked to the record of their address, want 3", n)
	}
	if n := count(`SELECT count(*) FROM donations WHERE email = '' AND donor_id IS NOT NULL`); n != 0 {
		t.Error("a donation with no email was given a donor")
	}
	if n := count(`SELECT count(*) FROM donor_mail_facts WHERE kind = 'monthly_set_up' AND fact = 'sub_old'`); n != 1 {
		t.Error("the monthly gift set up before the upgrade is not counted as confirmed")
	}
	// From now on the database links each new donation itself.
	if n := count(`WITH d AS (INSERT INTO donations (appeal_id, amount, frequency, email) SELECT id, 7, 'one_off', 'ALAN@example.org' FROM appeals RETURNING donor_id)
		SELECT count(*) FROM d JOIN donors r ON r.id = d.donor_id WHERE r.email = 'alan@example.org'`); n != 1 {
		t.Error("a new gift from Alan is not linked to his record")
	}
}
