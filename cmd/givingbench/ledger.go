package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/ledger"
	"giving/campaigns/reports"
)

// totalsResult is the cost of reading an appeal's totals at two ledger sizes.
type totalsResult struct {
	SmallRows, BigRows int64
	Small, Big         []time.Duration // one latency per ReadTotals call
	InsertRows         int64           // rows bulk-inserted into the big ledger
	InsertTook         time.Duration
	CompareTook        time.Duration
	Diffs              []ledger.Difference
	Gifts              int64 // the appeal's gift count read back at the big size
	// Dashboard holds the trustee dashboard's server times (the last 12 months) over the
	// big ledger; SmallDashboard the same over the small one.
	Dashboard, SmallDashboard []time.Duration
}

// DashboardRatio is the big ledger's median dashboard time over the small one's.
func (r totalsResult) DashboardRatio() float64 {
	return ratio(float64(quantile(r.Dashboard, 0.5)), float64(quantile(r.SmallDashboard, 0.5)))
}

// P50Ratio is the big size's median read over the small size's.
func (r totalsResult) P50Ratio() float64 {
	return ratio(float64(quantile(r.Big, 0.5)), float64(quantile(r.Small, 0.5)))
}

// realGiftsPerStep go through ledger.Record after the bulk insert, so the totals the
// reads see have also been moved by the real write path.
const realGiftsPerStep = 8

// bulkRow is gift g of the bulk ledger for appeal appealID, every field satisfying every
// CHECK and the unique (source, source_ref, kind, seq): a spread of tier-like amounts, fees,
// a quarter with Gift Aid, a tenth monthly, 50,000 distinct donors, step apart going back
// in time (insertLedger spreads every ledger, small or large, over the same year, so the
// dashboard's year reads as many days and months of summary whatever the ledger's size).
// Each belongs to the donation of its donor (bulkDonations), as a gift recorded through
// checkout does: a gift with no donation at all is unmatched money, which is rare, and the
// dashboard lists it; and a ledger whose gifts all shared one donation would lead the
// planner to reads no real ledger has.
func bulkRow(appealID, g int64, donationIDs []string, now time.Time, step time.Duration) []any {
	a := decimal.New(3+(g%50)*5, 0)
	fee := a.Mul(decimal.RequireFromString("0.015")).Add(decimal.RequireFromString("0.20")).Round(2)
	base, freq := decimal.Zero, "one_off"
	if g%4 == 0 {
		base = a
	}
	if g%10 == 0 {
		freq = "monthly"
	}
	ref := "pi_bench_" + strconv.FormatInt(g, 10)
	return []any{appealID, "gift", "stripe", ref, ref, a, fee, base, freq,
		"bench_donor_" + strconv.FormatInt(g%50000, 10), now.Add(-time.Duration(g) * step),
		"evt_bench_" + strconv.FormatInt(g, 10), donationIDs[g%int64(len(donationIDs))]}
}

// bulkDonors is how many donors (and donations, one each) the bulk gifts come from.
const bulkDonors = 50_000

