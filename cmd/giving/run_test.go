package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/testwait"
	"giving/migrations/testdb"
	"giving/payments/paymentstest"
	"giving/web/webtest"
)

func runCmd(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := run(ctx, args, envFrom(env), &out, io.Discard)
	return out.String(), err
}

// seededStore seeds a fresh database with 'giving seed' (env gains its DATABASE_URL) and
// opens it as a test would look at it: the store, its pool and the seeded appeal.
func seededStore(t *testing.T, env map[string]string) (*campaigns.Store, *pgxpool.Pool, appeals.Appeal) {
	t.Helper()
	ctx := context.Background()
	dsn := testdb.DSN(t)
	env["DATABASE_URL"] = dsn
	if _, err := runCmd(t, env, "seed"); err != nil {
		t.Fatal(err)
	}
	pool, err := campaigns.OpenPool(ctx, dsn, campaigns.PoolOptions{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store := campaigns.NewStore(pool)
	appeal, err := appeals.AppealBySlug(ctx, store, appeals.DefaultAppealSlug)
	if err != nil {
		t.Fatal(err)
	}
	return store, pool, appeal
}

func TestHelpExplainsEveryCommand(t *testing.T) {
	t.Parallel()
	out, err := runCmd(t, nil, "help")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"serve", "dev", "migrate", "seed", "replay", "DATABASE_URL", "STRIPE_WEBHOOK_SECRET"} {
		if !strings.Contains(out, c) {
			t.Errorf("help does not mention %s", c)
		}
	}
	for _, c := range []string{"serve", "dev", "migrate", "seed", "replay"} {
		out, err := runCmd(t, nil, c, "--help")
		if err != nil || !strings.Contains(out, "Usage: giving "+c) {
			t.Errorf("giving %s --help: %v\n%s", c, err, out)
		}
	}
	_, err = runCmd(t, nil, "frobnicate")
	var u usageError
	if !errors.As(err, &u) {
		t.Fatalf("unknown command: %v, want a usage error", err)
	}
}

func TestBadConfigurationStopsWithOneClearLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env        map[string]string
		wantInErr  string
		mustNotSay string
	}{
		{map[string]string{}, "DATABASE_URL is not set", ""},
		{map[string]string{"DATABASE_URL": "not a url at all"}, "DATABASE_URL", ""},
		{map[string]string{"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL", ""},
		{map[string]string{"DATABASE_URL": "postgres://giving:hunter2secret@127.0.0.1:notaport/giving"}, "DATABASE_URL", "hunter2secret"},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "LISTEN_ADDR": "8080"}, "LISTEN_ADDR", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "BASE_URL": "give.example.org"}, "BASE_URL", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "STRIPE_SECRET_KEY": "sk_test_x"}, "STRIPE_WEBHOOK_SECRET", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "STRIPE_SECRET_KEY": "pk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}, "STRIPE_SECRET_KEY", "pk_test_x"},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "STRIPE_SECRET_KEY": "sk_live_topsecret", "STRIPE_WEBHOOK_SECRET": "whsec_x", "BASE_URL": "http://give.example.org"}, "https", "topsecret"},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "STRIPE_WEBHOOK_SECRET": "not-a-secret"}, "STRIPE_WEBHOOK_SECRET", "not-a-secret"},
		// The charity's money settings: exact decimals, in range, whole pence where pounds.
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "GIFT_MIN": "one pound"}, "GIFT_MIN", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "GIFT_MIN": "0.10"}, "GIFT_MIN", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "GIFT_MIN": "2.999"}, "GIFT_MIN", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "GIFT_MAX": "-5"}, "GIFT_MAX", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "GIFT_MIN": "50", "GIFT_MAX": "20"}, "GIFT_MIN (50.00) must not be above GIFT_MAX (20.00)", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "CARD_FEE_PERCENT": "12"}, "CARD_FEE_PERCENT", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "CARD_FEE_PERCENT": "1e1"}, "CARD_FEE_PERCENT", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "CARD_FEE_FIXED": "0.205"}, "CARD_FEE_FIXED", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "GIFT_AID_AGGREGATION_LIMIT": "0"}, "GIFT_AID_AGGREGATION_LIMIT", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "GIFT_AID_AGGREGATION_LIMIT": "1000.01"}, "GIFT_AID_AGGREGATION_LIMIT", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "TRUSTED_PROXIES": "10.0.0.0/8, proxy.example.org"}, "TRUSTED_PROXIES", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "TRUSTED_PROXIES": "10.0.0.0/33"}, "TRUSTED_PROXIES", ""},
		// Every receipt names the charity: real payments need all four of its details.
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}, "CHARITY_NAME is not set", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x",
			"CHARITY_NAME": "Freedom Trust UK", "CHARITY_NUMBER": "1234567", "CHARITY_ADDRESS": "1 High Street, London"}, "CHARITY_EMAIL is not set", ""},
		{map[string]string{"DATABASE_URL": testdb.DefaultURL, "CHARITY_EMAIL": "supporters at example.org"}, "CHARITY_EMAIL", ""},
	}
	for _, c := range cases {
		_, err := runCmd(t, c.env, "serve")
		if err == nil {
			t.Errorf("%v: serve started", c.env)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.wantInErr) || strings.Contains(msg, "\n") || (c.mustNotSay != "" && strings.Contains(msg, c.mustNotSay)) {
			t.Errorf("%v: error %q, want one line naming %s without secrets", c.env, msg, c.wantInErr)
		}
	}
}

