package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
)

// How log-in, sign-up and reset are limited, so that guessing stays slow and nobody can
// lock an account's owner out (OWASP's "device cookies", with an allowance for addresses
// that have not failed):
//
//   - Only failed log-ins count against log-in. A client address with MaxLoginFailures
//     failures in LoginWindow, whatever the emails, is refused.
//   - A browser holding a device cookie for the account (set at each successful log-in,
//     DeviceLifetime) is judged only by the failures made with that cookie.
//   - Without one, an email with MaxLoginFailures failures refuses the addresses that have
//     failed in the window, but an address with no failures may still try: the owner at
//     home gets in, each stranger's address gets one guess. Past LockoutCap failures for
//     the email, only a device cookie (or an emailed reset link) gets in.
//   - Sign-up and reset requests have their own per-address limit (MaxLoginFailures in
//     LoginWindow), never touch log-in's, and send an address at most one email of each
//     kind per LoginWindow; a further request answers the same and sends nothing.
const (
	LockoutCap     = 10 * MaxLoginFailures
	DeviceLifetime = 180 * 24 * time.Hour
)

// Kinds of rows in login_attempts.
const (
	attemptLogin  = "login"
	attemptSignup = "signup"
	attemptReset  = "reset"
)

// LogInRequest is one log-in: the form, the client address it came from (the rate-limit
// key), the browser's device cookie if any, and the public base URL for emailed links.
type LogInRequest struct {
	Email, Password, Client, Device, Site string
}

// LoggedIn is a successful log-in: the account, and the device cookie to give the browser.
type LoggedIn struct {
	User   User
	Device string
}

func deviceHash(token string) []byte {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 32 {
		return nil
	}
	sum := sha256.Sum256(raw)
	return sum[:]
}

// LogInFrom is Authenticate under the log-in limits above, recording the outcome: a failure
// stays counted for LoginWindow; a success forgives the email's failures from this device (or,
// without one, from this address), writes "login" to
// the audit log and hands out a new device cookie in place of the one presented. The right
// password for an account whose address is not confirmed emails a new confirmation link
// and answers ErrEmailUnconfirmed; the attempt stays counted, so a known password cannot
// flood the inbox. It answers ErrBadCredentials, ErrEmailUnconfirmed,
// *TooManyAttemptsError, or an internal error.
func LogInFrom(ctx context.Context, s *campaigns.Store, req LogInRequest) (LoggedIn, error) {
	email := NormalizeEmail(req.Email)
	if len(email) > 254 {
		email = email[:254] // recorded for the limit only
	}
	if err := pruneAccounts(ctx, s); err != nil {
		return LoggedIn{}, err
	}
	q := dbq.New(s.Pool())
	var device []byte
	if h := deviceHash(req.Device); h != nil {
		_, err := q.DeviceUser(ctx, dbq.DeviceUserParams{TokenHash: h, Email: email})
		switch {
		case err == nil:
			device = h
		case !errors.Is(err, pgx.ErrNoRows):
			return LoggedIn{}, fmt.Errorf("log in: device cookie: %w", err)
		}
	}
	// The attempt is recorded before the password is checked, so concurrent guesses count
	// against each other and a burst cannot slip more than the limit past the check.
	attempt, err := q.RecordAttempt(ctx, dbq.RecordAttemptParams{Kind: attemptLogin, Email: email, Client: req.Client, Device: device})
	if err != nil {
		return LoggedIn{}, fmt.Errorf("log in: record attempt: %w", err)
	}
	p, err := q.LoginPressure(ctx, dbq.LoginPressureParams{Client: req.Client, ID: attempt, TimeWindow: LoginWindow,
		MaxFailuresOffset: MaxLoginFailures - 1, Email: email, CapOffset: LockoutCap - 1, Device: device})
	if err != nil {
		return LoggedIn{}, fmt.Errorf("log in: count attempts: %w", err)
	}
	if lifts, refused := loginRefused(p, device != nil); refused {
		// Refused unchecked, so it is not a failure: waiting out the window is enough.
		if err := q.ForgetAttempt(ctx, attempt); err != nil {
			return LoggedIn{}, fmt.Errorf("log in: forget refused attempt: %w", err)
		}
		return LoggedIn{}, &TooManyAttemptsError{RetryAfter: max(lifts.Sub(p.Now), time.Second)}
	}
	u, err := Authenticate(ctx, s, email, req.Password)
	if errors.Is(err, ErrEmailUnconfirmed) {
		if err := sendConfirmationAgain(ctx, s, u, req.Site); err != nil {
			return LoggedIn{}, fmt.Errorf("log in: %w", err)
		}
		return LoggedIn{}, ErrEmailUnconfirmed
	}
	if err != nil {
		return LoggedIn{}, err // the attempt stays recorded as a failure
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return LoggedIn{}, fmt.Errorf("log in: device cookie: %w", err)
	}
	sum := sha256.Sum256(raw)
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := q.ForgiveLogins(ctx, dbq.ForgiveLoginsParams{ID: attempt, Email: email, Client: req.Client, Device: device}); err != nil {
			return err
		}
		if err := q.DropDevice(ctx, dbq.DropDeviceParams{TokenHash: device, UserID: u.ID}); err != nil {
			return err
		}
		if err := q.AddDevice(ctx, dbq.AddDeviceParams{TokenHash: sum[:], UserID: u.ID, Lifetime: DeviceLifetime}); err != nil {
			return err
		}
		return audit.Write(ctx, tx, u, "login", "")
	})
	if err != nil {
		return LoggedIn{}, fmt.Errorf("log in: %w", err)
	}
	return LoggedIn{User: u, Device: base64.RawURLEncoding.EncodeToString(raw)}, nil
}

