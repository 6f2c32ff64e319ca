package payments

import (
	"context"

	"giving/campaigns/donations"
)

// The emails a donor is sent about her money (campaigns/donations/receipts.go) are queued
// by apply in the transaction of the money fact. Webhooks.DonorMail is handed to apply
// through the context, as the amount bounds are; replay builds its Webhooks without one,
// so rebuilding the ledger writes to nobody.

type donorMailKey struct{}

// withDonorMail returns ctx carrying m (nil: no emails).
func withDonorMail(ctx context.Context, m *donations.DonorMail) context.Context {
	if m == nil {
		return ctx
	}
	return context.WithValue(ctx, donorMailKey{}, m)
}

// donorMail is the DonorMail apply queues emails with; nil (safe to call: it sends
// nothing) when there is none.
func donorMail(ctx context.Context) *donations.DonorMail {
	m, _ := ctx.Value(donorMailKey{}).(*donations.DonorMail)
	return m
}
