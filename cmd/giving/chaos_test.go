package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/donations"
	"giving/campaigns/ledger"
	"giving/campaigns/testwait"
	"giving/payments"
)

// PostgreSQL is stopped (as abruptly as a crash) and restarted while signed events are
// being posted. Every event that got a 2xx must be recorded; every other one got a
// non-2xx, so Stripe would retry, and is recorded after a retry.
func TestPostgresRestartLosesNoAcknowledgedEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir, dsn := privateCluster(t)
	const secret = "whsec_chaos_test_madeup"
	env := map[string]string{"DATABASE_URL": dsn, "STRIPE_WEBHOOK_SECRET": secret}
	for _, c := range []string{"migrate", "seed"} {
		if out, err := runCmd(t, env, c); err != nil {
			t.Fatalf("%s: %v\n%s", c, err, out)
		}
	}
	pool := openPool(t, dsn)
	store := campaigns.NewStore(pool)
	const n = 300
	var events [][]byte
	want := decimal.Zero
	for i := range n {
		amount := payments.FromPence(int64(300 + i))
		d, err := donations.Create(ctx, store, donations.NewDonation{AppealID: 1, Amount: amount})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, payments.EventBuilder{}.WithEventID(fmt.Sprintf("evt_chaos_%d", i)).CheckoutSessionCompleted(
			fmt.Sprintf("cs_%d", i), fmt.Sprintf("pi_%d", i), fmt.Sprintf("cus_%d", i), int64(300+i), "paid",
			payments.Meta{DonationID: d.ID, Campaign: appeals.DefaultAppealSlug}))
		want = want.Add(amount)
	}
	pool.Close()
	s := start(t, env, "serve")

	client := &http.Client{Timeout: 5 * time.Second}
	deliver := func(p []byte) int {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/webhooks/stripe", bytes.NewReader(p))
		req.Header.Set("Stripe-Signature", payments.SignPayload(p, secret, time.Now()))
		resp, err := client.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	acked := make([]atomic.Bool, n)
	var refused atomic.Int64
	next := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if code := deliver(events[i]); code/100 == 2 {
					acked[i].Store(true)
				} else {
					refused.Add(1)
				}
			}
		}()
	}
	restarted := make(chan error, 1)
	for i := range n {
		if i == n/3 {
			go func() {
				// An immediate stop is a crash: no checkpoint, in-flight transactions lost.
				err := runPG(ctx, pgBin(t), mustRunAs(t), "pg_ctl", "-D", dataDir, "-m", "immediate", "-w", "stop")
				if err == nil {
					time.Sleep(1500 * time.Millisecond)
					_, _, err = startPrivatePostgres(ctx, dataDir, io.Discard)
				}
				restarted <- err
			}()
		}
		next <- i
		time.Sleep(5 * time.Millisecond)
	}
	close(next)
	wg.Wait()
	if err := <-restarted; err != nil {
		t.Fatalf("restart: %v", err)
	}
	if refused.Load() == 0 {
		t.Fatal("no delivery was refused: the outage did not overlap the load, so this proved nothing")
	}
	// Stripe retries whatever was not acknowledged (here: until it is, within a minute).
	for i := range n {
		testwait.Eventually(t, fmt.Sprintf("event %d accepted after the restart", i), func() bool {
			if !acked[i].Load() && deliver(events[i])/100 == 2 {
				acked[i].Store(true)
			}
			return acked[i].Load()
		})
	}
	pool = openPool(t, dsn)
	var stored int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM stripe_events WHERE outcome = 'applied'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	tot, err := ledger.ReadTotals(ctx, pool, ledger.AppealScope(1))
	if err != nil {
		t.Fatal(err)
	}
	if stored != n || tot.Gifts != n || !tot.Raised().Equal(want) {
		t.Fatalf("after the restart: %d events applied, %d gifts, raised %s; want %d, %d, %s (refused on the way: %d)",
			stored, tot.Gifts, tot.Raised().StringFixed(2), n, n, want.StringFixed(2), refused.Load())
	}
	if out, err := runCmd(t, env, "replay"); err != nil {
		t.Fatalf("replay after the restart: %v\n%s", err, out)
	}
	t.Logf("%d of %d first deliveries were refused during the outage and recorded on retry", refused.Load(), n)
}

func pgBin(t *testing.T) string {
	t.Helper()
	bin, err := postgresBinaries(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func mustRunAs(t *testing.T) *osUser {
	t.Helper()
	u, err := runAsUser()
	if err != nil {
		t.Fatal(err)
	}
	return u
}
