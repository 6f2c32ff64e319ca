// Package campaignstest builds the store the tests work on: a pool on a fresh database of
// the test's own (testdb), closed when the test ends.
package campaignstest

import (
	"context"
	"sync"
	"testing"
	"time"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/appeals"
	"giving/campaigns/ledger"
	"giving/migrations/testdb"

	"github.com/jackc/pgx/v5"
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
func Seeded(t testing.TB, maxConns int32) (*campaigns.Store, appeals.Appeal) {
	t.Helper()
	ctx := context.Background()
	s := Store(t, maxConns)
	if _, err := appeals.Seed(ctx, s, appeals.SeedOptions{}); err != nil {
		t.Fatal(err)
	}
	a, err := appeals.AppealBySlug(ctx, s, appeals.DefaultAppealSlug)
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

// AddFundraiser adds an approved fundraiser page to the appeal and returns its id.
func AddFundraiser(t testing.TB, s *campaigns.Store, appealID int64, slug string) int64 {
	t.Helper()
	var id int64
	err := s.Pool().QueryRow(context.Background(), `INSERT INTO fundraisers (appeal_id, slug, title, target, status)
		VALUES ($1, $2, 'Ruby runs for freedom', 500, 'approved') RETURNING id`, appealID, slug).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// EntryTime is when the money of a test's entries moved, where the test does not care.
var EntryTime = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// Record records e in a transaction of its own (at EntryTime when e has no time) and
// reports whether it was new.
func Record(t testing.TB, s *campaigns.Store, e ledger.Entry) bool {
	t.Helper()
	var ok bool
	if e.OccurredAt.IsZero() {
		e.OccurredAt = EntryTime
	}
	err := s.InTx(context.Background(), func(tx pgx.Tx) error {
		var err error
		ok, err = ledger.Record(context.Background(), tx, e)
		return err
	})
	if err != nil {
		t.Fatalf("record %+v: %v", e, err)
	}
	return ok
}

// GoodPassword is a password every account test may use.
const GoodPassword = "correct horse battery"

// AddUser creates an account with GoodPassword, as the command line does.
func AddUser(t testing.TB, s *campaigns.Store, email string, role accounts.Role) accounts.User {
	t.Helper()
	u, err := accounts.CreateUser(context.Background(), s, accounts.CommandLine(), email, GoodPassword, role)
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u
}
