package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/payments"
)

// The admin page: the appeal's wording and target, its tiers, fundraiser pages and unmatched
// money. Every change is checked again in the domain and written to the audit log there.

// adminDone is what the page says after each kind of change (?done=), so an admin knows the
// save went through; an unknown value says nothing.
var adminDone = map[string]string{
	"appeal":           "The appeal is saved.",
	"tier":             "The tier is saved.",
	"page":             "The fundraiser page's status is saved.",
	"unmatched":        "The payment is marked as reviewed.",
	"offline-verified": "The offline money is verified: it now counts in the totals.",
	"offline-rejected": "The offline money is rejected: it does not count.",
	"offline-reversed": "The offline money is reversed: it no longer counts, and the fundraiser sees why.",
}

func (s *Server) adminPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderAdmin(w, r, http.StatusOK, nil, nil, adminDone[r.URL.Query().Get("done")])
}

// renderAdmin shows the admin page; errs are problems by field id, and kept what was typed
// in fields outside the appeal and tier forms (a reversal's reason), by field id.
func (s *Server) renderAdmin(w http.ResponseWriter, r *http.Request, status int, errs, kept map[string]string, notice string) error {
	u, _ := currentUser(r)
	a, err := s.defaultAppeal(r)
	if err != nil {
		return err
	}
	pages, err := s.store.Fundraisers(r.Context(), a.ID)
	if err != nil {
		return err
	}
	unmatched, err := s.store.Unmatched(r.Context(), 100)
	if err != nil {
		return err
	}
	// Inactive tiers are listed too, so they can be brought back.
	tiers, err := s.store.AllTiers(r.Context(), a.ID)
	if err != nil {
		return err
	}
	// Offline money fundraisers entered, waiting to be verified or rejected, and the most
	// recently verified, which may be reversed (pages.go).
	offline, err := s.store.PendingOffline(r.Context(), 200)
	if err != nil {
		return err
	}
	decided, err := s.store.DecidedOffline(r.Context(), 50)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, no-store")
	s.render(w, r, status, "admin.html", map[string]any{"Title": "Manage the appeal", "User": u, "Appeal": a,
		"Tiers": tiers, "Pages": pages, "Unmatched": unmatched, "Errors": errs, "Kept": kept, "Notice": notice, "Offline": offline, "Decided": decided})
	return nil
}

// adminResult re-renders with the problems beside the fields, or redirects after success.
func (s *Server) adminResult(w http.ResponseWriter, r *http.Request, err error, done string) error {
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		return s.renderAdmin(w, r, http.StatusUnprocessableEntity, ve.Fields, nil, "")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin?done="+done, http.StatusSeeOther)
	return nil
}

func money(s string) decimal.Decimal {
	d, err := payments.ParseAmount(s)
	if err != nil {
		return decimal.Zero // validation in the domain names the field
	}
	return d
}

func (s *Server) adminSaveAppeal(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	a, err := s.defaultAppeal(r)
	if err != nil {
		return err
	}
	err = s.store.UpdateAppeal(r.Context(), u, a.ID, campaigns.AppealEdit{Name: r.PostFormValue("name"),
		Summary: r.PostFormValue("summary"), Story: r.PostFormValue("story"), Target: money(r.PostFormValue("target"))})
	s.cache.forget("appeal:" + a.Slug)
	return s.adminResult(w, r, err, "appeal")
}

func (s *Server) adminSaveTier(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	a, err := s.defaultAppeal(r)
	if err != nil {
		return err
	}
	id := int64(0)
	if p := chi.URLParam(r, "id"); p != "new" {
		if id, err = strconv.ParseInt(p, 10, 64); err != nil {
			return campaigns.ErrNotFound
		}
	}
	err = s.store.SaveTier(r.Context(), u, a.ID, id, campaigns.TierEdit{Amount: money(r.PostFormValue("amount")),
		Title: r.PostFormValue("title"), Impact: r.PostFormValue("impact"), Active: r.PostFormValue("active") != ""})
	s.cache.forget("appeal:" + a.Slug)
	return s.adminResult(w, r, err, "tier")
}

func (s *Server) adminFundraiserStatus(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return campaigns.ErrNotFound
	}
	err = s.store.SetFundraiserStatus(r.Context(), u, id, strings.TrimSpace(r.PostFormValue("status")))
	return s.adminResult(w, r, err, "page")
}

func (s *Server) adminResolve(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	err := s.store.ResolveUnmatched(r.Context(), u, chi.URLParam(r, "id"), r.PostFormValue("note"))
	return s.adminResult(w, r, err, "unmatched")
}