// loginRefused decides an attempt from the times LoginPressure found, and says when the
// refusal lifts: when the failure that makes each reason true leaves the window.
func loginRefused(p dbq.LoginPressureRow, withDevice bool) (lifts time.Time, refused bool) {
	since := p.Now.Add(-LoginWindow)
	in := func(t time.Time) bool { return t.After(since) }
	refuse := func(t time.Time) {
		refused = true
		if end := t.Add(LoginWindow); end.After(lifts) {
			lifts = end
		}
	}
	if withDevice {
		// This browser has logged in to the account before: only its own failures count.
		if in(p.DeviceNth) {
			refuse(p.DeviceNth)
		}
		return lifts, refused
	}
	if in(p.ClientNth) {
		refuse(p.ClientNth) // this address has failed too often, whatever the emails
	}
	if in(p.EmailCap) {
		refuse(p.EmailCap) // so many guesses at one account that only its devices get in
	}
	if in(p.EmailNth) && in(p.ClientLast) {
		// The account is under attack and this address has failed: it lifts when either
		// the account's failures or this address's fall out of the window.
		refuse(earliest(p.EmailNth, p.ClientLast))
	}
	return lifts, refused
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// countRequest records a sign-up or reset request (kind) from client under that kind's own
// limit, MaxLoginFailures a LoginWindow per client address, and returns its id, or
// *TooManyAttemptsError (the request is then forgotten).
func countRequest(ctx context.Context, s *campaigns.Store, kind, email, client string) (int64, error) {
	q := dbq.New(s.Pool())
	id, err := q.RecordAttempt(ctx, dbq.RecordAttemptParams{Kind: kind, Email: email, Client: client})
	if err != nil {
		return 0, fmt.Errorf("%s: record request: %w", kind, err)
	}
	p, err := q.RequestPressure(ctx, dbq.RequestPressureParams{Kind: kind, Client: client, ID: id,
		TimeWindow: LoginWindow, MaxRequestsOffset: MaxLoginFailures - 1})
	if err != nil {
		return 0, fmt.Errorf("%s: count requests: %w", kind, err)
	}
	if p.ClientNth.After(p.Now.Add(-LoginWindow)) {
		if err := q.ForgetAttempt(ctx, id); err != nil {
			return 0, fmt.Errorf("%s: forget refused request: %w", kind, err)
		}
		return 0, &TooManyAttemptsError{RetryAfter: max(p.ClientNth.Add(LoginWindow).Sub(p.Now), time.Second)}
	}
	return id, nil
}

// mayMail reports, in tx, whether request id (of kind) may email address email: no other
// request of that kind has emailed it within LoginWindow. When it may, the request is
// marked as the one that did; concurrent requests for one address wait for each other.
func mayMail(ctx context.Context, tx pgx.Tx, kind, email string, id int64) (bool, error) {
	q := dbq.New(tx)
	if err := q.LockMailTo(ctx, dbq.LockMailToParams{Kind: kind, Email: email}); err != nil {
		return false, err
	}
	mailed, err := q.MailedInWindow(ctx, dbq.MailedInWindowParams{Kind: kind, Email: email, TimeWindow: LoginWindow})
	if err != nil || mailed {
		return false, err
	}
	return true, q.MarkMailed(ctx, id)
}
