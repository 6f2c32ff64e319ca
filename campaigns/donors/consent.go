package donors

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
	"giving/campaigns/donations"
)

// Marketing consent (UK GDPR and PECR). The donate form asks, in a fieldset of its own,
// whether the charity may contact the donor about its work, separately for each channel:
// email, post and phone. The charity chooses how (charity_settings.consent_mode, in
// /admin/charity): ModeOptIn asks with an unticked box per channel; ModeSoftOptIn uses the
// charity soft opt-in for email (someone who gives may be emailed unless she ticks the
// opt-out box, offered at the time) and unticked boxes for post and phone, which the soft
// opt-in does not cover.
//
// Every answer is stored (table marketing_consents, migration 0030) with the exact words
// shown beside its box, their version and the time (the store's clock), with the donation
// whose form carried it, and so with her donor record. A withdrawal is another row, against
// her record: her standing on a channel is her latest answer, so a later gift with the box
// ticked asks again. Every email to a donor carries a signed link (WithdrawLink) to stop
// emails about the charity's work, or all contact, with no log-in; the withdrawal is stored
// and audited in one transaction. The consented-contacts CSV (campaigns/reports) lists
// those whose latest answer is yes, never an erased donor.

// The channels a donor may be contacted on, in the order the form asks.
const (
	ChannelEmail = "email"
	ChannelPost  = "post"
	ChannelPhone = "phone"
)

// Channels lists every channel, in form order.
var Channels = []string{ChannelEmail, ChannelPost, ChannelPhone}

// How the donate form asks (charity_settings.consent_mode).
const (
	ModeOptIn     = "opt_in"
	ModeSoftOptIn = "soft_opt_in"
	modeWithdrawn = "withdrawal"
)

// ConsentWordingVersion names the words below; change it whenever they change, so each
// stored answer says which words were shown.
const ConsentWordingVersion = "consent-2026-12-05"

// Question is one box of the donate form's consent fieldset.
type Question struct {
	Channel string
	Field   string // the form field, consent_email and so on
	Wording string // the words beside the box, exactly as stored with the answer
	// OptOut: ticking the box says no (the soft opt-in's box); otherwise ticking says yes.
	OptOut bool
	// Contact names the detail a yes needs ("address", "phone"), "" for email (the
	// address she gives at checkout).
	Contact string
}

// ConsentQuestions are the boxes the form shows in mode, naming the charity.
func ConsentQuestions(mode, charity string) []Question {
	email := Question{Channel: ChannelEmail, Field: "consent_email",
		Wording: "Yes, please email me about " + charity + "'s work, news and appeals."}
	if mode == ModeSoftOptIn {
		email = Question{Channel: ChannelEmail, Field: "consent_email", OptOut: true,
			Wording: "As a supporter we'll email you now and then about " + charity + "'s work, news and appeals, " +
				"and every email has a link to stop. Tick this box if you would rather we didn't."}
	}
	return []Question{email,
		{Channel: ChannelPost, Field: "consent_post", Contact: "address",
			Wording: "Yes, please send me post about " + charity + "'s work, news and appeals."},
		{Channel: ChannelPhone, Field: "consent_phone", Contact: "phone",
			Wording: "Yes, you may phone me about " + charity + "'s work, news and appeals."},
	}
}

// ValidMode reports whether mode is one the charity may choose.
func ValidMode(mode string) bool { return mode == ModeOptIn || mode == ModeSoftOptIn }

// ConsentAnswer is one channel's answer on the donate form.
type ConsentAnswer struct {
	Channel string
	Granted bool
	Mode    string // ModeOptIn or ModeSoftOptIn
	Wording string
	Version string
	Contact string // the postal address or phone number given with a yes; "" otherwise
}

// Answer turns the box as the donor left it (ticked or not) into her answer.
func (q Question) Answer(mode string, ticked bool, contact string) ConsentAnswer {
	a := ConsentAnswer{Channel: q.Channel, Granted: ticked != q.OptOut, Mode: ModeOptIn, Wording: q.Wording, Version: ConsentWordingVersion}
	if q.OptOut {
		a.Mode = ModeSoftOptIn
	}
	if a.Granted {
		a.Contact = contact
	}
	return a
}

