package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/migrations"
)

// scratchDB is a database this run created and must drop.
type scratchDB struct {
	Name string
	DSN  string
}

func randomTag() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func withDatabase(rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("TEST_DATABASE_URL is not a valid PostgreSQL URL")
	}
	u.Path = "/" + name
	return u.String(), nil
}

func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// createScratch makes an empty database named givingbench_<tag>_<suffix> on the admin server.
func createScratch(ctx context.Context, adminURL, tag, suffix string) (scratchDB, error) {
	name := "givingbench_" + tag + "_" + suffix
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return scratchDB{}, fmt.Errorf("connect to %s (set TEST_DATABASE_URL to a server where you may create databases): %w", redact(adminURL), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		return scratchDB{}, fmt.Errorf("create database %s: %w", name, err)
	}
	dsn, err := withDatabase(adminURL, name)
	if err != nil {
		return scratchDB{}, err
	}
	return scratchDB{Name: name, DSN: dsn}, nil
}

// dropScratch drops the databases, disconnecting anything still attached.
func dropScratch(adminURL string, dbs []scratchDB) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to drop scratch databases: %w", err)
	}
	defer conn.Close(ctx)
	var firstErr error
	for _, db := range dbs {
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{db.Name}.Sanitize()+` WITH (FORCE)`); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("drop database %s: %w", db.Name, err)
		}
	}
	return firstErr
}

// openSeeded opens a store on dsn the way serve does (20 connections, decimals mapped),
// applies every migration and seeds the appeal. It returns the appeal's id.
func openSeeded(ctx context.Context, dsn string) (*campaigns.Store, int64, error) {
	pool, err := campaigns.OpenPool(ctx, dsn, campaigns.PoolOptions{MaxConns: 20})
	if err != nil {
		return nil, 0, err
	}
	store := campaigns.NewStore(pool)
	if _, err := migrations.Apply(ctx, pool); err != nil {
		pool.Close()
		return nil, 0, err
	}
	if _, err := appeals.Seed(ctx, store, appeals.SeedOptions{}); err != nil {
		pool.Close()
		return nil, 0, err
	}
	a, err := appeals.AppealBySlug(ctx, store, appeals.DefaultAppealSlug)
	if err != nil {
		pool.Close()
		return nil, 0, err
	}
	return store, a.ID, nil
}
