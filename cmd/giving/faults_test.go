package main

// Fault runs: each ends with the ledger agreeing with `giving replay` and with no
// acknowledged (2xx) webhook event missing. The PostgreSQL restart is in chaos_test.go.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/testwait"
	"giving/migrations/testdb"
	"giving/payments"
)

// The pool bounds only the wait for a connection: a query that waits longer fails with
// context.DeadlineExceeded (a 503 in web), a slow query that has its connection runs on.
func TestFaultPoolAcquireWaitIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := campaigns.OpenPool(ctx, testdb.DSN(t), campaigns.PoolOptions{MaxConns: 1, AcquireWait: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `SELECT pg_sleep(0.6)`); err != nil {
		t.Fatalf("a query slower than the acquire wait was cut off: %v", err)
	}
	held, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = pool.Exec(ctx, `SELECT 1`)
	if waited := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || waited > 2*time.Second {
		t.Fatalf("with the only connection held: %v after %s, want context.DeadlineExceeded after about 300ms", err, waited)
	}
	held.Release()
	if _, err := pool.Exec(ctx, `SELECT 1`); err != nil {
		t.Fatalf("after the connection came back: %v", err)
	}
}

func TestFaultPoolSettingsFromTheEnvironment(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env     map[string]string
		want    campaigns.PoolOptions
		wantErr string
	}{
		{nil, campaigns.PoolOptions{MaxConns: 20, AcquireWait: 2 * time.Second}, ""},
		{map[string]string{"DATABASE_MAX_CONNS": "3", "DATABASE_ACQUIRE_TIMEOUT": "500ms"}, campaigns.PoolOptions{MaxConns: 3, AcquireWait: 500 * time.Millisecond}, ""},
		{map[string]string{"DATABASE_ACQUIRE_TIMEOUT": "0"}, campaigns.PoolOptions{MaxConns: 20}, ""},
		{map[string]string{"DATABASE_MAX_CONNS": "0"}, campaigns.PoolOptions{}, "DATABASE_MAX_CONNS"},
		{map[string]string{"DATABASE_MAX_CONNS": "many"}, campaigns.PoolOptions{}, "DATABASE_MAX_CONNS"},
		{map[string]string{"DATABASE_ACQUIRE_TIMEOUT": "2"}, campaigns.PoolOptions{}, "DATABASE_ACQUIRE_TIMEOUT"},
		{map[string]string{"DATABASE_ACQUIRE_TIMEOUT": "-1s"}, campaigns.PoolOptions{}, "DATABASE_ACQUIRE_TIMEOUT"},
	}
	for _, c := range cases {
		got, err := poolOptions(envFrom(c.env))
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%v: error %v, want one naming %s", c.env, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%v: %+v, %v; want %+v", c.env, got, err, c.want)
		}
	}
	out, err := runCmd(t, nil, "help")
	if err != nil || !strings.Contains(out, "DATABASE_MAX_CONNS") || !strings.Contains(out, "DATABASE_ACQUIRE_TIMEOUT") {
		t.Errorf("help does not document the pool settings: %v\n%s", err, out)
	}
}

// TestFaults runs the faults whose fault is a process's, or which need the process's own
// view (its goroutines), against the real binary, built once for them all.
func TestFaults(t *testing.T) {
	t.Parallel()
	bin := faultBinary(t)
	for name, fault := range map[string]func(*testing.T, string){
		"PoolExhaustedAnswers503Fast":      testPoolExhaustedAnswers503Fast,
		"ServiceKilledDuringWebhookLoad":   testServiceKilledDuringWebhookLoad,
		"TwoInstancesReceiveTheSameEvents": testTwoInstancesReceiveTheSameEvents,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fault(t, bin)
		})
	}
}

