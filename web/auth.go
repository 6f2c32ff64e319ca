package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
)

// Session keys. The session holds only the account id and the epoch it began in; the
// account itself (role, disabled) is read fresh on every request, so a change takes
// effect at once.
const (
	sessionUserID = "user_id"
	sessionEpoch  = "epoch"
)

// auth is the log-in machinery: sessions stored in PostgreSQL, so any instance serves any
// request, and a bound on concurrent password checks.
type auth struct {
	sessions *scs.SessionManager
	// Each argon2id check takes 19 MiB; this bounds how many run at once per instance, so a
	// flood of log-ins cannot exhaust memory.
	checking chan struct{}
}

func newAuth(d Deps) *auth {
	sm := scs.New()
	if d.Store != nil {
		// No background clean-up goroutine: expired rows are pruned at each log-in.
		sm.Store = pgxstore.NewWithCleanupInterval(d.Store.Pool(), 0)
	}
	sm.Cookie.Name = "giving_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Path = "/"
	sm.Cookie.Secure = d.BaseURL != nil && d.BaseURL.Scheme == "https"
	sm.IdleTimeout = 30 * time.Minute
	sm.Lifetime = 12 * time.Hour
	log := d.Log
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		// The session store is the database: when it cannot answer, say so plainly.
		status := statusOf(err)
		if log != nil {
			log.Error("session store", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		}
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "5")
		}
		http.Error(w, errorMessages[status], status)
	}
	return &auth{sessions: sm, checking: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
}

type userKey struct{}

// currentUser is the logged-in account making the request, if any.
func currentUser(r *http.Request) (accounts.User, bool) {
	u, ok := r.Context().Value(userKey{}).(accounts.User)
	return u, ok
}

// session loads the visitor's session and, when it belongs to an account that is still
// enabled and has not logged out everywhere since, makes that account the current user.
// Visitors without a session cookie cost nothing: no session is stored for them.
func (s *Server) session(next http.Handler) http.Handler {
	sm := s.auth.sessions
	return sm.LoadAndSave(s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id := sm.GetInt64(ctx, sessionUserID)
		if id == 0 {
			next.ServeHTTP(w, r)
			return nil
		}
		u, err := accounts.UserByID(ctx, s.store, id)
		if err != nil && !errors.Is(err, campaigns.ErrNotFound) {
			return err
		}
		// An unconfirmed account never has a session; refusing one anyway keeps it that way.
		if err != nil || u.Disabled || !u.EmailConfirmed || u.SessionEpoch != sm.GetInt64(ctx, sessionEpoch) {
			if err := sm.Destroy(ctx); err != nil {
				return fmt.Errorf("end stale session: %w", err)
			}
			next.ServeHTTP(w, r)
			return nil
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, userKey{}, u)))
		return nil
	}))
}

// requireRole lets through a logged-in user with one of roles (any role when none is
// named). A logged-out browser is sent to log in (303), coming back here afterwards when
// the request was a GET; a logged-in user without the role gets 403.
func (s *Server) requireRole(roles ...accounts.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return s.wrap(func(w http.ResponseWriter, r *http.Request) error {
			// Pages behind a log-in must not linger in a shared computer's cache.
			w.Header().Set("Cache-Control", "no-store")
			u, ok := currentUser(r)
			if !ok {
				target := "/login"
				if r.Method == http.MethodGet || r.Method == http.MethodHead {
					target += "?next=" + url.QueryEscape(r.URL.RequestURI())
				}
				http.Redirect(w, r, target, http.StatusSeeOther)
				return nil
			}
			allowed := len(roles) == 0
			for _, role := range roles {
				allowed = allowed || u.Role == role
			}
			if !allowed {
				return fmt.Errorf("%s may not %s %s: %w", u.Role, r.Method, r.URL.Path, campaigns.ErrForbidden)
			}
			next.ServeHTTP(w, r)
			return nil
		})
	}
}

// localPath accepts only a path on this site as a place to return to after log-in, so the
// log-in page cannot be used to bounce people to another site.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.ContainsAny(next, "\r\n") {
		return ""
	}
	return next
}

// homeFor is where a user lands after logging in without a page to return to.
func homeFor(u accounts.User) string {
	if u.CanRead() {
		return "/trustees"
	}
	if u.Role == accounts.RoleFundraiser {
		return "/fundraise"
	}
	return "/"
}

type loginView struct {
	Email, Next, Error, Notice string
}

// loginFailed is the one answer to every refused log-in, wrong password or unconfirmed
// address alike.
const loginFailed = "Email or password is incorrect, or the address is not confirmed yet. " +
	"If you have just signed up, open the link in the email we sent you."

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, v loginView) {
	w.Header().Set("Cache-Control", "no-store")
	data := map[string]any{"Title": "Log in", "Login": v}
	if u, ok := currentUser(r); ok {
		data["User"] = u
	}
	s.render(w, r, status, "login.html", data)
}

