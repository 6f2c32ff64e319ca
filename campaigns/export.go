package campaigns

import (
	"bufio"
	"context"
	"fmt"
	"github.com/jackc/pgx/v5"
	"io"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // dates are written in UK time whatever the host's zoneinfo holds

	"github.com/shopspring/decimal"
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

// Stays in Go: the export streams rows to the writer as they arrive; sqlc's :many would hold
// the whole period's ledger in memory.
// giftsExportSQL reads the ledger in the order money moved. Rows are streamed to the
// writer as they arrive, so the export costs the same memory at 100 entries or 10 million.
const giftsExportSQL = `
SELECT e.occurred_at, a.name, COALESCE(f.title, ''), e.kind, e.frequency, e.amount, e.fee,
       e.gift_aid_base <> 0,
       CASE WHEN d.id IS NULL THEN '' WHEN d.hide_name THEN 'Anonymous' ELSE d.display_name END,
       COALESCE(d.message, ''), e.stripe_object, COALESCE(d.id::text, ''), COALESCE(d.unmatched, false)
FROM ledger_entries e
JOIN appeals a ON a.id = e.appeal_id
LEFT JOIN fundraisers f ON f.id = e.fundraiser_id
LEFT JOIN donations d ON d.id = e.donation_id
WHERE e.occurred_at >= $1 AND e.occurred_at < $2 AND ($3::bigint = 0 OR e.appeal_id = $3)
  AND e.kind IN ('gift', 'refund', 'dispute_hold', 'dispute_release', 'dispute_lost', 'fee')
ORDER BY e.occurred_at, e.id`

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
		if err := Audit(ctx, tx, actor, "export gifts", detail); err != nil {
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
	rows, err := db.Query(ctx, giftsExportSQL, from, to, appealID)
	if err != nil {
		return fmt.Errorf("gifts export: %w", err)
	}
	defer rows.Close()
	out := newCSVWriter(w)
	out.header(GiftsCSVHeader...)
	for rows.Next() {
		var (
			at                                                    time.Time
			appeal, page, kind, freq, name, msg, object, donation string
			amt, fee                                              decimal.Decimal
			eligible, unmatched                                   bool
		)
		if err := rows.Scan(&at, &appeal, &page, &kind, &freq, &amt, &fee, &eligible, &name, &msg, &object, &donation, &unmatched); err != nil {
			return fmt.Errorf("gifts export: %w", err)
		}
		out.row(csvText(at.In(london()).Format("02/01/2006")), csvText(appeal), csvText(page), csvText(kind), csvText(freq),
			csvAmount(amt), csvAmount(fee), csvText(yesNo(eligible)), csvText(name), csvText(msg), csvText(object), csvText(donation),
			csvText(yesNo(unmatched)))
		if out.err != nil {
			return fmt.Errorf("gifts export: write: %w", out.err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("gifts export: %w", err)
	}
	if err := out.flush(); err != nil {
		return fmt.Errorf("gifts export: write: %w", err)
	}
	return nil
}
