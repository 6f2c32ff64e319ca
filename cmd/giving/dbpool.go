package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"giving/campaigns"
)

// defaultMaxConns is each instance's share of PostgreSQL's connections (100 by default).
const defaultMaxConns = 20

// poolOptions reads DATABASE_MAX_CONNS and DATABASE_ACQUIRE_TIMEOUT: how many connections
// one instance may hold, and how long a request waits for one of them before it is
// answered 503 (and Stripe retries a webhook). "0" turns the wait's bound off.
func poolOptions(getenv func(string) string) (campaigns.PoolOptions, error) {
	opt := campaigns.PoolOptions{MaxConns: defaultMaxConns, AcquireWait: campaigns.DefaultAcquireWait}
	if v := strings.TrimSpace(getenv("DATABASE_MAX_CONNS")); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 || n > 10000 {
			return opt, fmt.Errorf("DATABASE_MAX_CONNS=%q must be a whole number of connections, 1 or more (default %d)", v, defaultMaxConns)
		}
		opt.MaxConns = int32(n)
	}
	if v := strings.TrimSpace(getenv("DATABASE_ACQUIRE_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		if v == "0" {
			d, err = 0, nil
		}
		if err != nil || d < 0 {
			return opt, fmt.Errorf("DATABASE_ACQUIRE_TIMEOUT=%q must be a duration such as 2s or 500ms (default %s)", v, campaigns.DefaultAcquireWait)
		}
		opt.AcquireWait = d
	}
	return opt, nil
}

// openStoreWith opens the pool with opt and checks that the database answers.
func openStoreWith(ctx context.Context, dsn string, opt campaigns.PoolOptions) (*campaigns.Store, error) {
	pool, err := campaigns.OpenPool(ctx, dsn, opt)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach the database at DATABASE_URL: %w", err)
	}
	return campaigns.NewStore(pool), nil
}
