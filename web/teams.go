package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/ledger"
	"giving/campaigns/pages"
	"giving/payments"
)

// A page's life after it starts (campaigns/pages lifecycle.go, teams.go, updates.go): the
// extras a fundraiser page shows (an end, a memorial, its team, her updates), her page's
// settings screen, team pages with their leaderboard and join link, and the embeddable
// progress widget for the charity's own website.

// maxUpdatesShown is how many of her updates a page shows.
const maxUpdatesShown = 20

// pageExtras are what a fundraiser page shows beyond its story: its lifecycle (completed
// pages take no more gifts; memorial pages list tributes), the team it is in, and her
// updates, newest first.
func (s *Server) pageExtras(ctx context.Context, fr pages.Fundraiser, owner string) (map[string]any, error) {
	life, err := pages.PageLifecycle(ctx, s.store, fr.ID)
	if err != nil {
		return nil, err
	}
	updates, err := pages.Updates(ctx, s.store, fr.ID, maxUpdatesShown)
	if err != nil {
		return nil, err
	}
	team, inTeam, err := pages.PageTeam(ctx, s.store, fr.ID)
	if err != nil {
		return nil, err
	}
	who := owner
	if who == "" {
		who = "This page"
	}
	m := map[string]any{"Life": life, "Completed": life.Completed(s.store.Now()), "Updates": updates, "Who": who}
	if !life.EndsOn.IsZero() {
		m["EndsOn"] = longDate(life.EndsOn)
	}
	if inTeam {
		m["Team"] = team
	}
	return m, nil
}

// longDate is a day as a person reads it: "31 March 2027".
func longDate(day time.Time) string { return day.Format("2 January 2006") }

// refuseClosedPage answers a gift posted to a completed page: the page as it is now (its
// total, "completed"), with the reason where the form was and the appeal offered instead.
// It reports whether it answered.
func (s *Server) refuseClosedPage(w http.ResponseWriter, r *http.Request, p donationPage, f donateForm) (bool, error) {
	if p.fundraiser == nil {
		return false, nil
	}
	life, err := pages.PageLifecycle(r.Context(), s.store, p.fundraiser.ID)
	if err != nil || !life.Completed(s.store.Now()) {
		return false, err
	}
	notice := fmt.Sprintf("This page closed on %s and takes no more gifts. Nothing was charged. You can still give to %s.",
		longDate(life.EndsOn), p.appeal.Name)
	return true, s.renderFundraiserPage(w, r, http.StatusUnprocessableEntity, *p.fundraiser, p.appeal, f, notice)
}

// --- Her page's settings: updates, an end date or a memorial, and teams ---

// pageMorePath is the settings screen of her page id.
func pageMorePath(id int64) string { return fmt.Sprintf("/fundraise/%d/more", id) }

// pageMore is GET /fundraise/{id}/more: post updates, set an end date or a memorial name,
// start a team or see its join link.
func (s *Server) pageMore(w http.ResponseWriter, r *http.Request) error {
	return s.renderPageMore(w, r, http.StatusOK, nil, nil)
}

func (s *Server) renderPageMore(w http.ResponseWriter, r *http.Request, status int, errs map[string]string, typed map[string]string) error {
	id, err := pageID(r)
	if err != nil {
		return err
	}
	u := fundraiser(r)
	ctx := r.Context()
	p, err := pages.OwnPage(ctx, s.store, u, id)
	if err != nil {
		return err
	}
	life, err := pages.PageLifecycle(ctx, s.store, id)
	if err != nil {
		return err
	}
	updates, err := pages.Updates(ctx, s.store, id, 100)
	if err != nil {
		return err
	}
	team, inTeam, err := pages.PageTeam(ctx, s.store, id)
	if err != nil {
		return err
	}
	form := map[string]string{"in_memory_of": life.InMemoryOf, "team_target": "1000.00"}
	if !life.EndsOn.IsZero() {
		form["ends_on"] = life.EndsOn.Format(time.DateOnly)
	}
	for k, v := range typed {
		form[k] = v
	}
	data := map[string]any{"Title": "Updates, end date and team: " + p.Title, "User": u, "Page": p, "Life": life,
		"Updates": updates, "Errors": errs, "Form": form, "Done": r.URL.Query().Get("done"),
		"Today": s.store.Now().In(campaigns.London()).Format(time.DateOnly)}
	if inTeam {
		data["Team"] = team
		if team.CaptainID == u.ID {
			data["JoinURL"] = s.baseURL.JoinPath("/fundraise/teams/join/", team.JoinCode).String()
		}
	}
	noStore(w)
	s.render(w, r, status, "fundraise_more.html", data)
	return nil
}

// readSmallForm parses a short url-encoded form, or answers the field's problem.
func readSmallForm(w http.ResponseWriter, r *http.Request, field string) error {
	r.Body = http.MaxBytesReader(w, r.Body, 32<<10)
	if err := r.ParseForm(); err != nil {
		return &campaigns.ValidationError{Fields: map[string]string{field: "The form could not be read."}}
	}
	return nil
}