// loginPage: GET /login.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	v := loginView{Next: localPath(r.URL.Query().Get("next"))}
	switch r.URL.Query().Get("logged_out") {
	case "1":
		v.Notice = "You have logged out."
	case "everywhere":
		v.Notice = "You have logged out on every device."
	}
	s.renderLogin(w, r, http.StatusOK, v)
	return nil
}

// login: POST /login. Every failure has the same answer, so the page never tells whether
// an email has an account; too many failures answer 429 until the window has passed, by
// the rules of campaigns/lockout.go (a browser with the account's device cookie, or an
// address without failures, is not stopped by others' failures). The right password for an account whose address is
// not confirmed logs nobody in, answers as a wrong one and emails the confirmation link again.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return &campaigns.ValidationError{Fields: map[string]string{"form": "The form could not be read."}}
	}
	v := loginView{Email: strings.TrimSpace(r.PostForm.Get("email")), Next: localPath(r.PostForm.Get("next"))}
	password := r.PostForm.Get("password")
	if v.Email == "" || password == "" {
		v.Error = "Enter your email address and password."
		s.renderLogin(w, r, http.StatusUnprocessableEntity, v)
		return nil
	}
	ctx := r.Context()
	select {
	case s.auth.checking <- struct{}{}:
		defer func() { <-s.auth.checking }()
	case <-ctx.Done():
		return fmt.Errorf("wait to check a password: %w", errUnavailable)
	}
	in, err := accounts.LogInFrom(ctx, s.store, accounts.LogInRequest{Email: v.Email, Password: password,
		Client: clientKey(r), Device: deviceCookie(r), Site: s.site(r)})
	u := in.User
	var tooMany *accounts.TooManyAttemptsError
	switch {
	case errors.As(err, &tooMany):
		secs := int(math.Ceil(tooMany.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		v.Error = fmt.Sprintf("Too many attempts to log in. Please wait %s and try again.", minutes(secs))
		s.renderLogin(w, r, http.StatusTooManyRequests, v)
		return nil
	case errors.Is(err, accounts.ErrBadCredentials), errors.Is(err, accounts.ErrEmailUnconfirmed):
		// An unconfirmed account with the right password gets the very same answer (the
		// link is mailed again behind it): anything else would tell someone who signed up
		// with another person's address whether that address already had an account.
		v.Error = loginFailed
		s.renderLogin(w, r, http.StatusUnprocessableEntity, v)
		return nil
	case err != nil:
		return err
	}
	if needsSecondStep(u) {
		return s.startSecondStep(w, r, u, v.Next)
	}
	// A new session id at log-in: a token planted or seen before cannot ride the log-in.
	sm := s.auth.sessions
	if err := sm.RenewToken(ctx); err != nil {
		return fmt.Errorf("renew session: %w", err)
	}
	sm.Put(ctx, sessionUserID, u.ID)
	sm.Put(ctx, sessionEpoch, u.SessionEpoch)
	s.setDeviceCookie(w, in.Device)
	s.log.Info("logged in", "user", u.ID, "role", u.Role)
	next := v.Next
	if next == "" {
		next = homeFor(u)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func minutes(secs int) string {
	if m := (secs + 59) / 60; m > 1 {
		return fmt.Sprintf("%d minutes", m)
	}
	return "a minute"
}

// logout: POST /logout ends this session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if u, ok := currentUser(r); ok {
		// The session's row goes with its audit row; Destroy then clears the cookie.
		if err := accounts.LogOut(ctx, s.store, u, s.auth.sessions.Token(ctx)); err != nil {
			return err
		}
	}
	if err := s.auth.sessions.Destroy(ctx); err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	http.Redirect(w, r, "/login?logged_out=1", http.StatusSeeOther)
	return nil
}

// logoutEverywhere: POST /logout-everywhere ends every session of the account, on every
// device, by moving it to a new session epoch.
func (s *Server) logoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	u, ok := currentUser(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	ctx := r.Context()
	if err := accounts.EndAllSessions(ctx, s.store, u); err != nil {
		return err
	}
	if err := s.auth.sessions.Destroy(ctx); err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	s.log.Info("logged out everywhere", slog.Int64("user", u.ID))
	http.Redirect(w, r, "/login?logged_out=everywhere", http.StatusSeeOther)
	return nil
}

// auditPage: GET /trustees/audit?who=&what=, the most recent entries of the audit log,
// filtered by who acted and what they did, naming things as people know them.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) error {
	f := audit.Filter{Actor: strings.TrimSpace(r.URL.Query().Get("who")), Action: strings.TrimSpace(r.URL.Query().Get("what"))}
	entries, choices, err := audit.ReadLog(r.Context(), s.store.Pool(), f, 200)
	if err != nil {
		return err
	}
	u, _ := currentUser(r)
	s.render(w, r, http.StatusOK, "audit.html", map[string]any{"Title": "Audit log", "User": u, "Entries": entries,
		"Filter": f, "Choices": choices})
	return nil
}
