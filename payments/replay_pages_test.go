package payments_test

import (
	"context"
	"fmt"
	"testing"

	"giving/payments"
)

// Replay reads the stored events a page at a time: an event log longer than a page, with
// many events created in the same second, is replayed event for event and agrees.
func TestReplayReadsTheEventLogInPages(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	const gifts = 270 // two events each: more than a page of 500
	for i := range gifts {
		d := w.donation("3.00", false, false, 0)
		pi := fmt.Sprintf("pi_pages_%04d", i)
		w.send(b.CheckoutSessionCompleted(fmt.Sprintf("cs_pages_%04d", i), pi, "cus_pages", 300, "paid", meta(w, d)))
		w.send(b.ChargeSucceeded(fmt.Sprintf("ch_pages_%04d", i), pi, "cus_pages", 300, 25, "", meta(w, d)))
	}
	w.settle()
	res, err := payments.ReplayEvents(context.Background(), w.pool(), false)
	if err != nil || len(res.Differences) != 0 {
		t.Fatalf("replay: %v %v", res.Differences, err)
	}
	if res.Events != 2*gifts {
		t.Fatalf("replay applied %d events, want %d (each stored event once)", res.Events, 2*gifts)
	}
}
