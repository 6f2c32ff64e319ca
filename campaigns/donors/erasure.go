package donors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
)

// giftAidRetained reports whether HMRC still requires a declaration whose last gift was
// at lastGift to be kept at now: until the end of its keep-until day.
func giftAidRetained(lastGift, now time.Time) bool {
	return now.Before(giftaid.GiftAidKeepUntil(lastGift).AddDate(0, 0, 1))
}

// EventScrubber erases personal data inside the stored Stripe events naming any of ids,
// in tx, and returns how many it changed (payments.ScrubEvents).
type EventScrubber func(ctx context.Context, tx pgx.Tx, ids []string) (int, error)

// KeptDeclaration is a Gift Aid declaration whose name and address HMRC still requires.
type KeptDeclaration struct {
	ID        string
	LastGift  time.Time
	KeepUntil time.Time // the last day it must be kept (5 April, London)
}

// ErasureReport is what an erasure did (or, for a dry run, would do).
type ErasureReport struct {
	DonorHash          string // DonorHash(email): how the audit log names the donor
	DonationsScrubbed  int
	DeclarationsKept   []KeptDeclaration // for HMRC; marked erasure_requested_at
	DeclarationsErased int
	EventsScrubbed     int
	MailDeleted        int // outbox rows addressed to the donor
	RecordsScrubbed    int // donor records (records.go) whose email and name were removed
	// LiveMonthly counts monthly gifts still active in Stripe: each renewal's events bring
	// the donor's email back until the subscription is cancelled.
	LiveMonthly int
}

// ErasureFact is one thing an erasure did or would do, in the words both the command line
// and the admin's donor page use, so the two never tell a different story.
type ErasureFact struct {
	Text string
	// Warning marks what the admin must act on outside this service (a monthly gift still
	// live in Stripe); the text does not carry the "WARNING" prefix itself.
	Warning bool
}

// plural writes n with the singular or the plural wording after it.
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// DonorEmail is the address a donor is looked up by (trimmed, lower-case), or a
// ValidationError on "email" when it is empty, has no name and domain around an "@", or is
// longer than any address can be (254 characters, RFC 5321).
// It is deliberately loose: a donor is found by whatever address Stripe recorded.
func DonorEmail(email string) (string, error) {
	e := accounts.NormalizeEmail(email)
	if e == "" {
		return "", &campaigns.ValidationError{Fields: map[string]string{"email": "Give the donor's email address."}}
	}
	if at := strings.IndexByte(e, '@'); at < 1 || at == len(e)-1 {
		return "", &campaigns.ValidationError{Fields: map[string]string{"email": "Enter an email address such as name@example.org."}}
	}
	if len(e) > 254 {
		return "", &campaigns.ValidationError{Fields: map[string]string{"email": "An email address has at most 254 characters."}}
	}
	return e, nil
}

