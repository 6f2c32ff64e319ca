package campaigns

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
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

const fundraiserColumns = `id, appeal_id, slug, title, story, target, status, COALESCE(owner_id, 0),
	EXISTS (SELECT 1 FROM fundraiser_photos p WHERE p.fundraiser_id = fundraisers.id)`

func scanFundraiser(row pgx.Row) (Fundraiser, error) {
	var f Fundraiser
	err := row.Scan(&f.ID, &f.AppealID, &f.Slug, &f.Title, &f.Story, &f.Target, &f.Status, &f.OwnerID, &f.HasPhoto)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, fmt.Errorf("fundraiser: %w", ErrNotFound)
	}
	return f, err
}

// PublicFundraiser returns an approved page by slug; pending and hidden pages are not
// public, and look exactly like pages that do not exist.
func (s *Store) PublicFundraiser(ctx context.Context, slug string) (Fundraiser, error) {
	return scanFundraiser(s.pool.QueryRow(ctx, `SELECT `+fundraiserColumns+` FROM fundraisers WHERE slug = $1 AND status = 'approved'`, slug))
}

// FundraiserByID returns a page whatever its status.
func (s *Store) FundraiserByID(ctx context.Context, id int64) (Fundraiser, error) {
	return scanFundraiser(s.pool.QueryRow(ctx, `SELECT `+fundraiserColumns+` FROM fundraisers WHERE id = $1`, id))
}

// FundraiserTotals reads a page's totals (constant cost).
func (s *Store) FundraiserTotals(ctx context.Context, id int64) (Totals, error) {
	return ReadTotals(ctx, s.pool, FundraiserScope(id))
}

// WallEntry is one gift on a fundraiser page's donor wall, with the donor's privacy
// choices already applied: nothing hidden ever leaves this function.
type WallEntry struct {
	Name    string          // the display name, or "Anonymous"
	Amount  decimal.Decimal // zero when the donor chose not to show it
	Shown   bool            // whether Amount may be shown
	Message string
	Monthly bool
}

// Wall lists the gifts that reached a page, newest first. Only donations with money in
// the ledger appear: a pending or failed attempt is not a gift.
func (s *Store) Wall(ctx context.Context, fundraiserID int64, limit int) ([]WallEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT d.display_name, d.hide_name, d.amount, d.hide_amount, d.message, d.frequency = 'monthly'
		FROM donations d
		WHERE d.fundraiser_id = $1 AND EXISTS (SELECT 1 FROM ledger_entries e WHERE e.donation_id = d.id AND e.kind = 'gift')
		ORDER BY d.created_at DESC LIMIT $2`, fundraiserID, limit)
	if err != nil {
		return nil, fmt.Errorf("read donor wall: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (WallEntry, error) {
		var w WallEntry
		var name string
		var hideName, hideAmount bool
		if err := r.Scan(&name, &hideName, &w.Amount, &hideAmount, &w.Message, &w.Monthly); err != nil {
			return w, err
		}
		w.Name = name
		if hideName || name == "" {
			w.Name = "Anonymous"
		}
		w.Shown = !hideAmount
		if hideAmount {
			w.Amount = decimal.Zero
		}
		return w, nil
	})
}
