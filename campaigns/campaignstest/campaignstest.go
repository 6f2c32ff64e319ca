// Package campaignstest builds the store the tests work on: a pool on a fresh database of
// the test's own (testdb), closed when the test ends.
package campaignstest

import (
	"context"
	"testing"

	"giving/campaigns"
	"giving/migrations/testdb"
)

// Store is an empty store with at most maxConns connections.
func Store(t testing.TB, maxConns int32) *campaigns.Store {
	t.Helper()
	pool, err := campaigns.OpenPool(context.Background(), testdb.DSN(t), campaigns.PoolOptions{MaxConns: maxConns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return campaigns.NewStore(pool)
}

// Seeded is Store with the default appeal seeded, and that appeal.
func Seeded(t testing.TB, maxConns int32) (*campaigns.Store, campaigns.Appeal) {
	t.Helper()
	ctx := context.Background()
	s := Store(t, maxConns)
	if _, err := s.Seed(ctx, campaigns.SeedOptions{}); err != nil {
		t.Fatal(err)
	}
	a, err := s.AppealBySlug(ctx, campaigns.DefaultAppealSlug)
	if err != nil {
		t.Fatal(err)
	}
	return s, a
}
