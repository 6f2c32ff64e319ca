package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/pages"
	"giving/payments"
)

// fundraiserPage is GET /f/{slug}: an approved page, its progress, the donate form that
// attributes gifts to it, and its donor wall. A page not yet public (waiting for approval,
// or hidden) is shown only to trustees and admins, as a preview: exactly as supporters will
// see it, under a banner saying it is not public, and kept out of search engines; to
// anyone else it does not exist.
func (s *Server) fundraiserPage(w http.ResponseWriter, r *http.Request) error {
	fr, err := pages.PublicFundraiser(r.Context(), s.store, chi.URLParam(r, "slug"))
	if u, ok := currentUser(r); ok && errors.Is(err, campaigns.ErrNotFound) {
		fr, err = pages.PreviewFundraiser(r.Context(), s.store, u, chi.URLParam(r, "slug"))
	}
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
	owner, err := pages.OwnerName(r.Context(), s.store, fr.ID)
	if err != nil {
		return err
	}
	photo, err := s.pagePhotoView(r.Context(), fr)
	if err != nil {
		return err
	}
	by, description, invite := pageWords(fr, a, owner)
	moderate, err := s.pageMessages(r, fr.ID)
	if err != nil {
		return err
	}
	ga, err := s.giftAidBox(r, &fr)
	if err != nil {
		return err
	}
	preview := ""
	if fr.Status != "approved" {
		preview = pages.StatusLabel(fr.Status)
		w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	}
	// An end, a memorial, its team and her updates (teams.go).
	data, err := s.pageExtras(r.Context(), fr, owner)
	if err != nil {
		return err
	}
	for k, v := range map[string]any{"Preview": preview, "Moderate": moderate, "Done": r.URL.Query().Get("done"),
		"Title": fr.Title, "Description": description, "Fundraiser": fr, "Owner": owner, "By": by, "Photo": photo,
		"Appeal": a, "Form": s.formView(r.Context(), a, f, notice, ga), "Supporters": supportersView(s.store.Now(), entries),
		"Story":    storyView(fr.Story), // paragraphs and safe links, escaped by the template (pages.go)
		"Share":    s.pageShare(fr, description, invite, photo),
		"Progress": progress("Progress toward "+fr.Title+"'s target", t, fr.Target),
	} {
		data[k] = v
	}
	s.render(w, r, status, "fundraiser.html", data)
	return nil
}

// pageWords are how a page introduces itself: "Ruby is fundraising for Fundraising for
// Freedom" (a page nobody signed up for, made by an admin, is "Raising money for" the
// appeal), its link preview's description, and the words a donor sends a friend with it.
func pageWords(fr pages.Fundraiser, a appeals.Appeal, owner string) (by, description, invite string) {
	by = "Raising money for"
	if owner != "" {
		by = owner + " is fundraising for"
	}
	description = strings.TrimSpace(fmt.Sprintf("%s %s. %s", by, a.Name, firstSentence(fr.Story, 160)))
	invite = "I'm supporting " + fr.Title + " for " + a.Name + ". Will you give too?"
	if owner != "" {
		invite = "Please support " + owner + ": " + fr.Title + ", for " + a.Name + "."
	}
	return by, description, invite
}

// pageShare is a fundraiser page's share links, its photo (if any) the preview picture.
func (s *Server) pageShare(fr pages.Fundraiser, description, invite string, photo *photoView) shareView {
	return s.share("/f/"+fr.Slug, fr.Title, description, invite).withPhoto(s, photo, "Photo for "+fr.Title)
}

// firstSentence is the start of a story for a link preview: up to max characters, cut at
// a sentence or word end.
func firstSentence(story string, max int) string {
	s := strings.Join(strings.Fields(story), " ")
	for i := 0; i < len(s) && i < max; i++ {
		// A sentence ends at . ! or ? before a space or the end ("£2.50" does not end one).
		if strings.IndexByte(".!?", s[i]) >= 0 && (i+1 == len(s) || s[i+1] == ' ') {
			return s[:i+1]
		}
	}
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	cut := string(r[:max])
	if i := strings.LastIndex(cut, " "); i > 0 {
		cut = cut[:i]
	}
	return cut + "…"
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
