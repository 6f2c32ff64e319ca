package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/pages"
	"giving/payments"
)

// Fundraisers' own pages: a dashboard, the page form (with a photo), offline money and
// thank-you notes. Every handler acts as the logged-in fundraiser, and the domain answers
// "not found" for a page or gift that is not hers, so another fundraiser's page by id in a
// URL or a form is a 404, exactly like a page that does not exist.

// maxPageBody bounds a page form: a photo of up to 5 MiB and the text fields. A photo a
// little over the limit is still read and refused beside the field; a body beyond this is
// cut off unread.
const maxPageBody = pages.MaxPhotoBytes + 3<<20

// pageForm is the page form as the fundraiser typed it.
type pageForm struct {
	Title, Story, Target, Slug  string
	Sponsored, CharityPaysCosts bool // a sponsored event (campaigns/pages/sponsored.go)
}

// storySeg is a run of a story's text, or a link; the template escapes both.
type storySeg struct{ Text, Href string }

// storyLine is one line of a paragraph.
type storyLine []storySeg

var storyLink = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"']+`)

// storyView turns plain text into paragraphs (on blank lines) of lines, with http(s) links
// made into anchors. It never produces HTML: the template escapes every piece, and an
// anchor's href is only ever an absolute http or https URL.
func storyView(text string) [][]storyLine {
	var out [][]storyLine
	for _, p := range paragraphs(text) {
		var para []storyLine
		for _, line := range strings.Split(p, "\n") {
			var segs storyLine
			rest := strings.TrimRight(line, " \t")
			for rest != "" {
				loc := storyLink.FindStringIndex(rest)
				if loc == nil {
					segs = append(segs, storySeg{Text: rest})
					break
				}
				raw := strings.TrimRight(rest[loc[0]:loc[1]], ".,;:!?)]}")
				end := loc[0] + len(raw)
				if loc[0] > 0 {
					segs = append(segs, storySeg{Text: rest[:loc[0]]})
				}
				// url.Parse lower-cases the scheme; only absolute http(s) URLs with a host become links.
				if u, err := url.Parse(raw); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
					segs = append(segs, storySeg{Text: raw, Href: u.String()})
				} else {
					segs = append(segs, storySeg{Text: raw})
				}
				rest = rest[end:]
			}
			para = append(para, segs)
		}
		out = append(out, para)
	}
	return out
}

// photoView is what an <img> needs to show a page's photo: the widest copy as src, every
// copy in srcset (the browser picks by the sizes the template gives), and the widest
// copy's dimensions as width and height, so the page keeps its place before it loads.
type photoView struct {
	Src, Srcset   string
	Width, Height int
}

// pagePhotoView describes f's photo, or returns nil when it has none.
func (s *Server) pagePhotoView(ctx context.Context, f pages.Fundraiser) (*photoView, error) {
	if !f.HasPhoto {
		return nil, nil
	}
	sizes, err := pages.PhotoSizes(ctx, s.store, f.ID)
	if err != nil || len(sizes) == 0 {
		return nil, err
	}
	return newPhotoView("/f/"+url.PathEscape(f.Slug)+"/photo", sizes), nil
}

// newPhotoView is the <img> of the copies at src (sizes narrowest first, at least one).
func newPhotoView(src string, sizes []pages.PhotoSize) *photoView {
	widest := sizes[len(sizes)-1]
	set := make([]string, 0, len(sizes))
	for _, c := range sizes[:len(sizes)-1] {
		set = append(set, fmt.Sprintf("%s?w=%d %dw", src, c.Width, c.Width))
	}
	set = append(set, fmt.Sprintf("%s %dw", src, widest.Width))
	return &photoView{Src: src, Srcset: strings.Join(set, ", "), Width: widest.Width, Height: widest.Height}
}

// fundraiser returns the logged-in user; the routes let only fundraisers through.
func fundraiser(r *http.Request) accounts.User {
	u, _ := currentUser(r)
	return u
}

