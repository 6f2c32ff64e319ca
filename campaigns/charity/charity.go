// Package charity is the charity's own voice on the site: its privacy notice, contact and
// complaints pages, and how the donate form asks for marketing consent (the mode, see
// campaigns/donors/consent.go). Admins change them in /admin/charity; each change is
// audited in its transaction. A page never edited shows the default text written here,
// which names the charity from its CHARITY_* settings and states the retention rules as
// the code keeps them; an admin's text replaces it, and clearing the text returns to it.
package charity

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
	"giving/campaigns/donations"
	"giving/campaigns/donors"
)

// The charity's pages, by their address under the site.
const (
	PagePrivacy    = "privacy"
	PageContact    = "contact"
	PageComplaints = "complaints"
)

// Pages lists them in footer order.
var Pages = []string{PagePrivacy, PageContact, PageComplaints}

// PageTitle is a page's heading.
func PageTitle(page string) string {
	switch page {
	case PagePrivacy:
		return "How we use your details"
	case PageContact:
		return "Contact us"
	case PageComplaints:
		return "Complaints"
	}
	return ""
}

// MaxText bounds a page's text (the database checks it too).
const MaxText = 20000

// Settings are the charity's choices as stored.
type Settings struct {
	ConsentMode string
	// Texts holds each page's text as an admin wrote it; "" means the default.
	Texts     map[string]string
	UpdatedAt time.Time
}

// Text is page's text as shown: the admin's, else the default for c.
func (s Settings) Text(page string, c donations.Charity) string {
	if t := s.Texts[page]; t != "" {
		return t
	}
	return DefaultText(page, c)
}

// Edited reports whether an admin's text replaces page's default.
func (s Settings) Edited(page string) bool { return s.Texts[page] != "" }

// Read returns the settings.
func Read(ctx context.Context, db campaigns.DB) (Settings, error) {
	row, err := dbq.New(db).CharitySettings(ctx)
	if err != nil {
		return Settings{}, fmt.Errorf("charity settings: %w", err)
	}
	return Settings{ConsentMode: row.ConsentMode, UpdatedAt: row.UpdatedAt, Texts: map[string]string{
		PagePrivacy: row.PrivacyText, PageContact: row.ContactText, PageComplaints: row.ComplaintsText}}, nil
}

// Edit is an admin's change to the settings.
type Edit struct {
	ConsentMode string
	Texts       map[string]string // as typed; empty returns to the default
}

// sameWords reports whether a and b differ only in spacing and line breaks (a browser may
// send a textarea back with its own line ends).
func sameWords(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

// cleanText keeps line breaks as \n and trims the ends.
func cleanText(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

// Save stores an admin's edit and audits each change (the consent mode, each page whose
// text changed) in the same transaction; nothing changes when any field is wrong. Text
// that is the default's words is stored as the default, so it keeps following CHARITY_*.
func Save(ctx context.Context, s *campaigns.Store, by accounts.User, e Edit, c donations.Charity) error {
	ve := &campaigns.ValidationError{}
	if !donors.ValidMode(e.ConsentMode) {
		ve.Add("consent_mode", "Choose how the donate form asks about keeping in touch")
	}
	texts := map[string]string{}
	for _, p := range Pages {
		t := cleanText(e.Texts[p])
		switch {
		case utf8.RuneCountInString(t) > MaxText:
			ve.Add(p, fmt.Sprintf("Use %d characters or fewer", MaxText))
		case !utf8.ValidString(t) || strings.ContainsRune(t, 0):
			ve.Add(p, "The text has characters that cannot be shown")
		case sameWords(t, DefaultText(p, c)):
			t = ""
		}
		texts[p] = t
	}
	if err := ve.OrNil(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		q, now := dbq.New(tx), s.Now()
		n, err := q.SetConsentMode(ctx, dbq.SetConsentModeParams{ConsentMode: e.ConsentMode, Now: now})
		if err != nil {
			return fmt.Errorf("save consent mode: %w", err)
		}
		if n > 0 {
			if err := audit.Write(ctx, tx, by, "consent mode changed", "the donate form now asks: "+ModeLabel(e.ConsentMode)); err != nil {
				return err
			}
		}
		for _, p := range Pages {
			params := dbq.SetPrivacyTextParams{Body: texts[p], Now: now}
			var n int64
			switch p {
			case PagePrivacy:
				n, err = q.SetPrivacyText(ctx, params)
			case PageContact:
				n, err = q.SetContactText(ctx, dbq.SetContactTextParams(params))
			case PageComplaints:
				n, err = q.SetComplaintsText(ctx, dbq.SetComplaintsTextParams(params))
			}
			if err != nil {
				return fmt.Errorf("save %s page: %w", p, err)
			}
			if n == 0 {
				continue
			}
			detail := fmt.Sprintf("/%s (%s): %d characters", p, PageTitle(p), utf8.RuneCountInString(texts[p]))
			if texts[p] == "" {
				detail = fmt.Sprintf("/%s (%s): back to the default text", p, PageTitle(p))
			}
			if err := audit.Write(ctx, tx, by, "charity page edited", detail); err != nil {
				return err
			}
		}
		return nil
	})
}

// ModeLabel describes a consent mode to an admin.
func ModeLabel(mode string) string {
	if mode == donors.ModeSoftOptIn {
		return "soft opt-in for email (an opt-out box), unticked boxes for post and phone"
	}
	return "an unticked box for each of email, post and phone"
}
