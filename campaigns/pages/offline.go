package pages

import (
	"context"
	"errors"
	"fmt"
	_ "image/jpeg" // registers JPEG with image.DecodeConfig
	_ "image/png"  // registers PNG with image.DecodeConfig
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"
	_ "golang.org/x/image/webp" // registers WebP with image.DecodeConfig

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
	"giving/campaigns/ledger"
)

// Offline kinds.
var offlineKinds = map[string]string{"cash": "Cash", "cheque": "Cheque", "bank_transfer": "Bank transfer"}

// OfflineKindLabel is how a kind reads to a person.
func OfflineKindLabel(kind string) string { return offlineKinds[kind] }

// OfflineInput is what a fundraiser enters about money she collected.
type OfflineInput struct {
	Amount     decimal.Decimal // zero when the form's text did not parse
	ReceivedOn time.Time       // a London date; zero when it did not parse
	Kind       string
	Note       string
}

// OfflineTaking is offline money as recorded, with its review.
type OfflineTaking struct {
	ID           int64
	FundraiserID int64
	PageTitle    string
	PageSlug     string
	AppealID     int64
	SubmittedBy  string // the fundraiser's email, for admins
	Amount       decimal.Decimal
	ReceivedOn   time.Time
	Kind         string
	Note         string
	Status       string // pending, verified, rejected or reversed
	CreatedAt    time.Time
	// A reversed taking: when, and the admin's reason.
	ReversedAt     *time.Time
	ReversalReason string
}

// KindLabel is how the taking's kind reads to a person.
func (o OfflineTaking) KindLabel() string { return OfflineKindLabel(o.Kind) }

// SubmitOffline records offline money on the fundraiser's own page, pending an admin's check.
func SubmitOffline(ctx context.Context, s *campaigns.Store, by accounts.User, pageID int64, in OfflineInput) (int64, error) {
	if err := mayRunPages(by); err != nil {
		return 0, err
	}
	ve := &campaigns.ValidationError{}
	if in.Amount.LessThan(decimal.RequireFromString("0.01")) || in.Amount.GreaterThan(maxPageTarget) || !in.Amount.Equal(in.Amount.Round(2)) {
		ve.Add("offline_amount", "Enter the amount in pounds and pence, like 120 or 120.50, up to £1,000,000.")
	}
	today := s.Now().In(campaigns.London())
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	if in.ReceivedOn.IsZero() || in.ReceivedOn.After(today) || in.ReceivedOn.Before(today.AddDate(-1, 0, 0)) {
		ve.Add("offline_date", "Enter the date you received the money: today or within the last year.")
	}
	if _, ok := offlineKinds[in.Kind]; !ok {
		ve.Add("offline_kind", "Choose cash, cheque or bank transfer.")
	}
	note := strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(note) > maxOfflineNote || !utf8.ValidString(note) {
		ve.Add("offline_note", "Use 500 characters or fewer.")
	}
	if err := ve.OrNil(); err != nil {
		return 0, err
	}
	var id int64
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		id, err = dbq.New(tx).InsertOwnOffline(ctx, dbq.InsertOwnOfflineParams{FundraiserID: pageID, SubmittedBy: by.ID,
			Amount: in.Amount, ReceivedOn: pgtype.Date{Time: in.ReceivedOn, Valid: true}, Kind: in.Kind, Note: note})
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("fundraiser %d: %w", pageID, campaigns.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("record offline money: %w", err)
		}
		return audit.Write(ctx, tx, by, "offline money entered", fmt.Sprintf("offline %d on fundraiser %d: %s %s, pending",
			id, pageID, in.Kind, in.Amount.StringFixed(2)))
	})
	return id, err
}

// offlineFromRow is a taking as read by any of the offline queries in queries/pages.sql
// (they share their columns, so each row type converts to dbq.LockOfflineRow).
func offlineFromRow(r dbq.LockOfflineRow) OfflineTaking {
	return OfflineTaking{ID: r.ID, FundraiserID: r.FundraiserID, PageTitle: r.PageTitle, PageSlug: r.PageSlug,
		AppealID: r.AppealID, SubmittedBy: r.SubmittedBy, Amount: r.Amount, ReceivedOn: r.ReceivedOn.Time, Kind: r.Kind,
		Note: r.Note, Status: r.Status, CreatedAt: r.CreatedAt, ReversedAt: r.ReversedAt, ReversalReason: r.ReversalReason}
}

