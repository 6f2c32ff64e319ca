package pages

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
	"giving/campaigns/donations"
)

// SetMessageHidden hides a supporter's message from the public walls (the appeal's recent
// supporters and the page's), or shows it again. A trustee or an admin may do so for any
// gift; a fundraiser only for a gift to one of her own pages (anyone else's gift is
// ErrNotFound, as if it did not exist). The message is kept: trustees' exports still carry
// it. The change and its audit row are committed together; hiding a hidden message (or
// showing a shown one) changes nothing and writes no row.
func SetMessageHidden(ctx context.Context, s *campaigns.Store, by accounts.User, donationID string, hidden bool) error {
	if !by.CanRead() && (by.Role != accounts.RoleFundraiser || by.ID == 0) {
		return fmt.Errorf("%s may not hide messages: %w", by.Role, campaigns.ErrForbidden)
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		g, err := q.HideableMessage(ctx, dbq.HideableMessageParams{DonationID: donations.UUIDOrNil(donationID), AnyPage: by.CanRead(), OwnerID: by.ID})
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("gift %s: %w", donationID, campaigns.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("find message to hide: %w", err)
		}
		if g.Hidden == hidden {
			return nil
		}
		p := dbq.SetMessageHiddenParams{DonationID: g.DonationID, At: s.Now()}
		action := "message shown"
		if hidden {
			p.HiddenBy, action = &by.ID, "message hidden"
		}
		if err := q.SetMessageHidden(ctx, p); err != nil {
			return fmt.Errorf("hide message: %w", err)
		}
		detail := "donation " + g.DonationID
		if g.FundraiserID != nil {
			detail += fmt.Sprintf(" on fundraiser %d", *g.FundraiserID)
		}
		return audit.Write(ctx, tx, by, action, detail)
	})
}

// Message is a supporter's message as a trustee or an admin moderates it.
type Message struct {
	DonationID string
	Name       string // the name the donor gave, even when the public sees "Anonymous"
	Text       string
	Hidden     bool
}

// PageMessages lists the messages left with gifts to a page, newest first, hidden ones
// included: for trustees and admins only.
func PageMessages(ctx context.Context, s *campaigns.Store, by accounts.User, fundraiserID int64, limit int) ([]Message, error) {
	if !by.CanRead() {
		return nil, fmt.Errorf("%s may not moderate messages: %w", by.Role, campaigns.ErrForbidden)
	}
	rows, err := dbq.New(s.Pool()).PageMessages(ctx, dbq.PageMessagesParams{FundraiserID: fundraiserID, MaxRows: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("list page messages: %w", err)
	}
	out := make([]Message, 0, len(rows))
	for _, r := range rows {
		out = append(out, Message{DonationID: r.DonationID, Name: r.DisplayName, Text: r.Message, Hidden: r.Hidden})
	}
	return out, nil
}
