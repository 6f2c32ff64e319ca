package donations

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/dbq"
	"giving/campaigns/giftaid"
)

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
	Declaration  *giftaid.Declaration
	// PaymentMethod is how the donor chose to pay: MethodCard, MethodBacs, or "" (not asked).
	PaymentMethod string
	// FormToken is the donate form's one-time token; a second submission of the same form
	// returns the first donation instead of creating another.
	FormToken string
}

// Create stores the donation and any Gift Aid declaration together, before the
// donor is sent to pay: nothing half-written.
func Create(ctx context.Context, s *campaigns.Store, n NewDonation) (Donation, error) {
	return campaigns.InTxValue(ctx, s, func(tx pgx.Tx) (Donation, error) { return create(ctx, tx, n, s.Now()) })
}

// create is Create inside tx; now dates the declaration (the store's clock).
func create(ctx context.Context, tx pgx.Tx, n NewDonation, now time.Time) (Donation, error) {
	if n.FormToken != "" {
		// Serialise submissions of one form so the second sees the first's donation.
		if err := dbq.New(tx).LockFormToken(ctx, n.FormToken); err != nil {
			return Donation{}, err
		}
		existing, err := dbq.New(tx).DonationByFormToken(ctx, n.FormToken)
		if err == nil {
			return FindDonation(ctx, tx, DonationLookup{ID: existing})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return Donation{}, err
		}
	}
	if n.Amount.Sign() <= 0 || !n.Amount.Equal(n.Amount.Round(2)) || n.CoverFee.Sign() < 0 || !n.CoverFee.Equal(n.CoverFee.Round(2)) {
		return Donation{}, fmt.Errorf("donation amount %s (+%s): %w", n.Amount, n.CoverFee, &campaigns.ValidationError{Fields: map[string]string{"amount": "Enter an amount in pounds and pence"}})
	}
	var declID *string
	if g := n.Declaration; g != nil {
		id, err := dbq.New(tx).InsertDeclaration(ctx, dbq.InsertDeclarationParams{Title: g.Title, FirstName: g.FirstName,
			LastName: g.LastName, House: g.House, Postcode: g.Postcode, Scope: g.Scope, WordingVersion: g.WordingVersion,
			Wording: g.Wording, OwnMoneyConfirmed: g.OwnMoneyConfirmed, DeclaredAt: now})
		if err != nil {
			return Donation{}, fmt.Errorf("store gift aid declaration: %w", err)
		}
		declID = &id
	}
	freq := "one_off"
	if n.Monthly {
		freq = "monthly"
	}
	id, err := dbq.New(tx).InsertDonation(ctx, dbq.InsertDonationParams{AppealID: n.AppealID, FundraiserID: n.FundraiserID,
		TierID: n.TierID, Amount: n.Amount, CoverFee: n.CoverFee, Frequency: freq, DisplayName: n.DisplayName,
		Message: n.Message, HideName: n.HideName, HideAmount: n.HideAmount, Email: n.Email, DeclarationID: declID,
		FormToken: n.FormToken, PaymentMethod: n.PaymentMethod})
	if err != nil {
		return Donation{}, fmt.Errorf("store donation: %w", err)
	}
	return FindDonation(ctx, tx, DonationLookup{ID: id})
}

// SetCheckoutSession records the payment session the donor was sent to.
func SetCheckoutSession(ctx context.Context, s *campaigns.Store, donationID, sessionID string) error {
	err := dbq.New(s.Pool()).SetCheckoutSession(ctx, dbq.SetCheckoutSessionParams{ID: donationID, SessionID: sessionID})
	if err != nil {
		return fmt.Errorf("record checkout session: %w", err)
	}
	return nil
}

// CreateTx is Create inside the caller's transaction, dated now: campaigns/donors stores the
// donor's marketing answers with the donation (donors.CreateDonation).
func CreateTx(ctx context.Context, tx pgx.Tx, n NewDonation, now time.Time) (Donation, error) {
	return create(ctx, tx, n, now)
}
