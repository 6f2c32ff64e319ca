package appeals

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
	// SurplusStatement is required: what happens if the appeal raises more than it needs.
	SurplusStatement string
	// Fund: fixed once the appeal has money recorded (migration 0032).
	Fund Fund
}

// fundCode is a fund code as the books write it: capitals, digits and inner hyphens.
var fundCode = regexp.MustCompile(`^[A-Z0-9]([A-Z0-9-]{0,18}[A-Z0-9])?$`)

func (e *AppealEdit) normalise() {
	e.Name, e.Summary, e.Story = strings.TrimSpace(e.Name), strings.TrimSpace(e.Summary), strings.TrimSpace(e.Story)
	e.SurplusStatement = strings.TrimSpace(e.SurplusStatement)
	e.Fund.Code = strings.ToUpper(strings.TrimSpace(e.Fund.Code))
}

func (e AppealEdit) validate(ve *campaigns.ValidationError) {
	if n := utf8.RuneCountInString(e.Name); n == 0 || n > 120 {
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
	switch n := utf8.RuneCountInString(e.SurplusStatement); {
	case n == 0:
		ve.Add("surplus_statement", "Say what you will do if the appeal raises more than it needs: the Charity Commission asks every appeal for a restricted purpose to say so")
	case n > 500:
		ve.Add("surplus_statement", "Use 500 characters or fewer")
	}
	if !fundCode.MatchString(e.Fund.Code) {
		ve.Add("fund_code", "Enter the fund's code from your books: up to 20 capital letters, digits and hyphens, like FREEDOM or EMERGENCY-2027")
	}
}

// fundFixed turns the database's refusal to change the fund of an appeal with money into
// the reason beside the field.
func fundFixed(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.ConstraintName == "appeals_fund_fixed" {
		return &campaigns.ValidationError{Fields: map[string]string{"fund_code": "This appeal already has gifts recorded in its fund, so its fund can't change. Start a new appeal for a new fund."}}
	}
	return err
}

// UpdateAppeal changes an appeal's wording, target, statement and (while it has no money)
// its fund.
func UpdateAppeal(ctx context.Context, s *campaigns.Store, by accounts.User, id int64, e AppealEdit) error {
	e.normalise()
	ve := &campaigns.ValidationError{}
	if e.validate(ve); ve.OrNil() != nil {
		return ve
	}
	return accounts.AdminTx(ctx, s, by, func(tx pgx.Tx) (string, string, error) {
		q := dbq.New(tx)
		old, err := lockAppeal(ctx, q, id)
		if err != nil {
			return "", "", err
		}
		err = q.UpdateAppeal(ctx, dbq.UpdateAppealParams{ID: id, Name: e.Name, Summary: e.Summary, Story: e.Story,
			Target: e.Target, SurplusStatement: e.SurplusStatement, FundCode: e.Fund.Code, FundRestricted: e.Fund.Restricted})
		detail := fmt.Sprintf("appeal %s: target %s -> %s", old.Slug, old.Target.StringFixed(2), e.Target.StringFixed(2))
		if old.FundCode != e.Fund.Code || old.FundRestricted != e.Fund.Restricted {
			detail += fmt.Sprintf(", fund %s -> %s (%s)", old.FundCode, e.Fund.Code, e.Fund.Kind())
		}
		return "appeal edited", detail, fundFixed(err)
	})
}

// lockAppeal locks appeal id for a change, returning what its audit row names.
func lockAppeal(ctx context.Context, q *dbq.Queries, id int64) (dbq.LockAppealRow, error) {
	old, err := q.LockAppeal(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return old, fmt.Errorf("appeal %d: %w", id, campaigns.ErrNotFound)
	}
	return old, err
}

// NewAppeal is a new appeal: its address (/a/{slug}) and everything an edit may change.
type NewAppeal struct {
	Slug string
	AppealEdit
}

// CreateAppeal opens a new appeal with no tiers yet; it returns its id.
func CreateAppeal(ctx context.Context, s *campaigns.Store, by accounts.User, n NewAppeal) (int64, error) {
	n.normalise()
	n.Slug = strings.TrimSpace(n.Slug)
	ve := &campaigns.ValidationError{}
	if !appealSlug.MatchString(n.Slug) || len(n.Slug) > 60 {
		ve.Add("slug", "Choose an address of up to 60 lower-case letters, digits and single hyphens, like emergency-appeal")
	}
	if n.validate(ve); ve.OrNil() != nil {
		return 0, ve
	}
	var id int64
	err := accounts.AdminTx(ctx, s, by, func(tx pgx.Tx) (string, string, error) {
		var err error
		id, err = dbq.New(tx).InsertAppeal(ctx, dbq.InsertAppealParams{Slug: n.Slug, Name: n.Name, Summary: n.Summary,
			Story: n.Story, Target: n.Target, FundCode: n.Fund.Code, FundRestricted: n.Fund.Restricted,
			SurplusStatement: n.SurplusStatement, CreatedAt: s.Now()})
		if campaigns.IsUniqueViolation(err) {
			return "", "", &campaigns.ValidationError{Fields: map[string]string{"slug": "Another appeal has this address; choose another"}}
		}
		return "appeal created", fmt.Sprintf("appeal %s: %q, target %s, fund %s (%s)", n.Slug, n.Name,
			n.Target.StringFixed(2), n.Fund.Code, n.Fund.Kind()), err
	})
	return id, err
}

// appealSlug is an appeal's address, as the appeals table's CHECK has it.
var appealSlug = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// SetAppealOpen opens or closes an appeal. A closed appeal takes no gifts; the default
// appeal (at /) stays open.
func SetAppealOpen(ctx context.Context, s *campaigns.Store, by accounts.User, id int64, open bool) error {
	return accounts.AdminTx(ctx, s, by, func(tx pgx.Tx) (string, string, error) {
		q := dbq.New(tx)
		old, err := lockAppeal(ctx, q, id)
		if err != nil {
			return "", "", err
		}
		if old.IsDefault && !open {
			return "", "", &campaigns.ValidationError{Fields: map[string]string{"status": "The main appeal, at the site's home page, stays open. Close the other appeals instead."}}
		}
		status, action := "open", "appeal opened"
		if !open {
			status, action = "closed", "appeal closed"
		}
		return action, "appeal " + old.Slug, q.SetAppealStatus(ctx, dbq.SetAppealStatusParams{ID: id, Status: status})
	})
}

// SetPreselectedTier chooses the tier a fresh form starts on: an active tier of the
// appeal, or 0 for the middle tier.
func SetPreselectedTier(ctx context.Context, s *campaigns.Store, by accounts.User, id, tierID int64) error {
	return accounts.AdminTx(ctx, s, by, func(tx pgx.Tx) (string, string, error) {
		tag, err := dbq.New(tx).SetPreselectedTier(ctx, dbq.SetPreselectedTierParams{ID: id, TierID: tierID})
		if err == nil && tag.RowsAffected() == 0 {
			return "", "", &campaigns.ValidationError{Fields: map[string]string{"preselected": "Choose one of the appeal's active tiers"}}
		}
		return "appeal tier preselected", fmt.Sprintf("appeal %d: tier %d", id, tierID), err
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