// bulkDonations adds the bulk gifts' donations, paid, one per donor (as many as gifts when
// there are fewer), and returns their ids.
func bulkDonations(ctx context.Context, store *campaigns.Store, appealID, gifts int64) ([]string, error) {
	rows, err := store.Pool().Query(ctx, `INSERT INTO donations (appeal_id, amount, frequency, status, display_name, email)
		SELECT $1, 3.00, 'one_off', 'paid', 'Bench donor', 'bench-donor-' || g || '@example.com'
		FROM generate_series(0, $2 - 1) g ORDER BY g RETURNING id::text`, appealID, min(gifts, bulkDonors))
	if err != nil {
		return nil, fmt.Errorf("create the bulk gifts' donations: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("create the bulk gifts' donations: %w", err)
	}
	return ids, nil
}

var bulkColumns = []string{"appeal_id", "kind", "source", "source_ref", "payment_intent", "amount", "fee", "gift_aid_base",
	"frequency", "donor_key", "occurred_at", "event_id", "donation_id"}

// bulkSummarySQL adds the dashboard summary of the bulk gifts at once (migration 0004's
// backfill): each batch's COPY leaves it to this, as a batch of webhook events does.
const bulkSummarySQL = `
INSERT INTO ledger_summary AS s (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard,
    amount, fee, gift_aid_base, claimed, entries)
SELECT appeal_id, grain, starts, dim, dim_id, frequency, kind, shard,
       sum(amount), sum(fee), sum(gift_aid_base), sum(claimed), count(*)
FROM ledger_summary_source WHERE appeal_id = $1
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
ON CONFLICT (appeal_id, grain, starts, dim, dim_id, frequency, kind, shard) DO UPDATE SET
    amount = EXCLUDED.amount, fee = EXCLUDED.fee, gift_aid_base = EXCLUDED.gift_aid_base,
    claimed = EXCLUDED.claimed, entries = EXCLUDED.entries`

// ledgerSpan is how far back the bulk gifts go: a month-long appeal.
const ledgerSpan = 30 * 24 * time.Hour

// insertLedger adds gifts from..to (inclusive) with COPY, batch rows to a transaction (the
// summary trigger standing aside), then the dashboard summary of them all in one statement.
func insertLedger(ctx context.Context, store *campaigns.Store, appealID, from, to, batch int64) error {
	ids, err := bulkDonations(ctx, store, appealID, to-from+1)
	if err != nil {
		return err
	}
	now := time.Now()
	step := ledgerSpan / time.Duration(max(to, 1))
	for lo := from; lo <= to; lo += batch {
		hi := min(lo+batch-1, to)
		err := store.InTx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT set_config('giving.summary_by_batch', 'on', true)`); err != nil {
				return err
			}
			g := lo - 1
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger_entries"}, bulkColumns, pgx.CopyFromFunc(func() ([]any, error) {
				if g++; g > hi {
					return nil, nil
				}
				return bulkRow(appealID, g, ids, now, step), nil
			}))
			return err
		})
		if err != nil {
			return fmt.Errorf("copy ledger rows %d..%d: %w", lo, hi, err)
		}
	}
	if _, err := store.Pool().Exec(ctx, bulkSummarySQL, appealID); err != nil {
		return fmt.Errorf("summarise the bulk ledger: %w", err)
	}
	return nil
}

// syncTotals sets the appeal's totals rows (spread over the 8 shards) and its distinct
// donors to what its ledger says, as 'giving replay' would.
func syncTotals(ctx context.Context, store *campaigns.Store, appealID int64) error {
	return store.InTx(ctx, func(tx pgx.Tx) error {
		for _, q := range []string{
			`DELETE FROM totals WHERE scope = 'appeal' AND scope_id = $1`,
			`DELETE FROM total_donors WHERE scope = 'appeal' AND scope_id = $1`,
			`INSERT INTO totals (scope, scope_id, shard, gross, refunded, disputed, lost, fees, gift_aid_base, gifts, donors)
			 SELECT 'appeal', $1, (id % 8)::smallint,
			        COALESCE(sum(amount) FILTER (WHERE kind = 'gift'), 0),
			        COALESCE(-sum(amount) FILTER (WHERE kind = 'refund'), 0),
			        COALESCE(-sum(amount) FILTER (WHERE kind IN ('dispute_hold', 'dispute_release')), 0),
			        COALESCE(-sum(amount) FILTER (WHERE kind = 'dispute_lost'), 0),
			        sum(fee), sum(gift_aid_base), count(*) FILTER (WHERE kind = 'gift'), 0
			 FROM ledger_entries WHERE appeal_id = $1 GROUP BY id % 8`,
			`INSERT INTO total_donors (scope, scope_id, donor_key)
			 SELECT DISTINCT 'appeal', $1::bigint, donor_key FROM ledger_entries
			 WHERE appeal_id = $1 AND kind = 'gift' AND donor_key <> ''`,
			`UPDATE totals SET donors = (SELECT count(*) FROM total_donors WHERE scope = 'appeal' AND scope_id = $1)
			 WHERE scope = 'appeal' AND scope_id = $1
			   AND shard = (SELECT min(shard) FROM totals WHERE scope = 'appeal' AND scope_id = $1)`,
		} {
			if _, err := tx.Exec(ctx, q, appealID); err != nil {
				return fmt.Errorf("set totals from the ledger: %w", err)
			}
		}
		return nil
	})
}

// recordRealGifts writes a few gifts through ledger.Record, the service's own path.
func recordRealGifts(ctx context.Context, store *campaigns.Store, appealID int64, step string) error {
	for k := range realGiftsPerStep {
		err := store.InTx(ctx, func(tx pgx.Tx) error {
			ok, err := ledger.Record(ctx, tx, ledger.Entry{
				AppealID: appealID, Kind: ledger.KindGift,
				Source: ledger.SourceStripe, SourceRef: fmt.Sprintf("pi_bench_real_%s_%d", step, k), PaymentIntent: fmt.Sprintf("pi_bench_real_%s_%d", step, k),
				Amount: decimal.New(int64(3+k*5), 0), Fee: decimal.RequireFromString("0.25"),
				DonorKey: fmt.Sprintf("bench_real_donor_%s_%d", step, k), EventID: fmt.Sprintf("evt_bench_real_%s_%d", step, k),
				OccurredAt: store.Now(),
			})
			if err == nil && !ok {
				err = fmt.Errorf("gift %s/%d already recorded", step, k)
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// timeReads alternates ReadTotals on the small and the big ledger n times each, after a
// short warm-up, so that whatever else the machine is doing falls on both sizes alike.
func timeReads(ctx context.Context, small, big ledgerDB, n int, deadline time.Time) (ls, lb []time.Duration, tb ledger.Totals, err error) {
	read := func(l ledgerDB) (time.Duration, ledger.Totals, error) {
		t0 := time.Now()
		t, err := ledger.ReadTotals(ctx, l.Store.Pool(), ledger.AppealScope(l.Appeal))
		return time.Since(t0), t, err
	}
	for range min(n, 100) {
		if _, _, err = read(small); err == nil {
			_, _, err = read(big)
		}
		if err != nil {
			return nil, nil, tb, err
		}
	}
	for range n {
		var d time.Duration
		if d, _, err = read(small); err != nil {
			return nil, nil, tb, err
		}
		ls = append(ls, d)
		if d, tb, err = read(big); err != nil {
			return nil, nil, tb, err
		}
		lb = append(lb, d)
		if time.Now().After(deadline) {
			break
		}
	}
	return ls, lb, tb, nil
}

// ledgerDB is one scratch database's store and its seeded appeal.
type ledgerDB struct {
	Store  *campaigns.Store
	Appeal int64
}

// grow bulk-inserts gifts 1..n, sets the totals to match, moves them by a few real gifts,
// and leaves the database vacuumed, analysed and checkpointed. It reports the insert time.
func grow(ctx context.Context, l ledgerDB, n, batch int64) (time.Duration, error) {
	t0 := time.Now()
	if err := insertLedger(ctx, l.Store, l.Appeal, 1, n, batch); err != nil {
		return 0, err
	}
	took := time.Since(t0)
	if err := syncTotals(ctx, l.Store, l.Appeal); err != nil {
		return took, err
	}
	if err := recordRealGifts(ctx, l.Store, l.Appeal, fmt.Sprint(n)); err != nil {
		return took, err
	}
	// As autovacuum would, so no read (totals, or the dashboard's summary and donations)
	// meets a bloated table, stale statistics or autovacuum arriving in the middle.
	if _, err := l.Store.Pool().Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return took, err
	}
	// Write the bulk load back now, so that the reads are not timed against a checkpoint
	// flushing it. Needs superuser or pg_checkpoint; without them the reads run anyway.
	_, _ = l.Store.Pool().Exec(ctx, `CHECKPOINT`)
	return took, nil
}

// measureTotals fills one scratch ledger with smallN gifts and another with bigN, and
// times ReadTotals on both, alternating. On the big ledger CompareTotals must then find no
// difference.
func measureTotals(ctx context.Context, small, big ledgerDB, smallN, bigN, batch int64, reads int, readCap time.Duration) (totalsResult, error) {
	res := totalsResult{SmallRows: smallN + realGiftsPerStep, BigRows: bigN + realGiftsPerStep, InsertRows: bigN}
	if _, err := grow(ctx, small, smallN, batch); err != nil {
		return res, err
	}
	var err error
	if res.InsertTook, err = grow(ctx, big, bigN, batch); err != nil {
		return res, err
	}
	var t ledger.Totals
	if res.Small, res.Big, t, err = timeReads(ctx, small, big, reads, time.Now().Add(readCap)); err != nil {
		return res, err
	}
	res.Gifts = t.Gifts
	t0 := time.Now()
	if res.Diffs, err = ledger.CompareTotals(ctx, big.Store); err != nil {
		return res, err
	}
	res.CompareTook = time.Since(t0)
	// On new connections for both (pgxpool's Reset), so neither is timed on the server
	// process that bulk-loaded its ledger and compared its totals; alternating sizes, as
	// the total reads do.
	small.Store.Pool().Reset()
	big.Store.Pool().Reset()
	for range 10 {
		s, err := timeDashboard(ctx, small, 10)
		if err != nil {
			return res, err
		}
		b, err := timeDashboard(ctx, big, 10)
		if err != nil {
			return res, err
		}
		res.SmallDashboard, res.Dashboard = append(res.SmallDashboard, s...), append(res.Dashboard, b...)
	}
	return res, nil
}

// timeDashboard reads the trustee dashboard for the last 12 months n times (after one
// warm-up), as the /trustees page does.
func timeDashboard(ctx context.Context, db ledgerDB, n int) ([]time.Duration, error) {
	start := time.Now().In(campaigns.London()).AddDate(0, -11, 0)
	p := reports.MonthPeriod(start.Year(), start.Month(), 12)
	var out []time.Duration
	for i := 0; i <= n; i++ {
		t0 := time.Now()
		if _, err := reports.ReadDashboard(ctx, db.Store, db.Appeal, p); err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		if i > 0 {
			out = append(out, time.Since(t0))
		}
	}
	return out, nil
}