func pageID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("page id %q: %w", chi.URLParam(r, "id"), campaigns.ErrNotFound)
	}
	return id, nil
}

type pageRow struct {
	Page     pages.Fundraiser
	Progress map[string]any
	Raised   decimal.Decimal
	Gifts    int64
	URL      string
}

type giftRow struct {
	pages.PageGift
	AmountText string // "" when the donor hid it
}

// fundraiseDashboard is GET /fundraise: her pages with their totals, every gift to them
// (with each donor's privacy choices applied) and her offline money.
func (s *Server) fundraiseDashboard(w http.ResponseWriter, r *http.Request) error {
	return s.renderDashboard(w, r, http.StatusOK, "", nil, nil)
}

func (s *Server) renderDashboard(w http.ResponseWriter, r *http.Request, status int, thankFor string, errs map[string]string, msg map[string]string) error {
	u := fundraiser(r)
	ctx := r.Context()
	own, err := pages.OwnPages(ctx, s.store, u)
	if err != nil {
		return err
	}
	rows := make([]pageRow, 0, len(own))
	for _, p := range own {
		t, err := pages.FundraiserTotals(ctx, s.store, p.ID)
		if err != nil {
			return err
		}
		rows = append(rows, pageRow{Page: p, Raised: t.Raised(), Gifts: t.Gifts, URL: s.baseURL.JoinPath("/f/", p.Slug).String(),
			Progress: progress("Progress toward the target of "+p.Title, t, p.Target)})
	}
	gifts, err := pages.PageGifts(ctx, s.store, u, 500)
	if err != nil {
		return err
	}
	giftRows := make([]giftRow, 0, len(gifts))
	for _, g := range gifts {
		v := giftRow{PageGift: g}
		if g.Shown {
			v.AmountText = payments.FormatPounds(g.Amount)
			if g.Monthly {
				v.AmountText += " a month"
			}
		}
		giftRows = append(giftRows, v)
	}
	offline, err := pages.OwnOffline(ctx, s.store, u)
	if err != nil {
		return err
	}
	notice := map[string]string{"created": "Your page is saved. It will be public once the charity has approved it.",
		"saved": "Your changes are saved.", "offline": "Thank you: the charity will check the money and then add it to your total.",
		"thanked": "Your thank-you note is on its way.",
		"hidden":  "The message is hidden from your page and the appeal's list of supporters.",
		"shown":   "The message is shown again."}[r.URL.Query().Get("done")]
	noStore(w)
	s.render(w, r, status, "fundraise_dashboard.html", map[string]any{"Title": "Your fundraising", "User": u,
		"Pages": rows, "Gifts": giftRows, "Offline": offline, "Notice": notice,
		"ThankFor": thankFor, "Errors": errs, "Message": msg})
	return nil
}

// renderPageForm shows the page form (and, for an existing page, the offline money form);
// page is nil for a new page.
func (s *Server) renderPageForm(w http.ResponseWriter, r *http.Request, status int, page *pages.Fundraiser, f pageForm, errs map[string]string, offline url.Values, offlineErrs map[string]string) error {
	u := fundraiser(r)
	data := map[string]any{"User": u, "Form": f, "Errors": errs, "OfflineErrors": offlineErrs,
		"SlugBase": s.baseURL.JoinPath("/f/").String() + "/"}
	if page == nil {
		data["Title"] = "Start a fundraising page"
		data["Action"] = "/fundraise/new"
		data["Suggested"] = ""
	} else {
		data["Title"] = "Edit " + page.Title
		data["Action"] = fmt.Sprintf("/fundraise/%d/edit", page.ID)
		data["Page"] = page
		photo, err := s.pagePhotoView(r.Context(), *page)
		if err != nil {
			return err
		}
		data["Photo"] = photo
		data["Story"] = storyView(page.Story)
		sp, err := pages.PageSponsorship(r.Context(), s.store, page.ID)
		if err != nil {
			return err
		}
		data["Sponsorship"] = sp
		if offline == nil {
			offline = url.Values{"kind": {"cash"}, "date": {s.store.Now().In(campaigns.London()).Format(time.DateOnly)}}
		}
		data["OfflineForm"] = offline
		data["Today"] = s.store.Now().In(campaigns.London()).Format(time.DateOnly)
	}
	noStore(w)
	s.render(w, r, status, "fundraise_form.html", data)
	return nil
}

