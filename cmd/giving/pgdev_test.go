package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The embedded default's private cluster, with the real server binaries: initialised on the
// first start, listening on its own socket and on no TCP address, reused while it runs, and
// keeping its data across a stop and a second start without a second initdb.
func TestPrivatePostgresKeepsItsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := filepath.Join(reachableTempDir(t), ".data", "postgres")

	var log bytes.Buffer
	dsn, stop, err := startPrivatePostgres(ctx, dataDir, &log)
	if err != nil {
		t.Fatalf("first start: %v\n%s", err, log.String())
	}
	stopOnCleanup(t, dataDir)
	if !strings.Contains(log.String(), "initialising") {
		t.Errorf("first start did not initialise a cluster; log:\n%s", log.String())
	}
	conn := connect(t, dsn)
	var listen, db string
	if err := conn.QueryRow(ctx, `SELECT current_setting('listen_addresses'), current_database()`).Scan(&listen, &db); err != nil {
		t.Fatal(err)
	}
	if listen != "" || db != "giving" {
		t.Errorf("listen_addresses=%q database=%q, want no TCP and the giving database", listen, db)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	// A second start while the server runs reuses it rather than starting another.
	log.Reset()
	dsn2, _, err := startPrivatePostgres(ctx, dataDir, &log)
	if err != nil {
		t.Fatalf("start while running: %v\n%s", err, log.String())
	}
	if dsn2 != dsn || !strings.Contains(log.String(), "reusing") || strings.Contains(log.String(), "initialising") {
		t.Errorf("start while running: dsn %q (first %q); log:\n%s", dsn2, dsn, log.String())
	}

	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("postmaster.pid still present after stop: %v", err)
	}

	log.Reset()
	dsn3, stop3, err := startPrivatePostgres(ctx, dataDir, &log)
	if err != nil {
		t.Fatalf("start after stop: %v\n%s", err, log.String())
	}
	if strings.Contains(log.String(), "initialising") {
		t.Errorf("start after stop ran initdb again; log:\n%s", log.String())
	}
	conn = connect(t, dsn3)
	var v string
	if err := conn.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v); err != nil || v != "still here" {
		t.Fatalf("after a restart: %q %v", v, err)
	}
	conn.Close(ctx)
	if err := stop3(); err != nil {
		t.Fatalf("second stop: %v", err)
	}
}

// A data directory too deep for a unix socket path gets a short socket directory of its
// own under the temp dir; a normal one keeps its socket beside the data, inside .data/.
func TestPrivatePostgresSocketDir(t *testing.T) {
	short := "/home/ruby/giving/.data/postgres"
	if got := socketDir(short); got != "/home/ruby/giving/.data/run" {
		t.Errorf("socketDir(%q) = %q", short, got)
	}
	long := "/" + strings.Repeat("deep/", 30) + ".data/postgres"
	got := socketDir(long)
	if !(strings.HasPrefix(got, os.TempDir()) || strings.HasPrefix(got, "/tmp/")) || len(got)+len("/.s.PGSQL.5433") > maxSocketPath {
		t.Errorf("socketDir(long) = %q: want a short dir under %s or /tmp", got, os.TempDir())
	}
	if other := socketDir(long + "2"); other == got {
		t.Errorf("two data dirs share the socket dir %q", got)
	}
	// A socket dir with characters that mean something in a URL still parses back.
	cfg, err := pgx.ParseConfig(privateDSN("/tmp/a b&c", "giving"))
	if err != nil || cfg.Host != "/tmp/a b&c" || cfg.Port != privatePort || cfg.Database != "giving" {
		t.Errorf("privateDSN: host %q port %d db %q err %v", cfg.Host, cfg.Port, cfg.Database, err)
	}
}

// privateCluster starts a private PostgreSQL in a temporary directory that the postgres
// user can reach, stopped when the test ends.
func privateCluster(t *testing.T) (dataDir, dsn string) {
	t.Helper()
	dataDir = filepath.Join(reachableTempDir(t), ".data", "postgres")
	var log bytes.Buffer
	dsn, stop, err := startPrivatePostgres(context.Background(), dataDir, &log)
	if err != nil {
		t.Fatalf("private PostgreSQL: %v\n%s", err, log.String())
	}
	t.Cleanup(func() {
		_ = stop()
		_ = os.RemoveAll(socketDir(dataDir)) // may lie outside t.TempDir(), when the path was long
	})
	return dataDir, dsn
}

// reachableTempDir is t.TempDir() opened up (0755, with its parent) so that, when the tests
// run as root, the postgres user can traverse it to the cluster's data and socket.
func reachableTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// stopOnCleanup stops the cluster in dataDir when the test ends, whatever happened, before
// t.TempDir's removal (cleanups run last registered first).
func stopOnCleanup(t *testing.T, dataDir string) {
	t.Cleanup(func() {
		bin, err := postgresBinaries(os.Stderr)
		if err != nil {
			return
		}
		owner, err := runAsUser()
		if err != nil {
			return
		}
		if _, err := os.Stat(filepath.Join(dataDir, "postmaster.pid")); err == nil {
			_ = runPG(context.Background(), bin, owner, "pg_ctl", "-D", dataDir, "-m", "immediate", "-w", "stop")
		}
		_ = os.RemoveAll(socketDir(dataDir)) // may lie outside t.TempDir(), when the path was long
	})
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
