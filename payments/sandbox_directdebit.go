package payments

import (
	"context"
	"strings"

	"giving/campaigns"
	"giving/campaigns/donations"
	"giving/campaigns/donors"
)

// The sandbox's Direct Debit page stands in for the days a Bacs payment takes. Its
// checkout only sets a Direct Debit up (checkout.session.completed, payment_status
// "unpaid": the gift is processing); here "Collect now" sends what Stripe sends when the
// money arrives (checkout.session.async_payment_succeeded, and for a monthly gift its first
// invoice.paid, then charge.succeeded with the Bacs fee), and "Bank refuses" what it sends
// when the bank refuses (invoice.payment_failed for a monthly gift, then
// checkout.session.async_payment_failed). Each event is signed and posted to the service's
// own webhook; every id is derived from the session, so a second press changes nothing.

// Sandbox Direct Debit actions, as its page posts them.
const (
	DebitCollect = "collect"
	DebitRefuse  = "refuse"
)

// DirectDebits lists the sandbox's Direct Debits waiting to be collected, newest first.
func (s *Sandbox) DirectDebits(ctx context.Context) ([]donations.WaitingDirectDebit, error) {
	return donations.WaitingDirectDebits(ctx, s.store.Pool(), "cs_test_sandbox_")
}

// SettleDirectDebit collects (DebitCollect) or refuses (DebitRefuse) the waiting Direct
// Debit of donationID. One not waiting (collected, refused, or not the sandbox's) is a
// ValidationError on "form", and nothing is sent.
func (s *Sandbox) SettleDirectDebit(ctx context.Context, donationID, action string) error {
	d, err := donations.Lookup(ctx, s.store, donations.DonationLookup{ID: donationID})
	if err != nil {
		return err
	}
	method, err := donations.PaymentMethodOf(ctx, s.store.Pool(), d.ID)
	if err != nil {
		return err
	}
	if method != donations.MethodBacs || !strings.HasPrefix(d.SessionID, "cs_test_sandbox_") || d.Status != donations.StatusProcessing {
		return &campaigns.ValidationError{Fields: map[string]string{"form": "This Direct Debit is not waiting to be collected any more: it was collected or refused already. The list below is up to date."}}
	}
	meta, pence, fee, err := s.money(ctx, d)
	if err != nil {
		return err
	}
	name := ""
	if r, err := donors.RecordOfDonation(ctx, s.store.Pool(), d.ID); err == nil {
		name = r.Name
	}
	key := strings.TrimPrefix(d.SessionID, "cs_test_sandbox_")
	b := EventBuilder{Now: s.store.Now, DonorEmail: d.Email, DonorName: name, Method: method}
	pi, ch, cus := "pi_sandbox_"+key, "ch_sandbox_"+key, firstNonEmpty(d.CustomerID, "cus_sandbox_"+key)
	sub, in := "sub_sandbox_"+key, "in_sandbox_"+key+"_1"
	var events [][]byte
	switch {
	case action == DebitCollect && d.Monthly:
		events = [][]byte{
			b.WithEventID("evt_sandbox_"+key+"_collected").DirectDebitSubscriptionSession("checkout.session.async_payment_succeeded", d.SessionID, sub, cus, pence, meta),
			b.WithEventID("evt_sandbox_"+key+"_invoice_1").InvoicePaid(in, sub, cus, ch, pi, pence, "subscription_create", meta),
			b.WithEventID("evt_sandbox_"+key+"_charge").ChargeSucceeded(ch, pi, cus, pence, fee, in, meta),
		}
	case action == DebitCollect:
		events = [][]byte{
			b.WithEventID("evt_sandbox_"+key+"_collected").CheckoutSessionAsync(true, d.SessionID, pi, cus, pence, meta),
			b.WithEventID("evt_sandbox_"+key+"_charge").ChargeSucceeded(ch, pi, cus, pence, fee, "", meta),
		}
	case action == DebitRefuse && d.Monthly:
		events = [][]byte{
			b.WithEventID("evt_sandbox_"+key+"_invoice_1_failed").InvoicePaymentFailed(in, sub, cus, pence, meta),
			b.WithEventID("evt_sandbox_"+key+"_refused").DirectDebitSubscriptionSession("checkout.session.async_payment_failed", d.SessionID, sub, cus, pence, meta),
		}
	case action == DebitRefuse:
		events = [][]byte{b.WithEventID("evt_sandbox_"+key+"_refused").CheckoutSessionAsync(false, d.SessionID, pi, cus, pence, meta)}
	default:
		return campaigns.ErrNotFound
	}
	for _, e := range events {
		if err := s.deliver(ctx, e); err != nil {
			return err
		}
	}
	return nil
}
