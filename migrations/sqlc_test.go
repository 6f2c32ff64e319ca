package migrations_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.yaml.in/yaml/v3"

	"giving/migrations"
	"giving/migrations/testdb"
)

// sqlcStandIns are the migrations sqlc's catalog cannot read, with the file under
// migrations/sqlc/ it reads instead (never applied); sqlc.yaml lists the stand-in.
// TestSqlcStandInsMatchTheirMigrations keeps each stand-in's tables and views true.
var sqlcStandIns = map[string]string{
	"0004_dashboard.sql": "sqlc/0004_dashboard.sql", // its view names columns in LATERAL VALUES lists
}

// sqlc checks the generated queries against the schema it reads from sqlc.yaml's list of
// migrations: a migration missing from that list would leave the check blind to it.
func TestSqlcReadsEveryMigration(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../sqlc.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		SQL []struct {
			Schema []string `yaml:"schema"`
		} `yaml:"sql"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil || len(cfg.SQL) != 1 {
		t.Fatalf("sqlc.yaml: %v (%d sql blocks)", err, len(cfg.SQL))
	}
	listed := map[string]bool{}
	for _, p := range cfg.SQL[0].Schema {
		name, ok := strings.CutPrefix(p, "migrations/")
		if !ok {
			t.Errorf("sqlc.yaml schema %q is not a migration", p)
		}
		for m, standIn := range sqlcStandIns {
			if name == standIn {
				name = m // the stand-in counts as its migration
			}
		}
		listed[name] = true
	}
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		name := m.Version + ".sql"
		if !listed[name] {
			t.Errorf("migration %s is not in sqlc.yaml's schema list: add it (or its stand-in), so sqlc checks the queries against it", name)
		}
		delete(listed, name)
	}
	for name := range listed {
		t.Errorf("sqlc.yaml lists %s, which is not an embedded migration", name)
	}
}

// A stand-in must describe what its migration builds: every table and view it creates has
// the same columns, in the same order and of the same types, as in a migrated database.
func TestSqlcStandInsMatchTheirMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testdb.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	columns := func(schema, relation string) string {
		t.Helper()
		rows, err := pool.Query(ctx, `SELECT column_name || ' ' || format_type(a.atttypid, a.atttypmod)
			FROM information_schema.columns c
			JOIN pg_attribute a ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
			WHERE c.table_schema = $1 AND c.table_name = $2 ORDER BY c.ordinal_position`, schema, relation)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(cols) == 0 {
			t.Fatalf("%s.%s: %v (%d columns)", schema, relation, err, len(cols))
		}
		return strings.Join(cols, ", ")
	}
	for migration, standIn := range sqlcStandIns {
		sql, err := os.ReadFile(standIn)
		if err != nil {
			t.Fatal(err)
		}
		// Build the stand-in in a schema of its own, beside the real one it refers to.
		if _, err := pool.Exec(ctx, `CREATE SCHEMA stand_in`); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `SET search_path = stand_in, public; `+string(sql)+`; RESET search_path`); err != nil {
			t.Fatalf("%s: %v", standIn, err)
		}
		rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'stand_in' ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		relations, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(relations) == 0 {
			t.Fatalf("%s creates nothing: %v", standIn, err)
		}
		for _, r := range relations {
			if got, want := columns("stand_in", r), columns("public", r); got != want {
				t.Errorf("%s's %s has columns\n  %s\nbut %s's has\n  %s", standIn, r, got, migration, want)
			}
		}
		if _, err := pool.Exec(ctx, `DROP SCHEMA stand_in CASCADE`); err != nil {
			t.Fatal(err)
		}
	}
}
