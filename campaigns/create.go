package campaigns

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Declaration is a Gift Aid declaration as the donor made it, with the exact wording
// shown (a versioned snapshot) so the charity can prove what was declared.
type Declaration struct {
	Title          string
	FirstName      string
	LastName       string
	House          string
	Postcode       string
	Scope          string // "this", "this_and_future" or "this_future_and_past"
	WordingVersion string
	Wording        string
}

// NewDonation is a donor's intent, decided and validated before payment. The amount comes
// from the server (a tier or a validated custom amount), never from the browser.
type NewDonation struct {
	AppealID     int64
	FundraiserID int64
	TierID       int64
	Amount       decimal.Decimal
	CoverFee     decimal.Decimal
	Monthly      bool
	DisplayName  string
	Message      string
	HideName     bool
	HideAmount   bool
	Email        string
	Declaration  *Declaration
	// FormToken is the donate form's one-time token; a second submission of the same form
	// returns the first donation instead of creating another.
	FormToken string
}

// CreateDonation stores the donation and any Gift Aid declaration together, before the
// donor is sent to pay: nothing half-written.
func (s *Store) CreateDonation(ctx context.Context, n NewDonation) (Donation, error) {
	var d Donation
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		d, err = CreateDonation(ctx, tx, n)
		return err
	})
	return d, err
}

// CreateDonation is the transactional helper behind Store.CreateDonation.
func CreateDonation(ctx context.Context, tx pgx.Tx, n NewDonation) (Donation, error) {
	if n.FormToken != "" {
		// Serialise submissions of one form so the second sees the first's donation.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 1))`, n.FormToken); err != nil {
			return Donation{}, err
		}
		var existing string
		err := tx.QueryRow(ctx, `SELECT id::text FROM donations WHERE form_token = $1`, n.FormToken).Scan(&existing)
		if err == nil {
			return FindDonation(ctx, tx, DonationLookup{ID: existing})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return Donation{}, err
		}
	}
	if n.Amount.Sign() <= 0 || !n.Amount.Equal(n.Amount.Round(2)) || n.CoverFee.Sign() < 0 || !n.CoverFee.Equal(n.CoverFee.Round(2)) {
		return Donation{}, fmt.Errorf("donation amount %s (+%s): %w", n.Amount, n.CoverFee, &ValidationError{Fields: map[string]string{"amount": "Enter an amount in pounds and pence"}})
	}
	var declID *string
	if g := n.Declaration; g != nil {
		var id string
		err := tx.QueryRow(ctx, `INSERT INTO gift_aid_declarations (title, first_name, last_name, house, postcode, scope, wording_version, wording)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id::text`,
			g.Title, g.FirstName, g.LastName, g.House, g.Postcode, g.Scope, g.WordingVersion, g.Wording).Scan(&id)
		if err != nil {
			return Donation{}, fmt.Errorf("store gift aid declaration: %w", err)
		}
		declID = &id
	}
	freq := "one_off"
	if n.Monthly {
		freq = "monthly"
	}
	var id string
	err := tx.QueryRow(ctx, `INSERT INTO donations (appeal_id, fundraiser_id, tier_id, amount, cover_fee, frequency,
			display_name, message, hide_name, hide_amount, email, gift_aid_declaration_id, form_token)
		VALUES ($1, NULLIF($2, 0), NULLIF($3, 0), $4, $5, $6, $7, $8, $9, $10, $11, $12::uuid, NULLIF($13, ''))
		RETURNING id::text`,
		n.AppealID, n.FundraiserID, n.TierID, n.Amount, n.CoverFee, freq, n.DisplayName, n.Message,
		n.HideName, n.HideAmount, n.Email, declID, n.FormToken).Scan(&id)
	if err != nil {
		return Donation{}, fmt.Errorf("store donation: %w", err)
	}
	return FindDonation(ctx, tx, DonationLookup{ID: id})
}

// SetCheckoutSession records the payment session the donor was sent to.
func (s *Store) SetCheckoutSession(ctx context.Context, donationID, sessionID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE donations SET checkout_session_id = $2, updated_at = now() WHERE id = $1::uuid`, donationID, sessionID)
	if err != nil {
		return fmt.Errorf("record checkout session: %w", err)
	}
	return nil
}

// DeclarationByID returns a stored Gift Aid declaration.
func (s *Store) DeclarationByID(ctx context.Context, id string) (Declaration, error) {
	var g Declaration
	err := s.pool.QueryRow(ctx, `SELECT title, first_name, last_name, house, postcode, scope, wording_version, wording
		FROM gift_aid_declarations WHERE id = $1::uuid`, id).Scan(&g.Title, &g.FirstName, &g.LastName, &g.House,
		&g.Postcode, &g.Scope, &g.WordingVersion, &g.Wording)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, fmt.Errorf("declaration: %w", ErrNotFound)
	}
	return g, err
}
