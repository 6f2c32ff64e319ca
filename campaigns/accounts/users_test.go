package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/campaignstest"
	"giving/campaigns/outbox"
)

// site is the public base URL for links in the emails these tests cause.
const site = "https://give.example.org"

func TestPasswordRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := campaignstest.Store(t, 8)
	created := campaignstest.AddUser(t, s, "  Trustee@Example.ORG ", accounts.RoleTrustee)
	if created.Email != "trustee@example.org" || created.Role != accounts.RoleTrustee || created.ID == 0 {
		t.Fatalf("created %+v: want the email stored lower-case and trimmed", created)
	}
	var hash string
	if err := s.Pool().QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, created.ID).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(hash, campaignstest.GoodPassword) {
		t.Fatalf("stored hash %q: want argon2id in PHC form", hash)
	}

	u, err := accounts.Authenticate(ctx, s, "TRUSTEE@example.org", campaignstest.GoodPassword)
	if err != nil || u.ID != created.ID || !u.CanRead() || u.CanAdmin() {
		t.Fatalf("right password: %+v, %v", u, err)
	}
	for _, wrong := range []string{"correct horse battery ", "Correct horse battery", "", strings.Repeat("x", 200)} {
		if _, err := accounts.Authenticate(ctx, s, "trustee@example.org", wrong); err != accounts.ErrBadCredentials {
			t.Errorf("password %q: %v, want ErrBadCredentials", wrong, err)
		}
	}
	byID, err := accounts.UserByID(ctx, s, created.ID)
	if err != nil || byID != created {
		t.Errorf("UserByID: %+v, %v; want %+v", byID, err, created)
	}
	if _, err := accounts.UserByID(ctx, s, created.ID+1000); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("UserByID of nobody: %v, want ErrNotFound", err)
	}
}

// An unknown email, a wrong password and a disabled account get the very same answer, and
// an unknown email still pays for a password hash, so timing does not tell them apart.
func TestUnknownEmailIsIndistinguishable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := campaignstest.Store(t, 8)
	campaignstest.AddUser(t, s, "known@example.org", accounts.RoleTrustee)
	off := campaignstest.AddUser(t, s, "disabled@example.org", accounts.RoleTrustee)
	if _, err := s.Pool().Exec(ctx, `UPDATE users SET disabled = true WHERE id = $1`, off.ID); err != nil {
		t.Fatal(err)
	}
	_, unknown := accounts.Authenticate(ctx, s, "nobody@example.org", campaignstest.GoodPassword)
	_, wrong := accounts.Authenticate(ctx, s, "known@example.org", "not the password at all")
	_, disabled := accounts.Authenticate(ctx, s, "disabled@example.org", campaignstest.GoodPassword)
	if unknown != accounts.ErrBadCredentials || wrong != unknown || disabled != unknown {
		t.Fatalf("unknown %v, wrong %v, disabled %v: want one and the same error value", unknown, wrong, disabled)
	}

	fastest := func(email string) time.Duration {
		best := time.Hour
		for range 3 {
			start := time.Now()
			_, _ = accounts.Authenticate(ctx, s, email, "not the password at all")
			best = min(best, time.Since(start))
		}
		return best
	}
	known, nobody := fastest("known@example.org"), fastest("nobody@example.org")
	// Without the dummy hash an unknown email would answer in one query, a hundred times
	// faster; the bound is loose so that a busy test machine does not make it flaky.
	if nobody < known/4 {
		t.Errorf("unknown email answered in %v, a known one in %v: the unknown path skips the hash", nobody, known)
	}
}

