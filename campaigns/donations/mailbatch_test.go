package donations_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/donors"
)

// A batch writes the names on the cards it gathered once, at its end, the later of two for
// one donor kept; a name written inside a savepoint that is rolled back (a deferred event
// that failed) is written again, and one gathered there is forgotten.
func TestMailBatchKeepsTheNamesItsSavepointsDidNotUndo(t *testing.T) {
	t.Parallel()
	w := campaignstest.NewGiftWorld(t)
	ctx := context.Background()
	grace := w.Donation(donations.NewDonation{Email: "grace@example.org"})
	grace2 := w.Donation(donations.NewDonation{Email: "grace@example.org"})
	alan := w.Donation(donations.NewDonation{Email: "alan@example.org"})
	errUndone := errors.New("the deferred event failed")
	if err := w.S.InTx(ctx, func(tx pgx.Tx) error {
		ctx, b := donations.BeginMailBatch(ctx)
		if err := donations.NoteCardName(ctx, tx, grace.ID, "Grace Brewster"); err != nil {
			return err
		}
		if err := donations.NoteCardName(ctx, tx, grace2.ID, "  Grace   Hopper "); err != nil {
			return err
		}
		mark := b.Mark()
		err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
			if err := donations.NoteCardName(ctx, sp, alan.ID, "Alan Turing"); err != nil {
				return err
			}
			// An email read inside the savepoint writes every name gathered so far first.
			if err := b.Flush(ctx, sp); err != nil {
				return err
			}
			return errUndone
		})
		if !errors.Is(err, errUndone) {
			return err
		}
		b.Reset(mark)
		return b.Flush(ctx, tx)
	}); err != nil {
		t.Fatal(err)
	}
	for email, want := range map[string]string{"grace@example.org": "Grace Hopper", "alan@example.org": ""} {
		rec, err := donors.RecordByEmail(ctx, w.S.Pool(), email)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Name != want {
			t.Errorf("%s's record is named %q, want %q", email, rec.Name, want)
		}
	}
}
