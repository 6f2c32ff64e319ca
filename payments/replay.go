package payments

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"giving/campaigns"
	"giving/campaigns/dbq"
	"giving/campaigns/ledger"
	"giving/campaigns/pages"
	"giving/migrations"
)

// ReplayResult is what rebuilding the ledger from the stored Stripe events found.
type ReplayResult struct {
	Events int
	// Queued counts stored events not yet applied live; they are left out of both sides.
	Queued      int
	Differences []ledger.Difference
}

// ReplayEvents rebuilds the ledger's effects from the stored Stripe events alone, in a
// scratch schema, through the same code path that applied them live, and compares the
// totals it gets with the live ones. The live totals and the event list are read in one
// snapshot, so events arriving meanwhile cannot cause a false difference. The scratch
// schema is dropped afterwards.
func ReplayEvents(ctx context.Context, live *pgxpool.Pool, liveMode bool) (ReplayResult, error) {
	var res ReplayResult
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "replay_" + hex.EncodeToString(b)
	// Stays in Go: the scratch schema's name is made at run time.
	if _, err := live.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		return res, fmt.Errorf("replay: create scratch schema: %w", err)
	}
	defer func() {
		// Stays in Go: the scratch schema's name is made at run time.
		_, _ = live.Exec(context.WithoutCancel(ctx), `DROP SCHEMA `+schema+` CASCADE`)
	}()
	cfg := live.Config()
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.MaxConns = 2
	scratch, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return res, fmt.Errorf("replay: connect to scratch schema: %w", err)
	}
	defer scratch.Close()
	if _, err := migrations.Apply(ctx, scratch); err != nil {
		return res, fmt.Errorf("replay: build scratch schema: %w", err)
	}
	// Pages name their owner's account, but money does not depend on who owns a page, and
	// accounts (password hashes) are not copied into the scratch schema.
	if err := dbq.New(scratch).ReplayDropOwnerFK(ctx); err != nil {
		return res, fmt.Errorf("replay: build scratch schema: %w", err)
	}

	err = pgx.BeginTxFunc(ctx, live, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(snap pgx.Tx) error {
		// What donors asked for (their donations and declarations, and who they are) is the starting point;
		// everything money did afterwards must come from the events.
		for _, table := range []string{"appeals", "tiers", "fundraisers", "donors", "gift_aid_declarations"} {
			if err := copyTable(ctx, snap, scratch, table, ""); err != nil {
				return err
			}
		}
		if err := copyTable(ctx, snap, scratch, "donations", "WHERE NOT unmatched"); err != nil {
			return err
		}
		liveTotals, err := ledger.ReadAllTotals(ctx, snap)
		if err != nil {
			return err
		}
		h := &Webhooks{store: campaigns.NewStore(scratch), live: liveMode, unbounded: true,
			log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: NewMetrics(nil)}
		// Events still queued have not moved the live totals yet, so they are left out.
		q := dbq.New(snap)
		queued, err := q.ReplayQueuedCount(ctx)
		if err != nil {
			return err
		}
		res.Queued = int(queued)
		// Events set aside (error, review) moved no money live, so they are left out too.
		// Page by page in this snapshot, after the last event applied: memory stays flat
		// however long the event log.
		page := dbq.ReplayEventsPageParams{AfterCreated: time.Unix(0, 0), AfterReceived: time.Unix(0, 0), PageSize: replayPageSize}
		for {
			events, err := q.ReplayEventsPage(ctx, page)
			if err != nil {
				return err
			}
			for _, ev := range events {
				if _, err := h.Apply(ctx, ev.Payload); err != nil {
					return fmt.Errorf("replay event: %w", err)
				}
				res.Events++
			}
			if len(events) < replayPageSize {
				break
			}
			last := events[len(events)-1]
			page.AfterCreated, page.AfterReceived, page.AfterID = last.SortCreated, last.ReceivedAt, last.ID
		}
		// Offline money an admin verified is the ledger's other source besides Stripe.
		offline, err := pages.VerifiedOfflineEntries(ctx, snap)
		if err != nil {
			return err
		}
		if err := campaigns.NewStore(scratch).InTx(ctx, func(tx pgx.Tx) error {
			for _, e := range offline {
				if _, err := ledger.Record(ctx, tx, e); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("replay offline money: %w", err)
		}
		rebuilt, err := ledger.ReadAllTotals(ctx, scratch)
		if err != nil {
			return err
		}
		res.Differences = ledger.DiffTotals(liveTotals, rebuilt, "rebuilt from events: ")
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	return res, nil
}

// replayPageSize is how many stored events replay holds at once.
const replayPageSize = 500

// copyTable copies rows of a live table into the scratch schema, keeping their ids.
func copyTable(ctx context.Context, from pgx.Tx, to *pgxpool.Pool, table, where string) error {
	// Stays in Go: the table and its filter are chosen at run time, and every column is copied.
	rows, err := from.Query(ctx, `SELECT * FROM `+table+` `+where)
	if err != nil {
		return fmt.Errorf("replay: read %s: %w", table, err)
	}
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	values, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
	if err != nil {
		return fmt.Errorf("replay: read %s: %w", table, err)
	}
	// Identity columns are GENERATED ALWAYS, so the copy must override them to keep ids.
	// Stays in Go: COPY into a table chosen at run time.
	_, err = to.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(values))
	if err != nil {
		return fmt.Errorf("replay: copy %s: %w", table, err)
	}
	return nil
}
