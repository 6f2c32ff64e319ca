package payments_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"giving/campaigns/donations"
	"giving/campaigns/ledger"
	"giving/campaigns/testwait"
	"giving/payments"
)

// BenchmarkWebhookNewGift is the whole webhook path for a new one-off gift: verify, parse,
// store and answer, then apply (inline or by the appliers) and commit, over loopback HTTP
// against real PostgreSQL, 16 at a time. The clock stops when the last event is applied.
func BenchmarkWebhookNewGift(b *testing.B) { benchmarkNewGift(b) }

// BenchmarkWebhookNewGiftWithReceipts is the same with the donor's receipt written in each
// gift's transaction, as 'giving serve' runs (BenchmarkWebhookNewGift runs without it):
// the receipts' cost on the webhook path is the difference.
func BenchmarkWebhookNewGiftWithReceipts(b *testing.B) {
	benchmarkNewGift(b, func(h *payments.Webhooks) {
		h.DonorMail = &donations.DonorMail{Charity: testCharity, BaseURL: "https://give.example.org"}
	})
}

func benchmarkNewGift(b *testing.B, configure ...func(*payments.Webhooks)) {
	w := newWorld(b, 1, configure...)
	events := make([][]byte, b.N)
	for i := range b.N {
		d := w.donation("3.00", false, false, 0)
		events[i] = payments.EventBuilder{}.CheckoutSessionCompleted(fmt.Sprintf("cs_b%d", i), fmt.Sprintf("pi_b%d", i),
			fmt.Sprintf("cus_b%d", i), 300, "paid", meta(w, d))
	}
	var next atomic.Int64
	b.SetParallelism(8) // 16 on 2 cores
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p := events[next.Add(1)-1]
			if code, body := post(b, w.insts[0].srv.URL, p, payments.SignPayload(p, secret, time.Now())); code != http.StatusOK {
				b.Errorf("%d %s", code, body)
			}
		}
	})
	w.settle()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkPoisonLacedBurst is the time for a burst of 60 gifts with one poison event
// before them (a failure the database reports on every try, with the default tries and
// backoff) to drain: from the first delivery to the last valid gift applied, by the
// appliers alone, 16 deliveries at a time.
func BenchmarkPoisonLacedBurst(b *testing.B) {
	w := newWorld(b, 1)
	ctx := context.Background()
	if _, err := w.pool().Exec(ctx, `CREATE FUNCTION bench_poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.checkout_session_id LIKE 'cs_poison%' THEN RAISE EXCEPTION 'bench: poison'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER bench_poison BEFORE UPDATE ON donations FOR EACH ROW EXECUTE FUNCTION bench_poison()`); err != nil {
		b.Fatal(err)
	}
	const valid = 60
	b.ResetTimer()
	var total time.Duration
	for n := range b.N {
		b.StopTimer()
		bodies := make([][]byte, 0, valid+1)
		p := w.donation("5.00", false, false, 0)
		bodies = append(bodies, payments.EventBuilder{}.CheckoutSessionCompleted(fmt.Sprintf("cs_poison%d", n), "", "", 500, "paid", meta(w, p)))
		for i := range valid {
			d := w.donation("3.00", false, false, 0)
			bodies = append(bodies, payments.EventBuilder{}.CheckoutSessionCompleted(fmt.Sprintf("cs_%d_%d", n, i), "", "", 300, "paid", meta(w, d)))
		}
		want := int64((n + 1) * valid)
		b.StartTimer()
		start := time.Now()
		sem := make(chan struct{}, 16)
		var wg sync.WaitGroup
		for i, body := range bodies {
			if i == 1 {
				wg.Wait() // the poison first, alone: the oldest queued event
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				if code, resp := post(b, w.insts[0].srv.URL, body, payments.SignPayload(body, secret, time.Now())); code != http.StatusOK {
					b.Errorf("%d %s", code, resp)
				}
			}()
		}
		wg.Wait()
		testwait.Eventually(b, fmt.Sprintf("burst %d drained", n), func() bool {
			return w.totals(ledger.AppealScope(w.appeal.ID)).Gifts >= want
		})
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/burst")
}
