package campaigns

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// DefaultAppealSlug is the appeal this service was built for.
const DefaultAppealSlug = "fundraising-for-freedom"

// Appeal is a fundraising campaign with a target and giving tiers.
type Appeal struct {
	ID          int64
	Slug        string
	Name        string
	Summary     string
	Story       string
	Currency    string
	Target      decimal.Decimal
	GiftAidRate decimal.Decimal
	IsDefault   bool
	Tiers       []Tier
}

// Tier is a suggested amount with the difference it makes, in words trustees can change.
type Tier struct {
	ID       int64
	Amount   decimal.Decimal
	Title    string
	Impact   string
	Position int
	Active   bool
}

// Tier returns the appeal's active tier with id, or ErrNotFound.
func (a Appeal) Tier(id int64) (Tier, error) {
	for _, t := range a.Tiers {
		if t.ID == id {
			return t, nil
		}
	}
	return Tier{}, fmt.Errorf("tier %d: %w", id, ErrNotFound)
}

const appealColumns = `id, slug, name, summary, story, currency, target, gift_aid_rate, is_default`

func scanAppeal(row pgx.Row) (Appeal, error) {
	var a Appeal
	err := row.Scan(&a.ID, &a.Slug, &a.Name, &a.Summary, &a.Story, &a.Currency, &a.Target, &a.GiftAidRate, &a.IsDefault)
	return a, err
}

// AppealBySlug returns the appeal with its active tiers, cheapest first.
func (s *Store) AppealBySlug(ctx context.Context, slug string) (Appeal, error) {
	return appealWhere(ctx, s.pool, `slug = $1`, slug)
}

// AppealByID is AppealBySlug by id.
func (s *Store) AppealByID(ctx context.Context, id int64) (Appeal, error) {
	return appealWhere(ctx, s.pool, `id = $1`, id)
}

// DefaultAppeal is the appeal that receives money Stripe reports without a known campaign.
func (s *Store) DefaultAppeal(ctx context.Context) (Appeal, error) {
	return appealWhere(ctx, s.pool, `is_default`)
}

func appealWhere(ctx context.Context, db DB, where string, args ...any) (Appeal, error) {
	a, err := scanAppeal(db.QueryRow(ctx, `SELECT `+appealColumns+` FROM appeals WHERE `+where, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return Appeal{}, fmt.Errorf("appeal: %w", ErrNotFound)
	}
	if err != nil {
		return Appeal{}, fmt.Errorf("read appeal: %w", err)
	}
	rows, err := db.Query(ctx, `SELECT id, amount, title, impact, position FROM tiers
		WHERE appeal_id = $1 AND active ORDER BY amount`, a.ID)
	if err != nil {
		return Appeal{}, fmt.Errorf("read tiers: %w", err)
	}
	a.Tiers, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Tier, error) {
		var t Tier
		err := r.Scan(&t.ID, &t.Amount, &t.Title, &t.Impact, &t.Position)
		t.Active = true
		return t, err
	})
	if err != nil {
		return Appeal{}, fmt.Errorf("read tiers: %w", err)
	}
	return a, nil
}

// AppealTotals reads the appeal's totals (constant cost).
func (s *Store) AppealTotals(ctx context.Context, appealID int64) (Totals, error) {
	return ReadTotals(ctx, s.pool, AppealScope(appealID))
}

// SeedOptions configure the seeded appeal. Target applies only when the appeal is first
// created: seeding never overwrites what trustees have since changed.
type SeedOptions struct {
	Target decimal.Decimal
}

// DefaultTarget is the seeded appeal's target unless configured.
var DefaultTarget = decimal.RequireFromString("50000.00")

var seedTiers = []Tier{
	{Amount: decimal.RequireFromString("3.00"), Title: "A survivor's meal", Impact: "Pays for a survivor's meal"},
	{Amount: decimal.RequireFromString("15.00"), Title: "A welcome pack", Impact: "Gives a woman arriving at the safe house toiletries, clothes and a phone top-up"},
	{Amount: decimal.RequireFromString("40.00"), Title: "A counselling session", Impact: "Funds an hour with a trauma-informed counsellor"},
	{Amount: decimal.RequireFromString("100.00"), Title: "Legal advice", Impact: "Pays for a caseworker to take a survivor through her immigration and legal appointments for a week"},
	{Amount: decimal.RequireFromString("250.00"), Title: "A week of safety", Impact: "Keeps a woman safe and supported at the safe house for a week"},
	{Amount: decimal.RequireFromString("2000.00"), Title: "A safe house stay", Impact: "Covers a woman's entire stay at a safe house"},
}

const seedStory = `Every year thousands of women in the UK are found in modern slavery: forced to work, ` +
	`sold for sex, held in domestic servitude. When they escape, they need somewhere safe to sleep, ` +
	`food, medical care, legal advice and time to recover.

Fundraising for Freedom pays for that. Your gift goes straight to the safe houses and specialist ` +
	`support that help survivors rebuild their lives on their own terms.`

// Seed creates the Fundraising for Freedom appeal and its tiers if they are missing.
// Running it again changes nothing. It reports whether it created the appeal.
func (s *Store) Seed(ctx context.Context, opt SeedOptions) (bool, error) {
	target := opt.Target
	if target.IsZero() {
		target = DefaultTarget
	}
	if target.Sign() < 0 || !target.Equal(target.Round(2)) {
		return false, fmt.Errorf("seed: target %s must be a positive amount in pounds and pence", target)
	}
	created := false
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO appeals (slug, name, summary, story, target, is_default)
			VALUES ($1, $2, $3, $4, $5, NOT EXISTS (SELECT 1 FROM appeals WHERE is_default))
			ON CONFLICT (slug) DO NOTHING RETURNING id`,
			DefaultAppealSlug, "Fundraising for Freedom",
			"Safe houses, meals, counselling and legal help for women who have survived modern slavery and trafficking.",
			seedStory, target).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // already seeded: leave it exactly as trustees have it
		}
		if err != nil {
			return err
		}
		created = true
		for i, t := range seedTiers {
			if _, err := tx.Exec(ctx, `INSERT INTO tiers (appeal_id, amount, title, impact, position)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (appeal_id, amount) DO NOTHING`,
				id, t.Amount, t.Title, t.Impact, i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("seed: %w", err)
	}
	return created, nil
}
