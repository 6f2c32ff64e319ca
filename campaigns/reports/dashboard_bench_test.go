package reports_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"giving/campaigns/campaignstest"
	"giving/campaigns/reports"
)

// Sizes of the benchmark ledger: a year of giving to one appeal.
const (
	benchOneOff  = 700_000 // one-off gifts, each its own donation
	benchMonthly = 25_000  // monthly donations, each paid 12 times: 300,000 gifts
	benchRefunds = 10_000
	benchPages   = 20
	benchBatch   = 100_000
)

// benchLoadSQL builds the ledger with plain SQL (the summary triggers still run, once per
// statement). Amounts, tiers and pages follow fixed formulas of the row number so the load
// is repeatable: 6 tiers and typed amounts, a tenth of gifts through one of 20 pages, 40%
// with Gift Aid, times spread over 2025.
var benchLoadSQL = struct{ oneOffDonations, monthlyDonations, oneOffGifts, monthlyGifts, refunds string }{
	oneOffDonations: `
WITH t AS (SELECT array_agg(id ORDER BY amount) AS ids, array_agg(amount ORDER BY amount) AS amts FROM tiers WHERE appeal_id = $1),
     f AS (SELECT array_agg(id ORDER BY id) AS ids FROM fundraisers WHERE appeal_id = $1)
INSERT INTO donations (id, appeal_id, fundraiser_id, tier_id, amount, frequency, status)
SELECT md5('o' || g)::uuid, $1, CASE WHEN g % 10 = 0 THEN f.ids[1 + (g / 10) % $4] END,
       CASE WHEN g % 7 < 6 THEN t.ids[1 + g % 7] END,
       CASE WHEN g % 7 < 6 THEN t.amts[1 + g % 7] ELSE 5 + g % 200 END, 'one_off', 'paid'
FROM generate_series($2::int, $3::int) g, t, f`,
	monthlyDonations: `
WITH t AS (SELECT array_agg(id ORDER BY amount) AS ids, array_agg(amount ORDER BY amount) AS amts FROM tiers WHERE appeal_id = $1),
     f AS (SELECT array_agg(id ORDER BY id) AS ids FROM fundraisers WHERE appeal_id = $1)
INSERT INTO donations (id, appeal_id, fundraiser_id, tier_id, amount, cover_fee, frequency, status)
SELECT md5('m' || g)::uuid, $1, CASE WHEN g % 10 = 0 THEN f.ids[1 + (g / 10) % $4] END,
       CASE WHEN g % 7 < 3 THEN t.ids[1 + g % 7] END,
       CASE WHEN g % 7 < 3 THEN t.amts[1 + g % 7] ELSE 5 + g % 20 END, CASE WHEN g % 2 = 0 THEN 0.30 ELSE 0 END,
       'monthly', CASE g % 20 WHEN 0 THEN 'past_due' WHEN 1 THEN 'cancelled' ELSE 'active' END
FROM generate_series($2::int, $3::int) g, t, f`,
	oneOffGifts: `
INSERT INTO ledger_entries (appeal_id, fundraiser_id, donation_id, kind, source, source_ref, payment_intent, amount, fee,
    gift_aid_base, frequency, donor_key, occurred_at)
SELECT $1, d.fundraiser_id, d.id, 'gift', 'stripe', 'pi_' || g, 'pi_' || g, d.amount, round(d.amount * 0.012 + 0.20, 2),
       CASE WHEN g % 5 < 2 THEN d.amount ELSE 0 END, 'one_off', 'donor:' || g,
       timestamptz '2025-01-01 00:00:00+00' + ((g::bigint * 2654435761) % 31536000) * interval '1 second'
FROM generate_series($2::int, $3::int) g JOIN donations d ON d.id = md5('o' || g)::uuid`,
	monthlyGifts: `
INSERT INTO ledger_entries (appeal_id, fundraiser_id, donation_id, kind, source, source_ref, payment_intent, amount, fee,
    gift_aid_base, frequency, donor_key, occurred_at)
SELECT $1, d.fundraiser_id, d.id, 'gift', 'stripe', 'in_' || m || '_' || k, 'pi_m' || m || '_' || k, d.amount + d.cover_fee,
       round((d.amount + d.cover_fee) * 0.012 + 0.20, 2), CASE WHEN m % 5 < 2 THEN d.amount + d.cover_fee ELSE 0 END,
       'monthly', 'donor:m' || m,
       timestamptz '2025-01-01 00:00:00+00' + k * interval '1 month' + (m % 27) * interval '1 day' + (m % 24) * interval '1 hour'
FROM generate_series($2::int, $3::int) g
CROSS JOIN LATERAL (SELECT 1 + (g - 1) % $4 AS m, (g - 1) / $4 AS k) i
JOIN donations d ON d.id = md5('m' || m)::uuid`,
	refunds: `
INSERT INTO ledger_entries (appeal_id, fundraiser_id, donation_id, kind, source, source_ref, seq, payment_intent, amount,
    gift_aid_base, frequency, occurred_at)
SELECT e.appeal_id, e.fundraiser_id, e.donation_id, 'refund', 'stripe', 'ch_' || e.source_ref, (e.amount * 100)::bigint::text,
       e.payment_intent, -e.amount, -e.gift_aid_base, 'one_off', e.occurred_at + interval '3 days'
FROM generate_series(1, $1::int) g JOIN ledger_entries e ON e.source_ref = 'pi_' || (g * 70) AND e.kind = 'gift'`,
}

