package giftaid

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
)

// HMRC repays a claim some weeks after it is made, by bank transfer, and sometimes not the
// amount asked for (it corrects a claim it disagrees with). A trustee records what arrived
// and when; a claim is repaid once, and the record is never changed afterwards.

// ErrAlreadyRepaid is RecordRepayment's answer for a claim whose repayment is recorded.
var ErrAlreadyRepaid = fmt.Errorf("HMRC's repayment of this claim is already recorded: %w", campaigns.ErrConflict)

// maxRepayment is the largest amount gift_aid_repayments.amount (numeric(12,2)) holds.
var maxRepayment = decimal.New(999_999_999_999, -2)

// RepaymentDayLayout is how a repayment's day is written (an HTML date input's value).
const RepaymentDayLayout = "2006-01-02"

// Repayment is what HMRC paid on a claim.
type Repayment struct {
	ClaimID int64
	// Amount in pounds, whole pence (the form's text read exactly, never through a float).
	Amount decimal.Decimal
	// PaidOn is the day the money reached the bank, as YYYY-MM-DD (London).
	PaidOn string
	Actor  accounts.User
}

// RecordRepayment records HMRC's repayment of a claim, with its audit row, in one
// transaction. The amount must be above zero in whole pence; the day a real one, not
// before the claim was made and not after today (London). A claim that does not exist is
// campaigns.ErrNotFound; one already repaid is ErrAlreadyRepaid, and nothing is written.
func RecordRepayment(ctx context.Context, s *campaigns.Store, r Repayment) error {
	ve := &campaigns.ValidationError{}
	switch {
	case r.Amount.Sign() <= 0:
		ve.Add("amount", "Enter the amount HMRC paid, above zero, like 312.50")
	case !r.Amount.Equal(r.Amount.Round(2)):
		ve.Add("amount", "Amounts can't have fractions of a penny")
	case r.Amount.GreaterThan(maxRepayment):
		ve.Add("amount", "That amount is too large")
	}
	london := campaigns.London()
	paid, problem := RepaymentDay(s, r.PaidOn)
	if problem != "" {
		ve.Add("paid_on", problem)
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		c, err := q.ClaimForRepayment(ctx, r.ClaimID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("gift aid claim %d: %w", r.ClaimID, campaigns.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("gift aid repayment: read claim %d: %w", r.ClaimID, err)
		}
		if c.Repaid {
			return ErrAlreadyRepaid
		}
		made := c.CreatedAt.In(london)
		madeOn := time.Date(made.Year(), made.Month(), made.Day(), 0, 0, 0, 0, london)
		if !paid.IsZero() && paid.Before(madeOn) {
			ve.Add("paid_on", fmt.Sprintf("The claim was made on %s: HMRC cannot have paid it before then", madeOn.Format("2 January 2006")))
		}
		if err := ve.OrNil(); err != nil {
			return err
		}
		n, err := q.InsertGiftAidRepayment(ctx, dbq.InsertGiftAidRepaymentParams{ClaimID: c.ID,
			PaidOn: pgtype.Date{Time: time.Date(paid.Year(), paid.Month(), paid.Day(), 0, 0, 0, 0, time.UTC), Valid: true},
			Amount: r.Amount.Round(2), RecordedBy: r.Actor.Email, RecordedAt: s.Now()})
		if err != nil {
			return fmt.Errorf("gift aid repayment: record claim %d: %w", c.ID, err)
		}
		if n == 0 { // the claim is locked above, so only a repayment recorded before it was
			return ErrAlreadyRepaid
		}
		return audit.Write(ctx, tx, r.Actor, "record gift aid repayment",
			fmt.Sprintf("claim %d: HMRC repaid %s on %s", c.ID, r.Amount.StringFixed(2), paid.Format(RepaymentDayLayout)))
	})
}

// RepaymentDay reads the day HMRC's repayment reached the bank, written YYYY-MM-DD: a real
// day, not after today in London. A problem is said for the form, with a zero time.
func RepaymentDay(s *campaigns.Store, text string) (time.Time, string) {
	london := campaigns.London()
	paid, err := time.ParseInLocation(RepaymentDayLayout, strings.TrimSpace(text), london)
	if err != nil {
		return time.Time{}, "Enter the day HMRC's payment reached the bank, like 2026-03-31"
	}
	now := s.Now().In(london)
	if today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, london); paid.After(today) {
		return time.Time{}, fmt.Sprintf("That day is still to come: the latest it can be is today, %s",
			today.Format("2 January 2006"))
	}
	return paid, ""
}

// ClaimMade is a claim as the trustees follow it: what it asked HMRC for and what HMRC paid.
type ClaimMade struct {
	ID        int64
	CreatedAt time.Time
	CreatedBy string
	Gifts     int64           // the ledger gifts claimed on
	Donations decimal.Decimal // their total, net of refunds at the time
	// Claimed is the Gift Aid the claim asked for: the tax less the adjustments it carried.
	Claimed decimal.Decimal
	Repaid  bool
	// RepaidAmount and PaidOn (a London day, at midnight UTC) are HMRC's repayment.
	RepaidAmount decimal.Decimal
	PaidOn       time.Time
	RepaidBy     string
}

// Difference is what HMRC paid less what the claim asked for: zero until it is repaid,
// negative when HMRC paid less.
func (c ClaimMade) Difference() decimal.Decimal {
	if !c.Repaid {
		return decimal.Zero
	}
	return c.RepaidAmount.Sub(c.Claimed)
}

// ClaimTotals add up the claims made.
type ClaimTotals struct {
	Claimed decimal.Decimal // the Gift Aid every claim asked for
	Repaid  decimal.Decimal // what HMRC has paid
	// Outstanding is the Gift Aid asked for on the claims HMRC has not paid yet.
	Outstanding decimal.Decimal
}

// ClaimsMade lists every claim made, newest first, with HMRC's repayments and the totals.
func ClaimsMade(ctx context.Context, db campaigns.DB) ([]ClaimMade, ClaimTotals, error) {
	rows, err := dbq.New(db).ClaimsMade(ctx)
	if err != nil {
		return nil, ClaimTotals{}, fmt.Errorf("read gift aid claims: %w", err)
	}
	t := ClaimTotals{Claimed: decimal.Zero, Repaid: decimal.Zero, Outstanding: decimal.Zero}
	out := make([]ClaimMade, 0, len(rows))
	for _, r := range rows {
		c := ClaimMade{ID: r.ID, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy, Gifts: r.Gifts, Donations: r.Total,
			Claimed: r.Tax.Sub(r.AdjustmentTotal), Repaid: r.Repaid, RepaidAmount: r.RepaidAmount, RepaidBy: r.RepaidBy}
		if r.PaidOn.Valid {
			c.PaidOn = r.PaidOn.Time
		}
		t.Claimed = t.Claimed.Add(c.Claimed)
		if c.Repaid {
			t.Repaid = t.Repaid.Add(c.RepaidAmount)
		} else {
			t.Outstanding = t.Outstanding.Add(c.Claimed)
		}
		out = append(out, c)
	}
	return out, t, nil
}