// CreateDonation stores the donation (donations.CreateTx) and the donor's marketing
// answers with it, in one transaction: nothing half-written. The same form sent twice
// finds the first donation and keeps its first answers.
func CreateDonation(ctx context.Context, s *campaigns.Store, n donations.NewDonation, answers []ConsentAnswer) (donations.Donation, error) {
	return campaigns.InTxValue(ctx, s, func(tx pgx.Tx) (donations.Donation, error) {
		now := s.Now()
		d, err := donations.CreateTx(ctx, tx, n, now)
		if err != nil {
			return d, err
		}
		q := dbq.New(tx)
		for _, a := range answers {
			err := q.InsertFormConsent(ctx, dbq.InsertFormConsentParams{DonationID: d.ID, Channel: a.Channel, Granted: a.Granted,
				Mode: a.Mode, Wording: a.Wording, WordingVersion: a.Version, Contact: a.Contact, AnsweredAt: now})
			if err != nil {
				return d, fmt.Errorf("store marketing consent: %w", err)
			}
		}
		return d, nil
	})
}

// Consent is one stored answer, as the donor's data export shows it.
type Consent struct {
	ID             int64
	DonationID     string // the gift whose form carried it; "" for a withdrawal
	Channel        string
	Granted        bool
	Mode           string // opt_in, soft_opt_in or withdrawal
	Wording        string
	WordingVersion string
	Contact        string
	AnsweredAt     time.Time
}

// DonorConsents is every answer of the donor record donorID, oldest first.
func DonorConsents(ctx context.Context, db campaigns.DB, donorID string) ([]Consent, error) {
	rows, err := dbq.New(db).DonorConsents(ctx, donorID)
	if err != nil {
		return nil, fmt.Errorf("read marketing consents: %w", err)
	}
	out := make([]Consent, len(rows))
	for i, r := range rows {
		out[i] = Consent(r)
	}
	return out, nil
}

// Standing is her latest answer on each channel (false when she never said yes).
func Standing(answers []Consent) map[string]bool {
	out := map[string]bool{}
	for _, a := range answers { // oldest first: the latest wins
		out[a.Channel] = a.Granted
	}
	return out
}

// ---- The signed link in every email ----

const withdrawKeyName = "consent-withdraw"

// linkKey is the key signing withdrawal links, made from crypto/rand the first time.
func linkKey(ctx context.Context, db campaigns.DB) ([]byte, error) {
	q := dbq.New(db)
	key, err := q.LinkKey(ctx, withdrawKeyName)
	if errors.Is(err, pgx.ErrNoRows) {
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return nil, err
		}
		// Two instances making one at once: the first wins, both read it back.
		if err := q.InsertLinkKey(ctx, dbq.InsertLinkKeyParams{Name: withdrawKeyName, Key: fresh}); err != nil {
			return nil, fmt.Errorf("make link key: %w", err)
		}
		key, err = q.LinkKey(ctx, withdrawKeyName)
	}
	if err != nil {
		return nil, fmt.Errorf("read link key: %w", err)
	}
	return key, nil
}

func sign(key []byte, donorID string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("giving consent withdraw v1\x00" + donorID))
	return m.Sum(nil)[:18]
}

// withdrawToken is the donor record's id (32 hex digits) and its signature.
func withdrawToken(key []byte, donorID string) string {
	return strings.ReplaceAll(donorID, "-", "") + "." + base64.RawURLEncoding.EncodeToString(sign(key, donorID))
}

// parseWithdrawToken returns the donor record a token names, if its signature holds.
func parseWithdrawToken(key []byte, token string) (string, bool) {
	id, sig, ok := strings.Cut(token, ".")
	raw, err := hex.DecodeString(id)
	if !ok || err != nil || len(raw) != 16 {
		return "", false
	}
	donorID := fmt.Sprintf("%x-%x-%x-%x-%x", raw[0:4], raw[4:6], raw[6:8], raw[8:10], raw[10:16])
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, sign(key, donorID)) {
		return "", false
	}
	return donorID, true
}

// PreferencesPath is where a withdrawal link points, under the site's base URL.
const PreferencesPath = "/preferences/"

// WithdrawLink is the address at which the donor with this email stops emails about the
// charity's work (or all contact) without logging in: baseURL + /preferences/<token>. An
// address with no donor record (or an erased one) has none: "".
func WithdrawLink(ctx context.Context, db campaigns.DB, baseURL, email string) (string, error) {
	id, err := dbq.New(db).DonorIDByEmail(ctx, email)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("withdraw link: %w", err)
	}
	key, err := linkKey(ctx, db)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(baseURL, "/") + PreferencesPath + withdrawToken(key, id), nil
}

