package web

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"giving/campaigns/appeals"
	"giving/campaigns/donations"
	"giving/campaigns/pages"
)

// hideMessage is POST /fundraise/gifts/{donation}/message (the page's owner, from her
// dashboard) and POST /trustees/messages/{donation} (a trustee or an admin, from a page's
// preview): hidden=1 hides the supporter's message from the public walls, hidden=0 shows it
// again. Another fundraiser's gift is a 404 (pages.SetMessageHidden).
func (s *Server) hideMessage(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		return err
	}
	u, _ := currentUser(r)
	hidden := r.PostForm.Get("hidden") == "1"
	id := chi.URLParam(r, "donation")
	if err := pages.SetMessageHidden(r.Context(), s.store, u, id, hidden); err != nil {
		return err
	}
	// The appeal's list of supporters is cached: this instance shows the change at once.
	if d, err := donations.Lookup(r.Context(), s.store, donations.DonationLookup{ID: id}); err == nil {
		if a, err := appeals.AppealByID(r.Context(), s.store, d.AppealID); err == nil {
			s.cache.forget("appeal:" + a.Slug)
		}
	}
	done := "shown"
	if hidden {
		done = "hidden"
	}
	back := "/fundraise"
	// A trustee goes back to the page she was moderating: only a page of this site.
	if b := r.PostForm.Get("back"); u.CanRead() && strings.HasPrefix(b, "/f/") && !strings.ContainsAny(b, "?#\\") {
		back = b
	} else if u.CanRead() {
		back = "/trustees"
	}
	http.Redirect(w, r, back+"?done="+done, http.StatusSeeOther)
	return nil
}

// pageMessages is what a trustee or an admin moderates on a page's preview: every message
// left with a gift to it, hidden ones included; nil for anyone else.
func (s *Server) pageMessages(r *http.Request, fundraiserID int64) ([]pages.Message, error) {
	u, ok := currentUser(r)
	if !ok || !u.CanRead() {
		return nil, nil
	}
	return pages.PageMessages(r.Context(), s.store, u, fundraiserID, 200)
}
