package appeals

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/dbq"
)

// Admin actions: each checks the actor may act, makes its change and writes the audit log
// in one transaction, so no change goes unrecorded and no record describes a change that
// did not happen.

// AppealEdit is what an admin may change about an appeal.
type AppealEdit struct {
	Name    string
	Summary string
	Story   string
	Target  decimal.Decimal
}

func (e AppealEdit) validate() error {
	ve := &campaigns.ValidationError{}
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
func UpdateAppeal(ctx context.Context, s *campaigns.Store, by accounts.User, id int64, e AppealEdit) error {
	if err := e.validate(); err != nil {
		return err
	}
	return accounts.AdminTx(ctx, s, by, func(tx pgx.Tx) (string, string, error) {
		q := dbq.New(tx)
		old, err := q.LockAppealTarget(ctx, id)
		if err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return "", "", fmt.Errorf("appeal %d: %w", id, campaigns.ErrNotFound)
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
	ve := &campaigns.ValidationError{}
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
func SaveTier(ctx context.Context, s *campaigns.Store, by accounts.User, appealID, id int64, e TierEdit) error {
	if err := e.validate(); err != nil {
		return err
	}
	return accounts.AdminTx(ctx, s, by, func(tx pgx.Tx) (string, string, error) {
		var tag interface{ RowsAffected() int64 }
		var err error
		if id == 0 {
			tag, err = dbq.New(tx).InsertTier(ctx, dbq.InsertTierParams{AppealID: appealID, Amount: e.Amount,
				Title: strings.TrimSpace(e.Title), Impact: strings.TrimSpace(e.Impact), Active: e.Active})
		} else {
			tag, err = dbq.New(tx).UpdateTier(ctx, dbq.UpdateTierParams{AppealID: appealID, ID: id, Amount: e.Amount,
				Title: strings.TrimSpace(e.Title), Impact: strings.TrimSpace(e.Impact), Active: e.Active})
		}
		if campaigns.IsUniqueViolation(err) {
			return "", "", &campaigns.ValidationError{Fields: map[string]string{"amount": "Another tier already has this amount"}}
		}
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("tier %d: %w", id, campaigns.ErrNotFound)
		}
		return "tier saved", fmt.Sprintf("appeal %d tier %d: %s %q active=%v", appealID, id, e.Amount.StringFixed(2), e.Title, e.Active), err
	})
}

// AllTiers lists an appeal's tiers, active or not, cheapest first.
func AllTiers(ctx context.Context, s *campaigns.Store, appealID int64) ([]Tier, error) {
	rows, err := dbq.New(s.Pool()).AllTiers(ctx, appealID)
	if err != nil {
		return nil, fmt.Errorf("list tiers: %w", err)
	}
	out := make([]Tier, 0, len(rows))
	for _, t := range rows {
		out = append(out, Tier{ID: t.ID, Amount: t.Amount, Title: t.Title, Impact: t.Impact, Position: int(t.Position), Active: t.Active})
	}
	return out, nil
}
