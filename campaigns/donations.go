package campaigns

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Donation statuses. Only the ledger says what money counts; a status tells the donor's
// and trustees' story (waiting, processing, failed, a monthly gift past due...).
const (
	StatusPending    = "pending"
	StatusProcessing = "processing"
	StatusPaid       = "paid"
	StatusFailed     = "failed"
	StatusExpired    = "expired"
	StatusActive     = "active"
	StatusPastDue    = "past_due"
	StatusCancelled  = "cancelled"
	StatusRefunded   = "refunded"
	StatusDisputed   = "disputed"
)

// Donation is a donor's intent to give, created before the payment and completed by
// Stripe's events.
type Donation struct {
	ID             string
	AppealID       int64
	FundraiserID   int64
	TierID         int64
	Amount         decimal.Decimal
	CoverFee       decimal.Decimal
	Monthly        bool
	Status         string
	DisplayName    string
	Message        string
	HideName       bool
	HideAmount     bool
	DeclarationID  string
	Email          string
	SessionID      string
	PaymentIntent  string
	SubscriptionID string
	CustomerID     string
	Unmatched      bool
	CreatedAt      time.Time
	// GiftAidCancelledAt is when the donation's Gift Aid declaration was cancelled, if it
	// was: gifts on or after that date are not covered.
	GiftAidCancelledAt *time.Time
}

// Total is what the donor pays: the gift plus any card fee they chose to cover.
func (d Donation) Total() decimal.Decimal { return d.Amount.Add(d.CoverFee) }

// GiftAidCovers reports whether money received at t is covered by a Gift Aid declaration.
func (d Donation) GiftAidCovers(t time.Time) bool {
	if d.DeclarationID == "" {
		return false
	}
	return d.GiftAidCancelledAt == nil || t.Before(*d.GiftAidCancelledAt)
}

// DonorKey identifies the donor for the distinct-donor count without keeping an email in
// the ledger: the Stripe customer, else a hash of the email, else the donation itself.
func (d Donation) DonorKey() string {
	switch {
	case d.CustomerID != "":
		return d.CustomerID
	case d.Email != "":
		sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(d.Email))))
		return "email:" + hex.EncodeToString(sum[:12])
	default:
		return "donation:" + d.ID
	}
}

const donationColumns = `d.id::text, d.appeal_id, COALESCE(d.fundraiser_id, 0), COALESCE(d.tier_id, 0), d.amount,
	d.cover_fee, d.frequency = 'monthly', d.status, d.display_name, d.message, d.hide_name, d.hide_amount,
	COALESCE(d.gift_aid_declaration_id::text, ''), d.email, COALESCE(d.checkout_session_id, ''),
	COALESCE(d.payment_intent_id, ''), COALESCE(d.subscription_id, ''), COALESCE(d.customer_id, ''),
	d.unmatched, d.created_at, g.cancelled_at`

const donationFrom = ` FROM donations d LEFT JOIN gift_aid_declarations g ON g.id = d.gift_aid_declaration_id `

func scanDonation(row pgx.Row) (Donation, error) {
	var d Donation
	err := row.Scan(&d.ID, &d.AppealID, &d.FundraiserID, &d.TierID, &d.Amount, &d.CoverFee, &d.Monthly,
		&d.Status, &d.DisplayName, &d.Message, &d.HideName, &d.HideAmount, &d.DeclarationID, &d.Email,
		&d.SessionID, &d.PaymentIntent, &d.SubscriptionID, &d.CustomerID, &d.Unmatched, &d.CreatedAt,
		&d.GiftAidCancelledAt)
	return d, err
}

// DonationLookup names a donation by any of the ids Stripe events carry. The first that
// matches wins, in field order.
type DonationLookup struct {
	ID             string
	SessionID      string
	PaymentIntent  string
	SubscriptionID string
	ChargeID       string // via a gift already in the ledger
}

// FindDonation finds and locks (FOR UPDATE) the donation, so that events about the same
// gift apply one after another. ErrNotFound when none matches.
func FindDonation(ctx context.Context, tx pgx.Tx, l DonationLookup) (Donation, error) {
	tries := []struct{ where, arg string }{
		{`d.id = $1::uuid`, uuidOrEmpty(l.ID)},
		{`d.checkout_session_id = $1`, l.SessionID},
		{`d.payment_intent_id = $1`, l.PaymentIntent},
		{`d.subscription_id = $1`, l.SubscriptionID},
		{`d.id = (SELECT donation_id FROM ledger_entries WHERE payment_intent = $1 AND kind = 'gift' LIMIT 1)`, l.PaymentIntent},
		{`d.id = (SELECT donation_id FROM ledger_entries WHERE charge_id = $1 AND kind = 'gift' LIMIT 1)`, l.ChargeID},
	}
	for _, t := range tries {
		if t.arg == "" {
			continue
		}
		d, err := scanDonation(tx.QueryRow(ctx, `SELECT `+donationColumns+donationFrom+`WHERE `+t.where+` FOR UPDATE OF d`, t.arg))
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return Donation{}, fmt.Errorf("find donation: %w", err)
		}
		return d, nil
	}
	return Donation{}, fmt.Errorf("donation: %w", ErrNotFound)
}

