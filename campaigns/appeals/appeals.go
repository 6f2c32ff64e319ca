package appeals

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/dbq"
	"giving/campaigns/ledger"
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
	// Open: the appeal takes gifts. A closed appeal's page says so and refuses the form.
	Open bool
	// Fund is the fund in the charity's books its money belongs to; every ledger entry
	// carries it (migration 0032).
	Fund Fund
	// SurplusStatement says what happens if the appeal raises more than it needs; every
	// appeal has one, shown beside the Give button.
	SurplusStatement string
	// PreselectedTierID is the tier a fresh form starts on (0: the middle tier).
	PreselectedTierID int64
	HasPhoto          bool
	Tiers             []Tier
}

// Fund is a fund of the charity's books: a short code and whether it is restricted (may be
// spent only on the appeal's purpose).
type Fund struct {
	Code       string
	Restricted bool
}

// Kind is "restricted" or "unrestricted", as the books say it.
func (f Fund) Kind() string {
	if f.Restricted {
		return "restricted"
	}
	return "unrestricted"
}

// Path is where the appeal's public page lives: / for the default appeal, /a/{slug} for
// any other.
func (a Appeal) Path() string {
	if a.IsDefault {
		return "/"
	}
	return "/a/" + a.Slug
}

// PreselectedTier is the tier a fresh donate form starts on: the admin's choice while it is
// active, else the middle tier, so one press of Give makes a gift (0: no tiers).
func (a Appeal) PreselectedTier() int64 {
	if _, err := a.Tier(a.PreselectedTierID); a.PreselectedTierID != 0 && err == nil {
		return a.PreselectedTierID
	}
	if len(a.Tiers) == 0 {
		return 0
	}
	return a.Tiers[(len(a.Tiers)-1)/2].ID
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
	return Tier{}, fmt.Errorf("tier %d: %w", id, campaigns.ErrNotFound)
}

// appealFromRow reads an appeal from the row of any of the appeal queries in
// campaigns/queries/appeals.sql, which return the same columns.
func appealFromRow(r dbq.AppealByIDRow) Appeal {
	return Appeal{ID: r.ID, Slug: r.Slug, Name: r.Name, Summary: r.Summary, Story: r.Story, Currency: r.Currency,
		Target: r.Target, GiftAidRate: r.GiftAidRate, IsDefault: r.IsDefault, Open: r.Status == "open",
		Fund: Fund{Code: r.FundCode, Restricted: r.FundRestricted}, SurplusStatement: r.SurplusStatement,
		PreselectedTierID: r.PreselectedTierID, HasPhoto: r.HasPhoto}
}

// AppealBySlug returns the appeal with its active tiers, cheapest first.
func AppealBySlug(ctx context.Context, s *campaigns.Store, slug string) (Appeal, error) {
	return readAppeal(ctx, s.Pool(), func(q *dbq.Queries) (dbq.AppealByIDRow, error) {
		r, err := q.AppealBySlug(ctx, slug)
		return dbq.AppealByIDRow(r), err
	})
}

// AppealByID is AppealBySlug by id.
func AppealByID(ctx context.Context, s *campaigns.Store, id int64) (Appeal, error) {
	return readAppeal(ctx, s.Pool(), func(q *dbq.Queries) (dbq.AppealByIDRow, error) {
		return q.AppealByID(ctx, id)
	})
}

// DefaultAppeal is the appeal that receives money Stripe reports without a known campaign.
func DefaultAppeal(ctx context.Context, s *campaigns.Store) (Appeal, error) {
	return readAppeal(ctx, s.Pool(), func(q *dbq.Queries) (dbq.AppealByIDRow, error) {
		r, err := q.DefaultAppeal(ctx)
		return dbq.AppealByIDRow(r), err
	})
}