// EraseDonorTx erases the personal data held about the donor with this email, in tx,
// and records "donor erased" in the audit log (by DonorHash, never the email):
//   - each donation: email, display name and message blanked, name hidden (the donor wall
//     shows Anonymous); amounts, statuses, Stripe ids and the ledger are kept: they are the
//     charity's accounts, and the ledger holds no personal data;
//   - her donor record (records.go), and any other record linking one of those donations:
//     email and name removed, erased_at set, the row kept;
//   - each linked Gift Aid declaration: if HMRC still requires it (a gift it covers is
//     within 6 years of the end of its tax year), its name and address are kept and it is
//     marked erasure_requested_at, to be erased by EraseDueDeclarations; otherwise its
//     title, names, house and postcode are blanked (scope, wording and dates stay);
//   - the stored Stripe events naming the donor's Stripe objects: scrub.
//
// An email nothing is held for changes nothing, but the request is still audited.
func EraseDonorTx(ctx context.Context, tx pgx.Tx, by accounts.User, email string, now time.Time, scrub EventScrubber) (ErasureReport, error) {
	rep := ErasureReport{DonorHash: DonorHash(email)}
	if accounts.NormalizeEmail(email) == "" {
		return rep, &campaigns.ValidationError{Fields: map[string]string{"email": "Give the donor's email address."}}
	}
	if scrub == nil {
		return rep, errors.New("erase donor: no event scrubber: use payments.EraseDonor")
	}
	recs, err := ReadDonorRecords(ctx, tx, email, true)
	if err != nil {
		return rep, err
	}
	if !recs.Found() {
		return rep, audit.Write(ctx, tx, by, "donor erasure: nothing held", rep.Summary())
	}
	ids := make([]string, len(recs.Donations))
	for i, d := range recs.Donations {
		ids[i] = d.ID
		if d.Monthly && d.CustomerID != "" && (d.Status == donations.StatusActive || d.Status == donations.StatusPastDue) {
			rep.LiveMonthly++
		}
	}
	q := dbq.New(tx)
	tag, err := q.EraseDonations(ctx, dbq.EraseDonationsParams{Ids: ids, Now: now})
	if err != nil {
		return rep, fmt.Errorf("erase donations: %w", err)
	}
	rep.DonationsScrubbed = int(tag.RowsAffected())
	// Mail to the donor (a fundraiser's thanks) holds their address: queued mail is not
	// sent, sent mail is not kept.
	if tag, err = q.DeleteDonorMail(ctx, accounts.NormalizeEmail(email)); err != nil {
		return rep, fmt.Errorf("erase mail to the donor: %w", err)
	}
	rep.MailDeleted = int(tag.RowsAffected())
	// The postal address or phone number given with a marketing yes goes too; her answers
	// stay, with no one to contact (the consented-contacts list leaves erased donors out).
	if _, err := q.EraseConsentContacts(ctx, ids); err != nil {
		return rep, fmt.Errorf("erase marketing contact details: %w", err)
	}
	// Her donor record goes the way of her donations' emails: scrubbed, the row kept.
	if rep.RecordsScrubbed, err = eraseRecords(ctx, tx, email, ids, now); err != nil {
		return rep, err
	}

	for _, g := range recs.Declarations {
		if g.ErasedAt != nil {
			continue
		}
		if g.LastGift != nil && giftAidRetained(*g.LastGift, now) {
			if err := q.MarkDeclarationForErasure(ctx, dbq.MarkDeclarationForErasureParams{ID: g.ID, Now: now}); err != nil {
				return rep, fmt.Errorf("mark declaration for erasure: %w", err)
			}
			rep.DeclarationsKept = append(rep.DeclarationsKept, KeptDeclaration{ID: g.ID, LastGift: *g.LastGift, KeepUntil: giftaid.GiftAidKeepUntil(*g.LastGift)})
			continue
		}
		if err := eraseDeclaration(ctx, tx, g.ID, now); err != nil {
			return rep, err
		}
		rep.DeclarationsErased++
	}
	if rep.EventsScrubbed, err = scrub(ctx, tx, recs.StripeIDs()); err != nil {
		return rep, fmt.Errorf("scrub stored events: %w", err)
	}
	return rep, audit.Write(ctx, tx, by, "donor erased", rep.Summary())
}

func eraseDeclaration(ctx context.Context, tx pgx.Tx, id string, now time.Time) error {
	err := dbq.New(tx).EraseDeclaration(ctx, dbq.EraseDeclarationParams{ID: id, Now: now})
	if err != nil {
		return fmt.Errorf("erase declaration: %w", err)
	}
	return nil
}

// EraseDueDeclarations erases the name and address of every declaration whose erasure was
// asked for while HMRC still required it, once it no longer does (a gift recorded since
// then extends the wait). It records "gift aid declarations erased" in the audit log when
// it erases any. With apply false it only counts them.
func EraseDueDeclarations(ctx context.Context, s *campaigns.Store, by accounts.User, now time.Time, apply bool) (int, error) {
	n := 0
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		all, err := dbq.New(tx).DueDeclarationErasures(ctx)
		if err != nil {
			return err
		}
		for _, d := range all {
			if last := lastGift(d.LastGift); last != nil && giftAidRetained(*last, now) {
				continue
			}
			n++
			if apply {
				if err := eraseDeclaration(ctx, tx, d.ID, now); err != nil {
					return err
				}
			}
		}
		if !apply || n == 0 {
			return nil
		}
		return audit.Write(ctx, tx, by, "gift aid declarations erased", fmt.Sprintf("%d declarations past HMRC's retention period whose donors asked for erasure", n))
	})
	if err != nil {
		return 0, fmt.Errorf("erase due declarations: %w", err)
	}
	return n, nil
}

// lastGift reads a declaration's last gift, which sqlc returns untyped (a scalar subquery):
// a time, or nil when the declaration covers no gift.
func lastGift(v any) *time.Time {
	if t, ok := v.(time.Time); ok {
		return &t
	}
	return nil
}