func uuidOrEmpty(s string) string {
	if len(s) != 36 {
		return ""
	}
	for i, c := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return ""
			}
		} else if !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
			return ""
		}
	}
	return s
}

// nilUUID matches no row: gen_random_uuid never makes it.
const nilUUID = "00000000-0000-0000-0000-000000000000"

// uuidOrNil is s when it is a uuid in its canonical form, else nilUUID, so a query by a
// mistyped or hostile id (a URL's path) finds nothing, a 404, instead of failing the cast.
func uuidOrNil(s string) string {
	if v := uuidOrEmpty(s); v != "" {
		return v
	}
	return nilUUID
}

// Unmatched describes money Stripe reported for something this service never created (a
// session made before a crash, a Payment Link): it is still recorded, against the named
// appeal or the default one, and flagged for a trustee.
type Unmatched struct {
	AppealSlug     string
	FundraiserSlug string
	Amount         decimal.Decimal
	Monthly        bool
	PaymentIntent  string // the upsert key for one-off money
	SubscriptionID string // the upsert key for monthly money
	SessionID      string
	CustomerID     string
	Email          string
}

// UpsertUnmatched finds or creates the flagged donation for u, keyed by its payment intent
// or subscription so that every event about the same money lands on the same donation.
func UpsertUnmatched(ctx context.Context, tx pgx.Tx, u Unmatched) (Donation, error) {
	key, col := u.PaymentIntent, "payment_intent_id"
	if u.Monthly || key == "" {
		key, col = u.SubscriptionID, "subscription_id"
	}
	if key == "" {
		return Donation{}, errors.New("unmatched money needs a payment intent or subscription id")
	}
	amount := u.Amount
	if amount.Sign() <= 0 {
		amount = decimal.RequireFromString("0.01") // unknown until the money arrives; never counted from here
	}
	freq := "one_off"
	if u.Monthly {
		freq = "monthly"
	}
	var id string
	err := tx.QueryRow(ctx, `
		INSERT INTO donations (appeal_id, fundraiser_id, amount, frequency, status, `+col+`,
			checkout_session_id, customer_id, email, unmatched)
		VALUES (
			COALESCE((SELECT id FROM appeals WHERE slug = $1), (SELECT id FROM appeals WHERE is_default)),
			(SELECT f.id FROM fundraisers f JOIN appeals a ON a.id = f.appeal_id
			  WHERE f.slug = $2 AND a.id = COALESCE((SELECT id FROM appeals WHERE slug = $1), (SELECT id FROM appeals WHERE is_default))),
			$3, $4, 'pending', $5, NULLIF($6, ''), NULLIF($7, ''), $8, true)
		ON CONFLICT (`+col+`) DO UPDATE SET updated_at = now()
		RETURNING id::text`,
		u.AppealSlug, u.FundraiserSlug, amount, freq, key, u.SessionID, u.CustomerID, u.Email).Scan(&id)
	if err != nil {
		return Donation{}, fmt.Errorf("record unmatched donation: %w", err)
	}
	return FindDonation(ctx, tx, DonationLookup{ID: id})
}

// Link records the Stripe ids and contact details learned from an event. Empty fields
// leave what is stored.
type Link struct {
	SessionID      string
	PaymentIntent  string
	SubscriptionID string
	CustomerID     string
	Email          string
}

// UpdateDonation records the Stripe ids and contact details an event brings (empty fields
// keep what is stored) and, when status is not empty, moves the donation to status if its
// current status is one of from (any, when from is empty) and the event at eventAt is not
// older than the one that set the current status: an older event never overwrites a newer
// state. One statement; it reports whether the status is now the one asked for at eventAt.
func UpdateDonation(ctx context.Context, tx pgx.Tx, id string, l Link, status string, eventAt time.Time, from ...string) (bool, error) {
	var changed bool
	err := tx.QueryRow(ctx, `UPDATE donations SET
		checkout_session_id = COALESCE(NULLIF($2, ''), checkout_session_id),
		payment_intent_id = COALESCE(NULLIF($3, ''), payment_intent_id),
		subscription_id = COALESCE(NULLIF($4, ''), subscription_id),
		customer_id = COALESCE(NULLIF($5, ''), customer_id),
		email = CASE WHEN $6 <> '' THEN $6 ELSE email END,
		status = CASE WHEN s.ok THEN $7 ELSE status END,
		status_event_at = CASE WHEN s.ok THEN $8 ELSE status_event_at END,
		updated_at = now()
		FROM (SELECT $7 <> '' AND (COALESCE(cardinality($9::text[]), 0) = 0 OR d.status = ANY($9))
		             AND (d.status_event_at IS NULL OR d.status_event_at <= $8) AS ok
		      FROM donations d WHERE d.id = $1::uuid) s
		WHERE id = $1::uuid RETURNING s.ok`,
		id, l.SessionID, l.PaymentIntent, l.SubscriptionID, l.CustomerID, l.Email, status, eventAt, from).Scan(&changed)
	if err != nil {
		return false, fmt.Errorf("update donation %s: %w", id, err)
	}
	return changed, nil
}

