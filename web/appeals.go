package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/pages"
)

// More than one appeal: the default appeal lives at /, every other at /a/{slug}, each with
// its own photo, tiers, fund and "if we raise more than we need" statement. Admins create,
// edit, open and close them on /admin/appeals, apart from the rest of /admin.

// otherAppealPage is GET /a/{slug}: an appeal's page, as / is the default appeal's. What it
// shows depends only on the slug in its address (a cache keyed by path stays right); the
// default appeal's own address is /.
func (s *Server) otherAppealPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.loadAppeal(r.Context(), chi.URLParam(r, "slug"))
	if err != nil {
		return err
	}
	if v.Appeal.IsDefault {
		http.Redirect(w, r, "/", http.StatusMovedPermanently)
		return nil
	}
	noStore(w)
	return s.renderAppeal(w, r, http.StatusOK, v, blankForm(""), "")
}

// closedMessage is what a donor reads on a closed appeal, or when giving to it anyway.
func closedMessage(a appeals.Appeal) string {
	return a.Name + " has closed and no longer takes gifts. Thank you for thinking of it."
}

// appealPhotoView describes the appeal's photo, or returns nil when it has none.
func (s *Server) appealPhotoView(ctx context.Context, a appeals.Appeal) (*photoView, error) {
	if !a.HasPhoto {
		return nil, nil
	}
	copies, err := appeals.PhotoSizes(ctx, s.store, a.ID)
	if err != nil || len(copies) == 0 {
		return nil, err
	}
	sizes := make([]pages.PhotoSize, len(copies))
	for i, c := range copies {
		sizes[i] = pages.PhotoSize{Width: c.Width, Height: c.Height}
	}
	return newPhotoView("/a/"+url.PathEscape(a.Slug)+"/photo", sizes), nil
}

// appealPhoto is GET /a/{slug}/photo: the appeal's photo (?w= for a narrower copy), public
// as the appeal is.
func (s *Server) appealPhoto(w http.ResponseWriter, r *http.Request) error {
	width := 0
	if v := r.URL.Query().Get("w"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 10000 {
			return fmt.Errorf("photo width %q: %w", v, campaigns.ErrNotFound)
		}
		width = n
	}
	p, err := appeals.Photo(r.Context(), s.store, chi.URLParam(r, "slug"), width)
	if err != nil {
		return err
	}
	return servePhoto(w, r, pages.Photo{ContentType: p.ContentType, Data: p.Data, Width: p.Width, Height: p.Height,
		ETag: p.ETag, UpdatedAt: p.UpdatedAt}, true)
}

// appealsDone is what the appeals pages say after each change (?done=).
var appealsDone = map[string]string{
	"created":   "The appeal is created. Add its tiers and a photo, then share its address.",
	"appeal":    "The appeal is saved.",
	"tier":      "The tier is saved.",
	"photo":     "The photo is saved: the appeal's page shows it now.",
	"preselect": "The pre-selected amount is saved.",
	"open":      "The appeal is open: it takes gifts.",
	"closed":    "The appeal is closed: its page says so and takes no more gifts.",
}

// appealForm is the appeal form as the admin typed it.
type appealForm struct {
	Slug, Name, Summary, Story, Target, SurplusStatement, FundCode string
	Restricted                                                     bool
}

func appealFormOf(a appeals.Appeal) appealForm {
	return appealForm{Slug: a.Slug, Name: a.Name, Summary: a.Summary, Story: a.Story, Target: a.Target.StringFixed(2),
		SurplusStatement: a.SurplusStatement, FundCode: a.Fund.Code, Restricted: a.Fund.Restricted}
}

func readAppealForm(r *http.Request) (appealForm, appeals.AppealEdit) {
	f := appealForm{Slug: r.PostFormValue("slug"), Name: r.PostFormValue("name"), Summary: r.PostFormValue("summary"),
		Story: r.PostFormValue("story"), Target: r.PostFormValue("target"), SurplusStatement: r.PostFormValue("surplus_statement"),
		FundCode: r.PostFormValue("fund_code"), Restricted: r.PostFormValue("fund_restricted") == "restricted"}
	return f, appeals.AppealEdit{Name: f.Name, Summary: f.Summary, Story: f.Story, Target: money(f.Target),
		SurplusStatement: f.SurplusStatement, Fund: appeals.Fund{Code: f.FundCode, Restricted: f.Restricted}}
}

