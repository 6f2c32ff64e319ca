package payments_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"giving/campaigns/donations"
	"giving/payments"
)

// BenchmarkDrainNewGifts is the appliers' rate alone: b.N paid checkouts for pending
// donations, stored as queued (as a burst leaves them), then applied in batches with their
// receipts, as 'giving serve' runs, by Appliers goroutines with the instance's own appliers
// joining in. Nothing else runs, so it is the backlog's drain rate; set beside
// BenchmarkWebhookNewGift, it says how much of a gift's cost is applying it.
func BenchmarkDrainNewGifts(b *testing.B) {
	w := newWorld(b, 1, func(h *payments.Webhooks) {
		h.DonorMail = &donations.DonorMail{Charity: testCharity, BaseURL: "https://give.example.org"}
	})
	ctx := context.Background()
	hooks := w.insts[0].hooks
	// Stored in one transaction that commits just before the timer starts; the world's own
	// appliers (woken within a second) join in, as they would.
	tx, err := w.pool().Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		d := w.donation("3.00", false, false, 0)
		p := payments.EventBuilder{}.CheckoutSessionCompleted(fmt.Sprintf("cs_d%d", i), fmt.Sprintf("pi_d%d", i),
			fmt.Sprintf("cus_d%d", i), 300, "paid", meta(w, d))
		if err := payments.QueueEvent(ctx, tx, p); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	done := make(chan error, payments.Appliers)
	for range payments.Appliers {
		go func() { _, err := hooks.Drain(ctx); done <- err }()
	}
	for range payments.Appliers {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	w.settle()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
