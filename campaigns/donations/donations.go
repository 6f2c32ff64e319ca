package donations

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

	"giving/campaigns"
	"giving/campaigns/dbq"
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

// donationFromRow reads a donation from the row of any of the lookups in
// campaigns/queries/donations.sql, which return the same columns.
func donationFromRow(r dbq.DonationsByIDForUpdateRow) Donation {
	return Donation{ID: r.ID, AppealID: r.AppealID, FundraiserID: r.FundraiserID, TierID: r.TierID, Amount: r.Amount,
		CoverFee: r.CoverFee, Monthly: r.Monthly, Status: r.Status, DisplayName: r.DisplayName, Message: r.Message,
		HideName: r.HideName, HideAmount: r.HideAmount, DeclarationID: r.DeclarationID, Email: r.Email,
		SessionID: r.SessionID, PaymentIntent: r.PaymentIntent, SubscriptionID: r.SubscriptionID,
		CustomerID: r.CustomerID, Unmatched: r.Unmatched, CreatedAt: r.CreatedAt, GiftAidCancelledAt: r.GiftAidCancelledAt}
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
	q := dbq.New(tx)
	type find func(ctx context.Context, arg string) (dbq.DonationsByIDForUpdateRow, error)
	tries := []struct {
		find find
		arg  string
	}{
		{func(ctx context.Context, arg string) (dbq.DonationsByIDForUpdateRow, error) {
			rs, err := q.DonationsByIDForUpdate(ctx, []string{arg})
			if err == nil && len(rs) == 0 {
				err = pgx.ErrNoRows
			}
			if err != nil {
				return dbq.DonationsByIDForUpdateRow{}, err
			}
			return rs[0], nil
		}, uuidOrEmpty(l.ID)},
		{func(ctx context.Context, arg string) (dbq.DonationsByIDForUpdateRow, error) {
			r, err := q.DonationBySessionForUpdate(ctx, arg)
			return dbq.DonationsByIDForUpdateRow(r), err
		}, l.SessionID},
		{func(ctx context.Context, arg string) (dbq.DonationsByIDForUpdateRow, error) {
			r, err := q.DonationByPaymentIntentForUpdate(ctx, arg)
			return dbq.DonationsByIDForUpdateRow(r), err
		}, l.PaymentIntent},
		{func(ctx context.Context, arg string) (dbq.DonationsByIDForUpdateRow, error) {
			r, err := q.DonationBySubscriptionForUpdate(ctx, arg)
			return dbq.DonationsByIDForUpdateRow(r), err
		}, l.SubscriptionID},
		{func(ctx context.Context, arg string) (dbq.DonationsByIDForUpdateRow, error) {
			r, err := q.DonationByGiftPaymentIntentForUpdate(ctx, arg)
			return dbq.DonationsByIDForUpdateRow(r), err
		}, l.PaymentIntent},
		{func(ctx context.Context, arg string) (dbq.DonationsByIDForUpdateRow, error) {
			r, err := q.DonationByGiftChargeForUpdate(ctx, arg)
			return dbq.DonationsByIDForUpdateRow(r), err
		}, l.ChargeID},
	}
	for _, t := range tries {
		if t.arg == "" {
			continue
		}
		r, err := t.find(ctx, t.arg)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return Donation{}, fmt.Errorf("find donation: %w", err)
		}
		return donationFromRow(r), nil
	}
	return Donation{}, fmt.Errorf("donation: %w", campaigns.ErrNotFound)
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
func UUIDOrNil(s string) string {
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
	key, bySubscription := u.PaymentIntent, false
	if u.Monthly || key == "" {
		key, bySubscription = u.SubscriptionID, true
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
	// One query per upsert key (the payment intent or the subscription): the same statement otherwise.
	p := dbq.UpsertUnmatchedOneOffParams{AppealSlug: u.AppealSlug, FundraiserSlug: u.FundraiserSlug, Amount: amount,
		Frequency: freq, Key: key, SessionID: u.SessionID, CustomerID: u.CustomerID, Email: u.Email}
	var id string
	var err error
	if bySubscription {
		id, err = dbq.New(tx).UpsertUnmatchedMonthly(ctx, dbq.UpsertUnmatchedMonthlyParams(p))
	} else {
		id, err = dbq.New(tx).UpsertUnmatchedOneOff(ctx, p)
	}
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
	changed, err := UpdateDonations(ctx, tx, []DonationUpdate{{ID: id, Link: l, Status: status, EventAt: eventAt, From: from}})
	if err != nil {
		return false, err
	}
	return changed[0], nil
}

// DonationUpdate is UpdateDonation's arguments, for UpdateDonations.
type DonationUpdate struct {
	ID      string
	Link    Link
	Status  string
	EventAt time.Time
	From    []string
}

// UpdateDonations is UpdateDonation for many donations, each at most once, with one
// statement (a batch's gifts); for each, whether its status is now the one asked for.
func UpdateDonations(ctx context.Context, tx pgx.Tx, us []DonationUpdate) ([]bool, error) {
	var p dbq.UpdateDonationsParams
	for _, u := range us {
		p.Ids, p.SessionIds, p.PaymentIntents = append(p.Ids, u.ID), append(p.SessionIds, u.Link.SessionID), append(p.PaymentIntents, u.Link.PaymentIntent)
		p.SubscriptionIds, p.CustomerIds, p.Emails = append(p.SubscriptionIds, u.Link.SubscriptionID), append(p.CustomerIds, u.Link.CustomerID), append(p.Emails, u.Link.Email)
		p.Statuses, p.EventAts, p.FromStatuses = append(p.Statuses, u.Status), append(p.EventAts, u.EventAt), append(p.FromStatuses, strings.Join(u.From, ","))
	}
	rows, err := dbq.New(tx).UpdateDonations(ctx, p)
	if err == nil && len(rows) != len(us) {
		err = pgx.ErrNoRows // a donation not there
	}
	if err != nil {
		if len(us) == 1 {
			return nil, fmt.Errorf("update donation %s: %w", us[0].ID, err)
		}
		return nil, fmt.Errorf("update %d donations: %w", len(us), err)
	}
	changed := make([]bool, len(us))
	for _, r := range rows {
		changed[r.I-1] = r.Ok
	}
	return changed, nil
}

// LockDonations finds and locks (FOR UPDATE, in the order of their ids) the donations ids,
// with one statement (a batch's), keyed by id; an id not found is left out.
func LockDonations(ctx context.Context, tx pgx.Tx, ids []string) (map[string]Donation, error) {
	rows, err := dbq.New(tx).DonationsByIDForUpdate(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("find donations: %w", err)
	}
	found := make(map[string]Donation, len(rows))
	for _, r := range rows {
		found[r.ID] = donationFromRow(r)
	}
	return found, nil
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
	return dbq.New(tx).SetCancelAtPeriodEnd(ctx, dbq.SetCancelAtPeriodEndParams{ID: id, CancelAtPeriodEnd: v})
}

// RefundedSoFar is what the ledger already holds as refunded for a charge, in pounds.
func RefundedSoFar(ctx context.Context, tx pgx.Tx, chargeID string) (decimal.Decimal, error) {
	return dbq.New(tx).RefundedSoFar(ctx, chargeID)
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
	At          time.Time // when the gift arrived
}

// GiftAidEligible reports whether the gift counted toward Gift Aid.
func (g GiftEntry) GiftAidEligible() bool { return g.GiftAidBase.Sign() > 0 }

// FindGift returns the gift recorded for a payment intent or a charge.
func FindGift(ctx context.Context, tx pgx.Tx, paymentIntent, chargeID string) (GiftEntry, error) {
	r, err := dbq.New(tx).FindGift(ctx, dbq.FindGiftParams{PaymentIntent: paymentIntent, ChargeID: chargeID})
	if errors.Is(err, pgx.ErrNoRows) {
		return GiftEntry{}, fmt.Errorf("gift: %w", campaigns.ErrNotFound)
	}
	return GiftEntry{ID: r.ID, Amount: r.Amount, GiftAidBase: r.GiftAidBase, Claimed: r.Claimed, At: r.OccurredAt}, err
}

// Lookup reads one donation outside any other transaction.
func Lookup(ctx context.Context, s *campaigns.Store, l DonationLookup) (Donation, error) {
	return campaigns.InTxValue(ctx, s, func(tx pgx.Tx) (Donation, error) { return FindDonation(ctx, tx, l) })
}
