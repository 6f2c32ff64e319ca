// Package migrations holds the numbered SQL files that build the schema, embedded in the
// binary, and the runner that applies them: in order, under a PostgreSQL advisory lock so
// two instances starting at once cannot both migrate, one transaction per file, each
// recorded in schema_migrations. Under the same lock, and first, it applies the migrations of
// River, the PostgreSQL-backed job queue that runs Giving's background work (its own
// tables, recorded in its own river_migration table).
package migrations

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed *.sql
var files embed.FS

// lockKey is an arbitrary constant: every Giving instance takes the same advisory lock.
const lockKey = 7_361_942_001

// Migration is one numbered SQL file.
type Migration struct {
	Version string // the file name without ".sql", e.g. "0001_foundation"
	SQL     string
}

// All returns the embedded migrations in the order they apply.
func All() ([]Migration, error) {
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", n, err)
		}
		out = append(out, Migration{Version: strings.TrimSuffix(n, ".sql"), SQL: string(b)})
	}
	return out, nil
}

// Fingerprint identifies the full set of migrations; test helpers name template databases
// after it so a changed schema never reuses a stale template.
func Fingerprint() string {
	all, err := All()
	if err != nil {
		panic(err) // embedded files: only a broken build gets here
	}
	h := sha256.New()
	for _, m := range all {
		h.Write([]byte(m.Version))
		h.Write([]byte(m.SQL))
	}
	fmt.Fprintf(h, "river %d", RiverLatest())
	return hex.EncodeToString(h.Sum(nil))[:12]
}

const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    text PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// Apply applies every migration not yet recorded and returns the versions it applied.
// Running it again applies nothing.
func Apply(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	// The advisory lock belongs to a session, so hold one connection throughout.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(lockKey)); err != nil {
		return nil, fmt.Errorf("migrate: take lock: %w", err)
	}
	defer func() {
		// A fresh context: the lock must be released even when ctx is cancelled.
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(lockKey))
	}()
	if _, err := conn.Exec(ctx, createTable); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	done, err := appliedSet(ctx, conn.Conn())
	if err != nil {
		return nil, err
	}
	// River's job tables first: a migration of Giving's may give waiting work its jobs.
	// River's migrations each run in a transaction of their own (one adds an enum value that
	// the next uses); the advisory lock held above still keeps other instances out.
	rm, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return nil, fmt.Errorf("migrate: River's job tables: %w", err)
	}
	river, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate: River's job tables: %w", err)
	}
	var applied []string
	for _, v := range river.Versions {
		applied = append(applied, fmt.Sprintf("river_%03d", v.Version))
	}
	for _, m := range all {
		if done[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn.Conn(), func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migrate: apply %s: %w", m.Version, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// RiverLatest is the newest River migration this binary carries (River numbers them 1, 2, ...).
func RiverLatest() int {
	m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		panic(err) // a nil config cannot be invalid: only a broken build gets here
	}
	all := m.AllVersions()
	return all[len(all)-1].Version
}

// ErrSchemaBehind means the database lacks migrations this binary carries.
var ErrSchemaBehind = errors.New("database schema is behind this binary: run 'giving migrate'")

// Check reports ErrSchemaBehind (wrapped, naming what is missing) unless every embedded
// migration has been applied. serve and /readyz use it.
func Check(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) error {
	all, err := All()
	if err != nil {
		return err
	}
	done, err := appliedSet(ctx, q)
	if err != nil {
		return err
	}
	var missing []string
	for _, m := range all {
		if !done[m.Version] {
			missing = append(missing, m.Version)
		}
	}
	if v, err := riverApplied(ctx, q); err != nil {
		return err
	} else if v < RiverLatest() {
		missing = append(missing, fmt.Sprintf("River's job tables (at %d of %d)", v, RiverLatest()))
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w (missing %s)", ErrSchemaBehind, strings.Join(missing, ", "))
	}
	return nil
}

// riverApplied is the newest River migration the database has, 0 for none.
func riverApplied(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) (int, error) {
	rows, err := q.Query(ctx, `SELECT COALESCE(max(version), 0)::int FROM river_migration`)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
			return 0, nil
		}
		return 0, fmt.Errorf("read river_migration: %w", err)
	}
	v, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[int])
	if err != nil {
		return 0, fmt.Errorf("read river_migration: %w", err)
	}
	return v, nil
}

func appliedSet(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) (map[string]bool, error) {
	rows, err := q.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table: nothing applied yet
			return map[string]bool{}, nil
		}
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	done := make(map[string]bool, len(versions))
	for _, v := range versions {
		done[v] = true
	}
	return done, nil
}
