package migrations_test

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"giving/migrations"
)

// sqlcLeftOut are the migrations sqlc's catalog cannot read, with the reason; sqlc.yaml
// says the same. No generated query may touch what they create.
var sqlcLeftOut = map[string]string{
	"0004_dashboard.sql": "its view names columns in a LATERAL VALUES list",
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
		listed[name] = true
	}
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		name := m.Version + ".sql"
		_, skip := sqlcLeftOut[name]
		if !listed[name] && !skip {
			t.Errorf("migration %s is not in sqlc.yaml's schema list: add it, so sqlc checks the queries against it", name)
		}
		if listed[name] && skip {
			t.Errorf("migration %s is listed in sqlc.yaml but sqlc cannot read it (%s)", name, sqlcLeftOut[name])
		}
		delete(listed, name)
	}
	for name := range listed {
		t.Errorf("sqlc.yaml lists %s, which is not an embedded migration", name)
	}
}