func TestServeRefusesAnOldSchema(t *testing.T) {
	t.Parallel()
	_, err := runCmd(t, map[string]string{"DATABASE_URL": testdb.EmptyDSN(t)}, "serve")
	if err == nil || !strings.Contains(err.Error(), "giving migrate") {
		t.Fatalf("serve on an empty database: %v, want a pointer to 'giving migrate'", err)
	}
}

func getJSON(t *testing.T, u string) map[string]any {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return v
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The whole binary: migrate, seed twice, serve on a free port, answer the public contract,
// expose metrics on its own listener, and stop gracefully.
func TestMigrateSeedServe(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": testdb.EmptyDSN(t)}
	for i, want := range []string{"applied 0001", "up to date"} {
		if out, err := runCmd(t, env, "migrate"); err != nil || !strings.Contains(out, want) {
			t.Fatalf("migrate #%d: %v\n%s", i+1, err, out)
		}
	}
	for i, want := range []string{"created the appeal", "nothing changed"} {
		if out, err := runCmd(t, env, "seed", "--target", "20000"); err != nil || !strings.Contains(out, want) {
			t.Fatalf("seed #%d: %v\n%s", i+1, err, out)
		}
	}
	s := start(t, env, "serve")
	j := getJSON(t, s.URL+"/api/campaigns/fundraising-for-freedom")
	if j["slug"] != "fundraising-for-freedom" || j["currency"] != "GBP" || j["target"] != "20000.00" || j["raised"] != "0.00" {
		t.Fatalf("campaign JSON: %v", j)
	}
	code, page := get(t, s.URL+"/")
	if code != 200 {
		t.Errorf("appeal page: %d", code)
	}
	var tiers []string
	for _, n := range webtest.Find(t, page, "form fieldset#tier label.tile strong") {
		tiers = append(tiers, webtest.NodeText(n))
	}
	if !slices.Contains(tiers, "£3.00") || !slices.Contains(tiers, "£2,000.00") {
		t.Errorf("appeal page offers tiers %q, want £3.00 and £2,000.00 among them", tiers)
	}
	if got := webtest.Text(t, page, "main .progress .progress-figures"); got != "£0.00 raised of £20,000.00 target" {
		t.Errorf("appeal page progress says %q", got)
	}
	if got := webtest.Attr(t, page, "main .progress [role=progressbar]", "aria-valuetext"); got != "£0.00 of £20,000.00" {
		t.Errorf("appeal page progress bar aria-valuetext %q", got)
	}
	if got := webtest.Text(t, page, "aside.sandbox-banner"); !strings.HasPrefix(got, "Sandbox.") {
		t.Errorf("appeal page sandbox banner says %q", got)
	}
	if code, body := get(t, s.URL+"/readyz"); code != 200 {
		t.Errorf("readyz: %d %s", code, body)
	}
	if code, _ := get(t, s.URL+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the public listener: %d, want 404", code)
	}
	_, metrics := get(t, s.Metrics)
	for _, m := range []string{"go_goroutines", "giving_http_requests_total", "giving_http_request_duration_seconds_bucket",
		`giving_appeal_raised_pounds{appeal="fundraising-for-freedom"} 0`, "giving_webhook_signature_failures_total",
		"giving_subscription_cancels_pending 0", "giving_webhook_events_queued 0", `giving_mail_outbox{status="failed"} 0`} {
		if !strings.Contains(metrics, m) {
			t.Errorf("metrics lack %s", m)
		}
	}
	checkAlertRules(t, metrics)
	if out, err := runCmd(t, env, "replay"); err != nil || !strings.Contains(out, "agrees") {
		t.Errorf("replay on a clean service: %v\n%s", err, out)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	if !strings.Contains(s.out.String(), "giving: stopped") {
		t.Errorf("no graceful-stop line in:\n%s", s.out)
	}
}

func TestReplayCommandNamesADifference(t *testing.T) {
	t.Parallel()
	dsn := testdb.DSN(t)
	env := map[string]string{"DATABASE_URL": dsn}
	if _, err := runCmd(t, env, "seed"); err != nil {
		t.Fatal(err)
	}
	pool := openPool(t, dsn)
	if _, err := pool.Exec(context.Background(), `INSERT INTO totals (scope, scope_id, shard, gross, gifts)
		SELECT 'appeal', id, 3, 12.34, 1 FROM appeals`); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, env, "replay")
	if err == nil || !strings.Contains(out, "gross is 12.34 in totals but 0 in the ledger") {
		t.Fatalf("replay of a tampered total: %v\n%s", err, out)
	}
}

// /readyz reports the database: 503 while it cannot be reached, ready again once it is.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	dsn := testdb.DSN(t)
	u, _ := url.Parse(dsn)
	p := newProxy(t, u.Host)
	env := map[string]string{"DATABASE_URL": p.via(dsn)}
	if _, err := runCmd(t, env, "seed"); err != nil {
		t.Fatal(err)
	}
	s := start(t, env, "serve")
	if code, _ := get(t, s.URL+"/readyz"); code != 200 {
		t.Fatalf("readyz before the cut: %d", code)
	}
	p.cut()
	if code, body := get(t, s.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database unreachable: %d %s, want 503", code, body)
	}
	if code, _ := get(t, s.URL+"/healthz"); code != 200 {
		t.Fatalf("healthz should not depend on the database: %d", code)
	}
	if code, _ := get(t, s.URL+"/api/campaigns/does-not-exist"); code != http.StatusServiceUnavailable {
		t.Errorf("a page needing the database: %d, want 503", code)
	}
	p.restore(t)
	testwait.Eventually(t, "readyz recovered (200)", func() bool {
		code, _ := get(t, s.URL+"/readyz")
		return code == 200
	})
}

// register-webhook is how an operator gets STRIPE_WEBHOOK_SECRET: it must not demand it.
func TestRegisterWebhookRunsWithoutASecret(t *testing.T) {
	t.Parallel()
	out, err := runCmd(t, map[string]string{"STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_API_BASE": paymentstest.StripeMockURL(t),
		"BASE_URL": "https://give.example.org"}, "stripe", "register-webhook")
	if err != nil || !strings.Contains(out, "created webhook endpoint") || !strings.Contains(out, "2023-10-16") {
		t.Fatalf("register-webhook: %v\n%s", err, out)
	}
}
