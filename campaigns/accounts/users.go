package accounts

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/argon2"

	"giving/campaigns"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
)

// Role is what an account may do. Trustees read everything; admins also change things;
// fundraisers (later) see only their own pages.
type Role string

const (
	RoleFundraiser Role = "fundraiser"
	RoleTrustee    Role = "trustee"
	RoleAdmin      Role = "admin"
)

// Roles lists every role, in the order the command line explains them.
func Roles() []Role { return []Role{RoleAdmin, RoleTrustee, RoleFundraiser} }

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	return r == RoleFundraiser || r == RoleTrustee || r == RoleAdmin
}

// User is an account that can log in.
type User struct {
	ID        int64
	Email     string
	Role      Role
	CreatedAt time.Time
	Disabled  bool
	// DisplayName is the name a fundraiser signed up with ("" for accounts made on the
	// command line).
	DisplayName string
	// SessionEpoch is stored in each session at log-in; "log out everywhere" increments it,
	// which ends every session begun before.
	SessionEpoch int64
	// EmailConfirmed: the owner has proved the mailbox (a confirmation or password reset
	// link), or the account predates sign-up confirmation or was made on the command line.
	// An unconfirmed account cannot log in.
	EmailConfirmed bool
	// TwoFactor: the account has enrolled in two-factor sign-in (twofactor.go), so a log-in
	// asks for a code after the password.
	TwoFactor bool
}

// CanRead: trustees and admins see the whole appeal's figures and the audit log.
func (u User) CanRead() bool { return u.Role == RoleTrustee || u.Role == RoleAdmin }

// CanAdmin: only admins change settings and accounts.
func (u User) CanAdmin() bool { return u.Role == RoleAdmin }

// Password rules: long enough to resist guessing, short enough that hashing stays cheap.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
)

// ErrBadCredentials is the one answer to a failed log-in, whether the email is unknown,
// the password wrong or the account disabled, so the answer never reveals an account.
var ErrBadCredentials = errors.New("email or password is incorrect")

// ErrEmailUnconfirmed refuses a log-in with the right password to an account whose email
// address is not confirmed yet. Only someone who knows the password gets this answer; a
// wrong password for such an account is ErrBadCredentials like any other.
var ErrEmailUnconfirmed = errors.New("email address not confirmed yet")

// TooManyAttemptsError refuses a log-in, sign-up or reset request under the limits of
// lockout.go.
type TooManyAttemptsError struct {
	RetryAfter time.Duration
}

func (e *TooManyAttemptsError) Error() string {
	return fmt.Sprintf("too many failed log-ins: try again in %s", e.RetryAfter.Round(time.Second))
}

// The log-in rate limit, per email and per client address (lockout.go).
const (
	MaxLoginFailures = 5
	LoginWindow      = 15 * time.Minute
)

// argon2id parameters: OWASP's m=19 MiB, t=2, p=1. They are stored in each hash, so they
// can be raised later without invalidating existing passwords.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// dummyHash is the hash of a random password nobody knows. Authenticate verifies against it
// when the email is unknown, so an unknown email costs the same time as a known one.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$2Mg+L3qSU+GJZ4Ta4SGzng$g8tY96jVOLG0Dwthss76Ls8Xv6K9VRjX4Cy2c54+v90"

