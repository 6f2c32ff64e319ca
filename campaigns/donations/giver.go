package donations

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/dbq"
)

// A donation is shown back (thank-you and cancelled pages) only to the browser that made
// it: that browser holds a secret, and the donation keeps its SHA-256, its giver hash.

// BindGiver records giverHash as the donation's giver, unless it has one already (a second
// submission of the same form finds the donation bound to the first).
func BindGiver(ctx context.Context, s *campaigns.Store, donationID string, giverHash []byte) error {
	if err := dbq.New(s.Pool()).BindGiver(ctx, dbq.BindGiverParams{ID: donationID, GiverHash: giverHash}); err != nil {
		return fmt.Errorf("bind donation %s to its giver: %w", donationID, err)
	}
	return nil
}

// GiverHash is the donation's giver hash: nil when it has none (made before givers were
// recorded); ErrNotFound when there is no such donation.
func GiverHash(ctx context.Context, s *campaigns.Store, donationID string) ([]byte, error) {
	id := uuidOrEmpty(donationID)
	if id == "" {
		return nil, fmt.Errorf("donation: %w", campaigns.ErrNotFound)
	}
	h, err := dbq.New(s.Pool()).GiverHash(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("donation: %w", campaigns.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("donation %s giver: %w", donationID, err)
	}
	return h, nil
}
