package campaigns

import (
	"bufio"
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

func CSVText(s string) cell { return cell{s: s} }

func CSVAmount(d decimal.Decimal) cell { return cell{s: d.StringFixed(2), number: true} }

func NewCSVWriter(w io.Writer) *csvWriter {
	c := &csvWriter{w: bufio.NewWriterSize(w, 32<<10)}
	_, c.err = c.w.WriteString("\uFEFF")
	return c
}

// Header writes a row of column names.
func (c *csvWriter) Header(names ...string) {
	cells := make([]cell, len(names))
	for i, n := range names {
		cells[i] = CSVText(n)
	}
	c.Row(cells...)
}

// Row writes one row.
func (c *csvWriter) Row(cells ...cell) {
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

// Flush writes what is buffered and reports the first error of any write.
func (c *csvWriter) Flush() error {
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

func YesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// Err is the first error of any write so far.
func (c *csvWriter) Err() error { return c.err }