// NormalizeEmail is how an email is stored and looked up: trimmed and lower-case.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// hashPassword returns an argon2id hash in PHC form with a fresh random salt.
func hashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// checkPassword compares password with a PHC-encoded argon2id hash in constant time. An
// error means the stored hash is malformed, not that the password is wrong.
func checkPassword(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("password hash is not argon2id")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("password hash: unsupported argon2 version %q", parts[2])
	}
	var mem, iter uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &threads); err != nil {
		return false, fmt.Errorf("password hash parameters: %w", err)
	}
	// Bounds keep a corrupted row from making one log-in allocate gigabytes.
	if mem < 8 || mem > 1<<20 || iter < 1 || iter > 16 || threads < 1 {
		return false, errors.New("password hash parameters out of range")
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("password hash salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 {
		return false, errors.New("password hash: malformed key")
	}
	got := argon2.IDKey([]byte(password), salt, iter, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// userColumns is the row of every query that reads an account (queries/accounts.sql): its
// generated row types convert to it.
type userColumns = struct {
	ID             int64
	Email          string
	Role           string
	CreatedAt      time.Time
	Disabled       bool
	SessionEpoch   int64
	DisplayName    string
	EmailConfirmed bool
	TwoFactor      bool
}

// userFromRow is the account a query's row describes.
func userFromRow[R ~userColumns](r R) User {
	c := userColumns(r)
	return User{ID: c.ID, Email: c.Email, Role: Role(c.Role), CreatedAt: c.CreatedAt, Disabled: c.Disabled,
		SessionEpoch: c.SessionEpoch, DisplayName: c.DisplayName, EmailConfirmed: c.EmailConfirmed, TwoFactor: c.TwoFactor}
}

// userOrNotFound is an account query's answer: the account, or ErrNotFound when there was
// none.
func userOrNotFound[R ~userColumns](r R, err error) (User, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, campaigns.ErrNotFound
	}
	if err != nil {
		return User{}, err
	}
	return userFromRow(r), nil
}

// CreateUser adds an account and records "user added" in the audit log, in one
// transaction. by is who added it: an admin, CommandLine(), or the zero User when people
// sign themselves up (the new account is then the actor). A taken email is ErrConflict:
// a public sign-up form must not show that difference to the visitor. The address counts
// as confirmed: whoever made the account vouches for it.
func CreateUser(ctx context.Context, s *campaigns.Store, by User, email, password string, role Role) (User, error) {
	email = NormalizeEmail(email)
	var ve campaigns.ValidationError
	if at := strings.IndexByte(email, '@'); at < 1 || at == len(email)-1 || len(email) > 254 || strings.ContainsAny(email, " \t\r\n") {
		ve.Add("email", "Enter an email address such as name@example.org.")
	}
	if msg := PasswordProblem(password, email); msg != "" {
		ve.Add("password", msg)
	}
	if !role.Valid() {
		ve.Add("role", "The role must be admin, trustee or fundraiser.")
	}
	if err := ve.OrNil(); err != nil {
		return User{}, err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		u, err = userOrNotFound(dbq.New(tx).CreateUser(ctx, dbq.CreateUserParams{Email: email, PasswordHash: hash, Role: string(role)}))
		if err != nil {
			return err
		}
		actor := by
		if actor.ID == 0 && actor.Email == "" {
			actor = u
		}
		return audit.Write(ctx, tx, actor, "user added", fmt.Sprintf("%s as %s", u.Email, u.Role))
	})
	if campaigns.IsUniqueViolation(err) { // on email
		return User{}, fmt.Errorf("create user: %w: an account with that email already exists", campaigns.ErrConflict)
	}
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// UserByID returns the account, or ErrNotFound.
func UserByID(ctx context.Context, s *campaigns.Store, id int64) (User, error) {
	u, err := userOrNotFound(dbq.New(s.Pool()).UserByID(ctx, id))
	if err != nil && !errors.Is(err, campaigns.ErrNotFound) {
		return User{}, fmt.Errorf("user %d: %w", id, err)
	}
	return u, err
}

// Authenticate checks an email and password. Every failure is ErrBadCredentials, and an
// unknown email is verified against a dummy hash, so neither the answer nor its timing
// reveals whether an account exists. The right password for an account whose address is
// not confirmed yet is ErrEmailUnconfirmed, with the account.
func Authenticate(ctx context.Context, s *campaigns.Store, email, password string) (User, error) {
	email = NormalizeEmail(email)
	if utf8.RuneCountInString(password) > MaxPasswordLen || len(email) > 254 {
		return User{}, ErrBadCredentials
	}
	r, err := dbq.New(s.Pool()).AuthenticateUser(ctx, email)
	// The row is the account's columns and its password hash.
	u := userFromRow(userColumns{ID: r.ID, Email: r.Email, Role: r.Role, CreatedAt: r.CreatedAt, Disabled: r.Disabled,
		SessionEpoch: r.SessionEpoch, DisplayName: r.DisplayName, EmailConfirmed: r.EmailConfirmed, TwoFactor: r.TwoFactor})
	hash := r.PasswordHash
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		u, hash = User{}, dummyHash
	case err != nil:
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	ok, err := checkPassword(hash, password)
	if err != nil {
		return User{}, fmt.Errorf("authenticate user %d: %w", u.ID, err)
	}
	if !ok || u.ID == 0 || u.Disabled {
		return User{}, ErrBadCredentials
	}
	if !u.EmailConfirmed {
		return u, ErrEmailUnconfirmed
	}
	return u, nil
}

// LogIn is LogInFrom for a browser without a device cookie (lockout.go).
func LogIn(ctx context.Context, s *campaigns.Store, email, password, client, site string) (User, error) {
	in, err := LogInFrom(ctx, s, LogInRequest{Email: email, Password: password, Client: client, Site: site})
	return in.User, err
}

// pruneAccounts removes expired sessions and log-in attempts outside the window. It runs
// at each log-in rather than in a background loop, since instances keep no state; SKIP
// LOCKED keeps concurrent log-ins from waiting on (or deadlocking with) each other.
func pruneAccounts(ctx context.Context, s *campaigns.Store) error {
	q := dbq.New(s.Pool())
	if err := q.PruneLoginAttempts(ctx, LoginWindow); err != nil {
		return fmt.Errorf("prune log-in attempts: %w", err)
	}
	if err := q.PruneSessions(ctx); err != nil {
		return fmt.Errorf("prune expired sessions: %w", err)
	}
	return nil
}

// EndAllSessions ends every session of u, wherever it was begun, by moving the account to
// a new session epoch; it records "logout everywhere" in the audit log.
func EndAllSessions(ctx context.Context, s *campaigns.Store, u User) error {
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if err := endAllSessions(ctx, tx, u.ID); err != nil {
			return err
		}
		return audit.Write(ctx, tx, u, "logout everywhere", "")
	})
	if err != nil {
		return fmt.Errorf("end sessions of user %d: %w", u.ID, err)
	}
	return nil
}

// LogOut ends one of u's sessions (its token) with its audit row, in one transaction.
func LogOut(ctx context.Context, s *campaigns.Store, u User, token string) error {
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if err := dbq.New(tx).EndSession(ctx, token); err != nil {
			return err
		}
		return audit.Write(ctx, tx, u, "logout", "")
	})
	if err != nil {
		return fmt.Errorf("log out user %d: %w", u.ID, err)
	}
	return nil
}

// endAllSessions moves account id to a new session epoch in db, which ends every session
// begun before.
func endAllSessions(ctx context.Context, db campaigns.DB, id int64) error {
	q := dbq.New(db)
	n, err := q.BumpSessionEpoch(ctx, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return campaigns.ErrNotFound
	}
	// The account's device cookies go too: they were handed to the sessions just ended.
	return q.DropUserDevices(ctx, id)
}

// CommandLine is the actor for changes made with the giving command on the server, where
// nobody logs in.
func CommandLine() User { return User{Email: "command line"} }

// AuditActor makes an account an audit.Actor.
func (u User) AuditActor() (int64, string) { return u.ID, u.Email }