// moreResult shows the settings screen again with the problems beside the fields, or
// goes back to it with done set.
func (s *Server) moreResult(w http.ResponseWriter, r *http.Request, err error, done string, fields ...string) error {
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		typed := map[string]string{}
		for _, f := range fields {
			typed[f] = r.PostForm.Get(f)
		}
		return s.renderPageMore(w, r, http.StatusUnprocessableEntity, ve.Fields, typed)
	}
	if err != nil {
		return err
	}
	id, _ := pageID(r)
	http.Redirect(w, r, pageMorePath(id)+"?done="+done, http.StatusSeeOther)
	return nil
}

// postUpdate is POST /fundraise/{id}/updates: a short post on her page.
func (s *Server) postUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pageID(r)
	if err != nil {
		return err
	}
	if err := readSmallForm(w, r, "update"); err != nil {
		return err
	}
	err = pages.PostUpdate(r.Context(), s.store, fundraiser(r), id, r.PostForm.Get("update"))
	return s.moreResult(w, r, err, "posted", "update")
}

// deleteUpdate is POST /fundraise/{id}/updates/{update}/delete.
func (s *Server) deleteUpdate(w http.ResponseWriter, r *http.Request) error {
	if _, err := pageID(r); err != nil {
		return err
	}
	uid, err := strconv.ParseInt(chi.URLParam(r, "update"), 10, 64)
	if err != nil {
		return fmt.Errorf("update %q: %w", chi.URLParam(r, "update"), campaigns.ErrNotFound)
	}
	err = pages.DeleteUpdate(r.Context(), s.store, fundraiser(r), uid)
	return s.moreResult(w, r, err, "deleted")
}

// setLifecycle is POST /fundraise/{id}/lifecycle: an end date, or the person the page remembers.
func (s *Server) setLifecycle(w http.ResponseWriter, r *http.Request) error {
	id, err := pageID(r)
	if err != nil {
		return err
	}
	if err := readSmallForm(w, r, "ends_on"); err != nil {
		return err
	}
	_, err = pages.SetPageLifecycle(r.Context(), s.store, fundraiser(r), id,
		pages.LifecycleEdit{EndsOn: r.PostForm.Get("ends_on"), InMemoryOf: r.PostForm.Get("in_memory_of")})
	return s.moreResult(w, r, err, "lifecycle", "ends_on", "in_memory_of")
}

// createTeam is POST /fundraise/{id}/team: she starts a team with this page in it.
func (s *Server) createTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := pageID(r)
	if err != nil {
		return err
	}
	if err := readSmallForm(w, r, "team_name"); err != nil {
		return err
	}
	e := pages.TeamEdit{Name: r.PostForm.Get("team_name"), PageID: id}
	if t, err := payments.ParseAmount(r.PostForm.Get("team_target")); err == nil {
		e.Target = t
	}
	_, err = pages.CreateTeam(r.Context(), s.store, fundraiser(r), e)
	return s.moreResult(w, r, err, "team", "team_name", "team_target")
}

// joinTeamPage is GET /fundraise/teams/join/{code}: the captain's link. She chooses which
// of her pages joins.
func (s *Server) joinTeamPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderJoinTeam(w, r, http.StatusOK, nil)
}

func (s *Server) renderJoinTeam(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) error {
	team, err := pages.TeamByJoinCode(r.Context(), s.store, chi.URLParam(r, "code"))
	if err != nil {
		return err
	}
	u := fundraiser(r)
	own, err := pages.OwnPages(r.Context(), s.store, u)
	if err != nil {
		return err
	}
	noStore(w)
	s.render(w, r, status, "team_join.html", map[string]any{"Title": "Join " + team.Name, "User": u, "Team": team,
		"Pages": own, "Errors": errs, "Action": "/fundraise/teams/join/" + team.JoinCode})
	return nil
}

// joinTeam is POST /fundraise/teams/join/{code}: her chosen page joins the team.
func (s *Server) joinTeam(w http.ResponseWriter, r *http.Request) error {
	if err := readSmallForm(w, r, "page"); err != nil {
		return err
	}
	pid, _ := strconv.ParseInt(r.PostForm.Get("page"), 10, 64)
	team, err := pages.JoinTeam(r.Context(), s.store, fundraiser(r), chi.URLParam(r, "code"), pid)
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		return s.renderJoinTeam(w, r, http.StatusUnprocessableEntity, ve.Fields)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/t/"+team.Slug, http.StatusSeeOther)
	return nil
}

// --- Team pages ---

// teamMemberView is one row of a team's leaderboard.
type teamMemberView struct {
	pages.TeamMember
	Name  string // "Ruby" or the page's title for a page nobody signed up for
	Place int    // 1 for the most raised
}