// A slow database exhausts a small pool: a transaction outside the service holds
// stripe_events locked, so the webhooks that got a connection wait on the lock and hold
// every connection. Meanwhile pages and webhooks must be refused at once with 503 and
// Retry-After (Stripe retries), not queued; afterwards everything works again, no
// goroutine is left behind, and no acknowledged event is missing.
func testPoolExhaustedAnswers503Fast(t *testing.T, bin string) {
	ctx := context.Background()
	const maxConns = 3
	env := map[string]string{"DATABASE_URL": testdb.DSN(t), "STRIPE_WEBHOOK_SECRET": faultSecret,
		"DATABASE_MAX_CONNS": fmt.Sprint(maxConns)} // DATABASE_ACQUIRE_TIMEOUT: the default, 2 s
	g, pool := newGifts(t, env, "pool", 40)
	svc := startBinary(t, bin, env)
	hooks := newSender()
	pages := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, http.Header) {
		resp, err := pages.Get(svc.URL + path)
		if err != nil {
			return 0, nil
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	paths := []string{"/", "/api/campaigns/" + appeals.DefaultAppealSlug}

	acked := map[int]bool{}
	var mu sync.Mutex
	ack := func(i, code int) {
		if code/100 == 2 {
			mu.Lock()
			acked[i] = true
			mu.Unlock()
		}
	}
	// Warm up, then take the baseline with no client connection open.
	for _, p := range paths {
		if code, _ := get(p); code != http.StatusOK {
			t.Fatalf("GET %s before the fault: %d", p, code)
		}
	}
	code, _ := hooks.deliver(svc.URL, g.events[0])
	if code/100 != 2 {
		t.Fatalf("webhook before the fault: %d", code)
	}
	ack(0, code)
	pages.CloseIdleConnections()
	hooks.client.CloseIdleConnections()
	// The background job client (River) starts its maintenance goroutines over its first
	// seconds: the baseline is the count once it has stopped changing.
	baseline := svc.goroutines(t)
	for steady, deadline := 0, time.Now().Add(20*time.Second); steady < 3 && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		if now := svc.goroutines(t); now == baseline {
			steady++
		} else {
			baseline, steady = now, 0
		}
	}

	// The blockage: stripe_events locked from outside the service.
	locker, err := pgx.Connect(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(ctx)
	lockTx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lockTx.Rollback(ctx) }()
	if _, err := lockTx.Exec(ctx, `LOCK TABLE stripe_events IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	var blockers sync.WaitGroup
	slowStripe := &sender{client: &http.Client{Timeout: time.Minute}}
	for i := 1; i <= maxConns; i++ {
		blockers.Add(1)
		go func() {
			defer blockers.Done()
			code, _ := slowStripe.deliver(svc.URL, g.events[i])
			ack(i, code)
		}()
	}
	// Every connection of the service's pool is waiting on the lock (the appliers' polls
	// may hold some of them instead of the blocked webhooks).
	db := pool.Config().ConnConfig.Database
	testwait.Eventually(t, fmt.Sprintf("all %d of the service's connections waiting on the lock", maxConns), func() bool {
		var waiting int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = $1 AND wait_event_type = 'Lock' AND pid <> $2`, db, locker.PgConn().PID()).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		return waiting >= maxConns
	})
	time.Sleep(1100 * time.Millisecond) // past the appeal's one-second cache

	// During the blockage: 30 requests at once, each answered 503 with Retry-After, fast.
	type answer struct {
		what    string
		code    int
		retry   string
		elapsed time.Duration
	}
	answers := make(chan answer, 30)
	var burst sync.WaitGroup
	for k := range 30 {
		burst.Add(1)
		go func() {
			defer burst.Done()
			start := time.Now()
			var a answer
			var h http.Header
			if k < 20 {
				a.what = "GET " + paths[k%2]
				a.code, h = get(paths[k%2])
			} else {
				i := maxConns + 1 + k - 20
				a.what = fmt.Sprintf("webhook %d", i)
				a.code, h = hooks.deliver(svc.URL, g.events[i])
				ack(i, a.code)
			}
			a.elapsed = time.Since(start)
			if h != nil {
				a.retry = h.Get("Retry-After")
			}
			answers <- a
		}()
	}
	burst.Wait()
	close(answers)
	var slowest time.Duration
	for a := range answers {
		if a.code != http.StatusServiceUnavailable || a.retry == "" || a.elapsed > 3500*time.Millisecond {
			t.Errorf("%s while the pool was exhausted: %d (Retry-After %q) after %s; want 503 with Retry-After within 3.5 s",
				a.what, a.code, a.retry, a.elapsed.Round(time.Millisecond))
		}
		slowest = max(slowest, a.elapsed)
	}

	// The blockage clears: the held webhooks finish, and everything works again.
	if err := lockTx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	blockers.Wait()
	if lost := missing(t, pool, ackedIDs(g, acked)); len(lost) > 0 {
		t.Fatalf("acknowledged but not stored: %v", lost)
	}
	for _, p := range paths {
		if code, _ := get(p); code != http.StatusOK {
			t.Errorf("GET %s after the fault: %d", p, code)
		}
	}
	for i := range g.events {
		if !acked[i] {
			if code, _ := hooks.deliver(svc.URL, g.events[i]); code/100 != 2 {
				t.Errorf("webhook %d after the fault: %d", i, code)
			}
		}
	}

	// Every request has finished, so its goroutines must be gone too.
	pages.CloseIdleConnections()
	hooks.client.CloseIdleConnections()
	slowStripe.client.CloseIdleConnections()
	var now int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if now = svc.goroutines(t); now <= baseline+10 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("goroutines: %d before the fault, still %d ten seconds after it", baseline, now)
			break
		}
	}
	ledgerAgrees(t, bin, env, pool, len(g.events), len(g.events), g.total)
	t.Logf("pool of %d exhausted: 30 requests answered, the slowest in %s; goroutines %d before, %d after",
		maxConns, slowest.Round(time.Millisecond), baseline, now)
}

