package web_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/donations"
	"giving/campaigns/ledger"
	"giving/web/webtest"
)

// Ada's monthly gift has paid in three tax years: the manage page offers the statements
// of the last two, each a PDF behind her link only.
func TestStatementDownloadFromTheManagePage(t *testing.T) {
	t.Parallel()
	lon := campaigns.London()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, lon) // in the tax year 2026 to 2027
	m := newManageSite(t, func() time.Time { return now })
	ctx := context.Background()
	for i, at := range []time.Time{time.Date(2023, 6, 1, 9, 0, 0, 0, lon), time.Date(2024, 6, 1, 9, 0, 0, 0, lon), time.Date(2026, 4, 5, 23, 30, 0, 0, time.UTC)} {
		ref := "in_statement_" + string(rune('a'+i))
		e := ledger.Entry{AppealID: m.gift.AppealID, DonationID: m.gift.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: ref,
			Amount: decimal.RequireFromString("10.00"), Monthly: true, DonorKey: m.gift.DonorKey(), OccurredAt: at}
		if err := m.store.InTx(ctx, func(tx pgx.Tx) error { _, err := ledger.Record(ctx, tx, e); return err }); err != nil {
			t.Fatal(err)
		}
	}
	link := m.link(now)
	page := m.get(link)
	if page.status != http.StatusOK {
		t.Fatalf("manage page: %d", page.status)
	}
	if got := webtest.Text(t, page.body, "section.statements ul"); got != "Tax year 2026 to 2027, so far (PDF) Tax year 2024 to 2025 (PDF)" {
		t.Fatalf("statements offered: %q", got)
	}
	href := webtest.Attr(t, page.body, "section.statements li a", "href")
	if href != strings.TrimPrefix(link, m.URL)+"/statement/2026.pdf" {
		t.Fatalf("statement link %q", href)
	}

	p := m.get(href)
	if p.status != http.StatusOK || p.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(p.body, "%PDF-") ||
		p.header.Get("Cache-Control") != "no-store" || !strings.Contains(p.header.Get("Content-Disposition"), "gifts-statement-2026-2027.pdf") {
		t.Fatalf("statement: %d %v %q", p.status, p.header, p.body[:min(len(p.body), 16)])
	}
	if !bytes.Contains([]byte(p.body), []byte("%%EOF")) {
		t.Fatal("the PDF is cut short")
	}

	// Only through a working link, and only for a tax year that has begun.
	if p := m.get("/manage/" + strings.Repeat("Q", 43) + "/statement/2026.pdf"); p.status != http.StatusNotFound {
		t.Errorf("forged link: %d", p.status)
	}
	expired := m.link(now.Add(-donations.ManageLinkLifetime - time.Minute))
	if p := m.get(expired + "/statement/2026.pdf"); p.status != http.StatusGone || strings.HasPrefix(p.body, "%PDF") {
		t.Errorf("expired link: %d", p.status)
	}
	for _, year := range []string{"2027", "1999", "next", "-1"} {
		if p := m.get(link + "/statement/" + year + ".pdf"); p.status != http.StatusNotFound {
			t.Errorf("year %s: %d", year, p.status)
		}
	}
}
