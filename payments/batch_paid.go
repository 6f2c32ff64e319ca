package payments

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stripe/stripe-go/v76"

	"giving/campaigns/donations"
	"giving/campaigns/ledger"
)

// A batch's common case, a one-off gift paid at checkout for a donation made here, is
// applied set-wise: one statement locks all such gifts' donations, one moves them to paid,
// one records their gifts in the ledger (their card names and receipts are written with
// the batch's, donations.MailBatch), where applying them one by one takes three for each.
// It is the same change applySession makes, with the same helpers (sessionLink, adopt,
// paidFrom, giftEntry), for the events that cannot meet anything else in the batch: only
// one event of the batch names the payment or the donation, and no refund or dispute is
// waiting for the gift. Every other event, and any of these whose donation is not found
// by its id, is applied one by one after them: events about different payments and
// donations do not depend on their order.

// paidCheckout is an event of the common case, decoded.
type paidCheckout struct {
	c *claimedEvent
	s stripe.CheckoutSession
}

// asPaidCheckout returns ev as the common case, if it is one: a checkout session paid, in
// pounds, within the amount bounds, for a donation named by its id, with a payment intent.
// Anything that would not be applied as a plain gift (or not at all) is left to apply.
func asPaidCheckout(ctx context.Context, c *claimedEvent) (paidCheckout, bool) {
	p := paidCheckout{c: c}
	ev := c.ev
	if ev.Type != "checkout.session.completed" && ev.Type != "checkout.session.async_payment_succeeded" ||
		c.names.payment == "" || donations.UUIDOrNil(c.names.donation) != c.names.donation {
		return p, false
	}
	ok := decode(ev, &p.s) == nil && p.s.Mode == stripe.CheckoutSessionModePayment &&
		p.s.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid && p.s.AmountTotal > 0 &&
		checkAmount(ctx, "amount_total", p.s.AmountTotal) == nil && checkGBP(p.s.Currency) == nil
	return p, ok
}

// applyPaidCheckouts applies the batch's events of the common case set-wise, inside its
// transaction, and gives each its outcome; the others keep outcome "". waits is what the
// batch knows of the events waiting for their gifts.
func applyPaidCheckouts(ctx context.Context, tx pgx.Tx, batch []claimedEvent, waits *waitingPayments) error {
	pis, ids := map[string]int{}, map[string]int{}
	for _, c := range batch {
		pis[c.names.payment]++
		ids[c.names.donation]++
	}
	var ps []paidCheckout
	var want []string
	for i := range batch {
		n := batch[i].names
		if pis[n.payment] != 1 || ids[n.donation] != 1 || waits.waiting[n.payment] {
			continue // it can meet another event of the batch, or a refund waits for it
		}
		if p, ok := asPaidCheckout(ctx, &batch[i]); ok {
			ps, want = append(ps, p), append(want, n.donation)
		}
	}
	if len(ps) == 0 {
		return nil
	}
	found, err := donations.LockDonations(ctx, tx, want)
	if err != nil {
		return err
	}
	var ds []donations.Donation
	var us []donations.DonationUpdate
	kept := ps[:0]
	for _, p := range ps {
		d, ok := found[p.c.names.donation]
		if !ok {
			continue // found some other way, or unmatched: applySession's
		}
		link := sessionLink(&p.s)
		adopt(&d, link)
		ds, kept = append(ds, d), append(kept, p)
		us = append(us, donations.DonationUpdate{ID: d.ID, Link: link, Status: donations.StatusPaid, EventAt: created(p.c.ev), From: paidFrom})
	}
	if len(kept) == 0 {
		return nil
	}
	if _, err := donations.UpdateDonations(ctx, tx, us); err != nil {
		return err
	}
	es := make([]ledger.Entry, len(kept))
	for i, p := range kept {
		if p.s.CustomerDetails != nil {
			if err := donations.NoteCardName(ctx, tx, ds[i].ID, p.s.CustomerDetails.Name); err != nil { // greets her in her emails
				return err
			}
		}
		pi := p.c.names.payment
		es[i] = giftEntry(p.c.ev, ds[i], pi, "", pi, FromPence(p.s.AmountTotal), false, created(p.c.ev))
	}
	entries, err := ledger.RecordIDs(ctx, tx, es)
	if err != nil {
		return err
	}
	for i, p := range kept {
		if entries[i] != 0 { // a new gift: its receipt, once
			if err := donorMail(ctx).Receipt(ctx, tx, ds[i].ID, es[i].SourceRef, es[i].Amount, es[i].OccurredAt); err != nil {
				return err
			}
		}
		p.c.outcome = "applied"
		if ds[i].Unmatched {
			p.c.outcome = "unmatched"
		}
	}
	return nil
}

// created is when Stripe says an event happened.
func created(ev event) time.Time { return time.Unix(ev.Created, 0) }
