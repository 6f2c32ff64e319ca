package migrations_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"giving/migrations"
	"giving/migrations/testdb"
)

func emptyPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), testdb.EmptyDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestApplyTwiceIsANoOp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := emptyPool(t)
	if err := migrations.Check(ctx, pool); !errors.Is(err, migrations.ErrSchemaBehind) {
		t.Fatalf("check on an empty database: %v, want ErrSchemaBehind", err)
	}
	all, _ := migrations.All()
	want := len(all) + migrations.RiverLatest() // River's job tables, then Giving's files
	first, err := migrations.Apply(ctx, pool)
	if err != nil || len(first) != want || first[migrations.RiverLatest()-1] != fmt.Sprintf("river_%03d", migrations.RiverLatest()) {
		t.Fatalf("first apply: %v %v, want all %d", first, err, want)
	}
	second, err := migrations.Apply(ctx, pool)
	if err != nil || len(second) != 0 {
		t.Fatalf("second apply: %v %v, want nothing applied", second, err)
	}
	if err := migrations.Check(ctx, pool); err != nil {
		t.Fatalf("check after migrating: %v", err)
	}
}

func TestConcurrentMigratorsDoNotClash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testdb.EmptyDSN(t)
	const n = 4
	var wg sync.WaitGroup
	results := make([][]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool, err := pgxpool.New(ctx, dsn) // separate pools: separate "instances"
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			results[i], errs[i] = migrations.Apply(ctx, pool)
		}()
	}
	wg.Wait()
	all, _ := migrations.All()
	want := len(all) + migrations.RiverLatest()
	total := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("migrator %d: %v", i, errs[i])
		}
		total += len(results[i])
	}
	if total != want {
		t.Fatalf("%d migrations applied across %d migrators, want each of %d applied once", total, n, want)
	}
}

func TestFailedMigrationLeavesNothingHalfWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := emptyPool(t)
	// A table the first migration creates already exists: that file must fail whole.
	if _, err := pool.Exec(ctx, `CREATE TABLE tiers (id int)`); err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Apply(ctx, pool); err == nil {
		t.Fatal("apply over a clashing table succeeded")
	}
	var appeals bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('appeals') IS NOT NULL`).Scan(&appeals); err != nil {
		t.Fatal(err)
	}
	if appeals {
		t.Fatal("the failed migration left the appeals table behind")
	}
}

// An upgrade to River-run background work forgets nothing: a message still queued and a
// cancellation still to do under the old workers each get a job from migration 0019.
func TestUpgradeGivesWaitingWorkItsJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := emptyPool(t)
	// The database as the release before 0019 left it: River's tables (which Apply creates
	// first) and Giving's files up to 0018, recorded as applied.
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.Version >= "0019" {
			break
		}
		if _, err := pool.Exec(ctx, m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Version, err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version); err != nil {
			t.Fatal(err)
		}
	}
	_, err = pool.Exec(ctx, `
		INSERT INTO mail_outbox (to_address, subject, body) VALUES ('ruby@example.org', 'Welcome', 'Hello');
		INSERT INTO mail_outbox (to_address, subject, body, status) VALUES ('old@example.org', 'Sent', '', 'sent');
		INSERT INTO appeals (slug, name, target) VALUES ('a', 'Appeal', 100);
		INSERT INTO donations (appeal_id, amount, frequency) SELECT id, 10, 'monthly' FROM appeals;
		INSERT INTO subscription_cancels (subscription_id, donation_id, reason) SELECT 'sub_waiting', id, 'disputed' FROM donations`)
	if err != nil {
		t.Fatal(err)
	}

	applied, err := migrations.Apply(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if got := applied[len(applied)-1]; got != all[len(all)-1].Version {
		t.Fatalf("applied %v", applied)
	}
	var jobs []string
	rows, err := pool.Query(ctx, `SELECT kind || ' ' || args::text FROM river_job ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var j string
		if err := rows.Scan(&j); err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	if rows.Err() != nil || len(jobs) != 2 || jobs[0] != `send_mail {"mail_id": 1}` || jobs[1] != `cancel_subscription {"subscription_id": "sub_waiting"}` {
		t.Fatalf("jobs after the upgrade: %q (%v), want the queued message's and the waiting cancellation's", jobs, rows.Err())
	}
}