// LinkDonation stores l on the donation.
func LinkDonation(ctx context.Context, tx pgx.Tx, id string, l Link) error {
	_, err := UpdateDonation(ctx, tx, id, l, "", time.Time{})
	return err
}

// SetStatus is UpdateDonation with nothing to link.
func SetStatus(ctx context.Context, tx pgx.Tx, id, status string, eventAt time.Time, from ...string) (bool, error) {
	return UpdateDonation(ctx, tx, id, Link{}, status, eventAt, from...)
}

// SetCancelAtPeriodEnd mirrors a monthly gift's scheduled cancellation.
func SetCancelAtPeriodEnd(ctx context.Context, tx pgx.Tx, id string, v bool) error {
	_, err := tx.Exec(ctx, `UPDATE donations SET cancel_at_period_end = $2, updated_at = now() WHERE id = $1::uuid`, id, v)
	return err
}

// RefundedSoFar is what the ledger already holds as refunded for a charge, in pounds.
func RefundedSoFar(ctx context.Context, tx pgx.Tx, chargeID string) (decimal.Decimal, error) {
	var v decimal.Decimal
	err := tx.QueryRow(ctx, `SELECT COALESCE(-sum(amount), 0) FROM ledger_entries WHERE kind = 'refund' AND charge_id = $1`, chargeID).Scan(&v)
	return v, err
}

// GiftEntry is the ledger's gift for a payment, needed to place refunds and Gift Aid
// adjustments.
type GiftEntry struct {
	ID      int64
	Amount  decimal.Decimal
	Claimed bool
	// GiftAidBase is positive when Gift Aid covered the gift when it was paid; its refunds
	// and disputes follow the gift, whatever has happened to the declaration since.
	GiftAidBase decimal.Decimal
}

// GiftAidEligible reports whether the gift counted toward Gift Aid.
func (g GiftEntry) GiftAidEligible() bool { return g.GiftAidBase.Sign() > 0 }

// FindGift returns the gift recorded for a payment intent or a charge.
func FindGift(ctx context.Context, tx pgx.Tx, paymentIntent, chargeID string) (GiftEntry, error) {
	var g GiftEntry
	err := tx.QueryRow(ctx, `SELECT e.id, e.amount, e.gift_aid_base, EXISTS (SELECT 1 FROM gift_aid_claim_items c WHERE c.ledger_entry_id = e.id)
		FROM ledger_entries e WHERE e.kind = 'gift' AND ((e.payment_intent = $1 AND $1 <> '') OR (e.charge_id = $2 AND $2 <> ''))
		ORDER BY e.id LIMIT 1`, paymentIntent, chargeID).Scan(&g.ID, &g.Amount, &g.GiftAidBase, &g.Claimed)
	if errors.Is(err, pgx.ErrNoRows) {
		return GiftEntry{}, fmt.Errorf("gift: %w", ErrNotFound)
	}
	return g, err
}

// QueueGiftAidAdjustment records that a refund of an already-claimed gift must be
// corrected on the next claim: the tax on the refunded amount, never more than was claimed.
func QueueGiftAidAdjustment(ctx context.Context, tx pgx.Tx, refundEntryID, giftEntryID int64, refunded, rate decimal.Decimal, note string) error {
	tax := refunded.Mul(rate).RoundCeil(2)
	if tax.Sign() <= 0 {
		return nil
	}
	if r := []rune(note); len(r) > 100 { // characters, not bytes: never split a "£"
		note = string(r[:100])
	}
	_, err := tx.Exec(ctx, `INSERT INTO gift_aid_adjustments (refund_entry_id, gift_entry_id, tax_amount, note)
		VALUES ($1, $2, LEAST($3, (SELECT round(amount * $4, 2) FROM ledger_entries WHERE id = $2)), $5)
		ON CONFLICT (refund_entry_id) DO NOTHING`, refundEntryID, giftEntryID, tax, rate, note)
	if err != nil {
		return fmt.Errorf("queue gift aid adjustment: %w", err)
	}
	return nil
}

// Donation reads one donation outside any other transaction.
func (s *Store) Donation(ctx context.Context, l DonationLookup) (Donation, error) {
	var d Donation
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		d, err = FindDonation(ctx, tx, l)
		return err
	})
	return d, err
}