func ackedIDs(g *gifts, acked map[int]bool) []string {
	var ids []string
	for i := range acked {
		ids = append(ids, g.ids[i])
	}
	return ids
}

// The service is killed (SIGKILL: no graceful shutdown) while webhooks are posted, and
// started again. Every event it acknowledged is stored (and applied, by the new process if
// the old one had only queued it); the rest, redelivered as Stripe would, are recorded once.
func testServiceKilledDuringWebhookLoad(t *testing.T, bin string) {
	const n = 300
	env := map[string]string{"DATABASE_URL": testdb.DSN(t), "STRIPE_WEBHOOK_SECRET": faultSecret}
	g, pool := newGifts(t, env, "kill", n)
	first := startBinary(t, bin, env)
	var base atomic.Pointer[string]
	base.Store(&first.URL)

	hooks := newSender()
	acked := make([]atomic.Bool, n)
	var refused atomic.Int64
	next := make(chan int)
	var workers sync.WaitGroup
	for range 4 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range next {
				if code, _ := hooks.deliver(*base.Load(), g.events[i]); code/100 == 2 {
					acked[i].Store(true)
				} else {
					refused.Add(1)
				}
			}
		}()
	}
	killNow := make(chan struct{})
	go func() {
		for i := range n {
			if i == n/3 {
				close(killNow)
			}
			next <- i
			time.Sleep(5 * time.Millisecond)
		}
		close(next)
	}()
	<-killNow
	first.kill(t)
	var ackedByFirst int
	for i := range acked {
		if acked[i].Load() {
			ackedByFirst++
		}
	}
	time.Sleep(300 * time.Millisecond)
	second := startBinary(t, bin, env)
	base.Store(&second.URL)
	workers.Wait()
	if ackedByFirst == 0 || refused.Load() == 0 {
		t.Fatalf("%d events acknowledged before the kill, %d refused: the kill did not overlap the load", ackedByFirst, refused.Load())
	}

	// Each event has been delivered once so far: whatever was acknowledged must be stored.
	var ids []string
	for i := range acked {
		if acked[i].Load() {
			ids = append(ids, g.ids[i])
		}
	}
	if lost := missing(t, pool, ids); len(lost) > 0 {
		t.Fatalf("%d acknowledged events are not stored: %v", len(lost), lost)
	}
	// Stripe redelivers the rest.
	for i := range acked {
		if !acked[i].Load() {
			if code, _ := hooks.deliver(second.URL, g.events[i]); code/100 != 2 {
				t.Fatalf("redelivery of event %d after the restart: %d", i, code)
			}
		}
	}
	ledgerAgrees(t, bin, env, pool, n, n, g.total)
	t.Logf("killed after %d acknowledgements; %d deliveries refused, redelivered and recorded once", ackedByFirst, refused.Load())
}

