package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
	"giving/campaigns/outbox"
)

// NewFundraiser is what the public sign-up form collects.
type NewFundraiser struct {
	Email, DisplayName, Password string
}

// MaxDisplayNameLen bounds a fundraiser's name, as the users table does.
const MaxDisplayNameLen = 60

// ResetLinkLifetime is how long an emailed password reset link works.
const ResetLinkLifetime = time.Hour

func validEmail(email string) bool {
	at := strings.IndexByte(email, '@')
	return at >= 1 && at < len(email)-1 && len(email) <= 254 && !strings.ContainsAny(email, " \t\r\n,<>")
}

const emailProblem = "Enter an email address such as name@example.org."

// SignUp creates a fundraiser account, under the sign-up limits (lockout.go): a client
// address makes at most MaxLoginFailures sign-ups a window, and an address gets at most one
// sign-up email a window (a further sign-up changes nothing). Whether or not the email already has an account, the caller sees the
// same outcome, nobody is logged in, and the address gets an email: for a new account a
// welcome with a link to confirm the address (the account cannot log in until then), for
// an existing one "you already have an account", so the form never reveals who has an
// account. An existing account that is not confirmed yet gets a new confirmation link
// instead, carrying this sign-up's name and password: the latest sign-up the mailbox's
// owner confirms is the one that counts. The password is hashed in every case, so all
// take about the same time. site is the public base URL for links.
func SignUp(ctx context.Context, s *campaigns.Store, f NewFundraiser, client, site string) error {
	f.Email = NormalizeEmail(f.Email)
	f.DisplayName = strings.Join(strings.Fields(f.DisplayName), " ")
	var ve campaigns.ValidationError
	if !validEmail(f.Email) {
		ve.Add("email", emailProblem)
	}
	switch n := utf8.RuneCountInString(f.DisplayName); {
	case n == 0:
		ve.Add("display_name", "Enter the name to show on your fundraising page.")
	case n > MaxDisplayNameLen:
		ve.Add("display_name", fmt.Sprintf("Use %d characters or fewer.", MaxDisplayNameLen))
	case strings.IndexFunc(f.DisplayName, unicode.IsControl) >= 0:
		ve.Add("display_name", "Use letters, numbers and punctuation only.")
	}
	if msg := PasswordProblem(f.Password, f.Email); msg != "" {
		ve.Add("password", msg)
	}
	if err := ve.OrNil(); err != nil {
		return err
	}
	if err := pruneAccounts(ctx, s); err != nil {
		return err
	}
	request, err := countRequest(ctx, s, attemptSignup, f.Email, client)
	if err != nil {
		return err
	}
	hash, err := hashPassword(f.Password)
	if err != nil {
		return err
	}
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		// One sign-up email per address per window, so nobody can flood an inbox; a further
		// sign-up answers the same (signedUpAgainQuietly).
		if ok, err := mayMail(ctx, tx, attemptSignup, f.Email, request); err != nil || !ok {
			if err != nil {
				return err
			}
			return signedUpAgainQuietly(ctx, tx, f.Email)
		}
		q := dbq.New(tx)
		u, err := userOrNotFound(q.SignUpUser(ctx, dbq.SignUpUserParams{Email: f.Email, PasswordHash: hash, DisplayName: f.DisplayName}))
		created := err == nil
		if errors.Is(err, campaigns.ErrNotFound) { // the email has an account already
			u, err = userOrNotFound(q.LockUserByEmail(ctx, f.Email))
		}
		if err != nil {
			return err
		}
		if u.EmailConfirmed || u.Disabled {
			return outbox.QueueMail(ctx, tx, alreadyHaveAccountMail(f.Email, site))
		}
		action, detail := "user signed up", fmt.Sprintf("%s as %s; waiting for the email address to be confirmed", u.Email, u.Role)
		if !created {
			action, detail = "user signed up again", "before confirming the email address; a new confirmation link sent"
		}
		if err := audit.Write(ctx, tx, u, action, detail); err != nil {
			return err
		}
		link, err := newConfirmation(ctx, tx, u.ID, hash, f.DisplayName, site)
		if err != nil {
			return err
		}
		u.DisplayName = f.DisplayName
		return outbox.QueueMail(ctx, tx, welcomeMail(u, site, link))
	})
	if err != nil {
		return fmt.Errorf("sign up: %w", err)
	}
	return nil
}

