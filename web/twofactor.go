package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"image/png"
	"net/http"
	"strings"
	"time"

	"github.com/pquerna/otp"

	"giving/campaigns"
	"giving/campaigns/accounts"
)

// Two-factor sign-in (campaigns/twofactor.go): an account that has enrolled logs in with
// its password, then a code from its authenticator app or a recovery code. The password
// step (auth.go) leaves only a pending log-in in the session; the account is logged in here.
// With REQUIRE_2FA_FOR naming its role, an account without two-factor is sent to enrol
// before anything else.

// Session keys of a log-in waiting for its second step, and of an enrolment in progress.
const (
	sessionPendingUser  = "pending_user_id"
	sessionPendingEpoch = "pending_epoch"
	sessionPendingNext  = "pending_next"
	sessionPendingTries = "pending_tries"
	sessionEnrolSecret  = "totp_enrol_secret"
	sessionEnrolURL     = "totp_enrol_url"
)

// maxCodeTries wrong codes end the pending log-in: the password must be typed again, and
// that is rate limited, so codes cannot be guessed faster than passwords.
const maxCodeTries = 5

// needsSecondStep: the account has enrolled in two-factor sign-in.
func needsSecondStep(u accounts.User) bool { return u.TwoFactor }

// startSecondStep is called once the password was right for an account with two-factor
// sign-in: the session (under a new id) holds the pending log-in, and the browser is
// sent to type its code.
func (s *Server) startSecondStep(w http.ResponseWriter, r *http.Request, u accounts.User, next string) error {
	sm, ctx := s.auth.sessions, r.Context()
	if err := sm.RenewToken(ctx); err != nil {
		return fmt.Errorf("renew session: %w", err)
	}
	sm.Remove(ctx, sessionUserID)
	sm.Put(ctx, sessionPendingUser, u.ID)
	sm.Put(ctx, sessionPendingEpoch, u.SessionEpoch)
	sm.Put(ctx, sessionPendingNext, next)
	sm.Put(ctx, sessionPendingTries, 0)
	http.Redirect(w, r, "/login/code", http.StatusSeeOther)
	return nil
}

func (s *Server) endPending(r *http.Request) {
	sm, ctx := s.auth.sessions, r.Context()
	for _, k := range []string{sessionPendingUser, sessionPendingEpoch, sessionPendingNext, sessionPendingTries} {
		sm.Remove(ctx, k)
	}
}

type codeView struct{ Error string }

func (s *Server) renderCode(w http.ResponseWriter, r *http.Request, status int, v codeView) {
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, status, "login_code.html", map[string]any{"Title": "Enter your code", "Code": v})
}

// pendingUser is the account whose password was right in this session, still enabled and
// in the same session epoch; false when there is none.
func (s *Server) pendingUser(r *http.Request) (accounts.User, bool, error) {
	sm, ctx := s.auth.sessions, r.Context()
	id := sm.GetInt64(ctx, sessionPendingUser)
	if id == 0 {
		return accounts.User{}, false, nil
	}
	u, err := accounts.UserByID(ctx, s.store, id)
	if errors.Is(err, campaigns.ErrNotFound) {
		return accounts.User{}, false, nil
	}
	if err != nil {
		return accounts.User{}, false, err
	}
	if u.Disabled || !u.TwoFactor || u.SessionEpoch != sm.GetInt64(ctx, sessionPendingEpoch) {
		return accounts.User{}, false, nil
	}
	return u, true, nil
}

// codePage: GET /login/code.
func (s *Server) codePage(w http.ResponseWriter, r *http.Request) error {
	if _, ok, err := s.pendingUser(r); err != nil || !ok {
		if err == nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		}
		return err
	}
	s.renderCode(w, r, http.StatusOK, codeView{})
	return nil
}