// Two instances of the binary share one database and each receives every event (gifts,
// then partial and full refunds), in a shuffled order, concurrently. The totals equal the
// sums computed here: nothing lost, nothing counted twice.
func testTwoInstancesReceiveTheSameEvents(t *testing.T, bin string) {
	const n = 150
	env := map[string]string{"DATABASE_URL": testdb.DSN(t), "STRIPE_WEBHOOK_SECRET": faultSecret}
	g, pool := newGifts(t, env, "two", n)
	events := append([][]byte(nil), g.events...)
	want := g.total
	for i := range n {
		pence := int64(300 + 7*i) // as newGifts
		pi, ch := fmt.Sprintf("pi_two_%d", i), fmt.Sprintf("ch_two_%d", i)
		refund := int64(0)
		switch {
		case i%7 == 2:
			refund = pence
		case i%5 == 1:
			refund = pence / 4
		}
		if refund > 0 {
			events = append(events, payments.EventBuilder{}.WithEventID(fmt.Sprintf("evt_two_refund_%d", i)).
				ChargeRefunded(ch, pi, pence, refund, payments.Meta{}))
			want = want.Sub(payments.FromPence(refund))
		}
	}
	instances := []*proc{startBinary(t, bin, env), startBinary(t, bin, env)}

	// Every other event reaches both instances at the same moment; the rest once each, at
	// two random points of the shuffled stream.
	type delivery struct{ event, instance int } // instance -1: both at once
	var deliveries []delivery
	for e := range events {
		if e%2 == 0 {
			deliveries = append(deliveries, delivery{e, -1})
		} else {
			deliveries = append(deliveries, delivery{e, 0}, delivery{e, 1})
		}
	}
	rng := rand.New(rand.NewPCG(7, 11))
	rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })

	hooks := newSender()
	var failures, retried atomic.Int64
	send := func(instance, event int) {
		// Anything but a 2xx is retried, as Stripe would (here: briefly).
		for attempt := 0; ; attempt++ {
			if code, _ := hooks.deliver(instances[instance].URL, events[event]); code/100 == 2 {
				return
			}
			if attempt == 20 {
				failures.Add(1)
				return
			}
			retried.Add(1)
			time.Sleep(50 * time.Millisecond)
		}
	}
	next := make(chan delivery)
	var workers sync.WaitGroup
	for range 8 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for d := range next {
				if d.instance >= 0 {
					send(d.instance, d.event)
					continue
				}
				var both sync.WaitGroup
				for i := range instances {
					both.Go(func() { send(i, d.event) })
				}
				both.Wait()
			}
		}()
	}
	for _, d := range deliveries {
		next <- d
	}
	close(next)
	workers.Wait()
	if failures.Load() > 0 {
		t.Fatalf("%d deliveries never got a 2xx", failures.Load())
	}
	ledgerAgrees(t, bin, env, pool, len(events), n, want)
	if !want.LessThan(g.total) || want.Sign() <= 0 {
		t.Fatalf("refunds did not change the expected total (%s of %s): the test proves less than it claims", want, g.total)
	}
	t.Logf("%d events delivered to both instances (%d retries); raised %s", len(events), retried.Load(), want.StringFixed(2))
}
