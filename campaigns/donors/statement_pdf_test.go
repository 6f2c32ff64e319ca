package donors_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"
	"github.com/shopspring/decimal"

	"giving/campaigns/donations"
	"giving/campaigns/donors"
)

// checkPDFText reads the text of every page of doc back out of the PDF (as a reader's
// copy and paste would) and fails for each of want it does not hold.
func checkPDFText(t *testing.T, doc []byte, want ...string) {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatalf("read the PDF: %v", err)
	}
	var text strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		rows, err := p.GetTextByRow()
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		for _, row := range rows {
			for _, w := range row.Content {
				text.WriteString(w.S)
			}
			text.WriteString("\n")
		}
	}
	for _, w := range want {
		if !strings.Contains(text.String(), w) {
			t.Errorf("the PDF does not say %q; its text:\n%s", w, text.String())
		}
	}
}

// A long year runs onto more pages, each with the table's heading, and the totals after
// the last line.
func TestStatementPDFRunsOntoMorePages(t *testing.T) {
	t.Parallel()
	st := donors.Statement{Email: "ada@example.org", Name: "Ada Lovelace", TaxYear: 2025}
	st.From, st.Until = donors.TaxYearBounds(2025)
	for i := range 60 {
		l := donors.StatementLine{At: st.From.Add(time.Duration(i) * 24 * time.Hour), Appeal: "Fundraising for Freedom",
			Fundraiser: "Ruby runs the London Marathon for the women of the safe house, every mile of it", Kind: donors.LineGift,
			Amount: decimal.RequireFromString("1234.50"), GiftAid: i%2 == 0}
		st.Lines = append(st.Lines, l)
		st.Given = st.Given.Add(l.Amount)
	}
	st.Net = st.Given
	doc, err := st.PDF(donations.Charity{Name: "Fundraising for Freedom", Number: "1234567"}, st.Until)
	if err != nil {
		t.Fatal(err)
	}
	checkPDFText(t, doc, "Page 1 of 3", "Page 3 of 3", "Given (60 gifts)£74,070.00", "For Ada Lovelace (ada@example.org)",
		"Fundraising for Freedom (Ruby runs the Lond...", "About Gift Aid")
	r, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil || r.NumPage() != 3 {
		t.Fatalf("%v pages, %v", r.NumPage(), err)
	}
	rows, err := r.Page(2).GetTextByRow()
	if err != nil || len(rows) == 0 {
		t.Fatalf("page 2: %v", err)
	}
	var first strings.Builder
	for _, w := range rows[0].Content {
		first.WriteString(w.S)
	}
	if !strings.HasPrefix(first.String(), "DateGiven toTypeAmountGift Aid5 May 2025") {
		t.Errorf("page 2 starts %.60q, not with the table's heading", first.String())
	}
}
