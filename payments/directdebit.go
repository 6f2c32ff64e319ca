package payments

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"

	"giving/campaigns/donations"
)

// Direct Debit (Bacs) in Stripe's events. A Bacs payment takes three working days or more:
// checkout.session.completed arrives with payment_status "unpaid" and the donation is
// processing (no money counts); the money arrives with async_payment_succeeded (one-off) or
// invoice.paid (monthly), or never, with async_payment_failed or invoice.payment_failed.
// A Bacs dispute is an indemnity claim: the donor's bank takes the money back under the
// Direct Debit Guarantee, with no time limit and no appeal, so Stripe opens it already lost.

// asyncUnpaid reports a completed session whose money is still on its way (a Direct Debit):
// neither paid nor free.
func asyncUnpaid(s *stripe.CheckoutSession) bool {
	return s.PaymentStatus == stripe.CheckoutSessionPaymentStatusUnpaid
}

// tellIndemnityClaim tells trustees, once (with the new loss), which donor's bank reclaimed
// what. A card dispute lost after a contest is not an indemnity claim and is left to the
// dashboard. Replay (no donor mail in its context) tells nobody.
func tellIndemnityClaim(ctx context.Context, tx pgx.Tx, ev event, dp *stripe.Dispute, d donations.Donation, gift donations.GiftEntry, amount decimal.Decimal, at time.Time) error {
	if donorMail(ctx) == nil {
		return nil
	}
	method, err := donations.PaymentMethodOf(ctx, tx, d.ID)
	if err != nil {
		return err
	}
	if method != donations.MethodBacs && ev.Type != "charge.dispute.created" {
		return nil
	}
	return donations.TellTrusteesOfIndemnityClaim(ctx, tx, donations.IndemnityClaim{
		DonationID: d.ID, Dispute: dp.ID, Amount: amount, GiftAt: gift.At, At: at})
}
