package web

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/outbox"
)

// Fundraisers sign themselves up, confirm their address and reset forgotten passwords
// through emailed links. Neither form ever tells a visitor whether an email address has an
// account: the page is the same, nobody is logged in, and the address itself gets an email
// saying what happened. Only the link in that email logs a new fundraiser in.

// sessionSignedUp marks a browser that has just submitted the sign-up form, so every
// outcome (new account, existing account) answers with the same new session cookie.
const sessionSignedUp = "signed_up"

type accountForm struct {
	Email, DisplayName string
	Errors             map[string]string
	// Problem is the one message at the top of the form: too many attempts, or a summary.
	Problem string
}

func (s *Server) renderAccountPage(w http.ResponseWriter, r *http.Request, status int, page, title string, data map[string]any) {
	w.Header().Set("Cache-Control", "no-store")
	if data == nil {
		data = map[string]any{}
	}
	data["Title"] = title
	data["MinPassword"] = accounts.MinPasswordLen
	if u, ok := currentUser(r); ok {
		data["User"] = u
	}
	s.render(w, r, status, page, data)
}

// site is the public base URL for links in emails.
func (s *Server) site(r *http.Request) string {
	if s.baseURL != nil {
		return strings.TrimSuffix(s.baseURL.String(), "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// hashing waits for a free password-hashing slot (each argon2id hash takes 19 MiB).
func (s *Server) hashing(r *http.Request) (release func(), err error) {
	select {
	case s.auth.checking <- struct{}{}:
		return func() { <-s.auth.checking }, nil
	case <-r.Context().Done():
		return nil, fmt.Errorf("wait to hash a password: %w", errUnavailable)
	}
}

// tooMany fills in the answer to a rate-limited form, or reports false.
func tooMany(w http.ResponseWriter, err error, what string) (string, bool) {
	var tm *accounts.TooManyAttemptsError
	if !errors.As(err, &tm) {
		return "", false
	}
	secs := int(math.Ceil(tm.RetryAfter.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return fmt.Sprintf("Too many attempts to %s. Please wait %s and try again.", what, minutes(secs)), true
}

func parseSmallForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return &campaigns.ValidationError{Fields: map[string]string{"form": "The form could not be read."}}
	}
	return nil
}

// signupPage: GET /signup.
func (s *Server) signupPage(w http.ResponseWriter, r *http.Request) error {
	s.renderAccountPage(w, r, http.StatusOK, "signup.html", "Sign up to fundraise", map[string]any{"Form": accountForm{}})
	return nil
}

// signup: POST /signup creates an unconfirmed fundraiser account and emails the link that
// confirms it, or, when the email has an account already, emails its owner instead.
// Either way it answers 303 to the same page with a new session cookie and nobody logged
// in, so the response does not say which happened.
func (s *Server) signup(w http.ResponseWriter, r *http.Request) error {
	if err := parseSmallForm(w, r); err != nil {
		return err
	}
	f := accountForm{Email: strings.TrimSpace(r.PostForm.Get("email")), DisplayName: strings.TrimSpace(r.PostForm.Get("display_name"))}
	release, err := s.hashing(r)
	if err != nil {
		return err
	}
	err = accounts.SignUp(r.Context(), s.store, accounts.NewFundraiser{Email: f.Email, DisplayName: f.DisplayName,
		Password: r.PostForm.Get("password")}, clientKey(r), s.site(r))
	release()
	var ve *campaigns.ValidationError
	if msg, ok := tooMany(w, err, "sign up"); ok {
		f.Problem = msg
		s.renderAccountPage(w, r, http.StatusTooManyRequests, "signup.html", "Sign up to fundraise", map[string]any{"Form": f})
		return nil
	}
	if errors.As(err, &ve) {
		f.Errors = ve.Fields
		s.renderAccountPage(w, r, http.StatusUnprocessableEntity, "signup.html", "Sign up to fundraise", map[string]any{"Form": f})
		return nil
	}
	if err != nil {
		return err
	}
	ctx := r.Context()
	sm := s.auth.sessions
	// A new session id, and whoever was logged in on this browser is not any more: the
	// answer is the same whatever the email, and only the emailed link logs anyone in.
	if err := sm.RenewToken(ctx); err != nil {
		return fmt.Errorf("renew session: %w", err)
	}
	sm.Put(ctx, sessionSignedUp, true)
	sm.Remove(ctx, sessionUserID)
	sm.Remove(ctx, sessionEpoch)
	http.Redirect(w, r, "/signup/welcome", http.StatusSeeOther)
	return nil
}

// signupWelcome: GET /signup/welcome, after the sign-up form.
func (s *Server) signupWelcome(w http.ResponseWriter, r *http.Request) error {
	s.renderAccountPage(w, r, http.StatusOK, "signup_welcome.html", "Check your email", nil)
	return nil
}

// renderConfirmLink shows the button that confirms an address, or says the link no longer
// works (410). The token is in the URL, so the page is never cached and never sends a
// Referer.
func (s *Server) renderConfirmLink(w http.ResponseWriter, r *http.Request, status int, data map[string]any) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	title := "Confirm your email address"
	if status == http.StatusGone {
		title = "This link no longer works"
	}
	s.renderAccountPage(w, r, status, "signup_confirm.html", title, data)
}

// confirmLinkPage: GET /signup/confirm/{token} only shows a button: mail scanners open
// links to check them, and must not use the link up or log anyone in.
func (s *Server) confirmLinkPage(w http.ResponseWriter, r *http.Request) error {
	u, err := accounts.ConfirmationUser(r.Context(), s.store, chi.URLParam(r, "token"))
	if errors.Is(err, campaigns.ErrNotFound) {
		s.renderConfirmLink(w, r, http.StatusGone, map[string]any{"Invalid": true})
		return nil
	}
	if err != nil {
		return err
	}
	s.renderConfirmLink(w, r, http.StatusOK, map[string]any{"Email": u.Email})
	return nil
}

// confirmEmail: POST /signup/confirm/{token} confirms the address, uses the link up and
// logs the fundraiser in with a new session id, ready to write her page.
func (s *Server) confirmEmail(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u, err := accounts.ConfirmEmail(ctx, s.store, chi.URLParam(r, "token"))
	if errors.Is(err, campaigns.ErrNotFound) {
		s.renderConfirmLink(w, r, http.StatusGone, map[string]any{"Invalid": true})
		return nil
	}
	if err != nil {
		return err
	}
	sm := s.auth.sessions
	// A new session id at log-in: a token planted or seen before cannot ride the log-in.
	if err := sm.RenewToken(ctx); err != nil {
		return fmt.Errorf("renew session: %w", err)
	}
	sm.Put(ctx, sessionUserID, u.ID)
	sm.Put(ctx, sessionEpoch, u.SessionEpoch)
	s.log.Info("fundraiser confirmed email", "user", u.ID)
	next := homeFor(u)
	if u.Role == accounts.RoleFundraiser {
		next = "/fundraise/new"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// resetPage: GET /reset asks for the email address; ?sent=1 says the email is on its way,
// ?done=1 that the password has been changed.
func (s *Server) resetPage(w http.ResponseWriter, r *http.Request) error {
	home := "/"
	if u, ok := currentUser(r); ok {
		home = homeFor(u)
	}
	s.renderAccountPage(w, r, http.StatusOK, "reset.html", "Reset your password", map[string]any{"Form": accountForm{},
		"Sent": r.URL.Query().Get("sent") == "1", "Done": r.URL.Query().Get("done") == "1", "Home": home})
	return nil
}

// resetRequest: POST /reset emails a reset link when the address has an account; the
// answer is the same either way.
func (s *Server) resetRequest(w http.ResponseWriter, r *http.Request) error {
	if err := parseSmallForm(w, r); err != nil {
		return err
	}
	f := accountForm{Email: strings.TrimSpace(r.PostForm.Get("email"))}
	err := accounts.RequestPasswordReset(r.Context(), s.store, f.Email, clientKey(r), s.site(r))
	var ve *campaigns.ValidationError
	if msg, ok := tooMany(w, err, "reset a password"); ok {
		f.Problem = msg
		s.renderAccountPage(w, r, http.StatusTooManyRequests, "reset.html", "Reset your password", map[string]any{"Form": f})
		return nil
	}
	if errors.As(err, &ve) {
		f.Errors = ve.Fields
		s.renderAccountPage(w, r, http.StatusUnprocessableEntity, "reset.html", "Reset your password", map[string]any{"Form": f})
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/reset?sent=1", http.StatusSeeOther)
	return nil
}

// renderResetLink shows the new-password form for a reset link, or says the link no
// longer works (410). The token is in the URL, so the page is never cached and never
// sends a Referer.
func (s *Server) renderResetLink(w http.ResponseWriter, r *http.Request, status int, data map[string]any) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.renderAccountPage(w, r, status, "reset_password.html", "Choose a new password", data)
}

// resetLinkPage: GET /reset/{token}.
func (s *Server) resetLinkPage(w http.ResponseWriter, r *http.Request) error {
	u, err := accounts.PasswordResetUser(r.Context(), s.store, chi.URLParam(r, "token"))
	if errors.Is(err, campaigns.ErrNotFound) {
		s.renderResetLink(w, r, http.StatusGone, map[string]any{"Invalid": true})
		return nil
	}
	if err != nil {
		return err
	}
	s.renderResetLink(w, r, http.StatusOK, map[string]any{"Email": u.Email, "Form": accountForm{}})
	return nil
}

// resetWithLink: POST /reset/{token} sets the new password, ends every session of the
// account and logs this browser in.
func (s *Server) resetWithLink(w http.ResponseWriter, r *http.Request) error {
	if err := parseSmallForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	token := chi.URLParam(r, "token")
	release, err := s.hashing(r)
	if err != nil {
		return err
	}
	u, err := accounts.ResetPassword(ctx, s.store, token, r.PostForm.Get("password"), clientKey(r), s.site(r))
	release()
	var ve *campaigns.ValidationError
	if msg, ok := tooMany(w, err, "reset a password"); ok {
		s.renderResetLink(w, r, http.StatusTooManyRequests, map[string]any{"Form": accountForm{Problem: msg}})
		return nil
	}
	switch {
	case errors.Is(err, campaigns.ErrNotFound):
		s.renderResetLink(w, r, http.StatusGone, map[string]any{"Invalid": true})
		return nil
	case errors.As(err, &ve):
		owner, lookErr := accounts.PasswordResetUser(ctx, s.store, token)
		if errors.Is(lookErr, campaigns.ErrNotFound) {
			s.renderResetLink(w, r, http.StatusGone, map[string]any{"Invalid": true})
			return nil
		}
		if lookErr != nil {
			return lookErr
		}
		s.renderResetLink(w, r, http.StatusUnprocessableEntity, map[string]any{"Email": owner.Email, "Form": accountForm{Errors: ve.Fields}})
		return nil
	case err != nil:
		return err
	}
	sm := s.auth.sessions
	if err := sm.RenewToken(ctx); err != nil {
		return fmt.Errorf("renew session: %w", err)
	}
	sm.Put(ctx, sessionUserID, u.ID)
	sm.Put(ctx, sessionEpoch, u.SessionEpoch)
	s.log.Info("password reset", "user", u.ID)
	http.Redirect(w, r, "/reset?done=1", http.StatusSeeOther)
	return nil
}

// outboxLine is a line of an email body on /dev/outbox; links to this site are clickable.
type outboxLine struct {
	Text string
	Link bool
}

// devOutbox: GET /dev/outbox, only without SMTP_URL: the mail the service has "sent", so a
// developer can follow a reset link.
func (s *Server) devOutbox(w http.ResponseWriter, r *http.Request) error {
	mails, err := outbox.Outbox(r.Context(), s.store, 100)
	if err != nil {
		return err
	}
	site := s.site(r)
	type item struct {
		outbox.OutboxMail
		Lines []outboxLine
	}
	items := make([]item, len(mails))
	for i, m := range mails {
		items[i].OutboxMail = m
		for _, line := range strings.Split(m.Body, "\n") {
			t := strings.TrimSpace(line)
			if strings.HasPrefix(t, site+"/") && !strings.ContainsAny(t, " \t") {
				items[i].Lines = append(items[i].Lines, outboxLine{Text: t, Link: true})
			} else {
				items[i].Lines = append(items[i].Lines, outboxLine{Text: line})
			}
		}
	}
	s.renderAccountPage(w, r, http.StatusOK, "outbox.html", "Outbox (development)", map[string]any{"Mails": items})
	return nil
}

// devOutboxHTML: GET /dev/outbox/{id}/html, the HTML part of one message as a mail client
// would show it, on its own: sandboxed (no scripts, no forms, its own origin), nothing
// fetched (its styles are inline), never framed.
func (s *Server) devOutboxHTML(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return fmt.Errorf("outbox id %q: %w", chi.URLParam(r, "id"), campaigns.ErrNotFound)
	}
	page, err := outbox.OutboxHTML(r.Context(), s.store, id)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox allow-popups allow-popups-to-escape-sandbox; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("Cache-Control", "no-store")
	_, err = io.WriteString(w, page)
	return err
}
