package appeals

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/dbq"
)

// Supporter is one gift as the public sees it on an appeal's or a page's list of recent
// supporters, with the donor's privacy choices already applied: nothing hidden ever
// leaves this package or pages.Wall.
type Supporter struct {
	Name    string          // the display name, or "Anonymous"
	Amount  decimal.Decimal // zero when the donor chose not to show it
	Shown   bool            // whether Amount may be shown
	Message string
	Monthly bool
	GivenAt time.Time // when the gift's first payment reached the ledger
}

// supporterColumns is the row of the queries that list gifts publicly (AppealWall here,
// Wall in queries/fundraisers.sql), which return the same columns.
type supporterColumns = struct {
	DisplayName string
	HideName    bool
	Amount      decimal.Decimal
	HideAmount  bool
	Message     string
	Monthly     bool
	GivenAt     time.Time
}

// SupportersFromRows applies each donor's privacy choices to a public list of gifts.
func SupportersFromRows[R ~supporterColumns](rows []R) []Supporter {
	out := make([]Supporter, 0, len(rows))
	for _, row := range rows {
		r := supporterColumns(row)
		s := Supporter{Name: r.DisplayName, Amount: r.Amount, Message: r.Message, Monthly: r.Monthly, GivenAt: r.GivenAt}
		if r.HideName || r.DisplayName == "" {
			s.Name = "Anonymous"
		}
		s.Shown = !r.HideAmount
		if r.HideAmount {
			s.Amount = decimal.Zero
		}
		out = append(out, s)
	}
	return out
}

// RecentSupporters lists the latest gifts to an appeal, through any of its pages, newest
// first. Only donations with money in the ledger appear, and never money Stripe reported
// for an object this service did not create.
func RecentSupporters(ctx context.Context, s *campaigns.Store, appealID int64, limit int) ([]Supporter, error) {
	rows, err := dbq.New(s.Pool()).AppealWall(ctx, dbq.AppealWallParams{AppealID: appealID, MaxRows: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("read recent supporters: %w", err)
	}
	return SupportersFromRows(rows), nil
}
