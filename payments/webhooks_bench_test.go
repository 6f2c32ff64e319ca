package payments_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"giving/payments"
)

// BenchmarkWebhookNewGift is the whole webhook path for a new one-off gift: verify, parse,
// store and answer, then apply (inline or by the appliers) and commit, over loopback HTTP
// against real PostgreSQL, 16 at a time. The clock stops when the last event is applied.
func BenchmarkWebhookNewGift(b *testing.B) {
	w := newWorld(b, 1)
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