// signedUpAgainQuietly is a sign-up for email within the window after one that was
// emailed. It sends nothing and creates nothing; if the address's account is still
// unconfirmed, its confirmation links stop working, since the mailbox's owner cannot tell
// which sign-up a link carries: the first one may have been someone else's. The owner's
// way in is then a reset link, which confirms the address with her own password.
func signedUpAgainQuietly(ctx context.Context, tx pgx.Tx, email string) error {
	q := dbq.New(tx)
	u, err := userOrNotFound(q.LockUserByEmail(ctx, email))
	if errors.Is(err, campaigns.ErrNotFound) {
		return nil
	}
	if err != nil || u.EmailConfirmed || u.Disabled {
		return err
	}
	withdrawn, err := q.WithdrawConfirmations(ctx, u.ID)
	if err != nil || withdrawn == 0 {
		return err
	}
	return audit.Write(ctx, tx, u, "user signed up again", "before confirming the email address, within the window after the last "+
		"sign-up email: no email sent, and the earlier confirmation links withdrawn")
}

// ConfirmLinkLifetime is how long an emailed link to confirm an address works.
const ConfirmLinkLifetime = 48 * time.Hour

// newToken is a random single-use link token and the SHA-256 hash that is all we keep.
func newToken() (token string, hash []byte, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, fmt.Errorf("link token: %w", err)
	}
	sum := sha256.Sum256(raw)
	return base64.RawURLEncoding.EncodeToString(raw), sum[:], nil
}

// newConfirmation stores a confirmation link for account id in tx, carrying the password
// hash and name that confirming it will set, and returns the link.
func newConfirmation(ctx context.Context, tx pgx.Tx, id int64, passwordHash, displayName, site string) (string, error) {
	token, sum, err := newToken()
	if err != nil {
		return "", err
	}
	q := dbq.New(tx)
	// Expired and used links are kept no longer than needed.
	if err := q.PruneEmailConfirmations(ctx); err != nil {
		return "", err
	}
	if err := q.InsertEmailConfirmation(ctx, dbq.InsertEmailConfirmationParams{TokenHash: sum, UserID: id,
		PasswordHash: passwordHash, DisplayName: displayName, Lifetime: ConfirmLinkLifetime}); err != nil {
		return "", err
	}
	return site + "/signup/confirm/" + token, nil
}

// sendConfirmationAgain emails u, whose address is not confirmed, a new confirmation link
// for the password and name the account has now: someone has just logged in with them.
func sendConfirmationAgain(ctx context.Context, s *campaigns.Store, u User, site string) error {
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		r, err := dbq.New(tx).UnconfirmedUserSignUp(ctx, u.ID)
		if err != nil {
			return err
		}
		link, err := newConfirmation(ctx, tx, u.ID, r.PasswordHash, r.DisplayName, site)
		if err != nil {
			return err
		}
		if err := audit.Write(ctx, tx, u, "confirmation link sent again", "at log-in, before the email address was confirmed"); err != nil {
			return err
		}
		return outbox.QueueMail(ctx, tx, confirmAgainMail(u, link))
	})
	if err != nil {
		return fmt.Errorf("send confirmation link again: %w", err)
	}
	return nil
}

// linkTokenHash decodes a token from a link; a malformed one is ErrNotFound without a query.
func linkTokenHash(token, what string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("%s: %w", what, campaigns.ErrNotFound)
	}
	sum := sha256.Sum256(raw)
	return sum[:], nil
}

