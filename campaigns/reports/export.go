package reports

import (
	"context"
	"fmt"
	"io"
	"time"
	_ "time/tzdata" // dates are written in UK time whatever the host's zoneinfo holds

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
	"giving/campaigns/ledger"
)

// GiftsCSVHeader is the first row of the gifts export.
var GiftsCSVHeader = []string{"Date", "Appeal", "Fundraiser page", "Kind", "Frequency", "Amount", "Fee",
	"Gift Aid eligible", "Donor name", "Message", "Reference", "Donation id", "Unmatched",
	"Fund", "Restricted"}

// exportPageSize is how many ledger rows the gifts export holds at once.
const exportPageSize = 1000

// ExportGifts streams the gifts CSV of [from, to) (WriteGiftsCSV) to w for actor, with its
// audit row in the same transaction: an export that fails before anything has been written
// leaves no audit row, and once any byte has left, the row is kept even if the rest fails
// (the connection dropped), so nothing leaves unaudited.
func ExportGifts(ctx context.Context, s *campaigns.Store, actor accounts.User, w io.Writer, from, to time.Time, appealID int64) error {
	out := &countingWriter{w: w}
	var exportErr error
	// Not cancelled with the request: a browser that goes away makes the writes fail, which
	// ends the export, and the audit row of what had left must still commit.
	ctx = context.WithoutCancel(ctx)
	err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		detail := fmt.Sprintf("%s to %s", from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly))
		if appealID != 0 {
			detail += fmt.Sprintf(", appeal %d", appealID)
		}
		if err := audit.Write(ctx, tx, actor, "export gifts", detail); err != nil {
			return err
		}
		exportErr = WriteGiftsCSV(ctx, tx, out, from, to, appealID)
		if exportErr != nil && out.n == 0 {
			return exportErr
		}
		return nil
	})
	if err != nil {
		return err
	}
	return exportErr
}

// countingWriter counts the bytes that reached w.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// WriteGiftsCSV writes every ledger entry (gifts, refunds, disputes and late fees) that
// occurred in [from, to) for one appeal, or for every appeal when appealID is 0. A donor
// who hid their name appears as "Anonymous"; dates are UK dates (DD/MM/YYYY).
func WriteGiftsCSV(ctx context.Context, db campaigns.DB, w io.Writer, from, to time.Time, appealID int64) error {
	if !from.Before(to) {
		return fmt.Errorf("gifts export: the period %s to %s is empty", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	q := dbq.New(db)
	out := campaigns.NewCSVWriter(w)
	out.Header(GiftsCSVHeader...)
	// Page by page, after the last row written: memory stays flat at any size of ledger.
	after := dbq.GiftsExportPageParams{FromAt: from, ToAt: to, AppealID: appealID, AfterAt: from, PageSize: exportPageSize}
	for {
		rows, err := q.GiftsExportPage(ctx, after)
		if err != nil {
			return fmt.Errorf("gifts export: %w", err)
		}
		for _, r := range rows {
			out.Row(campaigns.CSVText(r.OccurredAt.In(campaigns.London()).Format("02/01/2006")), campaigns.CSVText(r.Appeal), campaigns.CSVText(r.Page), campaigns.CSVText(r.Kind),
				campaigns.CSVText(r.Frequency), campaigns.CSVAmount(r.Amount), campaigns.CSVAmount(r.Fee), campaigns.CSVText(campaigns.YesNo(r.GiftAidEligible)), campaigns.CSVText(r.DonorName),
				campaigns.CSVText(r.Message), campaigns.CSVText(reference(r.Source, r.SourceRef)), campaigns.CSVText(r.DonationID), campaigns.CSVText(campaigns.YesNo(r.Unmatched)),
				campaigns.CSVText(r.FundCode), campaigns.CSVText(campaigns.YesNo(r.FundRestricted)))
			if err := out.Err(); err != nil {
				return fmt.Errorf("gifts export: write: %w", err)
			}
		}
		if len(rows) < exportPageSize {
			break
		}
		last := rows[len(rows)-1]
		after.AfterAt, after.AfterID = last.OccurredAt, last.ID
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("gifts export: write: %w", err)
	}
	return nil
}

// reference is how a row names where its money came from: the Stripe id a trustee can
// look up in Stripe's dashboard, or the offline taking.
func reference(source, ref string) string {
	if source == ledger.SourceOffline {
		return "offline taking " + ref
	}
	return ref
}
