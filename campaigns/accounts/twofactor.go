package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"giving/campaigns"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
)

// Two-factor sign-in: a time-based one-time code (TOTP, RFC 6238) from an authenticator
// app after the password, or one of ten recovery codes, each good once. Trustees and
// admins see every donor's data; REQUIRE_2FA_FOR makes it compulsory for their roles.

// The parameters every authenticator app uses: SHA-1, six digits, a new code every 30 s.
// A code from the step before or after is accepted too, for a phone's clock that drifts.
const (
	totpPeriod = 30
	// RecoveryCodeCount recovery codes are made at enrolment and shown once.
	RecoveryCodeCount = 10
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// ErrWrongCode is a code that is not right (or was already used).
var ErrWrongCode = errors.New("the code is not right")

// NewTOTPKey makes a fresh secret for u to enrol, named so an authenticator app lists it
// under the charity and the account's email.
func NewTOTPKey(u User) (*otp.Key, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: campaigns.CharityName, AccountName: u.Email, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("two-factor secret: %w", err)
	}
	return k, nil
}

// totpStep is the time step whose code is code, within one step of now, or -1.
func totpStep(secret, code string, now time.Time) int64 {
	if len(code) != 6 {
		return -1
	}
	for _, d := range []int64{0, -1, 1} {
		t := now.Add(time.Duration(d*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return t.Unix() / totpPeriod
		}
	}
	return -1
}

// normalizeCode drops the spaces and dashes people type or paste, and lower-cases.
func normalizeCode(code string) string {
	return strings.ToLower(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(code))
}

func recoveryHash(code string) []byte {
	h := sha256.Sum256([]byte(normalizeCode(code)))
	return h[:]
}

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRecoveryCodes makes RecoveryCodeCount codes of 50 random bits, as "abcde-fghij".
func newRecoveryCodes() ([]string, error) {
	codes := make([]string, RecoveryCodeCount)
	for i := range codes {
		b := make([]byte, 7)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("recovery codes: %w", err)
		}
		s := strings.ToLower(recoveryEncoding.EncodeToString(b))[:10]
		codes[i] = s[:5] + "-" + s[5:]
	}
	return codes, nil
}

// EnableTwoFactor confirms u's enrolment: code must be the one secret gives now. It stores
// the secret, replaces any recovery codes with ten new ones and returns them, to be shown
// once (only their hashes are kept). Audited.
func EnableTwoFactor(ctx context.Context, s *campaigns.Store, u User, secret, code string, now time.Time) ([]string, error) {
	if totpStep(secret, normalizeCode(code), now) < 0 {
		return nil, &campaigns.ValidationError{Fields: map[string]string{"code": "That code is not right. Type the 6 digits your app shows now for this account."}}
	}
	codes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		n, err := q.EnableTOTP(ctx, dbq.EnableTOTPParams{Secret: &secret, UserID: u.ID})
		if err != nil {
			return fmt.Errorf("enable two-factor: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("two-factor sign-in is already on for %s: %w", u.Email, campaigns.ErrConflict)
		}
		if err := q.DeleteRecoveryCodes(ctx, u.ID); err != nil {
			return fmt.Errorf("recovery codes: %w", err)
		}
		for _, c := range codes {
			if err := q.InsertRecoveryCode(ctx, dbq.InsertRecoveryCodeParams{UserID: u.ID, CodeHash: recoveryHash(c)}); err != nil {
				return fmt.Errorf("recovery codes: %w", err)
			}
		}
		return audit.Write(ctx, tx, u, "two-factor enrolled", fmt.Sprintf("%d recovery codes made", len(codes)))
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// CheckSecondFactor is the second step of u's log-in: the app's current code, good for one
// log-in only (a code already used, even within its 30 s, is refused), or an unused
// recovery code, which is then used up. ErrWrongCode otherwise. Audited either way.
func CheckSecondFactor(ctx context.Context, s *campaigns.Store, u User, code string, now time.Time) (recovery bool, err error) {
	code = normalizeCode(code)
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		st, err := q.TOTPState(ctx, u.ID)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && st.Secret == "") {
			return fmt.Errorf("two-factor sign-in is not on for user %d: %w", u.ID, ErrWrongCode)
		}
		if err != nil {
			return fmt.Errorf("two-factor state: %w", err)
		}
		if step := totpStep(st.Secret, code, now); step >= 0 {
			n, err := q.UseTOTPStep(ctx, dbq.UseTOTPStepParams{Step: step, UserID: u.ID})
			if err != nil {
				return fmt.Errorf("use two-factor code: %w", err)
			}
			if n == 1 {
				return audit.Write(ctx, tx, u, "two-factor log-in", "authenticator code")
			}
		} else if len(code) == 10 {
			n, err := q.UseRecoveryCode(ctx, dbq.UseRecoveryCodeParams{UserID: u.ID, CodeHash: recoveryHash(code)})
			if err != nil {
				return fmt.Errorf("use recovery code: %w", err)
			}
			if n == 1 {
				recovery = true
				left, err := q.RecoveryCodesLeft(ctx, u.ID)
				if err != nil {
					return fmt.Errorf("recovery codes left: %w", err)
				}
				return audit.Write(ctx, tx, u, "two-factor log-in", fmt.Sprintf("recovery code; %d left", left))
			}
		}
		return ErrWrongCode
	})
	if errors.Is(err, ErrWrongCode) {
		// Recorded outside the refused transaction, so the audit log keeps every failure.
		if aerr := audit.Write(ctx, s.Pool(), u, "two-factor refused", "wrong or used code"); aerr != nil {
			return false, aerr
		}
	}
	return recovery, err
}

// RecoveryCodesLeft counts u's unused recovery codes.
func RecoveryCodesLeft(ctx context.Context, s *campaigns.Store, u User) (int64, error) {
	n, err := dbq.New(s.Pool()).RecoveryCodesLeft(ctx, u.ID)
	if err != nil {
		return 0, fmt.Errorf("recovery codes left: %w", err)
	}
	return n, nil
}