// offlineList converts the rows of an offline query.
func offlineList[R ~struct {
	ID             int64
	FundraiserID   int64
	PageTitle      string
	PageSlug       string
	AppealID       int64
	SubmittedBy    string
	Amount         decimal.Decimal
	ReceivedOn     pgtype.Date
	Kind           string
	Note           string
	Status         string
	CreatedAt      time.Time
	ReversedAt     *time.Time
	ReversalReason string
}](rows []R) []OfflineTaking {
	out := make([]OfflineTaking, 0, len(rows))
	for _, r := range rows {
		out = append(out, offlineFromRow(dbq.LockOfflineRow(r)))
	}
	return out
}

func pageByID(ctx context.Context, tx pgx.Tx, id int64) (Fundraiser, error) {
	return fundraiserOrNotFound(dbq.New(tx).PageByID(ctx, id))
}

// OwnOffline lists the offline money entered on the fundraiser's pages, newest first.
func OwnOffline(ctx context.Context, s *campaigns.Store, by accounts.User) ([]OfflineTaking, error) {
	if err := mayRunPages(by); err != nil {
		return nil, err
	}
	rows, err := dbq.New(s.Pool()).OwnOffline(ctx, by.ID)
	if err != nil {
		return nil, fmt.Errorf("list own offline money: %w", err)
	}
	return offlineList(rows), nil
}

// PendingOffline lists offline money waiting for an admin, oldest first.
func PendingOffline(ctx context.Context, s *campaigns.Store, limit int) ([]OfflineTaking, error) {
	rows, err := dbq.New(s.Pool()).PendingOffline(ctx, int32(limit))
	if err != nil {
		return nil, fmt.Errorf("list pending offline money: %w", err)
	}
	return offlineList(rows), nil
}

// DecidedOffline lists the offline money admins verified (and any since reversed), most
// recently decided first, so a mistake can be found and reversed.
func DecidedOffline(ctx context.Context, s *campaigns.Store, limit int) ([]OfflineTaking, error) {
	rows, err := dbq.New(s.Pool()).DecidedOffline(ctx, int32(limit))
	if err != nil {
		return nil, fmt.Errorf("list verified offline money: %w", err)
	}
	return offlineList(rows), nil
}

// offlineEntry is the ledger fact a verified taking becomes: a gift to the page and its
// appeal, keyed by the taking, never Gift Aid-able (the fundraiser is not the donor, and
// the people who gave made no declaration), with no donor to count.
func offlineEntry(o OfflineTaking) ledger.Entry {
	return ledger.Entry{
		AppealID: o.AppealID, FundraiserID: o.FundraiserID, Kind: ledger.KindGift,
		Source: ledger.SourceOffline, SourceRef: strconv.FormatInt(o.ID, 10),
		Amount: o.Amount, GiftAidBase: decimal.Zero,
		// Midday in London on the day received, so it lands on that London day.
		OccurredAt: time.Date(o.ReceivedOn.Year(), o.ReceivedOn.Month(), o.ReceivedOn.Day(), 12, 0, 0, 0, campaigns.London()),
	}
}

// offlineReversalEntry is the ledger fact a reversal adds: the taking's gift reversed on
// the day it was reversed, so the gift stays in the history and every total moves back.
func offlineReversalEntry(o OfflineTaking) ledger.Entry {
	return ledger.Reverse(offlineEntry(o), "reversal", *o.ReversedAt)
}

// VerifiedOfflineEntries are the ledger entries every verified taking recorded (and, for
// one since reversed, its reversal), for rebuilding the ledger (giving replay) from its
// sources: Stripe's events and these.
func VerifiedOfflineEntries(ctx context.Context, db campaigns.DB) ([]ledger.Entry, error) {
	rows, err := dbq.New(db).VerifiedOffline(ctx)
	if err != nil {
		return nil, fmt.Errorf("list verified offline money: %w", err)
	}
	takings := offlineList(rows)
	var entries []ledger.Entry
	for _, o := range takings {
		entries = append(entries, offlineEntry(o))
		if o.Status == "reversed" {
			entries = append(entries, offlineReversalEntry(o))
		}
	}
	return entries, nil
}

