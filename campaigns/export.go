package campaigns

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // dates are written in UK time whatever the host's zoneinfo holds

	"github.com/jackc/pgx/v5"

	"github.com/shopspring/decimal"

	"giving/campaigns/audit"
	"giving/campaigns/dbq"
)

// london is the charity's time zone: a gift paid at 23:30 UTC on 30 June is a 1 July
// gift in the books and on the HMRC schedule.
var london = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err) // embedded by time/tzdata: only a broken build gets here
	}
	return loc
})

// London is the time zone exports use for dates and that the command line reads dates in.
func London() *time.Location { return london() }

// csvWriter writes the CSV every export shares: UTF-8 with a byte-order mark so Excel
// opens it as UTF-8, every field quoted, CRLF line ends, and free text that a spreadsheet
// would run as a formula defused with a leading apostrophe (CSV injection).
type csvWriter struct {
	w   *bufio.Writer
	err error
}

// cell is one field; number marks the columns the code formats itself (signed amounts),
// which must stay numbers: "-5.00" is a refund, not a formula.
type cell struct {
	s      string
	number bool
}

func csvText(s string) cell            { return cell{s: s} }
func csvAmount(d decimal.Decimal) cell { return cell{s: d.StringFixed(2), number: true} }

func newCSVWriter(w io.Writer) *csvWriter {
	c := &csvWriter{w: bufio.NewWriterSize(w, 32<<10)}
	_, c.err = c.w.WriteString("\uFEFF")
	return c
}

func (c *csvWriter) header(names ...string) {
	cells := make([]cell, len(names))
	for i, n := range names {
		cells[i] = csvText(n)
	}
	c.row(cells...)
}

func (c *csvWriter) row(cells ...cell) {
	if c.err != nil {
		return
	}
	var b strings.Builder
	for i, f := range cells {
		if i > 0 {
			b.WriteByte(',')
		}
		s := strings.ToValidUTF8(f.s, "\uFFFD")
		if !f.number {
			s = defuse(s)
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(s, `"`, `""`))
		b.WriteByte('"')
	}
	b.WriteString("\r\n")
	_, c.err = c.w.WriteString(b.String())
}

func (c *csvWriter) flush() error {
	if c.err != nil {
		return c.err
	}
	return c.w.Flush()
}

// defuse prefixes an apostrophe to text a spreadsheet would otherwise read as a formula
// (OWASP's list: =, +, -, @, tab, carriage return).
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// GiftsCSVHeader is the first row of the gifts export.
var GiftsCSVHeader = []string{"Date", "Appeal", "Fundraiser page", "Kind", "Frequency", "Amount", "Fee",
	"Gift Aid eligible", "Donor name", "Message", "Stripe object", "Donation id", "Unmatched"}

// exportPageSize is how many ledger rows the gifts export holds at once.
const exportPageSize = 1000

// ExportGifts streams the gifts CSV of [from, to) (WriteGiftsCSV) to w for actor, with its
// audit row in the same transaction: an export that fails before anything has been written
// leaves no audit row, and once any byte has left, the row is kept even if the rest fails
// (the connection dropped), so nothing leaves unaudited.
func (s *Store) ExportGifts(ctx context.Context, actor User, w io.Writer, from, to time.Time, appealID int64) error {
	out := &countingWriter{w: w}
	var exportErr error
	// Not cancelled with the request: a browser that goes away makes the writes fail, which
	// ends the export, and the audit row of what had left must still commit.
	ctx = context.WithoutCancel(ctx)
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
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
func WriteGiftsCSV(ctx context.Context, db DB, w io.Writer, from, to time.Time, appealID int64) error {
	if !from.Before(to) {
		return fmt.Errorf("gifts export: the period %s to %s is empty", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	q := dbq.New(db)
	out := newCSVWriter(w)
	out.header(GiftsCSVHeader...)
	// Page by page, after the last row written: memory stays flat at any size of ledger.
	after := dbq.GiftsExportPageParams{FromAt: from, ToAt: to, AppealID: appealID, AfterAt: from, PageSize: exportPageSize}
	for {
		rows, err := q.GiftsExportPage(ctx, after)
		if err != nil {
			return fmt.Errorf("gifts export: %w", err)
		}
		for _, r := range rows {
			out.row(csvText(r.OccurredAt.In(london()).Format("02/01/2006")), csvText(r.Appeal), csvText(r.Page), csvText(r.Kind),
				csvText(r.Frequency), csvAmount(r.Amount), csvAmount(r.Fee), csvText(yesNo(r.GiftAidEligible)), csvText(r.DonorName),
				csvText(r.Message), csvText(r.StripeObject), csvText(r.DonationID), csvText(yesNo(r.Unmatched)))
			if out.err != nil {
				return fmt.Errorf("gifts export: write: %w", out.err)
			}
		}
		if len(rows) < exportPageSize {
			break
		}
		last := rows[len(rows)-1]
		after.AfterAt, after.AfterID = last.OccurredAt, last.ID
	}
	if err := out.flush(); err != nil {
		return fmt.Errorf("gifts export: write: %w", err)
	}
	return nil
}