func TestCreateUserValidates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := campaignstest.Store(t, 8)
	cases := []struct {
		email, password string
		role            accounts.Role
		field, says     string
	}{
		{"a@example.org", "elevenchars", accounts.RoleAdmin, "password", "at least 12"},
		{"a@example.org", strings.Repeat("p", 129), accounts.RoleAdmin, "password", "at most 128"},
		{"not-an-email", campaignstest.GoodPassword, accounts.RoleAdmin, "email", "email address"},
		{"a@example.org", campaignstest.GoodPassword, "treasurer", "role", "admin, trustee or fundraiser"},
	}
	for _, c := range cases {
		_, err := accounts.CreateUser(ctx, s, accounts.CommandLine(), c.email, c.password, c.role)
		var ve *campaigns.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Fields[c.field], c.says) {
			t.Errorf("%q/%d chars/%q: %v, want %s: %q", c.email, len(c.password), c.role, err, c.field, c.says)
		}
	}
	// Twelve characters, counted as characters rather than bytes, are enough.
	if _, err := accounts.CreateUser(ctx, s, accounts.CommandLine(), "twelve@example.org", "ééééééééééé1", accounts.RoleFundraiser); err != nil {
		t.Errorf("a 12-character password: %v", err)
	}
	campaignstest.AddUser(t, s, "taken@example.org", accounts.RoleTrustee)
	if _, err := accounts.CreateUser(ctx, s, accounts.CommandLine(), "Taken@Example.org", campaignstest.GoodPassword, accounts.RoleAdmin); !errors.Is(err, campaigns.ErrConflict) {
		t.Errorf("a second account for one email: %v, want ErrConflict", err)
	}
	var n int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d users (%v), want 2", n, err)
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		role           accounts.Role
		canRead, admin bool
	}{
		{accounts.RoleFundraiser, false, false},
		{accounts.RoleTrustee, true, false},
		{accounts.RoleAdmin, true, true},
	}
	for _, c := range cases {
		u := accounts.User{Role: c.role}
		if u.CanRead() != c.canRead || u.CanAdmin() != c.admin {
			t.Errorf("%s: CanRead %v CanAdmin %v", c.role, u.CanRead(), u.CanAdmin())
		}
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := campaignstest.Store(t, 8)
	admin := campaignstest.AddUser(t, s, "admin@example.org", accounts.RoleAdmin)
	if err := audit.Write(ctx, s.Pool(), admin, "settings changed", "target £50,000.00"); err != nil {
		t.Fatal(err)
	}
	entries, err := audit.Log(ctx, s.Pool(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("%d entries, want 2: %+v", len(entries), entries)
	}
	newest, first := entries[0], entries[1]
	if newest.Action != "settings changed" || newest.ActorUserID != admin.ID || newest.ActorEmail != "admin@example.org" || newest.Detail != "target £50,000.00" {
		t.Errorf("newest entry %+v", newest)
	}
	if first.Action != "user added" || first.ActorUserID != 0 || first.ActorEmail != accounts.CommandLine().Email || first.Detail != "admin@example.org as admin" {
		t.Errorf("first entry %+v", first)
	}
	for _, q := range []string{`UPDATE audit_log SET detail = 'edited'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := s.Pool().Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused", q, err)
		}
	}
}

func TestLogInRateLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := campaignstest.Store(t, 8)
	campaignstest.AddUser(t, s, "trustee@example.org", accounts.RoleTrustee)
	campaignstest.AddUser(t, s, "other@example.org", accounts.RoleTrustee)
	var tooMany *accounts.TooManyAttemptsError

	// Five failures for one email, from five addresses, are allowed; after them an
	// address that has failed is refused unchecked, even with the right password.
	for i := range accounts.MaxLoginFailures {
		if _, err := accounts.LogIn(ctx, s, "trustee@example.org", "wrong password!", fmt.Sprintf("10.0.0.%d", i), site); err != accounts.ErrBadCredentials {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	_, err := accounts.LogIn(ctx, s, "TRUSTEE@example.org", campaignstest.GoodPassword, "10.0.0.0", site)
	if !errors.As(err, &tooMany) || tooMany.RetryAfter <= 14*time.Minute || tooMany.RetryAfter > accounts.LoginWindow {
		t.Fatalf("sixth attempt, from an address that failed: %v, want TooManyAttemptsError with about 15 minutes to wait", err)
	}
	// A stranger's fresh address gets one guess, then is refused like the others.
	if _, err := accounts.LogIn(ctx, s, "trustee@example.org", "wrong password!", "10.0.3.3", site); err != accounts.ErrBadCredentials {
		t.Fatalf("a fresh address's first guess: %v, want ErrBadCredentials", err)
	}
	if _, err := accounts.LogIn(ctx, s, "trustee@example.org", "still wrong!!", "10.0.3.3", site); !errors.As(err, &tooMany) {
		t.Fatalf("its second guess: %v, want TooManyAttemptsError", err)
	}
	// The owner, from an address without failures, gets in.
	if u, err := accounts.LogIn(ctx, s, "trustee@example.org", campaignstest.GoodPassword, "10.0.1.1", site); err != nil || u.Email != "trustee@example.org" {
		t.Fatalf("the owner from an address without failures: %+v, %v", u, err)
	}
	// Another account, even from an address that failed once, is unaffected.
	if u, err := accounts.LogIn(ctx, s, "other@example.org", campaignstest.GoodPassword, "10.0.0.1", site); err != nil || u.Email != "other@example.org" {
		t.Fatalf("another account: %+v, %v", u, err)
	}

	// Five failures from one address, whatever the emails, stop that address.
	for i := range accounts.MaxLoginFailures {
		if _, err := accounts.LogIn(ctx, s, fmt.Sprintf("guess%d@example.org", i), "wrong password!", "192.0.2.7", site); err != accounts.ErrBadCredentials {
			t.Fatalf("guess %d: %v", i+1, err)
		}
	}
	if _, err := accounts.LogIn(ctx, s, "other@example.org", campaignstest.GoodPassword, "192.0.2.7", site); !errors.As(err, &tooMany) {
		t.Fatalf("sixth attempt from one address: %v, want TooManyAttemptsError", err)
	}

	// When the oldest failures age out of the window, log-in works again from those
	// addresses, and success forgives that address's failures.
	if _, err := s.Pool().Exec(ctx, `UPDATE login_attempts SET at = at - interval '16 minutes' WHERE email = 'trustee@example.org' AND client IN ('10.0.0.0', '10.0.0.1', '10.0.3.3')`); err != nil {
		t.Fatal(err)
	}
	// Expired sessions and stale attempts are tidied away at each log-in.
	if _, err := s.Pool().Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES
		('expired', '\x00', now() - interval '1 second'), ('live', '\x00', now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.LogIn(ctx, s, "trustee@example.org", "wrong password!", "10.0.2.2", site); err != accounts.ErrBadCredentials {
		t.Fatalf("after the window: %v", err)
	}
	if _, err := accounts.LogIn(ctx, s, "trustee@example.org", campaignstest.GoodPassword, "10.0.2.2", site); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	var sessions, stale int
	if err := s.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM sessions WHERE token IN ('expired', 'live')),
		(SELECT count(*) FROM login_attempts WHERE at < now() - interval '15 minutes')`).Scan(&sessions, &stale); err != nil {
		t.Fatal(err)
	}
	if sessions != 1 || stale != 0 {
		t.Errorf("after a log-in: %d of the two sessions and %d stale attempts remain, want 1 and 0", sessions, stale)
	}
	var left []string
	rows, err := s.Pool().Query(ctx, `SELECT client FROM login_attempts WHERE email = 'trustee@example.org' ORDER BY client`)
	if err != nil {
		t.Fatal(err)
	}
	if left, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(left, []string{"10.0.0.2", "10.0.0.3", "10.0.0.4"}) {
		t.Errorf("failures left for the email after a success from 10.0.2.2: %v, want the strangers' three still in the window", left)
	}
	entries, err := audit.Log(ctx, s.Pool(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var logins []string
	for _, e := range entries {
		if e.Action == "login" {
			logins = append(logins, e.ActorEmail)
		}
	}
	slices.Sort(logins)
	if !slices.Equal(logins, []string{"other@example.org", "trustee@example.org", "trustee@example.org"}) {
		t.Errorf("login audit entries for %v", logins)
	}
}

// A browser that has logged in to an account holds a device cookie: others' failures,
// however many, do not stop it, while its own guesses are limited like anyone's.
func TestDeviceCookieOutlastsALockout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := campaignstest.Store(t, 8)
	campaignstest.AddUser(t, s, "trustee@example.org", accounts.RoleTrustee)
	in, err := accounts.LogInFrom(ctx, s, accounts.LogInRequest{Email: "trustee@example.org", Password: campaignstest.GoodPassword, Client: "10.0.0.1", Site: site})
	if err != nil || in.Device == "" {
		t.Fatalf("first log-in: %+v, %v; want a device cookie", in, err)
	}
	// A botnet: as many failures as the cap, each from its own address.
	if _, err := s.Pool().Exec(ctx, `INSERT INTO login_attempts (email, client)
		SELECT 'trustee@example.org', '198.51.100.' || i FROM generate_series(1, $1::int) i`, accounts.LockoutCap); err != nil {
		t.Fatal(err)
	}
	var tooMany *accounts.TooManyAttemptsError
	if _, err := accounts.LogIn(ctx, s, "trustee@example.org", campaignstest.GoodPassword, "10.9.9.9", site); !errors.As(err, &tooMany) {
		t.Fatalf("past the cap, a fresh address without the cookie: %v, want TooManyAttemptsError", err)
	}
	// The cookie gets in even from an address that is itself over its limit.
	for i := range accounts.MaxLoginFailures {
		if _, err := accounts.LogIn(ctx, s, fmt.Sprintf("guess%d@example.org", i), "wrong password!", "192.0.2.7", site); err != accounts.ErrBadCredentials {
			t.Fatalf("guess %d: %v", i+1, err)
		}
	}
	next, err := accounts.LogInFrom(ctx, s, accounts.LogInRequest{Email: "trustee@example.org", Password: campaignstest.GoodPassword, Client: "192.0.2.7", Device: in.Device, Site: site})
	if err != nil || next.Device == "" || next.Device == in.Device {
		t.Fatalf("with the device cookie: %+v, %v; want in, with a new cookie", next, err)
	}
	// The old cookie was replaced; another account's cookie counts for nothing here.
	if _, err := accounts.LogInFrom(ctx, s, accounts.LogInRequest{Email: "trustee@example.org", Password: campaignstest.GoodPassword, Client: "10.9.9.8", Device: in.Device, Site: site}); !errors.As(err, &tooMany) {
		t.Fatalf("with the replaced cookie: %v, want TooManyAttemptsError", err)
	}
	// Guessing with the cookie is limited too.
	for i := range accounts.MaxLoginFailures {
		if _, err := accounts.LogInFrom(ctx, s, accounts.LogInRequest{Email: "trustee@example.org", Password: "wrong password!", Client: "10.0.0.1", Device: next.Device, Site: site}); err != accounts.ErrBadCredentials {
			t.Fatalf("guess %d with the cookie: %v", i+1, err)
		}
	}
	if _, err := accounts.LogInFrom(ctx, s, accounts.LogInRequest{Email: "trustee@example.org", Password: campaignstest.GoodPassword, Client: "10.0.0.1", Device: next.Device, Site: site}); !errors.As(err, &tooMany) {
		t.Fatalf("after five guesses with the cookie: %v, want TooManyAttemptsError", err)
	}
}

func TestEndAllSessionsMovesTheEpoch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := campaignstest.Store(t, 8)
	u := campaignstest.AddUser(t, s, "trustee@example.org", accounts.RoleTrustee)
	if err := accounts.EndAllSessions(ctx, s, u); err != nil {
		t.Fatal(err)
	}
	after, err := accounts.UserByID(ctx, s, u.ID)
	if err != nil || after.SessionEpoch != u.SessionEpoch+1 {
		t.Fatalf("epoch %d -> %d (%v)", u.SessionEpoch, after.SessionEpoch, err)
	}
	if err := accounts.EndAllSessions(ctx, s, accounts.User{ID: u.ID + 99}); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("nobody: %v, want ErrNotFound", err)
	}
}

