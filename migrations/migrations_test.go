package migrations_test

import (
	"context"
	"errors"
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
	first, err := migrations.Apply(ctx, pool)
	if err != nil || len(first) != len(all) {
		t.Fatalf("first apply: %v %v, want all %d", first, err, len(all))
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
	total := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("migrator %d: %v", i, errs[i])
		}
		total += len(results[i])
	}
	if total != len(all) {
		t.Fatalf("%d migrations applied across %d migrators, want each of %d applied once", total, n, len(all))
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