// readAppeal reads the appeal find returns, with its active tiers.
func readAppeal(ctx context.Context, db campaigns.DB, find func(q *dbq.Queries) (dbq.AppealByIDRow, error)) (Appeal, error) {
	q := dbq.New(db)
	r, err := find(q)
	a := appealFromRow(r)
	if errors.Is(err, pgx.ErrNoRows) {
		return Appeal{}, fmt.Errorf("appeal: %w", campaigns.ErrNotFound)
	}
	if err != nil {
		return Appeal{}, fmt.Errorf("read appeal: %w", err)
	}
	tiers, err := q.ActiveTiers(ctx, a.ID)
	if err != nil {
		return Appeal{}, fmt.Errorf("read tiers: %w", err)
	}
	a.Tiers = make([]Tier, 0, len(tiers))
	for _, t := range tiers {
		a.Tiers = append(a.Tiers, Tier{ID: t.ID, Amount: t.Amount, Title: t.Title, Impact: t.Impact, Position: int(t.Position), Active: true})
	}
	return a, nil
}

// AppealTotals reads the appeal's totals (constant cost).
func AppealTotals(ctx context.Context, s *campaigns.Store, appealID int64) (ledger.Totals, error) {
	return ledger.ReadTotals(ctx, s.Pool(), ledger.AppealScope(appealID))
}

// SeedOptions configure the seeded appeal. Target applies only when the appeal is first
// created: seeding never overwrites what trustees have since changed.
type SeedOptions struct {
	Target decimal.Decimal
}

// DefaultFund is the seeded appeal's fund: its money is for survivors only.
var DefaultFund = Fund{Code: "FREEDOM", Restricted: true}

// DefaultSurplusStatement is the seeded appeal's "if we raise more than we need" statement
// (migration 0032 gives an existing appeal the same words).
const DefaultSurplusStatement = "If we raise more than we need for Fundraising for Freedom, we will spend the rest on our " +
	"other work with women who have survived modern slavery and trafficking."

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
func Seed(ctx context.Context, s *campaigns.Store, opt SeedOptions) (bool, error) {
	target := opt.Target
	if target.IsZero() {
		target = DefaultTarget
	}
	if target.Sign() < 0 || !target.Equal(target.Round(2)) {
		return false, fmt.Errorf("seed: target %s must be a positive amount in pounds and pence", target)
	}
	created := false
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		id, err := q.SeedAppeal(ctx, dbq.SeedAppealParams{Slug: DefaultAppealSlug, Name: "Fundraising for Freedom",
			Summary: "Safe houses, meals, counselling and legal help for women who have survived modern slavery and trafficking.",
			Story:   seedStory, Target: target, FundCode: DefaultFund.Code, FundRestricted: DefaultFund.Restricted,
			SurplusStatement: DefaultSurplusStatement})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // already seeded: leave it exactly as trustees have it
		}
		if err != nil {
			return err
		}
		created = true
		for i, t := range seedTiers {
			if err := q.SeedTier(ctx, dbq.SeedTierParams{AppealID: id, Amount: t.Amount, Title: t.Title, Impact: t.Impact,
				Position: int32(i)}); err != nil {
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

// GiftAidRate is the appeal's Gift Aid rate (tax reclaimed per pound given), read in db:
// a refund of a claimed gift owes HMRC the tax at this rate.
func GiftAidRate(ctx context.Context, db dbq.DBTX, appealID int64) (decimal.Decimal, error) {
	rate, err := dbq.New(db).AppealGiftAidRate(ctx, appealID)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("appeal %d gift aid rate: %w", appealID, err)
	}
	return rate, nil
}

// ListAppeals lists every appeal (without tiers): the default first, then open ones, newest
// first.
func ListAppeals(ctx context.Context, s *campaigns.Store) ([]Appeal, error) {
	rows, err := dbq.New(s.Pool()).ListAppeals(ctx)
	if err != nil {
		return nil, fmt.Errorf("list appeals: %w", err)
	}
	out := make([]Appeal, 0, len(rows))
	for _, r := range rows {
		out = append(out, appealFromRow(dbq.AppealByIDRow(r)))
	}
	return out, nil
}