var confirmLink = regexp.MustCompile(regexp.QuoteMeta(site) + `/signup/confirm/([A-Za-z0-9_-]+)`)

// confirmToken is the token in the newest confirmation link mailed to email.
func confirmToken(t *testing.T, s *campaigns.Store, email string) string {
	t.Helper()
	mails, err := outbox.Outbox(context.Background(), s, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mails {
		if m.To == email {
			if sub := confirmLink.FindStringSubmatch(m.Body); sub != nil {
				return sub[1]
			}
		}
	}
	t.Fatalf("no confirmation link mailed to %s", email)
	return ""
}

// A fundraiser who signs herself up cannot log in until the emailed link confirms her
// address; accounts made on the command line need no link.
func TestSignUpWaitsForEmailConfirmation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := campaignstest.Store(t, 8)
	if u := campaignstest.AddUser(t, s, "trustee@example.org", accounts.RoleTrustee); !u.EmailConfirmed {
		t.Errorf("an account made on the command line is unconfirmed")
	}
	if err := accounts.SignUp(ctx, s, accounts.NewFundraiser{Email: "Ruby@example.org", DisplayName: "Ruby", Password: campaignstest.GoodPassword}, "10.0.0.1", site); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.Authenticate(ctx, s, "ruby@example.org", "not the password at all"); err != accounts.ErrBadCredentials {
		t.Errorf("wrong password for an unconfirmed account: %v, want ErrBadCredentials", err)
	}
	if _, err := accounts.Authenticate(ctx, s, "ruby@example.org", campaignstest.GoodPassword); !errors.Is(err, accounts.ErrEmailUnconfirmed) {
		t.Errorf("right password for an unconfirmed account: %v, want ErrEmailUnconfirmed", err)
	}
	first := confirmToken(t, s, "ruby@example.org")
	if _, err := accounts.LogIn(ctx, s, "ruby@example.org", campaignstest.GoodPassword, "10.0.0.2", site); !errors.Is(err, accounts.ErrEmailUnconfirmed) {
		t.Fatalf("log in before confirming: %v, want ErrEmailUnconfirmed", err)
	}
	again := confirmToken(t, s, "ruby@example.org")
	if again == first {
		t.Fatalf("logging in did not mail a new link")
	}
	if u, err := accounts.ConfirmationUser(ctx, s, first); err != nil || u.Email != "ruby@example.org" {
		t.Fatalf("look at the first link: %+v %v", u, err)
	}
	u, err := accounts.ConfirmEmail(ctx, s, again)
	if err != nil || !u.EmailConfirmed || u.DisplayName != "Ruby" {
		t.Fatalf("confirm: %+v %v", u, err)
	}
	// Confirming used up every link of the account.
	for _, token := range []string{again, first, "not-a-token"} {
		if _, err := accounts.ConfirmEmail(ctx, s, token); !errors.Is(err, campaigns.ErrNotFound) {
			t.Errorf("confirm with a used or made-up link: %v, want ErrNotFound", err)
		}
	}
	if _, err := accounts.LogIn(ctx, s, "ruby@example.org", campaignstest.GoodPassword, "10.0.0.3", site); err != nil {
		t.Errorf("log in after confirming: %v", err)
	}
}

