package migrations_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

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
	// The database as the release before 0019 left it.
	pool, all := migratedBefore(t, "0019")
	_, err := pool.Exec(ctx, `
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

// migratedBefore is a database as the release before version left it: River's tables
// (which Apply creates first) and Giving's files up to the one before version, recorded as
// applied.
func migratedBefore(t *testing.T, version string) (*pgxpool.Pool, []migrations.Migration) {
	t.Helper()
	ctx := context.Background()
	pool := emptyPool(t)
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	rm, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.Version >= version {
			break
		}
		if _, err := pool.Exec(ctx, m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Version, err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version); err != nil {
			t.Fatal(err)
		}
	}
	return pool, all
}

// Offline money recorded while it pretended to be a Stripe object ('offline_<id>') is
// re-keyed by migration 0020 under its own source, with nothing else about the ledger
// changed: the same entries, the dashboard summary still exactly the ledger's, the key
// still unique and the entries still immutable.
func TestUpgradeKeysOfflineMoneyByItsOwnSource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := migratedBefore(t, "0020")
	_, err := pool.Exec(ctx, `
		INSERT INTO appeals (slug, name, target) VALUES ('a', 'Appeal', 100);
		INSERT INTO fundraisers (appeal_id, slug, title, target, status) SELECT id, 'ruby', 'Ruby', 500, 'approved' FROM appeals;
		INSERT INTO ledger_entries (appeal_id, fundraiser_id, kind, stripe_object, seq, amount, occurred_at)
		SELECT a.id, f.id, k.kind, k.object, k.seq, k.amount, '2026-05-01T12:00:00Z'
		FROM appeals a, fundraisers f, (VALUES ('gift', 'offline_7', '', 120.00), ('refund', 'offline_7', 'reversal', -120.00),
			('gift', 'pi_unmatched', '', 25.00)) k (kind, object, seq, amount)`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}
	var keys string
	if err := pool.QueryRow(ctx, `SELECT string_agg(source || ':' || source_ref || ':' || kind, ' ' ORDER BY id) FROM ledger_entries`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if want := "offline:7:gift offline:7:refund stripe:pi_unmatched:gift"; keys != want {
		t.Fatalf("ledger keys after the upgrade: %q, want %q", keys, want)
	}
	// The summary is exactly what the ledger adds up to, shard by shard.
	var differing int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM (
		(SELECT appeal_id, grain, starts, dim, dim_id, frequency, kind, shard, amount, entries FROM ledger_summary
		 EXCEPT SELECT appeal_id, grain, starts, dim, dim_id, frequency, kind, shard, sum(amount), count(*) FROM ledger_summary_source GROUP BY 1, 2, 3, 4, 5, 6, 7, 8)
		UNION ALL
		(SELECT appeal_id, grain, starts, dim, dim_id, frequency, kind, shard, sum(amount), count(*) FROM ledger_summary_source GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
		 EXCEPT SELECT appeal_id, grain, starts, dim, dim_id, frequency, kind, shard, amount, entries FROM ledger_summary)) d`).Scan(&differing); err != nil {
		t.Fatal(err)
	}
	if differing != 0 {
		t.Errorf("%d summary rows differ from the ledger after the upgrade", differing)
	}
	// The same fact again is refused; the same id from the other source is another fact.
	insert := `INSERT INTO ledger_entries (appeal_id, kind, source, source_ref, amount, occurred_at)
		SELECT id, 'gift', $1, '7', 120.00, now() FROM appeals ON CONFLICT DO NOTHING`
	for source, want := range map[string]int64{"offline": 0, "stripe": 1} {
		tag, err := pool.Exec(ctx, insert, source)
		if err != nil || tag.RowsAffected() != want {
			t.Errorf("a %s gift keyed 7: %v rows, %v; want %d", source, tag.RowsAffected(), err, want)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE ledger_entries SET amount = amount WHERE source = 'offline'`); err == nil {
		t.Error("the upgrade left ledger entries open to change")
	}
}