// MailFooter is the foot of every email (outbox.MailWorker.Footer): the charity's legal
// name, registered number and address, and, for an address with a donor record, her link
// to stop emails about the charity's work, signed, with no log-in.
func MailFooter(c donations.Charity, baseURL string, s *campaigns.Store) func(context.Context, string) (string, error) {
	return func(ctx context.Context, to string) (string, error) {
		foot := c.Name
		if c.Number != "" {
			foot += ", registered charity number " + c.Number
		}
		if c.Address != "" {
			foot += ", " + c.Address
		}
		foot += "."
		link, err := WithdrawLink(ctx, s.Pool(), baseURL, to)
		if err != nil || link == "" {
			return foot, err
		}
		return foot + "\nStop emails about our work, or choose what we send you: " + link, nil
	}
}

// Preferences is what the page behind a withdrawal link shows.
type Preferences struct {
	DonorID  string
	Erased   bool            // her data was erased: nothing is held, nothing to stop
	Standing map[string]bool // her latest answer per channel
}

// PreferencesByToken reads the preferences a withdrawal link names; campaigns.ErrNotFound
// for a token that is not one we signed.
func PreferencesByToken(ctx context.Context, s *campaigns.Store, token string) (Preferences, error) {
	return preferences(ctx, s.Pool(), token)
}

func preferences(ctx context.Context, db campaigns.DB, token string) (Preferences, error) {
	key, err := linkKey(ctx, db)
	if err != nil {
		return Preferences{}, err
	}
	id, ok := parseWithdrawToken(key, token)
	if !ok {
		return Preferences{}, fmt.Errorf("withdraw link: %w", campaigns.ErrNotFound)
	}
	r, err := dbq.New(db).DonorForLink(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Preferences{}, fmt.Errorf("withdraw link: %w", campaigns.ErrNotFound)
	} else if err != nil {
		return Preferences{}, fmt.Errorf("withdraw link: %w", err)
	}
	p := Preferences{DonorID: r.ID, Erased: r.ErasedAt != nil}
	answers, err := DonorConsents(ctx, db, r.ID)
	p.Standing = Standing(answers)
	return p, err
}

// WithdrawalWording is what the withdrawal page's buttons say, stored with each withdrawal.
func WithdrawalWording(channels []string) string {
	if len(channels) == 1 && channels[0] == ChannelEmail {
		return "Stop emails about our work"
	}
	return "Stop all contact about our work (email, post and phone)"
}

// linkActor is who withdraws through an emailed link: the donor, with no account.
type linkActor struct{}

func (linkActor) AuditActor() (int64, string) { return 0, "donor (link in an email)" }

// Withdraw stores, for the donor the link names, a "no" on each of channels (at the
// store's clock, with the page's wording), and audits it, in one transaction. Channels she
// never said yes to are recorded all the same: she has told us. campaigns.ErrNotFound for
// a bad link; an erased donor has nothing to withdraw and nothing is written.
func Withdraw(ctx context.Context, s *campaigns.Store, token string, channels []string) (Preferences, error) {
	return campaigns.InTxValue(ctx, s, func(tx pgx.Tx) (Preferences, error) {
		p, err := preferences(ctx, tx, token)
		if err != nil || p.Erased {
			return p, err
		}
		now := s.Now()
		wording := WithdrawalWording(channels)
		for _, c := range channels {
			if err := dbq.New(tx).InsertWithdrawal(ctx, dbq.InsertWithdrawalParams{DonorID: p.DonorID, Channel: c,
				Wording: wording, WordingVersion: ConsentWordingVersion, AnsweredAt: now}); err != nil {
				return p, fmt.Errorf("store withdrawal: %w", err)
			}
			p.Standing[c] = false
		}
		return p, audit.Write(ctx, tx, linkActor{}, "marketing consent withdrawn",
			fmt.Sprintf("donor record %s: %s (%s)", p.DonorID, strings.Join(channels, ", "), wording))
	})
}

// ---- Trustees' list ----

// ConsentedContact is a donor whose latest answer on a channel is yes.
type ConsentedContact struct {
	DonorID        string
	Email          string
	Name           string
	Mode           string
	Wording        string
	WordingVersion string
	Contact        string
	AnsweredAt     time.Time
}

// ConsentedContacts lists, in tx, the donors whose latest answer on channel is yes, by
// name: never one who withdrew since, nor one whose data was erased.
func ConsentedContacts(ctx context.Context, db campaigns.DB, channel string) ([]ConsentedContact, error) {
	rows, err := dbq.New(db).ConsentedContacts(ctx, channel)
	if err != nil {
		return nil, fmt.Errorf("consented contacts: %w", err)
	}
	out := make([]ConsentedContact, len(rows))
	for i, r := range rows {
		out[i] = ConsentedContact(r)
	}
	return out, nil
}
