package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"giving/campaigns/appeals"
	"giving/campaigns/pages"
	"giving/payments"
)

type wallView struct {
	Name    string
	Amount  string // "" when hidden
	Message string
}

// fundraiserPage is GET /f/{slug}: an approved page, its progress, the donate form that
// attributes gifts to it, and its donor wall.
func (s *Server) fundraiserPage(w http.ResponseWriter, r *http.Request) error {
	fr, err := pages.PublicFundraiser(r.Context(), s.store, chi.URLParam(r, "slug"))
	if err != nil {
		return err
	}
	a, err := appeals.AppealByID(r.Context(), s.store, fr.AppealID)
	if err != nil {
		return err
	}
	noStore(w)
	return s.renderFundraiserPage(w, r, http.StatusOK, fr, a, blankForm(fr.Slug), "")
}

func (s *Server) renderFundraiserPage(w http.ResponseWriter, r *http.Request, status int, fr pages.Fundraiser, a appeals.Appeal, f donateForm, notice string) error {
	t, err := pages.FundraiserTotals(r.Context(), s.store, fr.ID)
	if err != nil {
		return err
	}
	entries, err := pages.Wall(r.Context(), s.store, fr.ID, 50)
	if err != nil {
		return err
	}
	wall := make([]wallView, 0, len(entries))
	for _, e := range entries {
		v := wallView{Name: e.Name, Message: e.Message}
		if e.Shown {
			v.Amount = payments.FormatPounds(e.Amount)
			if e.Monthly {
				v.Amount += " a month"
			}
		}
		wall = append(wall, v)
	}
	photo, err := s.pagePhotoView(r.Context(), fr)
	if err != nil {
		return err
	}
	s.render(w, r, status, "fundraiser.html", map[string]any{
		"Title": fr.Title, "Fundraiser": fr, "Photo": photo, "Appeal": a, "Form": s.formView(a, f), "Notice": notice, "Wall": wall,
		"Story":    storyView(fr.Story), // paragraphs and safe links, escaped by the template (pages.go)
		"ShareURL": s.baseURL.JoinPath("/f/", fr.Slug).String(),
		"Progress": progress("Progress toward "+fr.Title+"'s target", t, fr.Target),
	})
	return nil
}

// fundraiserJSON is GET /api/fundraisers/{slug}, the same contract as an appeal's.
func (s *Server) fundraiserJSON(w http.ResponseWriter, r *http.Request) error {
	fr, err := pages.PublicFundraiser(r.Context(), s.store, chi.URLParam(r, "slug"))
	if err != nil {
		return err
	}
	t, err := pages.FundraiserTotals(r.Context(), s.store, fr.ID)
	if err != nil {
		return err
	}
	a, err := appeals.AppealByID(r.Context(), s.store, fr.AppealID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		totalsJSON
		Appeal string `json:"appeal"`
	}{totalsJSON{
		Slug: fr.Slug, Name: fr.Title, Currency: a.Currency, Target: payments.FormatAmount(fr.Target),
		Raised: payments.FormatAmount(t.Raised()), GiftAid: payments.FormatAmount(t.GiftAid()),
		Donations: t.Gifts, Donors: t.Donors, Percent: percent(t.Raised(), fr.Target),
		URL: s.baseURL.JoinPath("/f/", fr.Slug).String(),
	}, a.Slug})
	return nil
}
