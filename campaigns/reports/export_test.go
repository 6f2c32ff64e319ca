package reports_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/campaignstest"
	"giving/campaigns/giftaid"
	"giving/campaigns/ledger"
	"giving/campaigns/reports"
)

func TestGiftsCSV(t *testing.T) {
	t.Parallel()
	w := campaignstest.NewGiftWorld(t)
	w.BuildFirstPeriod()
	ctx := context.Background()
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, campaigns.London())
	var buf bytes.Buffer
	if err := reports.WriteGiftsCSV(ctx, w.S.Pool(), &buf, from, from.AddDate(1, 0, 0), w.Appeal.ID); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	campaignstest.Golden(t, "gifts", buf.Bytes())

	if !strings.HasPrefix(out, "\uFEFF\"Date\",\"Appeal\",") {
		t.Errorf("the gifts CSV must start with a UTF-8 byte-order mark and a quoted header: %q", out[:min(40, len(out))])
	}
	if strings.Count(out, "\n") != strings.Count(out, "\r\n") || !strings.HasSuffix(out, "\r\n") {
		t.Error("every line must end with CRLF")
	}
	for _, want := range []string{
		`"'=HYPERLINK(""x"")"`,        // a formula-looking display name is defused
		`"'+44 7700 900000"`,          // and so is a message
		`"refund","one_off","-30.00"`, // a negative amount stays a number
		`"Anonymous"`,                 // a hidden name is never exported
		`"01/07/2026"`,                // 23:30 UTC on 30 June is 1 July in London
		`"Ruby runs for freedom"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("gifts CSV lacks %s", want)
		}
	}
	if strings.Contains(out, "Ada L") {
		t.Error("a donor who hid their name appears by name")
	}
	// One line per ledger entry in the period, plus the header.
	var entries int
	if err := w.S.Pool().QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE occurred_at >= $1 AND occurred_at < $2`,
		from, from.AddDate(1, 0, 0)).Scan(&entries); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(out, "\r\n"); lines != entries+1 {
		t.Errorf("%d lines for %d entries", lines, entries)
	}

	// The period is half-open, and another appeal's money stays out.
	buf.Reset()
	if err := reports.WriteGiftsCSV(ctx, w.S.Pool(), &buf, from, time.Date(2026, 1, 15, 0, 0, 0, 0, campaigns.London()), w.Appeal.ID); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\r\n"); n != 1 {
		t.Errorf("a period ending at the first gift's date: %d lines, want the header only", n)
	}
	buf.Reset()
	if err := reports.WriteGiftsCSV(ctx, w.S.Pool(), &buf, from, from.AddDate(1, 0, 0), w.Appeal.ID+1000); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\r\n"); n != 1 {
		t.Errorf("another appeal: %d lines, want the header only", n)
	}
	if err := reports.WriteGiftsCSV(ctx, w.S.Pool(), &buf, from, from, 0); err == nil {
		t.Error("an empty period should be refused")
	}
}

// The claim schedule obeys the same CSV hygiene: a formula-looking name is defused, an
// amount is a plain number, and an empty cell stays empty.
func TestClaimCSVHygiene(t *testing.T) {
	t.Parallel()
	c := giftaid.Claim{Rows: []giftaid.ClaimRow{
		{FirstName: "=cmd", LastName: "@SUM(A1)", House: "1", Postcode: "SW1A 1AA",
			Date: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), Amount: decimal.RequireFromString("25")},
	}}
	var buf bytes.Buffer
	if err := giftaid.WriteClaimCSV(&buf, c); err != nil {
		t.Fatal(err)
	}
	want := "\uFEFF\"Title\",\"First name\",\"Last name\",\"House name or number\",\"Postcode\",\"Aggregated donations\",\"Sponsored event\",\"Donation date\",\"Amount\"\r\n" +
		"\"\",\"'=cmd\",\"'@SUM(A1)\",\"1\",\"SW1A 1AA\",\"\",\"\",\"01/05/26\",\"25.00\"\r\n"
	if buf.String() != want {
		t.Errorf("got\n%q\nwant\n%q", buf.String(), want)
	}
}

// The export reads the ledger a page at a time: across page boundaries, and with many
// entries at the same moment, every entry is written exactly once, in the order money moved.
func TestGiftsCSVAcrossPages(t *testing.T) {
	t.Parallel()
	s, a := campaignstest.Seeded(t, 8)
	ctx := context.Background()
	const n = 2600 // more than two pages
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		for i := range n {
			at := start.Add(time.Duration(i/700) * time.Hour) // runs of 700 entries at one moment
			obj := fmt.Sprintf("pi_page_%04d", i)
			if _, err := ledger.Record(ctx, tx, ledger.Entry{AppealID: a.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: obj,
				PaymentIntent: obj, Amount: decimal.New(3, 0), DonorKey: obj, OccurredAt: at}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := reports.WriteGiftsCSV(ctx, s.Pool(), &buf, start, start.AddDate(0, 0, 1), a.ID); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\r\n"), "\r\n")
	if len(lines) != n+1 {
		t.Fatalf("%d rows, want %d and the header", len(lines)-1, n)
	}
	for i, l := range lines[1:] {
		if want := fmt.Sprintf(`"pi_page_%04d"`, i); !strings.Contains(l, want) {
			t.Fatalf("row %d is %s, want %s (each entry once, in the order recorded)", i+1, l, want)
		}
	}
}
