package pages

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/dbq"
	"giving/campaigns/ledger"
)

// Fundraiser is a supporter's page raising money for an appeal.
type Fundraiser struct {
	ID       int64
	AppealID int64
	Slug     string
	Title    string
	Story    string
	Target   decimal.Decimal
	Status   string // pending, approved or hidden
	OwnerID  int64  // the fundraiser's account; 0 for pages made by an admin or the seed
	HasPhoto bool
}

// pageColumns is the row of every query that reads a page (queries/fundraisers.sql and
// queries/pages.sql share these columns, so their generated row types convert to it).
type pageColumns = struct {
	ID       int64
	AppealID int64
	Slug     string
	Title    string
	Story    string
	Target   decimal.Decimal
	Status   string
	OwnerID  int64
	HasPhoto bool
}

// fundraiserFromRow is the page a query's row describes.
func fundraiserFromRow[R ~pageColumns](r R) Fundraiser {
	c := pageColumns(r)
	return Fundraiser{ID: c.ID, AppealID: c.AppealID, Slug: c.Slug, Title: c.Title, Story: c.Story, Target: c.Target,
		Status: c.Status, OwnerID: c.OwnerID, HasPhoto: c.HasPhoto}
}

// fundraiserOrNotFound is a page query's answer: the page, or ErrNotFound when there was none.
func fundraiserOrNotFound[R ~pageColumns](r R, err error) (Fundraiser, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return Fundraiser{}, fmt.Errorf("fundraiser: %w", campaigns.ErrNotFound)
	}
	return fundraiserFromRow(r), err
}

// PublicFundraiser returns an approved page by slug; pending and hidden pages are not
// public, and look exactly like pages that do not exist.
func PublicFundraiser(ctx context.Context, s *campaigns.Store, slug string) (Fundraiser, error) {
	r, err := dbq.New(s.Pool()).PublicFundraiser(ctx, slug)
	return fundraiserOrNotFound(r, err)
}

// FundraiserByID returns a page whatever its status.
func FundraiserByID(ctx context.Context, s *campaigns.Store, id int64) (Fundraiser, error) {
	return fundraiserOrNotFound(dbq.New(s.Pool()).FundraiserByID(ctx, id))
}

// FundraiserTotals reads a page's totals (constant cost).
func FundraiserTotals(ctx context.Context, s *campaigns.Store, id int64) (ledger.Totals, error) {
	return ledger.ReadTotals(ctx, s.Pool(), ledger.FundraiserScope(id))
}

// WallEntry is one gift on a fundraiser page's donor wall, with the donor's privacy
// choices already applied, as on the appeal's list of supporters.
type WallEntry = appeals.Supporter

// Wall lists the gifts that reached a page, newest first. Only donations with money in
// the ledger appear: a pending or failed attempt is not a gift.
func Wall(ctx context.Context, s *campaigns.Store, fundraiserID int64, limit int) ([]WallEntry, error) {
	rows, err := dbq.New(s.Pool()).Wall(ctx, dbq.WallParams{FundraiserID: fundraiserID, MaxRows: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("read donor wall: %w", err)
	}
	return appeals.SupportersFromRows(rows), nil
}

// OwnerName is the display name of the page's owner, "" for a page nobody signed up for
// (made by an admin or the seed).
func OwnerName(ctx context.Context, s *campaigns.Store, fundraiserID int64) (string, error) {
	name, err := dbq.New(s.Pool()).PageOwnerName(ctx, fundraiserID)
	if err != nil {
		return "", fmt.Errorf("read page owner name: %w", err)
	}
	return name, nil
}
