package donors

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"giving/campaigns/donations"
)

// The statement as a PDF, A4, in the Go fonts (embedded in the binary as TrueType, with the
// £ sign): the charity and its registered number, the donor, the tax year, a table of every
// line, the totals, and what Gift Aid means for her.

// PDF writes the statement as a PDF document from charity c, made at now (the store's
// clock: the same statement is the same file).
func (st Statement) PDF(c donations.Charity, now time.Time) ([]byte, error) {
	const (
		font   = "Go"
		margin = 18.0
		width  = 210.0 - 2*margin
	)
	p := fpdf.New("P", "mm", "A4", "")
	p.SetMargins(margin, margin, margin)
	p.SetAutoPageBreak(true, margin)
	p.AddUTF8FontFromBytes(font, "", goregular.TTF)
	p.AddUTF8FontFromBytes(font, "B", gobold.TTF)
	p.SetCreationDate(now)
	p.SetModificationDate(now)
	p.SetTitle("Statement of gifts, tax year "+TaxYearName(st.TaxYear), true)
	p.SetAuthor(c.Name, true)
	p.SetCreator("Giving", true)
	p.AliasNbPages("{nb}")
	p.SetFooterFunc(func() {
		p.SetY(-12)
		p.SetFont(font, "", 8)
		p.SetTextColor(110, 110, 110)
		p.CellFormat(width/2, 5, c.Name+", registered charity number "+c.Number, "", 0, "L", false, 0, "")
		p.CellFormat(width/2, 5, fmt.Sprintf("Page %d of {nb}", p.PageNo()), "", 0, "R", false, 0, "")
	})
	p.AddPage()

	// The charity, as on its letters.
	p.SetTextColor(20, 20, 20)
	p.SetFont(font, "B", 16)
	p.MultiCell(width, 7, c.Name, "", "L", false)
	p.SetFont(font, "", 9.5)
	p.SetTextColor(80, 80, 80)
	if c.Number != "" {
		p.CellFormat(width, 5, "Registered charity number "+c.Number, "", 1, "L", false, 0, "")
	}
	if c.Address != "" {
		p.MultiCell(width, 5, c.Address, "", "L", false)
	}
	if c.Email != "" {
		p.CellFormat(width, 5, c.Email, "", 1, "L", false, 0, "")
	}
	p.Ln(4)
	p.SetDrawColor(200, 200, 200)
	p.Line(margin, p.GetY(), margin+width, p.GetY())
	p.Ln(6)

	// Whose statement, and for when.
	p.SetTextColor(20, 20, 20)
	p.SetFont(font, "B", 14)
	p.CellFormat(width, 7, "Your gifts in the tax year "+TaxYearName(st.TaxYear), "", 1, "L", false, 0, "")
	p.SetFont(font, "", 10)
	p.CellFormat(width, 6, fmt.Sprintf("6 April %d to 5 April %d", st.TaxYear, st.TaxYear+1), "", 1, "L", false, 0, "")
	who := st.Email
	if st.Name != "" {
		who = st.Name + " (" + st.Email + ")"
	}
	p.CellFormat(width, 6, "For "+who, "", 1, "L", false, 0, "")
	p.CellFormat(width, 6, "Made on "+donations.UKDate(now), "", 1, "L", false, 0, "")
	p.Ln(5)

	// The lines.
	cols := []struct {
		title string
		w     float64
		align string
	}{{"Date", 30, "L"}, {"Given to", 70, "L"}, {"Type", 38, "L"}, {"Amount", 20, "R"}, {"Gift Aid", width - 158, "C"}}
	header := func() {
		p.SetFont(font, "B", 9)
		p.SetFillColor(238, 238, 238)
		for _, col := range cols {
			p.CellFormat(col.w, 7, col.title, "B", 0, col.align, true, 0, "")
		}
		p.Ln(-1)
	}
	header()
	p.SetFont(font, "", 9)
	if len(st.Lines) == 0 {
		p.CellFormat(width, 8, "No gifts in this tax year.", "B", 1, "L", false, 0, "")
	}
	for _, l := range st.Lines {
		if p.GetY() > 297-margin-16 {
			p.AddPage()
			header()
			p.SetFont(font, "", 9)
		}
		ga := "No"
		if l.GiftAid {
			ga = "Yes"
		}
		cells := []string{donations.UKDate(l.At), fit(p, l.To(), cols[1].w-2), l.What(), donations.Pounds(l.Amount), ga}
		for i, col := range cols {
			p.CellFormat(col.w, 6.5, cells[i], "B", 0, col.align, false, 0, "")
		}
		p.Ln(-1)
	}
	p.Ln(5)

	// The totals: each a sum of the lines above, kept together.
	if p.GetY() > 297-margin-36 {
		p.AddPage()
	}
	total := func(label, amount string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		p.SetFont(font, style, 10)
		p.CellFormat(width-40, 6.5, label, "", 0, "R", false, 0, "")
		p.CellFormat(40, 6.5, amount, "", 1, "R", false, 0, "")
	}
	total("Given ("+plural(st.Gifts(), "gift", "gifts")+")", donations.Pounds(st.Given), false)
	if !st.Refunded.IsZero() {
		total("Refunded to you", "-"+donations.Pounds(st.Refunded), false)
	}
	if !st.Disputed.IsZero() {
		total("Taken back through your bank", "-"+donations.Pounds(st.Disputed), false)
	}
	total("Total given", donations.Pounds(st.Net), true)
	total("Of which Gift Aid can be claimed on", donations.Pounds(st.GiftAidable), false)
	if !st.GiftAid.IsZero() {
		total("Gift Aid we can claim on it", donations.Pounds(st.GiftAid), false)
	}
	p.Ln(6)

	// What Gift Aid means for her, kept together.
	if p.GetY() > 297-margin-62 {
		p.AddPage()
	}
	p.SetFont(font, "B", 10)
	p.CellFormat(width, 6, "About Gift Aid", "", 1, "L", false, 0, "")
	p.SetFont(font, "", 9)
	p.SetTextColor(60, 60, 60)
	p.MultiCell(width, 4.8, strings.Join([]string{
		"\"Yes\" in the Gift Aid column means you made a Gift Aid declaration that covers that gift, so we can claim from HMRC " +
			claimPerPound(st) + ", at no cost to you. A refund marked \"Yes\" reduces what we claim.",
		"You must pay at least as much Income Tax or Capital Gains Tax in the tax year as all the charities and " +
			"community amateur sports clubs you support claim on your gifts; if you pay less, it is your responsibility " +
			"to pay any difference. If you pay tax at a higher rate, you can claim the difference between the higher " +
			"rate and the basic rate on your gifts in your Self Assessment tax return: keep this statement with your records.",
		"If you no longer pay enough tax, or your name or home address changes, please tell us.",
	}, "\n\n"), "", "L", false)

	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		return nil, fmt.Errorf("statement PDF: %w", err)
	}
	return b.Bytes(), nil
}

// fit shortens s with "..." until it fits in w mm at the current font.
func fit(p *fpdf.Fpdf, s string, w float64) string {
	if p.GetStringWidth(s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 1 && p.GetStringWidth(string(r)+"...") > w {
		r = r[:len(r)-1]
	}
	return strings.TrimSpace(string(r)) + "..."
}

// claimPerPound is what the charity claims on her Gift Aid gifts, at their appeals' rates.
func claimPerPound(st Statement) string {
	if p := st.GiftAidPerPound(); p != "" {
		return p + " for every £1 you gave"
	}
	return "Gift Aid on every £1 you gave"
}
