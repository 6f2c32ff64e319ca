package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/donations"
)

// The thank-you and cancelled pages show a donation only to the browser that made it. That
// browser holds a random secret in a cookie (giverCookieName); the donation keeps the
// secret's SHA-256 (campaigns/giver.go). The links themselves (a checkout session id, a
// donation id) prove nothing: they pass through Stripe, browser history and, for the
// donation id, a fundraiser's dashboard. Anyone without the secret gets a generic page.
const (
	giverCookieName = "giving_giver"
	// giverLifetime outlasts a Stripe Checkout Session (24 hours by default), so a donor
	// who pays at the last moment still sees their thank-you.
	giverLifetime = 25 * time.Hour
)

// giverHash is the stored form of a cookie's secret, or nil for anything that is not one.
func giverHash(secret string) []byte {
	raw, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(raw) != 32 {
		return nil
	}
	sum := sha256.Sum256(raw)
	return sum[:]
}

// giverSecret is this browser's giver secret, made now if it has none; either way the
// cookie is (re)set to last giverLifetime from this gift. It returns the secret's hash.
func (s *Server) giverSecret(w http.ResponseWriter, r *http.Request) []byte {
	secret := ""
	if c, err := r.Cookie(giverCookieName); err == nil && giverHash(c.Value) != nil {
		secret = c.Value
	} else {
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		secret = base64.RawURLEncoding.EncodeToString(raw)
	}
	// Lax, not Strict: the donor comes back from Stripe by a top-level link to this site.
	http.SetCookie(w, &http.Cookie{Name: giverCookieName, Value: secret, Path: "/", MaxAge: int(giverLifetime.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.baseURL != nil && s.baseURL.Scheme == "https"})
	return giverHash(secret)
}

// isGiver reports whether this browser made the donation with id donationID.
func (s *Server) isGiver(r *http.Request, donationID string) (bool, error) {
	c, err := r.Cookie(giverCookieName)
	if err != nil {
		return false, nil
	}
	mine := giverHash(c.Value)
	if mine == nil {
		return false, nil
	}
	stored, err := donations.GiverHash(r.Context(), s.store, donationID)
	if errors.Is(err, campaigns.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return len(stored) == len(mine) && subtle.ConstantTimeCompare(stored, mine) == 1, nil
}

// anyonesThanks is the thank-you page for a browser that did not make the donation named
// (or for a link naming none): it says nothing about any gift.
func (s *Server) anyonesThanks(w http.ResponseWriter, r *http.Request) error {
	a, err := appeals.AppealBySlug(r.Context(), s.store, appeals.DefaultAppealSlug)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "thanks.html", map[string]any{"Title": "Thank you", "Appeal": a})
	return nil
}

// anyonesCancelled is the cancelled page for a browser that did not make the donation
// named: the appeal with a fresh form, and nothing of anyone's choices.
func (s *Server) anyonesCancelled(w http.ResponseWriter, r *http.Request) error {
	p, err := s.donationTarget(r.Context(), "", "")
	if err != nil {
		return err
	}
	noStore(w)
	return s.renderDonatePage(w, r, http.StatusOK, p, blankForm(""), "If you cancelled a payment, nothing was charged.")
}
