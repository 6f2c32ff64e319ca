package donations

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/dbq"
)

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

// ListUnmatched lists unmatched money not yet reviewed, newest first.
func ListUnmatched(ctx context.Context, s *campaigns.Store, limit int) ([]UnmatchedGift, error) {
	rows, err := dbq.New(s.Pool()).UnmatchedGifts(ctx, int64(limit))
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
func ResolveUnmatched(ctx context.Context, s *campaigns.Store, by accounts.User, donationID, note string) error {
	if n := utf8.RuneCountInString(strings.TrimSpace(note)); n == 0 || n > 500 {
		return &campaigns.ValidationError{Fields: map[string]string{"note": "Say what you found, in up to 500 characters"}}
	}
	return accounts.AdminTx(ctx, s, by, func(tx pgx.Tx) (string, string, error) {
		tag, err := dbq.New(tx).ResolveUnmatched(ctx, dbq.ResolveUnmatchedParams{ID: UUIDOrNil(donationID),
			ReviewedBy: by.Email, ReviewNote: strings.TrimSpace(note)})
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("unmatched donation %s: %w", donationID, campaigns.ErrNotFound)
		}
		return "unmatched payment reviewed", fmt.Sprintf("donation %s: %s", donationID, strings.TrimSpace(note)), err
	})
}