// ConfirmationUser is the enabled, unconfirmed account a confirmation link belongs to
// while the link is unused and unexpired; otherwise ErrNotFound. It changes nothing, so
// a mail scanner that opens the link does not use it up.
func ConfirmationUser(ctx context.Context, s *campaigns.Store, token string) (User, error) {
	hash, err := linkTokenHash(token, "confirmation link")
	if err != nil {
		return User{}, err
	}
	u, err := userOrNotFound(dbq.New(s.Pool()).ConfirmationUser(ctx, hash))
	if errors.Is(err, campaigns.ErrNotFound) {
		return User{}, fmt.Errorf("confirmation link: %w", campaigns.ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("confirmation link: %w", err)
	}
	return u, nil
}

// ConfirmEmail confirms the address of the account a confirmation link belongs to and
// gives it the password and name of the sign-up that asked for the link. The link is used
// up, and so is every other confirmation link of the account; the log-in failures for the
// email are forgiven; the confirmation is audited. The caller logs the browser in with
// the returned account. An unknown, used or expired link is ErrNotFound.
func ConfirmEmail(ctx context.Context, s *campaigns.Store, token string) (User, error) {
	hash, err := linkTokenHash(token, "confirmation link")
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		// Claiming the link is the first write: of two concurrent uses, one waits here and
		// then finds it used.
		q := dbq.New(tx)
		link, err := q.ClaimEmailConfirmation(ctx, hash)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("confirmation link: %w", campaigns.ErrNotFound)
		}
		if err != nil {
			return err
		}
		// A confirmed account keeps its password: a link outliving confirmation (it cannot,
		// as confirming uses them all up) must not change it.
		id := link.UserID
		u, err = userOrNotFound(q.ConfirmUser(ctx, dbq.ConfirmUserParams{ID: id, PasswordHash: link.PasswordHash, DisplayName: link.DisplayName}))
		if errors.Is(err, campaigns.ErrNotFound) {
			return fmt.Errorf("confirmation link: %w", campaigns.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := q.WithdrawConfirmations(ctx, id); err != nil {
			return err
		}
		if err := q.ForgiveAllLogins(ctx, u.Email); err != nil {
			return err
		}
		return audit.Write(ctx, tx, u, "email confirmed", "by emailed link")
	})
	if err != nil {
		return User{}, fmt.Errorf("confirm email: %w", err)
	}
	return u, nil
}

// RequestPasswordReset emails a single-use reset link, valid for ResetLinkLifetime, to the
// account with email, if there is one and it is enabled, and if no reset email went to it
// in the last LoginWindow. The answer is the same either way (only a malformed email or the
// client's rate limit is reported), so it reveals no account.
func RequestPasswordReset(ctx context.Context, s *campaigns.Store, email, client, site string) error {
	email = NormalizeEmail(email)
	if !validEmail(email) {
		return &campaigns.ValidationError{Fields: map[string]string{"email": emailProblem}}
	}
	if err := pruneAccounts(ctx, s); err != nil {
		return err
	}
	request, err := countRequest(ctx, s, attemptReset, email, client)
	if err != nil {
		return err
	}
	token, sum, err := newToken()
	if err != nil {
		return err
	}
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		u, err := userOrNotFound(q.EnabledUserByEmail(ctx, email))
		if errors.Is(err, campaigns.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		// One reset email per address per window; the link already sent still works.
		if ok, err := mayMail(ctx, tx, attemptReset, email, request); err != nil || !ok {
			return err
		}
		// Expired and used links are kept no longer than needed.
		if err := q.PrunePasswordResets(ctx); err != nil {
			return err
		}
		if err := q.InsertPasswordReset(ctx, dbq.InsertPasswordResetParams{TokenHash: sum, UserID: u.ID, Lifetime: ResetLinkLifetime}); err != nil {
			return err
		}
		if err := audit.Write(ctx, tx, u, "password reset requested", ""); err != nil {
			return err
		}
		return outbox.QueueMail(ctx, tx, resetMail(u, site+"/reset/"+token))
	})
	if err != nil {
		return fmt.Errorf("request password reset: %w", err)
	}
	return nil
}