// appealsPage is GET /admin/appeals: every appeal, with its state, fund and address, and
// the form that starts a new one.
func (s *Server) appealsPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderAppeals(w, r, http.StatusOK, appealForm{Target: "", Restricted: true}, nil, appealsDone[r.URL.Query().Get("done")])
}

func (s *Server) renderAppeals(w http.ResponseWriter, r *http.Request, status int, f appealForm, errs map[string]string, notice string) error {
	u, _ := currentUser(r)
	list, err := appeals.ListAppeals(r.Context(), s.store)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, no-store")
	s.render(w, r, status, "appeals.html", map[string]any{"Title": "Appeals", "User": u, "Appeals": list,
		"Fields": map[string]any{"F": f, "Errors": errs, "New": true}, "ErrorList": orderedErrors(errs, appealFields), "Notice": notice})
	return nil
}

// appealFields are the appeal form's fields, top to bottom, for its error summary.
var appealFields = []string{"slug", "name", "summary", "target", "fund_code", "surplus_statement", "story"}

// createAppeal is POST /admin/appeals.
func (s *Server) createAppeal(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	f, e := readAppealForm(r)
	id, err := appeals.CreateAppeal(r.Context(), s.store, u, appeals.NewAppeal{Slug: f.Slug, AppealEdit: e})
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		return s.renderAppeals(w, r, http.StatusUnprocessableEntity, f, ve.Fields, "")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/appeals/%d?done=created", id), http.StatusSeeOther)
	return nil
}

// appealID reads {id} and the appeal it names.
func (s *Server) appealFromURL(r *http.Request) (appeals.Appeal, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return appeals.Appeal{}, campaigns.ErrNotFound
	}
	return appeals.AppealByID(r.Context(), s.store, id)
}

// appealEditPage is GET /admin/appeals/{id}: one appeal's wording, fund and statement, its
// photo, whether it is open, which amount a donor's form starts on, and its tiers.
func (s *Server) appealEditPage(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appealFromURL(r)
	if err != nil {
		return err
	}
	return s.renderAppealEdit(w, r, http.StatusOK, a, appealFormOf(a), nil, appealsDone[r.URL.Query().Get("done")])
}

