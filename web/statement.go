package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"giving/campaigns"
	"giving/campaigns/donations"
	"giving/campaigns/donors"
	"giving/payments"
)

// A donor downloads her annual statement (campaigns/donors/statement.go), one PDF per UK
// tax year, from the page where she manages her monthly gift: GET
// /manage/{token}/statement/{year}.pdf. Only through a working manage link, checked as the
// page checks it (a link that never existed is 404, one expired or withdrawn 410); the
// statement is her donor record's, every gift she made with her email, not only this one.

// statementPDF: GET /manage/{token}/statement/{year}.pdf, year the calendar year the tax
// year starts in (2025: 6 April 2025 to 5 April 2026).
func (s *Server) statementPDF(w http.ResponseWriter, r *http.Request) error {
	g, err := donations.ManageLinkGift(r.Context(), s.store, chi.URLParam(r, "token"))
	if errors.Is(err, donations.ErrLinkExpired) {
		s.renderManage(w, r, http.StatusGone, "manage_expired.html", map[string]any{"Ended": errors.Is(err, donations.ErrGiftEnded)})
		return nil
	}
	if err != nil {
		return err // ErrNotFound: 404
	}
	year, err := strconv.Atoi(chi.URLParam(r, "year"))
	if err != nil || year < 2000 || year > donors.TaxYearOf(s.store.Now()) {
		return campaigns.ErrNotFound
	}
	rec, err := donors.RecordOfDonation(r.Context(), s.store.Pool(), g.ID)
	if err != nil {
		return err
	}
	st, err := donors.BuildStatement(r.Context(), s.store, rec.ID, year)
	if err != nil {
		return err
	}
	doc, err := st.PDF(s.charity(), s.store.Now())
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="gifts-statement-%d-%d.pdf"`, year, year+1))
	h.Set("Content-Length", strconv.Itoa(len(doc)))
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	_, err = w.Write(doc)
	return err
}

// statementLink is a tax year the manage page offers a statement for.
type statementLink struct {
	Year int    // the year it starts in, as in the URL
	Name string // "2025 to 2026"
	// SoFar: the tax year has not ended, so its statement is of the gifts until today.
	SoFar bool
}

// statementYears are the (at most two) latest tax years in which the giver of donationID
// gave, for the manage page's links.
func (s *Server) statementYears(ctx context.Context, donationID string) ([]statementLink, error) {
	rec, err := donors.RecordOfDonation(ctx, s.store.Pool(), donationID)
	if errors.Is(err, campaigns.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	years, err := donors.StatementYears(ctx, s.store, rec.ID)
	var links []statementLink
	current := donors.TaxYearOf(s.store.Now())
	for _, y := range years[:min(len(years), 2)] {
		links = append(links, statementLink{Year: y, Name: donors.TaxYearName(y), SoFar: y == current})
	}
	return links, err
}

// charity is who the statement is from: the charity the donors' emails name (CHARITY_*),
// else the name Gift Aid declarations use.
func (s *Server) charity() donations.Charity {
	if h, ok := s.deps.Webhooks.(*payments.Webhooks); ok && h.DonorMail != nil {
		return h.DonorMail.Charity
	}
	return donations.Charity{Name: campaigns.CharityName}
}
