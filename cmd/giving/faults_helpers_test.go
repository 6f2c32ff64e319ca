package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/donations"
	"giving/campaigns/ledger"
	"giving/campaigns/testwait"
	"giving/payments"
)

// faultBinary builds the real binary for the faults whose fault is a process's (killed,
// two at once) or which read the process's own goroutine count. TestFaults builds it once.
func faultBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "giving")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// go test puts its own Go first on PATH, so this builds with the same toolchain.
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/giving: %v\n%s", err, out)
	}
	return bin
}

// binaryEnv is env alone, with only what any program needs from ours: a developer's own
// STRIPE_SECRET_KEY or DATABASE_URL must not leak into the service under test.
func binaryEnv(env map[string]string) []string {
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// proc is one running `giving serve` process on free loopback ports.
type proc struct {
	URL, Metrics string
	cmd          *exec.Cmd
	out          *lines
	exited       chan struct{}
}

func startBinary(t *testing.T, bin string, env map[string]string) *proc {
	t.Helper()
	full := map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0"}
	for k, v := range env {
		full[k] = v
	}
	p := &proc{out: &lines{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = binaryEnv(full)
	p.cmd.Stderr = p.out
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(p.out, line)
			if u, ok := strings.CutPrefix(line, "  listening  "); ok {
				p.URL = u
			}
			if u, ok := strings.CutPrefix(line, "  metrics    "); ok {
				p.Metrics = u
				close(found)
			}
		}
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.kill(t) })
	select {
	case <-found:
	case <-p.exited:
		t.Fatalf("giving serve stopped before serving:\n%s", p.out)
	case <-time.After(30 * time.Second):
		t.Fatalf("giving serve did not start within 30 s:\n%s", p.out)
	}
	return p
}

// kill is SIGKILL: no graceful shutdown, requests in flight are cut off.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Errorf("process %d still running 10 s after SIGKILL", p.cmd.Process.Pid)
	}
}

// goroutines reads the process's go_goroutines gauge from its /metrics.
func (p *proc) goroutines(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(p.Metrics)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("go_goroutines %q: %v", v, err)
			}
			return int(n)
		}
	}
	t.Fatal("no go_goroutines in /metrics")
	return 0
}

// runBinary runs a one-shot command of the built binary (replay, after a fault).
func runBinary(t *testing.T, bin string, env map[string]string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = binaryEnv(env)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

const faultSecret = "whsec_faults_test_madeup"

// sender posts signed events as Stripe does, with a timeout as Stripe has.
type sender struct{ client *http.Client }

func newSender() *sender {
	return &sender{client: &http.Client{Timeout: 10 * time.Second}}
}

// deliver posts one event; a network error is status 0 (Stripe retries it like a 5xx).
func (s *sender) deliver(base string, payload []byte) (int, http.Header) {
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/stripe", bytes.NewReader(payload))
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Stripe-Signature", payments.SignPayload(payload, faultSecret, time.Now()))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// gifts is a batch of one-off donations and their checkout.session.completed events.
type gifts struct {
	ids    []string
	events [][]byte
	total  decimal.Decimal
}

// newGifts seeds the appeal in the database behind env and creates n donations.
func newGifts(t *testing.T, env map[string]string, prefix string, n int) (*gifts, *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	if out, err := runCmd(t, env, "seed"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	pool := openPool(t, env["DATABASE_URL"])
	store := campaigns.NewStore(pool)
	appeal, err := appeals.AppealBySlug(ctx, store, appeals.DefaultAppealSlug)
	if err != nil {
		t.Fatal(err)
	}
	g := &gifts{}
	for i := range n {
		pence := int64(300 + 7*i)
		d, err := donations.Create(ctx, store, donations.NewDonation{AppealID: appeal.ID, Amount: payments.FromPence(pence)})
		if err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("evt_%s_%d", prefix, i)
		g.ids = append(g.ids, id)
		g.events = append(g.events, payments.EventBuilder{}.WithEventID(id).CheckoutSessionCompleted(
			fmt.Sprintf("cs_%s_%d", prefix, i), fmt.Sprintf("pi_%s_%d", prefix, i), fmt.Sprintf("cus_%s_%d", prefix, i),
			pence, "paid", payments.Meta{DonationID: d.ID, Campaign: appeals.DefaultAppealSlug}))
		g.total = g.total.Add(payments.FromPence(pence))
	}
	return g, pool
}

// missing lists the event ids that are not stored.
func missing(t *testing.T, pool *pgxpool.Pool, ids []string) []string {
	t.Helper()
	var out []string
	if err := pool.QueryRow(context.Background(), `SELECT coalesce(array_agg(want.id), '{}') FROM unnest($1::text[]) AS want(id)
		WHERE NOT EXISTS (SELECT 1 FROM stripe_events e WHERE e.id = want.id)`, ids).Scan(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// settled waits (at most a minute) until no stored event is left queued or deferred: the
// service applies them after it has answered.
func settled(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	testwait.Eventually(t, "no stored event left queued or deferred", func() bool {
		var waiting int
		if err := pool.QueryRow(context.Background(),
			`SELECT count(*) FROM stripe_events WHERE outcome IN ('queued', 'deferred')`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		return waiting == 0
	})
}

// ledgerAgrees checks the end state of a fault run: every event stored once and applied,
// one gift entry per payment, the appeal's totals equal to want, and `giving replay`
// (the real binary) finding no difference.
func ledgerAgrees(t *testing.T, bin string, env map[string]string, pool *pgxpool.Pool, events, gifts int, want decimal.Decimal) {
	t.Helper()
	ctx := context.Background()
	settled(t, pool)
	var stored, problems, giftEntries, doubled int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE outcome NOT IN ('applied', 'ignored')) FROM stripe_events`).
		Scan(&stored, &problems); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) - count(DISTINCT payment_intent) FROM ledger_entries WHERE kind = 'gift'`).
		Scan(&giftEntries, &doubled); err != nil {
		t.Fatal(err)
	}
	appeal, err := appeals.AppealBySlug(ctx, campaigns.NewStore(pool), appeals.DefaultAppealSlug)
	if err != nil {
		t.Fatal(err)
	}
	tot, err := ledger.ReadTotals(ctx, pool, ledger.AppealScope(appeal.ID))
	if err != nil {
		t.Fatal(err)
	}
	if stored != events || problems != 0 || giftEntries != gifts || doubled != 0 || tot.Gifts != int64(gifts) || !tot.Raised().Equal(want) {
		t.Errorf("stored %d events (%d not applied), %d gift entries (%d doubled), totals: %d gifts raising %s; want %d events, %d gifts raising %s",
			stored, problems, giftEntries, doubled, tot.Gifts, tot.Raised().StringFixed(2), events, gifts, want.StringFixed(2))
	}
	if out, err := runBinary(t, bin, env, "replay"); err != nil {
		t.Errorf("giving replay: %v\n%s", err, out)
	}
}
