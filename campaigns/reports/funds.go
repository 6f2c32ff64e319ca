package reports

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/dbq"
)

// FundFigures are one fund's money in a period, across every appeal that carries it: the
// trustees' view of the books, where restricted money must be spent on its purpose.
type FundFigures struct {
	Code       string
	Restricted bool
	Appeals    string          // the names of the appeals in the fund, comma-separated
	Gifts      int64           // gifts received in the period
	Gross      decimal.Decimal // every gift as paid
	Raised     decimal.Decimal // gifts less refunds and disputes, as the appeal totals count
	Fees       decimal.Decimal
	Net        decimal.Decimal // Raised less Fees
}

// Kind is "Restricted" or "Unrestricted".
func (f FundFigures) Kind() string {
	if f.Restricted {
		return "Restricted"
	}
	return "Unrestricted"
}

// ReadFunds totals the period's money by fund, for every appeal, from the dashboard's
// summary of the ledger (its cost does not grow with the ledger). Each ledger entry carries
// its appeal's fund, which is fixed once the appeal has money (migration 0032), so these
// are the entries' own funds.
func ReadFunds(ctx context.Context, s *campaigns.Store, p Period) ([]FundFigures, error) {
	if err := p.ValidateForDashboard(); err != nil {
		return nil, fmt.Errorf("funds: %w", err)
	}
	months, head, tail := summaryRanges(p)
	rows, err := dbq.New(s.Pool()).DashboardByFund(ctx, dbq.DashboardByFundParams{MonthsFrom: months[0], MonthsTo: months[1],
		HeadFrom: head[0], HeadTo: head[1], TailFrom: tail[0], TailTo: tail[1]})
	if err != nil {
		return nil, fmt.Errorf("funds: %w", err)
	}
	out := make([]FundFigures, 0, len(rows))
	for _, r := range rows {
		out = append(out, FundFigures{Code: r.FundCode, Restricted: r.FundRestricted, Appeals: r.Appeals, Gifts: r.Gifts,
			Gross: r.Gross, Raised: r.Raised, Fees: r.Fees, Net: r.Raised.Sub(r.Fees)})
	}
	return out, nil
}