// BenchmarkDashboard1M times the trustee dashboard for a 12-month period over a ledger of
// 1,000,000 gifts (and 10,000 refunds). Target: under 100 ms.
func BenchmarkDashboard1M(b *testing.B) {
	ctx := context.Background()
	s, a := campaignstest.Seeded(b, 4)
	pool := s.Pool()
	exec := func(what, sql string, args ...any) {
		b.Helper()
		start := time.Now()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("%s: %v", what, err)
		}
		b.Logf("%s: %s", what, time.Since(start).Round(time.Millisecond))
	}
	exec("pages", `INSERT INTO fundraisers (appeal_id, slug, title, target, status)
		SELECT $1, 'page-' || g, 'Page ' || g, 1000, 'approved' FROM generate_series(1, $2::int) g`, a.ID, benchPages)
	load := time.Now()
	for lo := 1; lo <= benchOneOff; lo += benchBatch {
		hi := min(lo+benchBatch-1, benchOneOff)
		exec(fmt.Sprintf("one-off donations %d-%d", lo, hi), benchLoadSQL.oneOffDonations, a.ID, lo, hi, benchPages)
		exec(fmt.Sprintf("one-off gifts %d-%d", lo, hi), benchLoadSQL.oneOffGifts, a.ID, lo, hi)
	}
	exec("monthly donations", benchLoadSQL.monthlyDonations, a.ID, 1, benchMonthly, benchPages)
	for lo := 1; lo <= benchMonthly*12; lo += benchBatch {
		hi := min(lo+benchBatch-1, benchMonthly*12)
		exec(fmt.Sprintf("monthly gifts %d-%d", lo, hi), benchLoadSQL.monthlyGifts, a.ID, lo, hi, benchMonthly)
	}
	exec("refunds", benchLoadSQL.refunds, benchRefunds)
	// The derived totals Record would have kept (Progress reads them).
	exec("totals", `INSERT INTO totals (scope, scope_id, shard, gross, refunded, disputed, lost, fees, gift_aid_base, gifts)
		SELECT scope, scope_id, 0, COALESCE(sum(amount) FILTER (WHERE kind = 'gift'), 0),
		       COALESCE(-sum(amount) FILTER (WHERE kind = 'refund'), 0), 0, 0, sum(fee), sum(gift_aid_base),
		       count(*) FILTER (WHERE kind = 'gift')
		FROM (SELECT 'appeal' AS scope, appeal_id AS scope_id, * FROM ledger_entries
		      UNION ALL SELECT 'fundraiser', fundraiser_id, * FROM ledger_entries WHERE fundraiser_id IS NOT NULL) e
		GROUP BY scope, scope_id`)
	exec("vacuum", `VACUUM ANALYZE`)
	b.Logf("loaded in %s", time.Since(load).Round(time.Second))

	var gifts, summaryRows int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM ledger_entries WHERE kind = 'gift'), (SELECT count(*) FROM ledger_summary)`).Scan(&gifts, &summaryRows); err != nil {
		b.Fatal(err)
	}
	if gifts != benchOneOff+benchMonthly*12 {
		b.Fatalf("%d gifts loaded, want %d", gifts, benchOneOff+benchMonthly*12)
	}
	if err := reports.CompareDashboardSummary(ctx, s); err != nil {
		b.Fatal(err)
	}

	p := reports.MonthPeriod(2025, time.January, 12)
	dash, err := reports.ReadDashboard(ctx, s, a.ID, p)
	if err != nil {
		b.Fatal(err)
	}
	if dash.Gifts != gifts { // every gift was made in 2025, London time
		b.Fatalf("dashboard counts %d gifts, want %d", dash.Gifts, gifts)
	}
	b.Logf("gross %s raised %s net %s, %d active monthly donors, %d summary rows",
		dash.Gross.StringFixed(2), dash.Raised.StringFixed(2), dash.Net.StringFixed(2), dash.ActiveMonthlyDonors, summaryRows)

	// Every appeal together reads the same summary, appeal by appeal.
	start := time.Now()
	all, err := reports.ReadAllAppeals(ctx, s, p)
	if err != nil {
		b.Fatal(err)
	}
	allTook := time.Since(start)
	if all.Gifts != gifts || !all.Raised.Equal(dash.Raised) {
		b.Fatalf("every appeal: %d gifts raising %s, want %d raising %s", all.Gifts, all.Raised, gifts, dash.Raised)
	}

	var n int
	var total, worst time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := reports.ReadDashboard(ctx, s, a.ID, p); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		total += d
		worst = max(worst, d)
		n++
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(n), "ms/op")
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(summaryRows), "summary-rows")
	b.ReportMetric(float64(allTook.Microseconds())/1000, "all-appeals-ms")
}
