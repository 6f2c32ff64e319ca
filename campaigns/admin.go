package campaigns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns/audit"
	"giving/campaigns/dbq"
)

// Admin actions: each checks the actor may act, makes its change and writes the audit log
// in one transaction, so no change goes unrecorded and no record describes a change that
// did not happen.

func (s *Store) adminTx(ctx context.Context, by User, fn func(tx pgx.Tx) (string, string, error)) error {
	if !by.CanAdmin() {
		return fmt.Errorf("%s may not change appeals: %w", by.Role, ErrForbidden)
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		action, detail, err := fn(tx)
		if err != nil {
			return err
		}
		return audit.Write(ctx, tx, by, action, detail)
	})
}

// AppealEdit is what an admin may change about an appeal.
type AppealEdit struct {
	Name    string
	Summary string
	Story   string
	Target  decimal.Decimal
}

func (e AppealEdit) validate() error {
	ve := &ValidationError{}
	if n := utf8.RuneCountInString(strings.TrimSpace(e.Name)); n == 0 || n > 120 {
		ve.Add("name", "Give the appeal a name of up to 120 characters")
	}
	if utf8.RuneCountInString(e.Summary) > 300 {
		ve.Add("summary", "Use 300 characters or fewer")
	}
	if utf8.RuneCountInString(e.Story) > 10000 {
		ve.Add("story", "Use 10,000 characters or fewer")
	}
	if e.Target.Sign() <= 0 || !e.Target.Equal(e.Target.Round(2)) || e.Target.GreaterThan(decimal.New(1, 10)) {
		ve.Add("target", "Enter a target in pounds, like 50000 or 50000.00")
	}
	return ve.OrNil()
}

// UpdateAppeal changes an appeal's wording and target.
func (s *Store) UpdateAppeal(ctx context.Context, by User, id int64, e AppealEdit) error {
	if err := e.validate(); err != nil {
		return err
	}
	return s.adminTx(ctx, by, func(tx pgx.Tx) (string, string, error) {
		q := dbq.New(tx)
		old, err := q.LockAppealTarget(ctx, id)
		if err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return "", "", fmt.Errorf("appeal %d: %w", id, ErrNotFound)
			}
			return "", "", err
		}
		err = q.UpdateAppeal(ctx, dbq.UpdateAppealParams{ID: id, Name: strings.TrimSpace(e.Name),
			Summary: strings.TrimSpace(e.Summary), Story: strings.TrimSpace(e.Story), Target: e.Target})
		return "appeal edited", fmt.Sprintf("appeal %d: target %s -> %s", id, old.StringFixed(2), e.Target.StringFixed(2)), err
	})
}

// TierEdit is a tier's amount and the words that say what it does.
type TierEdit struct {
	Amount decimal.Decimal
	Title  string
	Impact string
	Active bool
}

func (e TierEdit) validate() error {
	ve := &ValidationError{}
	if e.Amount.Sign() <= 0 || !e.Amount.Equal(e.Amount.Round(2)) {
		ve.Add("amount", "Enter an amount in pounds, like 3 or 2000")
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(e.Title)); n == 0 || n > 60 {
		ve.Add("title", "Give the tier a title of up to 60 characters")
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(e.Impact)); n == 0 || n > 200 {
		ve.Add("impact", "Say what the gift does, in up to 200 characters")
	}
	return ve.OrNil()
}