func (s *Server) renderAppealEdit(w http.ResponseWriter, r *http.Request, status int, a appeals.Appeal, f appealForm, errs map[string]string, notice string) error {
	u, _ := currentUser(r)
	// Inactive tiers are listed too, so they can be brought back.
	tiers, err := appeals.AllTiers(r.Context(), s.store, a.ID)
	if err != nil {
		return err
	}
	photo, err := s.appealPhotoView(r.Context(), a)
	if err != nil {
		return err
	}
	totals, err := appeals.AppealTotals(r.Context(), s.store, a.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, no-store")
	s.render(w, r, status, "appeal_edit.html", map[string]any{"Title": a.Name + ": edit the appeal", "User": u, "Appeal": a,
		"Fields": map[string]any{"F": f, "Errors": errs, "New": false}, "Tiers": tiers, "Photo": photo, "Raised": totals.Raised(), "HasMoney": totals.Gifts > 0,
		"Preselected": a.PreselectedTier(), "Errors": errs, "ErrorList": orderedErrors(errs, appealFields), "Notice": notice})
	return nil
}

// appealEditResult re-renders the appeal's page with the problems beside the fields, or
// goes back to it saying what was saved; the public page forgets its cached copy.
func (s *Server) appealEditResult(w http.ResponseWriter, r *http.Request, a appeals.Appeal, f appealForm, err error, done string) error {
	s.cache.forget("appeal:" + a.Slug)
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		if fresh, ferr := appeals.AppealByID(r.Context(), s.store, a.ID); ferr == nil {
			a = fresh
		}
		return s.renderAppealEdit(w, r, http.StatusUnprocessableEntity, a, f, ve.Fields, "")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/appeals/%d?done=%s", a.ID, done), http.StatusSeeOther)
	return nil
}

// saveAppeal is POST /admin/appeals/{id}.
func (s *Server) saveAppeal(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	a, err := s.appealFromURL(r)
	if err != nil {
		return err
	}
	f, e := readAppealForm(r)
	f.Slug = a.Slug
	err = appeals.UpdateAppeal(r.Context(), s.store, u, a.ID, e)
	return s.appealEditResult(w, r, a, f, err, "appeal")
}

// appealStatus is POST /admin/appeals/{id}/status: open or close the appeal.
func (s *Server) appealStatus(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	a, err := s.appealFromURL(r)
	if err != nil {
		return err
	}
	open := r.PostFormValue("status") == "open"
	err = appeals.SetAppealOpen(r.Context(), s.store, u, a.ID, open)
	done := "open"
	if !open {
		done = "closed"
	}
	return s.appealEditResult(w, r, a, appealFormOf(a), err, done)
}

// appealPreselect is POST /admin/appeals/{id}/preselect: the amount a fresh form starts on.
func (s *Server) appealPreselect(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	a, err := s.appealFromURL(r)
	if err != nil {
		return err
	}
	tier, perr := strconv.ParseInt(r.PostFormValue("preselected"), 10, 64)
	if perr != nil {
		err = &campaigns.ValidationError{Fields: map[string]string{"preselected": "Choose one of the appeal's active tiers"}}
	} else {
		err = appeals.SetPreselectedTier(r.Context(), s.store, u, a.ID, tier)
	}
	return s.appealEditResult(w, r, a, appealFormOf(a), err, "preselect")
}

// appealTier is POST /admin/appeals/{id}/tiers/{tier}: change a tier, or add one ("new").
func (s *Server) appealTier(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	a, err := s.appealFromURL(r)
	if err != nil {
		return err
	}
	id := int64(0)
	if p := chi.URLParam(r, "tier"); p != "new" {
		if id, err = strconv.ParseInt(p, 10, 64); err != nil {
			return campaigns.ErrNotFound
		}
	}
	err = appeals.SaveTier(r.Context(), s.store, u, a.ID, id, appeals.TierEdit{Amount: money(r.PostFormValue("amount")),
		Title: r.PostFormValue("title"), Impact: r.PostFormValue("impact"), Active: r.PostFormValue("active") != ""})
	return s.appealEditResult(w, r, a, appealFormOf(a), err, "tier")
}

// appealPhotoUpload is POST /admin/appeals/{id}/photo (multipart): the photo is cleaned and
// resized by the page photo code (pages.CheckPhoto) before anything is stored.
func (s *Server) appealPhotoUpload(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	a, err := s.appealFromURL(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxPageBody)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		msg := "The photo could not be read. Please choose it again."
		if errors.As(err, &tooBig) {
			msg = "The photo must be 5 MB or smaller."
		}
		return s.appealEditResult(w, r, a, appealFormOf(a), &campaigns.ValidationError{Fields: map[string]string{"photo": msg}}, "")
	}
	ve := &campaigns.ValidationError{}
	p, err := readPhotoField(r, ve)
	if s.goneBeforePhoto(r, err) {
		return nil
	}
	if err != nil {
		return err
	}
	if p == nil && ve.OrNil() == nil {
		ve.Add("photo", "Choose a JPEG, PNG or WebP photo to upload.")
	}
	if ve.OrNil() != nil {
		return s.appealEditResult(w, r, a, appealFormOf(a), ve, "")
	}
	copies := []appeals.PhotoCopy{{ContentType: p.ContentType, Data: p.Data, Width: p.Width, Height: p.Height, ETag: p.ETag}}
	for _, c := range p.Smaller {
		copies = append(copies, appeals.PhotoCopy{ContentType: c.ContentType, Data: c.Data, Width: c.Width, Height: c.Height, ETag: c.ETag})
	}
	err = appeals.SavePhoto(r.Context(), s.store, u, a.ID, copies)
	return s.appealEditResult(w, r, a, appealFormOf(a), err, "photo")
}

// appealChoice reads the trustees' appeal filter, ?appeal= (a slug, or "all"; posted with
// a form that posts), falling back to fallback when it is empty: the appeal it names, or
// nil for all appeals when allowAll. The list is every appeal, for the filter's choices.
func (s *Server) appealChoice(r *http.Request, fallback string, allowAll bool) (*appeals.Appeal, []appeals.Appeal, error) {
	list, err := appeals.ListAppeals(r.Context(), s.store)
	if err != nil {
		return nil, nil, err
	}
	want := strings.TrimSpace(r.URL.Query().Get("appeal"))
	if r.Method == http.MethodPost {
		want = strings.TrimSpace(r.PostFormValue("appeal"))
	}
	if want == "" {
		want = fallback
	}
	if want == "all" && allowAll {
		return nil, list, nil
	}
	for i := range list {
		if (want == "" && list[i].IsDefault) || (want != "" && list[i].Slug == want) {
			return &list[i], list, nil
		}
	}
	return nil, nil, fmt.Errorf("appeal %q: %w", want, campaigns.ErrNotFound)
}
