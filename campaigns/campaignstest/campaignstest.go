// Package campaignstest builds the store the tests work on: a pool on a fresh database of
// the test's own (testdb), closed when the test ends.
package campaignstest

import (
	"context"
	"sync"
	"testing"
	"time"

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

// Clock is a clock the test moves by hand (Store.WithClock(c.Now)), so a test of a lease, a
// deadline or a code's time step sets the time instead of sleeping through it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock is a clock standing at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