// SaveTier changes tier id of the appeal, or adds a tier when id is 0.
func (s *Store) SaveTier(ctx context.Context, by User, appealID, id int64, e TierEdit) error {
	if err := e.validate(); err != nil {
		return err
	}
	return s.adminTx(ctx, by, func(tx pgx.Tx) (string, string, error) {
		var tag interface{ RowsAffected() int64 }
		var err error
		if id == 0 {
			tag, err = dbq.New(tx).InsertTier(ctx, dbq.InsertTierParams{AppealID: appealID, Amount: e.Amount,
				Title: strings.TrimSpace(e.Title), Impact: strings.TrimSpace(e.Impact), Active: e.Active})
		} else {
			tag, err = dbq.New(tx).UpdateTier(ctx, dbq.UpdateTierParams{AppealID: appealID, ID: id, Amount: e.Amount,
				Title: strings.TrimSpace(e.Title), Impact: strings.TrimSpace(e.Impact), Active: e.Active})
		}
		if isUniqueViolation(err) {
			return "", "", &ValidationError{Fields: map[string]string{"amount": "Another tier already has this amount"}}
		}
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("tier %d: %w", id, ErrNotFound)
		}
		return "tier saved", fmt.Sprintf("appeal %d tier %d: %s %q active=%v", appealID, id, e.Amount.StringFixed(2), e.Title, e.Active), err
	})
}

// SetFundraiserStatus approves or hides a fundraiser page.
func (s *Store) SetFundraiserStatus(ctx context.Context, by User, id int64, status string) error {
	if status != "approved" && status != "hidden" && status != "pending" {
		return &ValidationError{Fields: map[string]string{"status": "Choose approve or hide"}}
	}
	return s.adminTx(ctx, by, func(tx pgx.Tx) (string, string, error) {
		tag, err := dbq.New(tx).SetFundraiserStatus(ctx, dbq.SetFundraiserStatusParams{ID: id, Status: status})
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("fundraiser %d: %w", id, ErrNotFound)
		}
		return "fundraiser page " + status, fmt.Sprintf("fundraiser %d", id), err
	})
}

// UnmatchedGift is money Stripe reported for something this service never created.
type UnmatchedGift struct {
	DonationID string
	CreatedAt  time.Time
	Appeal     string
	Fundraiser string
	Amount     decimal.Decimal // what the ledger recorded for it (net)
	Monthly    bool
	Reference  string // the Stripe payment intent or subscription
}

// Unmatched lists unmatched money not yet reviewed, newest first.
func (s *Store) Unmatched(ctx context.Context, limit int) ([]UnmatchedGift, error) {
	rows, err := dbq.New(s.pool).UnmatchedGifts(ctx, int64(limit))
	if err != nil {
		return nil, fmt.Errorf("list unmatched money: %w", err)
	}
	out := make([]UnmatchedGift, 0, len(rows))
	for _, r := range rows {
		out = append(out, UnmatchedGift(r))
	}
	return out, nil
}

// ResolveUnmatched records that an admin has reviewed unmatched money. The money stays
// where it was recorded and the donation stays flagged: the review is added, not rewritten.
func (s *Store) ResolveUnmatched(ctx context.Context, by User, donationID, note string) error {
	if n := utf8.RuneCountInString(strings.TrimSpace(note)); n == 0 || n > 500 {
		return &ValidationError{Fields: map[string]string{"note": "Say what you found, in up to 500 characters"}}
	}
	return s.adminTx(ctx, by, func(tx pgx.Tx) (string, string, error) {
		tag, err := dbq.New(tx).ResolveUnmatched(ctx, dbq.ResolveUnmatchedParams{ID: uuidOrNil(donationID),
			ReviewedBy: by.Email, ReviewNote: strings.TrimSpace(note)})
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("unmatched donation %s: %w", donationID, ErrNotFound)
		}
		return "unmatched payment reviewed", fmt.Sprintf("donation %s: %s", donationID, strings.TrimSpace(note)), err
	})
}

// AllTiers lists an appeal's tiers, active or not, cheapest first.
func (s *Store) AllTiers(ctx context.Context, appealID int64) ([]Tier, error) {
	rows, err := dbq.New(s.pool).AllTiers(ctx, appealID)
	if err != nil {
		return nil, fmt.Errorf("list tiers: %w", err)
	}
	out := make([]Tier, 0, len(rows))
	for _, t := range rows {
		out = append(out, Tier{ID: t.ID, Amount: t.Amount, Title: t.Title, Impact: t.Impact, Position: int(t.Position), Active: t.Active})
	}
	return out, nil
}
