package campaigns

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Difference is one stored total that disagrees with the ledger. Any difference is a bug.
type Difference struct {
	Scope  Scope
	Field  string
	Stored string
	Ledger string
}

func (d Difference) String() string {
	return fmt.Sprintf("%s %d: %s is %s in totals but %s in the ledger", d.Scope.Kind, d.Scope.ID, d.Field, d.Stored, d.Ledger)
}

// replaySQL recomputes every total from the ledger alone and sets it beside the stored one.
const replaySQL = `
WITH ledger AS (
    SELECT scope, scope_id,
           COALESCE(sum(amount) FILTER (WHERE kind = 'gift'), 0)                              AS gross,
           COALESCE(-sum(amount) FILTER (WHERE kind = 'refund'), 0)                           AS refunded,
           COALESCE(-sum(amount) FILTER (WHERE kind IN ('dispute_hold', 'dispute_release')), 0) AS disputed,
           COALESCE(-sum(amount) FILTER (WHERE kind = 'dispute_lost'), 0)                     AS lost,
           COALESCE(sum(fee), 0)                                                              AS fees,
           COALESCE(sum(gift_aid_base), 0)                                                    AS gift_aid_base,
           count(*) FILTER (WHERE kind = 'gift')                                              AS gifts,
           count(DISTINCT donor_key) FILTER (WHERE kind = 'gift' AND donor_key <> '')         AS donors
    FROM (
        SELECT 'appeal' AS scope, appeal_id AS scope_id, * FROM ledger_entries
        UNION ALL
        SELECT 'fundraiser', fundraiser_id, * FROM ledger_entries WHERE fundraiser_id IS NOT NULL
    ) e
    GROUP BY scope, scope_id
), stored AS (
    SELECT scope, scope_id, sum(gross) AS gross, sum(refunded) AS refunded, sum(disputed) AS disputed,
           sum(lost) AS lost, sum(fees) AS fees, sum(gift_aid_base) AS gift_aid_base,
           sum(gifts) AS gifts, sum(donors) AS donors
    FROM totals GROUP BY scope, scope_id
)
SELECT COALESCE(l.scope, s.scope), COALESCE(l.scope_id, s.scope_id),
       ARRAY[COALESCE(s.gross, 0), COALESCE(s.refunded, 0), COALESCE(s.disputed, 0), COALESCE(s.lost, 0),
             COALESCE(s.fees, 0), COALESCE(s.gift_aid_base, 0), COALESCE(s.gifts, 0), COALESCE(s.donors, 0)]::numeric[],
       ARRAY[COALESCE(l.gross, 0), COALESCE(l.refunded, 0), COALESCE(l.disputed, 0), COALESCE(l.lost, 0),
             COALESCE(l.fees, 0), COALESCE(l.gift_aid_base, 0), COALESCE(l.gifts, 0), COALESCE(l.donors, 0)]::numeric[]
FROM ledger l FULL OUTER JOIN stored s ON l.scope = s.scope AND l.scope_id = s.scope_id
ORDER BY 1, 2`

var replayFields = []string{"gross", "refunded", "disputed", "lost", "fees", "gift_aid_base", "gifts", "donors"}

// CompareTotals recomputes every total from the ledger and lists each stored figure that
// disagrees. It reads inside one repeatable-read transaction so that gifts arriving
// meanwhile cannot produce a false difference.
func (s *Store) CompareTotals(ctx context.Context) ([]Difference, error) {
	var diffs []Difference
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, replaySQL)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sc Scope
			var stored, ledger []decimal.Decimal
			if err := rows.Scan(&sc.Kind, &sc.ID, &stored, &ledger); err != nil {
				return err
			}
			for i, f := range replayFields {
				if !stored[i].Equal(ledger[i]) {
					diffs = append(diffs, Difference{Scope: sc, Field: f, Stored: stored[i].String(), Ledger: ledger[i].String()})
				}
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("compare totals with the ledger: %w", err)
	}
	return diffs, nil
}
