package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"giving/migrations/testdb"
)

// TestTinyRun runs every measurement at tiny sizes against real PostgreSQL, so the tool
// keeps compiling against the service and its figures and checks keep meaning something.
func TestTinyRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	siteDSN := testdb.DSN(t)
	siteStore, siteAppeal, err := openSeeded(ctx, siteDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(siteStore.Pool().Close)
	var ledgers [2]ledgerDB
	for i := range ledgers {
		if ledgers[i].Store, ledgers[i].Appeal, err = openSeeded(ctx, testdb.DSN(t)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ledgers[i].Store.Pool().Close)
	}

	tiny := sizes{
		HTTP:        loadSpec{Concurrency: 4, Total: 200, Cap: 20 * time.Second},
		LedgerSmall: 100, LedgerBig: 1_000, Batch: 400,
		Reads: 50, ReadCap: 10 * time.Second,
		Hooks: webhookSpec{Load: loadSpec{Concurrency: 4, Total: 60, Cap: 30 * time.Second, Retry503: 5},
			PacedRate: 100, PacedDur: 500 * time.Millisecond},
	}
	var progress strings.Builder
	res, err := runAll(ctx, siteStore, siteDSN, siteAppeal, ledgers[0], ledgers[1], tiny, &progress)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}

	positive := map[string]float64{
		"appeal JSON req/s":        res.Appeal.JSON.PerSecond(),
		"bare req/s":               res.Appeal.Bare.PerSecond(),
		"appeal JSON p99":          float64(res.Appeal.JSON.P(0.99)),
		"read p50 small":           float64(quantile(res.Totals.Small, 0.5)),
		"read p50 big":             float64(quantile(res.Totals.Big, 0.5)),
		"insert took":              float64(res.Totals.InsertTook),
		"ceiling events/s":         res.Hooks.Ceiling.PerSecond(),
		"webhook events/s":         res.Hooks.Real.PerSecond(),
		"webhook p99":              float64(res.Hooks.Real.P(0.99)),
		"paced achieved":           res.Hooks.Paced.Achieved,
		"paced p99":                float64(quantile(res.Hooks.Paced.FromSchedule, 0.99)),
		"heap in use during load":  float64(res.Hooks.Mem.HeapInusePeak),
		"webhook event body bytes": float64(res.Hooks.EventBytes),
		"apply rate":               res.Hooks.ApplyRate(),
		"delivery to total p99":    float64(quantile(res.Hooks.Lag, 0.99)),
		"dashboard p50 small":      float64(quantile(res.Totals.SmallDashboard, 0.5)),
	}
	for name, v := range positive {
		if !(v > 0) {
			t.Errorf("%s = %v, want > 0", name, v)
		}
	}
	if res.Appeal.JSON.Completed != 200 || res.Appeal.Bare.Completed != 200 {
		t.Errorf("completed %d JSON and %d bare requests, want 200 each", res.Appeal.JSON.Completed, res.Appeal.Bare.Completed)
	}
	if res.Hooks.Mem.ProcStatusReadable && res.Hooks.Mem.HWMAfter == 0 {
		t.Errorf("peak RSS not read")
	}

	// The totals agree with the ledger, at the big size and after the webhooks.
	if res.Totals.BigRows != 1_000+realGiftsPerStep || res.Totals.Gifts != res.Totals.BigRows {
		t.Errorf("large ledger: totals count %d gifts for %d entries", res.Totals.Gifts, res.Totals.BigRows)
	}
	if len(res.Totals.Diffs) != 0 {
		t.Errorf("CompareTotals after the bulk insert: %v", res.Totals.Diffs)
	}
	if want := res.Hooks.Real.Completed + res.Hooks.Paced.Sent; res.Hooks.Sent != want || want != 60+50-res.Hooks.Paced.Dropped {
		t.Errorf("webhooks sent %d, want %d (60 closed-loop + 50 paced - %d dropped)", res.Hooks.Sent, want, res.Hooks.Paced.Dropped)
	}
	if res.Hooks.Gifts != int64(res.Hooks.Sent) {
		t.Errorf("appeal counts %d gifts after %d webhook events", res.Hooks.Gifts, res.Hooks.Sent)
	}
	if len(res.Hooks.Diffs) != 0 {
		t.Errorf("CompareTotals after the webhooks: %v", res.Hooks.Diffs)
	}
	if bad := correctnessFailures(res); len(bad) != 0 {
		t.Errorf("correctness failures: %v", bad)
	}

	var out strings.Builder
	printTable(&out, buildRows(res))
	table := out.String()
	for _, want := range []string{"appeal JSON req/s", "total read p50", "CompareTotals", "webhook events/s",
		"paced webhook p99", "peak RSS", "PASS"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	t.Logf("\n%s", table)
}

func TestQuantile(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	if got := quantile(lat, 0.5); got != 50*time.Millisecond {
		t.Errorf("p50 = %v, want 50ms", got)
	}
	if got := quantile(lat, 0.99); got != 99*time.Millisecond {
		t.Errorf("p99 = %v, want 99ms", got)
	}
	if got := quantile(nil, 0.5); got != 0 {
		t.Errorf("p50 of nothing = %v", got)
	}
}

func TestUsage(t *testing.T) {
	var out strings.Builder
	err := run(context.Background(), []string{"-help"}, func(string) string { return "" }, &out, &out)
	if err == nil || !strings.Contains(out.String(), "givingbench measures") || !strings.Contains(out.String(), "-quick") {
		t.Errorf("-help: err %v, output:\n%s", err, out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"extra"}, func(string) string { return "" }, &out, &out); err == nil {
		t.Errorf("an unexpected argument was accepted")
	}
}
