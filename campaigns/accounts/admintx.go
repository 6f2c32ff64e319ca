package accounts

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/audit"
)

func AdminTx(ctx context.Context, s *campaigns.Store, by User, fn func(tx pgx.Tx) (string, string, error)) error {
	if !by.CanAdmin() {
		return fmt.Errorf("%s may not change appeals: %w", by.Role, campaigns.ErrForbidden)
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		action, detail, err := fn(tx)
		if err != nil {
			return err
		}
		return audit.Write(ctx, tx, by, action, detail)
	})
}
