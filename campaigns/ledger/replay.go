package ledger

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/dbq"
)

// Difference is one stored total that disagrees with the  Any difference is a bug.
type Difference struct {
	Scope  Scope
	Field  string
	Stored string
	Ledger string
}

func (d Difference) String() string {
	return fmt.Sprintf("%s %d: %s is %s in totals but %s in the ledger", d.Scope.Kind, d.Scope.ID, d.Field, d.Stored, d.Ledger)
}

// replayFields names the figures of each total in the order queries/sql's
// CompareTotals lists them.
var replayFields = []string{"gross", "refunded", "disputed", "lost", "fees", "gift_aid_base", "gifts", "donors"}

// CompareTotals recomputes every total from the ledger and lists each stored figure that
// disagrees. It reads inside one repeatable-read transaction so that gifts arriving
// meanwhile cannot produce a false difference.
func CompareTotals(ctx context.Context, s *campaigns.Store) ([]Difference, error) {
	var diffs []Difference
	err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := dbq.New(tx).CompareTotals(ctx)
		if err != nil {
			return err
		}
		for _, r := range rows {
			sc := Scope{Kind: r.Scope, ID: r.ScopeID}
			for i, f := range replayFields {
				if !r.Stored[i].Equal(r.Ledger[i]) {
					diffs = append(diffs, Difference{Scope: sc, Field: f, Stored: r.Stored[i].String(), Ledger: r.Ledger[i].String()})
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("compare totals with the ledger: %w", err)
	}
	return diffs, nil
}
