package dbq

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"giving/migrations/testdb"
)

// The statements a batch runs with one element of each array per row join on the key of
// the table they touch. Planned for any array (the generic plan a prepared statement
// settles on), each must reach that table through its key index, not read the whole
// table: a donation, a donor or a stored event per row, whatever the table's size. The
// control is the form they once had, which reads every row.
func TestBatchStatementsJoinOnTheKeyIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testdb.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `
		INSERT INTO appeals (slug, name, target, surplus_statement) VALUES ('plans', 'Plans', 100, 'Any surplus funds our work.');
		INSERT INTO donations (appeal_id, amount, frequency, status, email)
		SELECT (SELECT id FROM appeals WHERE slug = 'plans'), 3, 'one_off', 'pending', 'donor' || g || '@example.org'
		FROM generate_series(1, 5000) AS g;
		INSERT INTO stripe_events (id, type, payload, outcome)
		SELECT 'evt_plans_' || g, 'checkout.session.completed', '\x7b7d', 'applied' FROM generate_series(1, 5000) AS g;
		ANALYZE donations; ANALYZE donors; ANALYZE stripe_events;
		SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	plan := func(name, sql string) string {
		t.Helper()
		n := strings.Count(sql, "$") // an upper bound of the parameters: EXECUTE needs one per $n used
		for n > 0 && !strings.Contains(sql, fmt.Sprintf("$%d", n)) {
			n--
		}
		if _, err := conn.Exec(ctx, "PREPARE "+name+" AS "+sql); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rows, err := conn.Query(ctx, "EXPLAIN EXECUTE "+name+"("+strings.TrimSuffix(strings.Repeat("NULL,", n), ",")+")")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return strings.Join(lines, "\n")
	}
	control := plan("control", `UPDATE stripe_events e SET outcome = d.outcome
		FROM (SELECT ($1::text[])[i] AS id, ($2::text[])[i] AS outcome FROM generate_subscripts($1::text[], 1) AS i) d
		WHERE e.id = d.id`)
	if !strings.Contains(control, "Seq Scan on stripe_events") {
		t.Fatalf("the control, a join on generate_subscripts, does not read the whole table here, so this test shows nothing:\n%s", control)
	}
	for name, sql := range map[string]string{"update_donations": updateDonations, "set_donor_names": setDonorNames,
		"donor_mail_details": donorMailDetails, "mark_queued_events_done": markQueuedEventsDone,
		"donations_by_id_for_update": donationsByIDForUpdate} {
		p := plan(name, sql)
		for _, table := range []string{"donations", "donors", "stripe_events"} {
			if strings.Contains(p, "Seq Scan on "+table) {
				t.Errorf("%s reads all of %s:\n%s", name, table, p)
			}
		}
	}
}
