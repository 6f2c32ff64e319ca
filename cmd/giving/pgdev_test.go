package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// The embedded default's private cluster: created on first start, answering on its own
// socket, keeping its data across a stop and a second start.
func TestPrivatePostgresKeepsItsData(t *testing.T) {
	t.Parallel()
	root, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	_ = os.Chmod(root, 0o755)
	dataDir := filepath.Join(root, "postgres")
	ctx := context.Background()
	dsn, stop, err := startPrivatePostgres(ctx, dataDir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	pool := openPool(t, dsn)
	if _, err := pool.Exec(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')`); err != nil {
		t.Fatal(err)
	}
	pool.Close()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	dsn2, stop2, err := startPrivatePostgres(ctx, dataDir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stop2() }()
	var v string
	if err := openPool(t, dsn2).QueryRow(ctx, `SELECT v FROM kept`).Scan(&v); err != nil || v != "still here" {
		t.Fatalf("after a restart: %q %v", v, err)
	}
}
