package giftaid

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns/dbq"
)

// QueueGiftAidAdjustment records that a refund of an already-claimed gift must be
// corrected on the next claim: the tax on the refunded amount, never more than was claimed.
func QueueGiftAidAdjustment(ctx context.Context, tx pgx.Tx, refundEntryID, giftEntryID int64, refunded, rate decimal.Decimal, note string) error {
	tax := refunded.Mul(rate).RoundCeil(2)
	if tax.Sign() <= 0 {
		return nil
	}
	if r := []rune(note); len(r) > 100 { // characters, not bytes: never split a "£"
		note = string(r[:100])
	}
	err := dbq.New(tx).QueueGiftAidAdjustment(ctx, dbq.QueueGiftAidAdjustmentParams{RefundEntryID: refundEntryID,
		GiftEntryID: giftEntryID, Tax: tax, Rate: rate, Note: note})
	if err != nil {
		return fmt.Errorf("queue gift aid adjustment: %w", err)
	}
	return nil
}