// newPage is GET /fundraise/new.
func (s *Server) newPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderPageForm(w, r, http.StatusOK, nil, pageForm{}, nil, nil, nil)
}

// editPage is GET /fundraise/{id}/edit: only her own page.
func (s *Server) editPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pageID(r)
	if err != nil {
		return err
	}
	p, err := pages.OwnPage(r.Context(), s.store, fundraiser(r), id)
	if err != nil {
		return err
	}
	return s.renderPageForm(w, r, http.StatusOK, &p, s.savedPageForm(r, p), nil, nil, nil)
}

// savedPageForm is the page form as the page is saved.
func (s *Server) savedPageForm(r *http.Request, p pages.Fundraiser) pageForm {
	f := pageForm{Title: p.Title, Story: p.Story, Target: p.Target.StringFixed(2), Slug: p.Slug}
	if sp, err := pages.PageSponsorship(r.Context(), s.store, p.ID); err == nil {
		f.Sponsored, f.CharityPaysCosts = sp.Marked(), sp.CharityPaysCosts
	}
	return f
}

// readPageForm parses the page form (multipart when it carries a photo) and checks the
// photo's bytes. It returns the form as typed, the edit for the domain, and the problems
// found so far (a target that is not an amount, a photo that is not an image).
func readPageForm(w http.ResponseWriter, r *http.Request) (pageForm, pages.PageEdit, *campaigns.ValidationError, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxPageBody)
	ve := &campaigns.ValidationError{}
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		// Up to 1 MiB of text in memory; a photo beyond that spills to a temporary file
		// that the server removes when the request ends.
		err = r.ParseMultipartForm(1 << 20)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return pageForm{}, pages.PageEdit{}, nil, errTooLarge
		}
		return pageForm{}, pages.PageEdit{}, nil, &campaigns.ValidationError{Fields: map[string]string{"title": "The form could not be read. Please try again."}}
	}
	if r.MultipartForm != nil {
		// A url-encoded form was checked at the door (readableInput); a multipart one is
		// checked here, field by field, so the reason stands beside the field.
		for field, values := range r.MultipartForm.Value {
			for _, v := range values {
				if !readable(v) {
					ve.Add(field, "This contains characters we can't accept (a NUL byte or text that is not UTF-8). Please retype it.")
					r.MultipartForm.Value[field] = []string{strings.ToValidUTF8(strings.ReplaceAll(v, "\x00", ""), "")}
					break
				}
			}
		}
	}
	f := pageForm{Title: r.PostFormValue("title"), Story: r.PostFormValue("story"), Target: r.PostFormValue("target"),
		Slug: r.PostFormValue("slug"), Sponsored: r.PostFormValue("sponsored") != "", CharityPaysCosts: r.PostFormValue("charity_pays_costs") != ""}
	e := pages.PageEdit{Title: f.Title, Story: f.Story, Slug: f.Slug, Sponsored: f.Sponsored, CharityPaysCosts: f.CharityPaysCosts}
	if t, err := payments.ParseAmount(f.Target); err != nil {
		ve.Add("target", "Enter a target between £1 and £1,000,000 in pounds and pence, like 500 or 500.00.")
	} else {
		e.Target = t
	}
	photo, err := readPhotoField(r, ve)
	if err != nil {
		return f, e, nil, err
	}
	e.Photo = photo
	return f, e, ve, nil
}