// ReverseOffline is an admin undoing verified offline money that should not count (entered
// with the wrong amount, a cheque that bounced), giving the reason. The ledger keeps the
// gift and gains a refund of the whole amount, so the page's and the appeal's totals move
// back in the same transaction; the reason is kept on the taking and in the audit log.
// Reversing again changes nothing and reports false; only verified money can be reversed.
func ReverseOffline(ctx context.Context, s *campaigns.Store, by accounts.User, id int64, reason string) (bool, error) {
	if !by.CanAdmin() {
		return false, fmt.Errorf("%s may not reverse offline money: %w", by.Role, campaigns.ErrForbidden)
	}
	reason = strings.Join(strings.Fields(reason), " ")
	if n := utf8.RuneCountInString(reason); n == 0 || n > 500 {
		return false, &campaigns.ValidationError{Fields: map[string]string{"reason": "Say why it is reversed, in up to 500 characters: the fundraiser and the audit log see it."}}
	}
	changed := false
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		o, err := lockOffline(ctx, tx, id)
		if err != nil {
			return err
		}
		switch o.Status {
		case "reversed":
			return nil // a second click, or two admins at once
		case "verified":
		default:
			return fmt.Errorf("offline money %d is %s, not verified: only money in the totals can be reversed: %w", id, o.Status, campaigns.ErrConflict)
		}
		at, err := dbq.New(tx).ReverseOffline(ctx, dbq.ReverseOfflineParams{ID: id, ReversedBy: by.ID, Reason: reason})
		if err != nil {
			return fmt.Errorf("reverse offline money %d: %w", id, err)
		}
		o.ReversedAt = at
		if _, err := ledger.Record(ctx, tx, offlineReversalEntry(o)); err != nil {
			return err
		}
		changed = true
		return audit.Write(ctx, tx, by, "offline money reversed", fmt.Sprintf("offline %d on fundraiser %d: %s %s received %s, because: %s",
			id, o.FundraiserID, o.Kind, o.Amount.StringFixed(2), o.ReceivedOn.Format(time.DateOnly), reason))
	})
	return changed, err
}

// lockOffline reads a taking and locks it for the rest of tx.
func lockOffline(ctx context.Context, tx pgx.Tx, id int64) (OfflineTaking, error) {
	r, err := dbq.New(tx).LockOffline(ctx, id)
	o := offlineFromRow(r)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, fmt.Errorf("offline money %d: %w", id, campaigns.ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("read offline money %d: %w", id, err)
	}
	return o, nil
}

// VerifyOffline is an admin confirming offline money arrived: it enters the ledger and
// moves the page's and the appeal's totals in the same transaction. Verifying again
// changes nothing and reports false; a rejected taking cannot be verified.
func VerifyOffline(ctx context.Context, s *campaigns.Store, by accounts.User, id int64) (bool, error) {
	return decideOffline(ctx, s, by, id, "verified")
}

// RejectOffline is an admin refusing offline money: it never reaches the ledger. Verified
// money cannot be rejected (it is in the ledger; a mistake needs a correcting entry).
func RejectOffline(ctx context.Context, s *campaigns.Store, by accounts.User, id int64) (bool, error) {
	return decideOffline(ctx, s, by, id, "rejected")
}

func decideOffline(ctx context.Context, s *campaigns.Store, by accounts.User, id int64, status string) (bool, error) {
	if !by.CanAdmin() {
		return false, fmt.Errorf("%s may not review offline money: %w", by.Role, campaigns.ErrForbidden)
	}
	changed := false
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		o, err := lockOffline(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case o.Status == status:
			return nil // a second click, or two admins at once: nothing more to do
		case o.Status != "pending":
			return fmt.Errorf("offline money %d is already %s: %w", id, o.Status, campaigns.ErrConflict)
		}
		if err := dbq.New(tx).DecideOffline(ctx, dbq.DecideOfflineParams{ID: id, Status: status, DecidedBy: by.ID}); err != nil {
			return fmt.Errorf("decide offline money %d: %w", id, err)
		}
		if status == "verified" {
			if _, err := ledger.Record(ctx, tx, offlineEntry(o)); err != nil {
				return err
			}
		}
		changed = true
		return audit.Write(ctx, tx, by, "offline money "+status, fmt.Sprintf("offline %d on fundraiser %d: %s %s received %s",
			id, o.FundraiserID, o.Kind, o.Amount.StringFixed(2), o.ReceivedOn.Format(time.DateOnly)))
	})
	return changed, err
}
