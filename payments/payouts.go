package payments

import (
	"context"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v76"

	"giving/campaigns/audit"
	"giving/campaigns/payouts"
)

// FetchPayouts records the GBP payouts Stripe paid since the given time, each broken into
// the balance transactions it paid out (GET /v1/balance_transactions?payout=po_...),
// through campaigns/payouts (stored once, audited). It returns how many were new. The
// Reconciler's client is used, so it is there only with a Stripe key.
func (r *Reconciler) FetchPayouts(ctx context.Context, by audit.Actor, since time.Time) (int, error) {
	pp := &stripe.PayoutListParams{CreatedRange: createdFrom(since), Status: stripe.String(string(stripe.PayoutStatusPaid))}
	pp.Context, pp.Limit = ctx, stripe.Int64(100)
	var list []*stripe.Payout
	it := r.API.Payouts.List(pp)
	for it.Next() {
		list = append(list, it.Payout())
	}
	if err := it.Err(); err != nil {
		return 0, fmt.Errorf("payouts: list: %w", err)
	}
	added := 0
	for _, po := range list {
		ok, err := r.recordPayout(ctx, by, po)
		if err != nil {
			return added, err
		}
		if ok {
			added++
		}
	}
	return added, nil
}

// RecordPayout records one payout Stripe says it paid (payout.paid), read back from Stripe
// (GET /v1/payouts/{id}) with the balance transactions it paid out, as FetchPayouts does.
// It reports whether the payout was new: a payout already recorded, one not in pounds,
// or one that is not (or no longer) paid records nothing.
func (r *Reconciler) RecordPayout(ctx context.Context, by audit.Actor, id string) (bool, error) {
	p := &stripe.PayoutParams{}
	p.Context = ctx
	po, err := r.API.Payouts.Get(id, p)
	if err != nil {
		return false, fmt.Errorf("payouts: read %s: %w", id, err)
	}
	if po.Status != stripe.PayoutStatusPaid {
		return false, nil // a payout that failed or was cancelled never reached the bank
	}
	return r.recordPayout(ctx, by, po)
}

// recordPayout reads po's lines and records it through campaigns/payouts, once.
func (r *Reconciler) recordPayout(ctx context.Context, by audit.Actor, po *stripe.Payout) (bool, error) {
	p, err := r.payoutLines(ctx, po)
	if err != nil {
		return false, err
	}
	if CheckCurrency(string(po.Currency)) != nil {
		return false, nil // the appeal's books are in pounds; reconcile names other money
	}
	return payouts.Record(ctx, r.Store, by, p)
}

// payoutLines reads the balance transactions Stripe paid out in po.
func (r *Reconciler) payoutLines(ctx context.Context, po *stripe.Payout) (payouts.Payout, error) {
	p := payouts.Payout{ID: po.ID, Amount: FromPence(po.Amount), Status: string(po.Status),
		ArrivalDate: time.Unix(po.ArrivalDate, 0).UTC()}
	bp := &stripe.BalanceTransactionListParams{Payout: stripe.String(po.ID)}
	bp.Context, bp.Limit = ctx, stripe.Int64(100)
	bp.AddExpand("data.source")
	it := r.API.BalanceTransactions.List(bp)
	for it.Next() {
		if l, ok := payoutLine(it.BalanceTransaction()); ok {
			p.Lines = append(p.Lines, l)
		}
	}
	if err := it.Err(); err != nil {
		return p, fmt.Errorf("payouts: balance transactions of %s: %w", po.ID, err)
	}
	return p, nil
}

// payoutLine is one balance transaction as a payout line; the payout's own transaction
// (money leaving the balance for the bank) is not one.
func payoutLine(bt *stripe.BalanceTransaction) (payouts.Line, bool) {
	if bt.Type == stripe.BalanceTransactionTypePayout {
		return payouts.Line{}, false
	}
	l := payouts.Line{TxnID: bt.ID, Amount: FromPence(bt.Amount), Fee: FromPence(bt.Fee), Description: bt.Description,
		CreatedAt: time.Unix(bt.Created, 0).UTC()}
	src := bt.Source
	if src != nil {
		l.SourceRef = src.ID
	}
	switch {
	case bt.Type == stripe.BalanceTransactionTypeCharge || bt.Type == stripe.BalanceTransactionTypePayment:
		l.Type, l.ChargeID = payouts.Charge, l.SourceRef
	case bt.Type == stripe.BalanceTransactionTypeRefund || bt.Type == stripe.BalanceTransactionTypePaymentRefund:
		l.Type = payouts.Refund
		if src != nil && src.Refund != nil && src.Refund.Charge != nil {
			l.ChargeID = src.Refund.Charge.ID
		}
	case bt.ReportingCategory == stripe.BalanceTransactionReportingCategoryDispute ||
		bt.ReportingCategory == stripe.BalanceTransactionReportingCategoryDisputeReversal ||
		(src != nil && src.Type == stripe.BalanceTransactionSourceTypeDispute):
		l.Type = payouts.Dispute
		if src != nil && src.Dispute != nil && src.Dispute.Charge != nil {
			l.ChargeID = src.Dispute.Charge.ID
		}
	case bt.Type == stripe.BalanceTransactionTypeStripeFee:
		l.Type = payouts.Fee
	default:
		l.Type = payouts.Other
	}
	if l.Description == "" {
		l.Description = string(bt.Type)
	}
	return l, true
}