// Whoever signs up first with someone else's address cannot make the owner confirm an
// account with the first one's password: the owner's own sign-up carries hers.
func TestSignUpAgainBeforeConfirmingTakesTheNewPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := campaignstest.Store(t, 8)
	if err := accounts.SignUp(ctx, s, accounts.NewFundraiser{Email: "ruby@example.org", DisplayName: "Mallory", Password: "mallory's own password"}, "192.0.2.1", site); err != nil {
		t.Fatal(err)
	}
	mallorys := confirmToken(t, s, "ruby@example.org")
	// Within the window no second email goes out, and the link already sent stops working:
	// Ruby cannot tell whose sign-up it carries.
	if err := accounts.SignUp(ctx, s, accounts.NewFundraiser{Email: "ruby@example.org", DisplayName: "Ruby", Password: campaignstest.GoodPassword}, "10.0.0.1", site); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.ConfirmEmail(ctx, s, mallorys); !errors.Is(err, campaigns.ErrNotFound) {
		t.Fatalf("the first sign-up's link after a second sign-up: %v, want ErrNotFound", err)
	}
	// After the window, signing up again sends Ruby a link carrying her own password.
	if _, err := s.Pool().Exec(ctx, `UPDATE login_attempts SET at = at - interval '16 minutes'`); err != nil {
		t.Fatal(err)
	}
	if err := accounts.SignUp(ctx, s, accounts.NewFundraiser{Email: "ruby@example.org", DisplayName: "Ruby", Password: campaignstest.GoodPassword}, "10.0.0.1", site); err != nil {
		t.Fatal(err)
	}
	u, err := accounts.ConfirmEmail(ctx, s, confirmToken(t, s, "ruby@example.org"))
	if err != nil || u.DisplayName != "Ruby" {
		t.Fatalf("confirm Ruby's sign-up: %+v %v", u, err)
	}
	if _, err := accounts.Authenticate(ctx, s, "ruby@example.org", "mallory's own password"); err != accounts.ErrBadCredentials {
		t.Errorf("the first sign-up's password works: %v", err)
	}
	if _, err := accounts.Authenticate(ctx, s, "ruby@example.org", campaignstest.GoodPassword); err != nil {
		t.Errorf("Ruby's password does not work: %v", err)
	}
	var n int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM users WHERE email = 'ruby@example.org'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d accounts (%v), want 1", n, err)
	}
}
