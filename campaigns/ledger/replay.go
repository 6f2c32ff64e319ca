package ledger

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/dbq"
)

// Difference is one stored total that disagrees with the ledger (or with the ledger
// rebuilt from its sources). Any difference is a bug.
type Difference struct {
	Scope  Scope
	Field  string
	Stored string
	Ledger string
}

func (d Difference) String() string {
	return fmt.Sprintf("%s %d: %s is %s in totals but %s in the ledger", d.Scope.Kind, d.Scope.ID, d.Field, d.Stored, d.Ledger)
}

// TotalFields names the figures of each total, in the order every query that sets totals
// side by side lists them (queries/ledger.sql's CompareTotals and AllTotals).
var TotalFields = []string{"gross", "refunded", "disputed", "lost", "fees", "gift_aid_base", "gifts", "donors"}

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
			for i, f := range TotalFields {
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

// AllTotals is every scope's stored totals, each as its figures in TotalFields' order.
type AllTotals map[Scope][]decimal.Decimal

// ReadAllTotals reads every scope's stored totals in db (a snapshot, or a scratch schema).
func ReadAllTotals(ctx context.Context, db dbq.DBTX) (AllTotals, error) {
	rows, err := dbq.New(db).AllTotals(ctx)
	if err != nil {
		return nil, fmt.Errorf("read totals: %w", err)
	}
	out := AllTotals{}
	for _, r := range rows {
		out[Scope{Kind: r.Scope, ID: r.ScopeID}] = r.Sums
	}
	return out, nil
}

// DiffTotals lists each figure on which stored and other disagree; a scope missing from
// one side counts as all zeros there. otherLabel says where other's figures come from.
func DiffTotals(stored, other AllTotals, otherLabel string) []Difference {
	zero := make([]decimal.Decimal, len(TotalFields))
	scopes := map[Scope]bool{}
	for k := range stored {
		scopes[k] = true
	}
	for k := range other {
		scopes[k] = true
	}
	var diffs []Difference
	for sc := range scopes {
		l, r := stored[sc], other[sc]
		if l == nil {
			l = zero
		}
		if r == nil {
			r = zero
		}
		for i, f := range TotalFields {
			if !l[i].Equal(r[i]) {
				diffs = append(diffs, Difference{Scope: sc, Field: f, Stored: l[i].String(), Ledger: otherLabel + r[i].String()})
			}
		}
	}
	return diffs
}
