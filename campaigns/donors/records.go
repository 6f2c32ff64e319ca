package donors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/dbq"
	"giving/campaigns/donations"
)

// Donor records. A donor record (table donors, migration 0021) is one person, known by
// one normalised email (trimmed, lower-case), linking every donation given with that
// address and, through them, the Gift Aid declarations she made. The database keeps the
// link itself: a trigger on donations (donations_link_donor) finds or creates the record
// whenever a donation is created with an email or learns one (the donate form, Stripe's
// checkout and invoice events, money Stripe reported for a session we never made), so no
// path can forget it. The name on the card at the last checkout is kept on the record
// (NoteCardName), for the greeting of her emails (campaigns/donations/receipts.go).
//
// The pseudonymous key the ledger counts donors by (donor_key: the Stripe customer, else
// DonorHash of the email) is unchanged: a record is the charity's view of a person, the
// ledger keeps no personal data. Erasure (EraseDonorTx) scrubs the records of the donor it
// erases: the email and name are removed and erased_at set, and the row stays, so her
// donations stay one anonymous person; a later gift from the same address starts a new
// record.

// Record is one donor as the charity knows her.
type Record struct {
	ID        string
	Email     string // normalised
	Name      string // the name on the card at her last checkout; "" when unknown
	CreatedAt time.Time
	// DonationIDs are her donations, oldest first; DeclarationIDs the Gift Aid
	// declarations they carry.
	DonationIDs    []string
	DeclarationIDs []string
}

// Key is the pseudonymous key the audit log and the ledger's donor count use for her
// (DonorHash of the email).
func (r Record) Key() string { return DonorHash(r.Email) }

// RecordByEmail returns the record of the donor with this email (any case, spaces around
// it), ErrNotFound when nobody has given with it (or its donor was erased).
func RecordByEmail(ctx context.Context, db campaigns.DB, email string) (Record, error) {
	row, err := dbq.New(db).DonorRecordByEmail(ctx, accounts.NormalizeEmail(email))
	return withLinks(ctx, db, dbq.DonorRecordByDonationRow(row), err)
}

// RecordOfDonation returns the record of the donor who gave donationID, ErrNotFound when
// the donation has no email (yet).
func RecordOfDonation(ctx context.Context, db campaigns.DB, donationID string) (Record, error) {
	row, err := dbq.New(db).DonorRecordByDonation(ctx, donations.UUIDOrNil(donationID))
	return withLinks(ctx, db, row, err)
}

func withLinks(ctx context.Context, db campaigns.DB, row dbq.DonorRecordByDonationRow, err error) (Record, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, fmt.Errorf("donor record: %w", campaigns.ErrNotFound)
	}
	if err != nil {
		return Record{}, fmt.Errorf("donor record: %w", err)
	}
	r := Record{ID: row.ID, Email: row.Email, Name: row.Name, CreatedAt: row.CreatedAt}
	links, err := dbq.New(db).DonorRecordLinks(ctx, r.ID)
	if err != nil {
		return Record{}, fmt.Errorf("donor record's donations: %w", err)
	}
	for _, l := range links {
		r.DonationIDs = append(r.DonationIDs, l.DonationID)
		if l.DeclarationID != "" {
			r.DeclarationIDs = append(r.DeclarationIDs, l.DeclarationID)
		}
	}
	r.DeclarationIDs = cleanIDs(r.DeclarationIDs)
	return r, nil
}

// eraseRecords scrubs the records of a donor being erased (EraseDonorTx): the one with
// her email and every one linking a donation erased with her.
func eraseRecords(ctx context.Context, tx pgx.Tx, email string, donationIDs []string, now time.Time) (int, error) {
	n, err := dbq.New(tx).EraseDonorRecords(ctx, dbq.EraseDonorRecordsParams{Email: accounts.NormalizeEmail(email), DonationIds: donationIDs, Now: now})
	if err != nil {
		return 0, fmt.Errorf("erase donor records: %w", err)
	}
	return int(n), nil
}
