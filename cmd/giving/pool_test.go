package main

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"giving/campaigns"
)

func openPool(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()
	pool, err := campaigns.OpenPool(context.Background(), dsn, campaigns.PoolOptions{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