// teamPage is GET /t/{slug}: the team's total (the sum of its live pages' totals, each
// from the ledger), its progress, its leaderboard with a link to give on each page, and
// its share links and QR code.
func (s *Server) teamPage(w http.ResponseWriter, r *http.Request) error {
	st, err := pages.PublicTeam(r.Context(), s.store, chi.URLParam(r, "slug"))
	if err != nil {
		return err
	}
	a, err := appeals.AppealByID(r.Context(), s.store, st.AppealID)
	if err != nil {
		return err
	}
	members := make([]teamMemberView, 0, len(st.Members))
	for i, m := range st.Members {
		members = append(members, teamMemberView{TeamMember: m, Name: or(m.Owner, m.Title), Place: i + 1})
	}
	n := len(st.Members)
	description := fmt.Sprintf("%s: a team of %d %s raising money for %s. %s raised so far.", st.Name, n,
		plural(n, "fundraiser", "fundraisers"), a.Name, payments.FormatPounds(st.Raised))
	invite := "Please support " + st.Name + ", our team fundraising for " + a.Name + "."
	noStore(w)
	s.render(w, r, http.StatusOK, "team.html", map[string]any{"Title": st.Name, "Description": description,
		"Team": st, "Members": members, "Appeal": a,
		"Share":    s.share("/t/"+st.Slug, st.Name, description, invite),
		"Progress": progress("Progress toward "+st.Name+"'s target", teamTotals(st), st.Target),
	})
	return nil
}

// teamTotals is a team's total in the shape the progress bar reads.
func teamTotals(st pages.TeamStanding) ledger.Totals {
	return ledger.Totals{Gross: st.Raised, Donors: st.Donors}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// teamQR is GET /t/{slug}/qr.svg and .png: a team page's QR code.
func (s *Server) teamQR(format string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		st, err := pages.PublicTeam(r.Context(), s.store, chi.URLParam(r, "slug"))
		if err != nil {
			return err
		}
		return writeQR(w, s.baseURL.JoinPath("/t/", st.Slug).String(), format)
	}
}

// --- The embeddable progress widget ---

// embedCSP lets any site frame the widget (and only the widget): it runs no script, loads
// nothing but its own inline style, and opens links in a new tab.
const embedCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *; base-uri 'none'; form-action 'none'"

// embedMaxAge is how long a browser or a cache may reuse the widget before asking again
// (with its ETag, answered 304 when nothing changed): new gifts show within a minute.
const embedMaxAge = 60

// widget is what the embed shows: a name, a bar and a link to give.
type widget struct {
	Name, Link  string
	Raised      string
	Target      string
	Percent     int
	PercentText string
	BarWidth    int // the SVG bar's filled width, of 296
}

func (s *Server) widgetFor(r *http.Request, kind string) (widget, error) {
	ctx := r.Context()
	slug := chi.URLParam(r, "slug")
	switch kind {
	case "f":
		fr, err := pages.PublicFundraiser(ctx, s.store, slug)
		if err != nil {
			return widget{}, err
		}
		t, err := pages.FundraiserTotals(ctx, s.store, fr.ID)
		if err != nil {
			return widget{}, err
		}
		return newWidget(fr.Title, s.baseURL.JoinPath("/f/", fr.Slug).String(), t.Raised(), fr.Target), nil
	case "t":
		st, err := pages.PublicTeam(ctx, s.store, slug)
		if err != nil {
			return widget{}, err
		}
		return newWidget(st.Name, s.baseURL.JoinPath("/t/", st.Slug).String(), st.Raised, st.Target), nil
	default:
		a, err := appeals.AppealBySlug(ctx, s.store, appeals.DefaultAppealSlug)
		if err != nil {
			return widget{}, err
		}
		t, err := appeals.AppealTotals(ctx, s.store, a.ID)
		if err != nil {
			return widget{}, err
		}
		return newWidget(a.Name, s.baseURL.JoinPath("/").String(), t.Raised(), a.Target), nil
	}
}

func newWidget(name, link string, raised, target decimal.Decimal) widget {
	return widget{Name: name, Link: link, Raised: payments.FormatPounds(raised), Target: payments.FormatPounds(target),
		Percent: percent(raised, target), PercentText: percentLabel(raised, target), BarWidth: percent(raised, target) * 296 / 100}
}

// embedOf is embed for /embed/{kind}/{slug}: a fundraiser page (f) or a team (t).
func (s *Server) embedOf(format string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		return s.embed(chi.URLParam(r, "kind"), format)(w, r)
	}
}

// embed is GET /embed (the appeal), /embed/f/{slug} and /embed/t/{slug}: a small page for
// an <iframe> on the charity's own website, with no script, framable from anywhere.
func (s *Server) embed(kind, format string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := s.widgetFor(r, kind)
		if err != nil {
			return err
		}
		var b strings.Builder
		name, ctype := "embed", "text/html; charset=utf-8"
		if format == "svg" {
			name, ctype = "embed-svg", "image/svg+xml"
		}
		if err := s.views.pages["embed.html"].ExecuteTemplate(&b, name, v); err != nil {
			return fmt.Errorf("render widget: %w", err)
		}
		sum := sha256.Sum256([]byte(b.String()))
		etag := `"` + hex.EncodeToString(sum[:8]) + `"`
		h := w.Header()
		h.Set("Content-Security-Policy", embedCSP)
		h.Del("X-Frame-Options")
		h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", embedMaxAge))
		h.Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		h.Set("Content-Type", ctype)
		_, err = w.Write([]byte(b.String()))
		return err
	}
}