// PasswordResetUser is the enabled account a reset link belongs to while the link is
// unused and unexpired; otherwise ErrNotFound.
func PasswordResetUser(ctx context.Context, s *campaigns.Store, token string) (User, error) {
	hash, err := linkTokenHash(token, "password reset link")
	if err != nil {
		return User{}, err
	}
	u, err := userOrNotFound(dbq.New(s.Pool()).PasswordResetUser(ctx, hash))
	if errors.Is(err, campaigns.ErrNotFound) {
		return User{}, fmt.Errorf("password reset link: %w", campaigns.ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("password reset link: %w", err)
	}
	return u, nil
}

// ResetPassword sets a new password with a reset link. The link is used up, and so is
// every other link of the account; every session of the account ends (the caller may log
// this browser in with the returned account, which is in the new session epoch); the
// log-in failures for the email are forgiven; the change is audited and the owner told
// by email. The link proves the mailbox, so it also confirms an unconfirmed address (and
// uses up its confirmation links). An unknown, used or expired link is ErrNotFound.
func ResetPassword(ctx context.Context, s *campaigns.Store, token, password, client, site string) (User, error) {
	if msg := PasswordProblem(password); msg != "" {
		return User{}, &campaigns.ValidationError{Fields: map[string]string{"password": msg}}
	}
	hash, err := linkTokenHash(token, "password reset link")
	if err != nil {
		return User{}, err
	}
	owner, err := PasswordResetUser(ctx, s, token)
	if err != nil {
		return User{}, err
	}
	if _, err := countRequest(ctx, s, attemptReset, owner.Email, client); err != nil {
		return User{}, err
	}
	pwHash, err := hashPassword(password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		// Claiming the link is the first write: of two concurrent uses, one waits here and
		// then finds it used.
		q := dbq.New(tx)
		id, err := q.ClaimPasswordReset(ctx, hash)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("password reset link: %w", campaigns.ErrNotFound)
		}
		if err != nil {
			return err
		}
		changed, err := q.SetPassword(ctx, dbq.SetPasswordParams{ID: id, PasswordHash: pwHash})
		if err != nil {
			return err
		}
		if changed == 0 {
			return fmt.Errorf("password reset link: %w", campaigns.ErrNotFound)
		}
		if err := endAllSessions(ctx, tx, id); err != nil {
			return err
		}
		if err := q.UseUpPasswordResets(ctx, id); err != nil {
			return err
		}
		confirmed, err := q.ConfirmEmailByReset(ctx, id)
		if err != nil {
			return err
		}
		if _, err := q.WithdrawConfirmations(ctx, id); err != nil {
			return err
		}
		if u, err = userOrNotFound(q.UserByID(ctx, id)); err != nil {
			return err
		}
		if err := q.ForgiveAllLogins(ctx, u.Email); err != nil {
			return err
		}
		if err := audit.Write(ctx, tx, u, "password reset", "by emailed link; every session ended"); err != nil {
			return err
		}
		if confirmed > 0 {
			if err := audit.Write(ctx, tx, u, "email confirmed", "by password reset link"); err != nil {
				return err
			}
		}
		return outbox.QueueMail(ctx, tx, passwordChangedMail(u, site))
	})
	if err != nil {
		return User{}, fmt.Errorf("reset password: %w", err)
	}
	return u, nil
}

func greeting(u User) string {
	if u.DisplayName != "" {
		return "Hello " + u.DisplayName + ","
	}
	return "Hello,"
}

func welcomeMail(u User, site, link string) outbox.Mail {
	return outbox.Mail{To: u.Email, Subject: "Welcome to " + campaigns.CharityName + ": confirm your email address", Body: greeting(u) + `

Thank you for signing up to fundraise for ` + campaigns.CharityName + `. To confirm that this is
your email address and log in, open this link and press the button. It works once, for
the next 48 hours:

` + link + `

Then write your fundraising page: tell your story, set your target and share the link.
You can come back to it any time at ` + site + `/fundraise/new
and log in again at ` + site + `/login with this email address.

If you did not sign up, someone else used your email address. Do not open the link:
without it nobody can log in to the account. Reply to this email and we will close it.
`}
}

func confirmAgainMail(u User, link string) outbox.Mail {
	return outbox.Mail{To: u.Email, Subject: "Confirm your email address for " + campaigns.CharityName, Body: greeting(u) + `

Someone, probably you, tried to log in to your ` + campaigns.CharityName + ` account, but this email
address is not confirmed yet. To confirm it and log in, open this link and press the
button. It works once, for the next 48 hours:

` + link + `

If it was not you, someone knows the password you signed up with: do not open the link,
and reply to this email so we can close the account.
`}
}

func alreadyHaveAccountMail(email, site string) outbox.Mail {
	return outbox.Mail{To: email, Subject: "You already have an account with " + campaigns.CharityName, Body: `Hello,

Someone, probably you, tried to sign up to fundraise for ` + campaigns.CharityName + ` with this email
address. You already have an account, so nothing new was created.

Log in at ` + site + `/login
Forgotten your password? Choose a new one at ` + site + `/reset

If it was not you, you can ignore this email: nothing has changed.
`}
}

func resetMail(u User, link string) outbox.Mail {
	return outbox.Mail{To: u.Email, Subject: "Reset your " + campaigns.CharityName + " password", Body: greeting(u) + `

Someone, probably you, asked to reset the password of your ` + campaigns.CharityName + ` account.
To choose a new password, open this link. It works once, for the next hour:

` + link + `

If you did not ask, ignore this email: your password has not changed.
`}
}

func passwordChangedMail(u User, site string) outbox.Mail {
	return outbox.Mail{To: u.Email, Subject: "Your " + campaigns.CharityName + " password has changed", Body: greeting(u) + `

The password of your ` + campaigns.CharityName + ` account was changed with a reset link, and every
device that was logged in has been logged out.

If this was not you, choose a new password at once at ` + site + `/reset and reply to this
email to tell us.
`}
}