// checkCode: POST /login/code logs the pending account in when the code is right.
func (s *Server) checkCode(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderCode(w, r, http.StatusUnprocessableEntity, codeView{Error: "The form could not be read. Please try again."})
		return nil
	}
	u, ok, err := s.pendingUser(r)
	if err != nil {
		return err
	}
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	sm, ctx := s.auth.sessions, r.Context()
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if code == "" {
		s.renderCode(w, r, http.StatusUnprocessableEntity, codeView{Error: "Enter the 6-digit code from your authenticator app, or a recovery code."})
		return nil
	}
	recovery, err := accounts.CheckSecondFactor(ctx, s.store, u, code, s.now())
	if errors.Is(err, accounts.ErrWrongCode) {
		tries := sm.GetInt(ctx, sessionPendingTries) + 1
		if tries >= maxCodeTries {
			s.endPending(r)
			s.renderLogin(w, r, http.StatusUnprocessableEntity, loginView{Email: u.Email, Next: sm.GetString(ctx, sessionPendingNext),
				Error: "Too many wrong codes. Log in again with your password, then type the code your app shows."})
			return nil
		}
		sm.Put(ctx, sessionPendingTries, tries)
		s.renderCode(w, r, http.StatusUnprocessableEntity, codeView{Error: "That code is not right, or was already used. Type the 6 digits your app shows now, or an unused recovery code."})
		return nil
	}
	if err != nil {
		return err
	}
	next := sm.GetString(ctx, sessionPendingNext)
	s.endPending(r)
	if err := sm.RenewToken(ctx); err != nil {
		return fmt.Errorf("renew session: %w", err)
	}
	sm.Put(ctx, sessionUserID, u.ID)
	sm.Put(ctx, sessionEpoch, u.SessionEpoch)
	s.log.Info("logged in", "user", u.ID, "role", u.Role, "second_factor", map[bool]string{true: "recovery code", false: "authenticator"}[recovery])
	if next == "" {
		next = homeFor(u)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// mustEnrol: REQUIRE_2FA_FOR names u's role and u has not enrolled yet.
func (s *Server) mustEnrol(u accounts.User) bool {
	if u.TwoFactor {
		return false
	}
	for _, role := range s.deps.Require2FA {
		if u.Role == role {
			return true
		}
	}
	return false
}

// requireTwoFactor sends a logged-in account that must enrol to the enrolment page, from
// everywhere but that page and logging out.
func (s *Server) requireTwoFactor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := currentUser(r)
		if ok && s.mustEnrol(u) {
			switch r.URL.Path {
			case "/account/two-factor", "/logout", "/logout-everywhere":
			default:
				w.Header().Set("Cache-Control", "no-store")
				http.Redirect(w, r, "/account/two-factor", http.StatusSeeOther)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

type enrolView struct {
	QR     template.URL
	Secret string
	Errors map[string]string
	Codes  []string
	Left   int64
	Must   bool
}

func (s *Server) renderEnrol(w http.ResponseWriter, r *http.Request, status int, v enrolView) {
	u, _ := currentUser(r)
	w.Header().Set("Cache-Control", "no-store")
	v.Must = s.mustEnrol(u)
	s.render(w, r, status, "two_factor.html", map[string]any{"Title": "Two-factor sign-in", "User": u, "Enrol": v})
}

// twoFactorPage: GET /account/two-factor shows whether two-factor sign-in is on, or a new
// secret to add to an authenticator app (as a QR code and as text), kept in the session
// until a code from it confirms it.
func (s *Server) twoFactorPage(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	if u.TwoFactor {
		left, err := accounts.RecoveryCodesLeft(r.Context(), s.store, u)
		if err != nil {
			return err
		}
		s.renderEnrol(w, r, http.StatusOK, enrolView{Left: left})
		return nil
	}
	k, err := accounts.NewTOTPKey(u)
	if err != nil {
		return err
	}
	sm := s.auth.sessions
	sm.Put(r.Context(), sessionEnrolSecret, k.Secret())
	sm.Put(r.Context(), sessionEnrolURL, k.URL())
	v, err := enrolmentView(k.Secret(), k.URL())
	if err != nil {
		return err
	}
	s.renderEnrol(w, r, http.StatusOK, v)
	return nil
}

// enrolmentView draws the otpauth:// URL as a QR code, inline (the page's CSP allows
// data: images only), and spaces the secret in groups of four for typing.
func enrolmentView(secret, otpURL string) (enrolView, error) {
	k, err := otpKeyFromURL(otpURL)
	if err != nil {
		return enrolView{}, err
	}
	img, err := k.Image(220, 220)
	if err != nil {
		return enrolView{}, fmt.Errorf("two-factor QR code: %w", err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return enrolView{}, fmt.Errorf("two-factor QR code: %w", err)
	}
	var groups []string
	for i := 0; i < len(secret); i += 4 {
		groups = append(groups, secret[i:min(i+4, len(secret))])
	}
	return enrolView{QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())),
		Secret: strings.Join(groups, " ")}, nil
}

// confirmTwoFactor: POST /account/two-factor turns two-factor sign-in on when the code is
// the one the secret shown gives now, and shows the ten recovery codes, once.
func (s *Server) confirmTwoFactor(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		return &campaigns.ValidationError{Fields: map[string]string{"code": "The form could not be read."}}
	}
	sm, ctx := s.auth.sessions, r.Context()
	secret, otpURL := sm.GetString(ctx, sessionEnrolSecret), sm.GetString(ctx, sessionEnrolURL)
	if u.TwoFactor || secret == "" {
		http.Redirect(w, r, "/account/two-factor", http.StatusSeeOther)
		return nil
	}
	codes, err := accounts.EnableTwoFactor(ctx, s.store, u, secret, r.PostForm.Get("code"), s.now())
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		v, verr := enrolmentView(secret, otpURL)
		if verr != nil {
			return verr
		}
		v.Errors = ve.Fields
		s.renderEnrol(w, r, http.StatusUnprocessableEntity, v)
		return nil
	}
	if err != nil {
		return err
	}
	sm.Remove(ctx, sessionEnrolSecret)
	sm.Remove(ctx, sessionEnrolURL)
	s.log.Info("two-factor enrolled", "user", u.ID)
	u.TwoFactor = true
	r = r.WithContext(contextWithUser(ctx, u))
	s.renderEnrol(w, r, http.StatusOK, enrolView{Codes: codes, Left: int64(len(codes))})
	return nil
}

func otpKeyFromURL(u string) (*otp.Key, error) {
	k, err := otp.NewKeyFromURL(u)
	if err != nil {
		return nil, fmt.Errorf("two-factor key: %w", err)
	}
	return k, nil
}

func contextWithUser(ctx context.Context, u accounts.User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// now is the clock two-factor codes are checked against: the store's.
func (s *Server) now() time.Time { return s.store.Now() }
