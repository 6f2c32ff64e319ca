package payments

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"

	"giving/campaigns/ledger"
)

// BenchmarkReconcileCompare is the in-memory half of a reconciliation of 5,000 paid
// charges, each with its gift in the ledger and a tenth of them refunded: placing every
// Stripe record in its appeal and comparing it with the ledger (no Stripe, no database).
func BenchmarkReconcileCompare(b *testing.B) {
	const n = 5_000
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var s stripeLists
	var entries, gifts []recEntry
	for i := range n {
		pi, ch := fmt.Sprintf("pi_%d", i), fmt.Sprintf("ch_%d", i)
		at := since.Add(time.Duration(i) * time.Minute)
		charge := &stripe.Charge{ID: ch, Amount: 1000, Currency: "gbp", Status: stripe.ChargeStatusSucceeded,
			Paid: true, Captured: true, Created: at.Unix(), PaymentIntent: &stripe.PaymentIntent{ID: pi}}
		s.charges = append(s.charges, charge)
		gift := recEntry{kind: ledger.KindGift, object: pi, pi: pi, charge: ch, amount: decimal.NewFromInt(10),
			occurredAt: at, appeal: 1 + int64(i%2)}
		entries, gifts = append(entries, gift), append(gifts, gift)
		if i%10 == 0 {
			charge.AmountRefunded = 500
			rf := fmt.Sprintf("re_%d", i)
			s.refunds = append(s.refunds, &stripe.Refund{ID: rf, Amount: 500, Currency: "gbp", Status: stripe.RefundStatusSucceeded,
				Charge: &stripe.Charge{ID: ch}, PaymentIntent: &stripe.PaymentIntent{ID: pi}})
			entries = append(entries, recEntry{kind: ledger.KindRefund, object: rf, pi: pi, charge: ch, amount: decimal.NewFromInt(-5),
				occurredAt: at, appeal: 1 + int64(i%2)})
		}
	}
	l := newRecLedger(entries, gifts)
	b.ResetTimer()
	for b.Loop() {
		fs, fl := forAppeal(s, l, 1)
		if d := compareWithStripe(fs, fl, since); len(d) != 0 {
			b.Fatalf("%d differences, want none: %v", len(d), d[0])
		}
	}
}