// readPhotoField reads and checks the photo field of a multipart form (nil when none was
// chosen); a problem with it is added to ve beside the field.
func readPhotoField(r *http.Request, ve *campaigns.ValidationError) (*pages.Photo, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	file, _, err := r.FormFile("photo")
	switch {
	case errors.Is(err, http.ErrMissingFile):
		return nil, nil
	case err != nil:
		ve.Add("photo", "The photo could not be read. Please choose it again.")
		return nil, nil
	}
	defer file.Close()
	b, err := io.ReadAll(io.LimitReader(file, pages.MaxPhotoBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read photo: %w", err)
	}
	if len(b) == 0 {
		return nil, nil
	}
	// Decoded and resized with at most a few others at once, and given up when the
	// uploader leaves (pages.CheckPhoto).
	p, err := pages.CheckPhoto(r.Context(), b)
	var pve *campaigns.ValidationError
	switch {
	case errors.As(err, &pve):
		ve.Add("photo", pve.Fields["photo"])
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &p, nil
}

// errTooLarge is a page form whose body is beyond maxPageBody.
var errTooLarge = errors.New("page form too large")

// goneBeforePhoto reports an upload whose fundraiser left (closed the tab, lost the
// connection) while her photo waited or was being processed: the work stopped, nothing is
// saved and no one is there to answer, so it is noted, not logged as a failure.
func (s *Server) goneBeforePhoto(r *http.Request, err error) bool {
	if !errors.Is(err, context.Canceled) || r.Context().Err() == nil {
		return false
	}
	s.log.Info("photo upload abandoned", "path", r.URL.Path)
	return true
}

// merge adds the domain's problems to the form's own (the form's come first: "not an
// amount" says more than "out of range").
func merge(ve *campaigns.ValidationError, err error) error {
	var dve *campaigns.ValidationError
	if errors.As(err, &dve) {
		for k, v := range dve.Fields {
			ve.Add(k, v)
		}
		return ve
	}
	if err != nil {
		return err
	}
	return ve.OrNil()
}

// createPage is POST /fundraise/new.
func (s *Server) createPage(w http.ResponseWriter, r *http.Request) error {
	f, e, ve, err := readPageForm(w, r)
	if s.goneBeforePhoto(r, err) {
		return nil
	}
	if errors.Is(err, errTooLarge) {
		return s.renderPageForm(w, r, http.StatusRequestEntityTooLarge, nil, f, map[string]string{"photo": "The photo must be 5 MB or smaller."}, nil, nil)
	}
	var fve *campaigns.ValidationError
	if errors.As(err, &fve) {
		return s.renderPageForm(w, r, http.StatusUnprocessableEntity, nil, f, fve.Fields, nil, nil)
	}
	if err != nil {
		return err
	}
	a, err := s.defaultAppeal(r)
	if err != nil {
		return err
	}
	if len(ve.Fields) > 0 {
		// The other fields are checked too, so every problem shows at once.
		return s.renderPageForm(w, r, http.StatusUnprocessableEntity, nil, f, validate(ve, e).Fields, nil, nil)
	}
	_, err = pages.CreatePage(r.Context(), s.store, fundraiser(r), a.ID, e, s.site(r))
	var dve *campaigns.ValidationError
	if errors.As(err, &dve) {
		return s.renderPageForm(w, r, http.StatusUnprocessableEntity, nil, f, dve.Fields, nil, nil)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/fundraise?done=created", http.StatusSeeOther)
	return nil
}

// validate adds the domain's field checks to the form's problems without saving anything.
func validate(ve *campaigns.ValidationError, e pages.PageEdit) *campaigns.ValidationError {
	if err := pages.CheckPageEdit(e); err != nil {
		_ = merge(ve, err)
	}
	return ve
}

// updatePage is POST /fundraise/{id}/edit: only her own page.
func (s *Server) updatePage(w http.ResponseWriter, r *http.Request) error {
	id, err := pageID(r)
	if err != nil {
		return err
	}
	u := fundraiser(r)
	// Whose page it is comes first: another's page is a 404 whatever the form says.
	p, err := pages.OwnPage(r.Context(), s.store, u, id)
	if err != nil {
		return err
	}
	f, e, ve, err := readPageForm(w, r)
	if s.goneBeforePhoto(r, err) {
		return nil
	}
	if errors.Is(err, errTooLarge) {
		f = s.savedPageForm(r, p)
		return s.renderPageForm(w, r, http.StatusRequestEntityTooLarge, &p, f, map[string]string{"photo": "The photo must be 5 MB or smaller."}, nil, nil)
	}
	var fve *campaigns.ValidationError
	if errors.As(err, &fve) {
		return s.renderPageForm(w, r, http.StatusUnprocessableEntity, &p, f, fve.Fields, nil, nil)
	}
	if err != nil {
		return err
	}
	if len(ve.Fields) > 0 {
		return s.renderPageForm(w, r, http.StatusUnprocessableEntity, &p, f, validate(ve, e).Fields, nil, nil)
	}
	_, err = pages.UpdatePage(r.Context(), s.store, u, id, e)
	var dve *campaigns.ValidationError
	if errors.As(err, &dve) {
		return s.renderPageForm(w, r, http.StatusUnprocessableEntity, &p, f, dve.Fields, nil, nil)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/fundraise?done=saved", http.StatusSeeOther)
	return nil
}

// submitOffline is POST /fundraise/{id}/offline: money she collected, pending an admin.
func (s *Server) submitOffline(w http.ResponseWriter, r *http.Request) error {
	id, err := pageID(r)
	if err != nil {
		return err
	}
	u := fundraiser(r)
	p, err := pages.OwnPage(r.Context(), s.store, u, id)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, 32<<10)
	if err := r.ParseForm(); err != nil {
		return &campaigns.ValidationError{Fields: map[string]string{"offline_amount": "The form could not be read."}}
	}
	in := pages.OfflineInput{Kind: r.PostForm.Get("kind"), Note: r.PostForm.Get("note")}
	ve := &campaigns.ValidationError{}
	if a, err := payments.ParseAmount(r.PostForm.Get("amount")); err == nil {
		in.Amount = a
	} else {
		ve.Add("offline_amount", "Enter the amount in pounds and pence, like 120 or 120.50.")
	}
	if d, err := time.Parse(time.DateOnly, strings.TrimSpace(r.PostForm.Get("date"))); err == nil {
		in.ReceivedOn = d
	}
	_, err = pages.SubmitOffline(r.Context(), s.store, u, id, in)
	if err = merge(ve, err); err != nil {
		var all *campaigns.ValidationError
		if errors.As(err, &all) {
			f := pageForm{Title: p.Title, Story: p.Story, Target: p.Target.StringFixed(2), Slug: p.Slug}
			return s.renderPageForm(w, r, http.StatusUnprocessableEntity, &p, f, nil, r.PostForm, all.Fields)
		}
		return err
	}
	http.Redirect(w, r, "/fundraise?done=offline", http.StatusSeeOther)
	return nil
}

// pagePhoto is GET /f/{slug}/photo: the photo of a public page, or of a pending or hidden
// page to its owner and the charity's trustees only (anyone else gets a 404). Without ?w=
// it is the widest stored copy (the address pages have always used); ?w=480 and the like
// are the narrower copies in the page's srcset. The bytes are served as the type they
// were made as, never sniffed by the browser.
func (s *Server) pagePhoto(w http.ResponseWriter, r *http.Request) error {
	width := 0
	if v := r.URL.Query().Get("w"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("photo width %q: %w", v, campaigns.ErrNotFound)
		}
		width = n
	}
	f, p, err := pages.PagePhoto(r.Context(), s.store, chi.URLParam(r, "slug"), width)
	if err != nil {
		return err
	}
	public := f.Status == "approved"
	if !public {
		u, ok := currentUser(r)
		if !ok || !(u.CanRead() || (f.OwnerID != 0 && u.ID == f.OwnerID)) {
			return fmt.Errorf("photo of unpublished page %d: %w", f.ID, campaigns.ErrNotFound)
		}
	}
	return servePhoto(w, r, p, public)
}

// servePhoto sends a stored photo copy (a page's or an appeal's): as the type it was made
// as, never sniffed, cached by ETag; public ones for a short while, so a hidden page's
// photo stops being served soon.
func servePhoto(w http.ResponseWriter, r *http.Request, p pages.Photo, public bool) error {
	h := w.Header()
	h.Set("Content-Type", p.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", "inline")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("ETag", `"`+p.ETag+`"`)
	h.Set("Last-Modified", p.UpdatedAt.UTC().Format(http.TimeFormat))
	if public {
		// Short, so a hidden page's photo stops being served soon; revalidation is cheap.
		h.Set("Cache-Control", "public, max-age=300")
	} else {
		h.Set("Cache-Control", "private, no-store")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && match == `"`+p.ETag+`"` {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Length", strconv.Itoa(len(p.Data)))
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write(p.Data)
	return err
}

// adminVerifyOffline, adminRejectOffline and adminReverseOffline are POST
// /admin/offline/{id}/verify|reject|reverse; a reversal needs a reason.
func (s *Server) adminVerifyOffline(w http.ResponseWriter, r *http.Request) error {
	return s.adminDecideOffline(w, r, pages.VerifyOffline, "offline-verified")
}

func (s *Server) adminRejectOffline(w http.ResponseWriter, r *http.Request) error {
	return s.adminDecideOffline(w, r, pages.RejectOffline, "offline-rejected")
}

func (s *Server) adminReverseOffline(w http.ResponseWriter, r *http.Request) error {
	reason := r.PostFormValue("reason")
	return s.adminDecideOffline(w, r, func(ctx context.Context, st *campaigns.Store, u accounts.User, id int64) (bool, error) {
		return pages.ReverseOffline(ctx, st, u, id, reason)
	}, "offline-reversed")
}

// adminDecideOffline applies an admin's decision on one taking and redirects to the admin
// page saying so. A problem with a field of the taking's form (the reversal's reason) is
// shown beside it, as "field-id", with what was typed kept.
func (s *Server) adminDecideOffline(w http.ResponseWriter, r *http.Request, decide func(context.Context, *campaigns.Store, accounts.User, int64) (bool, error), done string) error {
	u, _ := currentUser(r)
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return campaigns.ErrNotFound
	}
	if _, err := decide(r.Context(), s.store, u, id); err != nil {
		var ve *campaigns.ValidationError
		if !errors.As(err, &ve) {
			return err
		}
		errs, kept := map[string]string{}, map[string]string{}
		for f, msg := range ve.Fields {
			key := fmt.Sprintf("%s-%d", f, id)
			errs[key], kept[key] = msg, r.PostFormValue(f)
		}
		return s.renderAdmin(w, r, http.StatusUnprocessableEntity, errs, kept, "")
	}
	a, err := s.defaultAppeal(r)
	if err == nil {
		s.cache.forget("appeal:" + a.Slug)
	}
	http.Redirect(w, r, "/admin?done="+done, http.StatusSeeOther)
	return nil
}

// thankGift is POST /fundraise/gifts/{donation}/thank: her note to the donor of a gift to
// one of her pages, queued to the outbox. Another fundraiser's gift is a 404.
func (s *Server) thankGift(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 32<<10)
	if err := r.ParseForm(); err != nil {
		return &campaigns.ValidationError{Fields: map[string]string{"message": "The form could not be read."}}
	}
	id := chi.URLParam(r, "donation")
	err := pages.ThankGift(r.Context(), s.store, fundraiser(r), id, r.PostForm.Get("message"))
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		return s.renderDashboard(w, r, http.StatusUnprocessableEntity, id, ve.Fields, map[string]string{"message": r.PostForm.Get("message")})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/fundraise?done=thanked", http.StatusSeeOther)
	return nil
}
