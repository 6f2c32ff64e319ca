package campaignstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/campaigns/ledger"
)

// GiftWorld is an appeal with a year of gifts made the way the webhooks make them: a
// donation (with or without a Gift Aid declaration) created first, then ledger entries
// recorded in a transaction, Gift Aid-able only while a declaration covers them.
type GiftWorld struct {
	T      *testing.T
	S      *campaigns.Store
	Appeal appeals.Appeal
	Ruby   int64 // a fundraiser page of the appeal
	n      int
}

// NewGiftWorld is a seeded store with one fundraiser page, ruby.
func NewGiftWorld(t *testing.T) *GiftWorld {
	t.Helper()
	s, a := Seeded(t, 8)
	return &GiftWorld{T: t, S: s, Appeal: a, Ruby: AddFundraiser(t, s, a.ID, "ruby")}
}

// UTC is a time in UTC to the minute.
func UTC(y int, m time.Month, day, h, min int) time.Time {
	return time.Date(y, m, day, h, min, 0, 0, time.UTC)
}

// Declaration is a Gift Aid declaration covering this and future gifts.
func Declaration(title, first, last, house, postcode string) *giftaid.Declaration {
	return &giftaid.Declaration{Title: title, FirstName: first, LastName: last, House: house, Postcode: postcode,
		Scope: giftaid.ScopeThisAndFuture, WordingVersion: giftaid.GiftAidWordingVersion,
		Wording: giftaid.Wording("Freedom Trust UK", giftaid.ScopeThisAndFuture)}
}

// Donation creates n and gives it a fixed id, so the golden files do not change from run
// to run.
func (w *GiftWorld) Donation(n donations.NewDonation) donations.Donation {
	w.T.Helper()
	ctx := context.Background()
	n.AppealID = w.Appeal.ID
	if n.Amount.IsZero() {
		n.Amount = decimal.RequireFromString("10.00")
	}
	dn, err := donations.Create(ctx, w.S, n)
	if err != nil {
		w.T.Fatal(err)
	}
	return w.FixID(dn.ID)
}

// FixID gives donation id the next fixed id and returns it reloaded.
func (w *GiftWorld) FixID(id string) donations.Donation {
	w.T.Helper()
	w.n++
	fixed := fmt.Sprintf("00000000-0000-4000-8000-%012d", w.n)
	if _, err := w.S.Pool().Exec(context.Background(), `UPDATE donations SET id = $2::uuid WHERE id = $1::uuid`, id, fixed); err != nil {
		w.T.Fatal(err)
	}
	return w.Reload(fixed)
}

// Reload reads donation id again.
func (w *GiftWorld) Reload(id string) donations.Donation {
	w.T.Helper()
	dn, err := donations.Lookup(context.Background(), w.S, donations.DonationLookup{ID: id})
	if err != nil {
		w.T.Fatal(err)
	}
	return dn
}

// Gift records money received for dn, as recordGift does: Gift Aid-able when the
// declaration covers the moment it arrived.
func (w *GiftWorld) Gift(dn donations.Donation, object, charge, pi, amount, fee string, at time.Time) int64 {
	w.T.Helper()
	dn = w.Reload(dn.ID)
	e := ledger.Entry{AppealID: dn.AppealID, FundraiserID: dn.FundraiserID, DonationID: dn.ID, Kind: ledger.KindGift,
		Source: ledger.SourceStripe, SourceRef: object, ChargeID: charge, PaymentIntent: pi, Amount: decimal.RequireFromString(amount), Fee: decimal.RequireFromString(fee), Monthly: dn.Monthly,
		DonorKey: dn.DonorKey(), OccurredAt: at}
	if dn.GiftAidCovers(at) {
		e.GiftAidBase = e.Amount
	}
	return w.Entry(e)
}

// Entry records e in a transaction of its own and returns its id.
func (w *GiftWorld) Entry(e ledger.Entry) int64 {
	w.T.Helper()
	var id int64
	err := w.S.InTx(context.Background(), func(tx pgx.Tx) error {
		var err error
		id, err = ledger.RecordID(context.Background(), tx, e)
		return err
	})
	if err != nil || id == 0 {
		w.T.Fatalf("record %s %s: id %d, %v", e.Kind, e.SourceRef, id, err)
	}
	return id
}

// Refund records a refund of amount on a charge, as applyRefund does: when the gift has
// already been claimed, it queues the Gift Aid adjustment for the next claim.
func (w *GiftWorld) Refund(dn donations.Donation, charge, pi, amount string, cumulativePence int, at time.Time) int64 {
	w.T.Helper()
	ctx := context.Background()
	var id int64
	err := w.S.InTx(ctx, func(tx pgx.Tx) error {
		if err := giftaid.BlockClaims(ctx, tx); err != nil {
			return err
		}
		gift, err := donations.FindGift(ctx, tx, pi, charge)
		if err != nil {
			return err
		}
		e := ledger.Entry{AppealID: dn.AppealID, FundraiserID: dn.FundraiserID, DonationID: dn.ID, Kind: ledger.KindRefund,
			Source: ledger.SourceStripe, SourceRef: charge, Seq: fmt.Sprint(cumulativePence), ChargeID: charge, PaymentIntent: pi,
			Amount: decimal.RequireFromString(amount).Neg(), Monthly: dn.Monthly, OccurredAt: at}
		eligible := dn.GiftAidCovers(dn.CreatedAt)
		if eligible {
			e.GiftAidBase = e.Amount
		}
		if id, err = ledger.RecordID(ctx, tx, e); err != nil {
			return err
		}
		if eligible && gift.Claimed {
			note := fmt.Sprintf("Refund of £%s on %s of a gift already claimed", decimal.RequireFromString(amount).StringFixed(2), at.Format("02/01/06"))
			return giftaid.QueueGiftAidAdjustment(ctx, tx, id, gift.ID, decimal.RequireFromString(amount), w.Appeal.GiftAidRate, note)
		}
		return nil
	})
	if err != nil {
		w.T.Fatal(err)
	}
	return id
}

// FirstPeriod names the gifts BuildFirstPeriod makes, for assertions.
type FirstPeriod struct {
	SmithJones, Ada, Series1, FullyRefunded, Undeclared, OpenDispute, Boundary int64
	SmithJonesDonation                                                         donations.Donation
}

// BuildFirstPeriod records the gifts of January to June 2026 (and one that lands on
// 1 July in London), covering every rule of the HMRC schedule.
func (w *GiftWorld) BuildFirstPeriod() FirstPeriod {
	w.T.Helper()
	var p FirstPeriod
	ctx := context.Background()

	// A monthly donor: three £25 gifts share one row dated the latest.
	patel := w.Donation(donations.NewDonation{Amount: decimal.RequireFromString("25.00"), Monthly: true, DisplayName: "Priya",
		Declaration: Declaration("Dr", "Priya", "Patel", "7", "b33 8th")})
	for i, m := range []time.Month{time.January, time.February, time.March} {
		id := w.Gift(patel, fmt.Sprintf("in_patel_%d", i+1), fmt.Sprintf("ch_patel_%d", i+1), fmt.Sprintf("pi_patel_%d", i+1), "25.00", "0.58", UTC(2026, m, 15, 9, 0))
		if i == 0 {
			p.Series1 = id
		}
	}

	// A monthly donor who cancels the declaration on 20 February: only January is claimed,
	// and a long title is shortened to HMRC's four characters.
	turing := w.Donation(donations.NewDonation{Amount: decimal.RequireFromString("30.00"), Monthly: true, DisplayName: "Alan",
		Declaration: Declaration("Professor", "Alan", "Turing", "Bletchley Park", "MK3 6EB")})
	w.Gift(turing, "in_turing_1", "ch_turing_1", "pi_turing_1", "30.00", "0.65", UTC(2026, 1, 20, 9, 0))
	if _, err := w.S.Pool().Exec(ctx, `UPDATE gift_aid_declarations SET cancelled_at = $2
		WHERE id = (SELECT gift_aid_declaration_id FROM donations WHERE id = $1::uuid)`, turing.ID, UTC(2026, 2, 20, 0, 0)); err != nil {
		w.T.Fatal(err)
	}
	w.Gift(turing, "in_turing_2", "ch_turing_2", "pi_turing_2", "30.00", "0.65", UTC(2026, 2, 20, 9, 0))
	w.Gift(turing, "in_turing_3", "ch_turing_3", "pi_turing_3", "30.00", "0.65", UTC(2026, 3, 20, 9, 0))

	// A double-barrelled surname through Ruby's page, with a Stripe fee learned later.
	sj := w.Donation(donations.NewDonation{Amount: decimal.RequireFromString("50.00"), FundraiserID: w.Ruby, DisplayName: "Jane S",
		Message: "Go Ruby!", Declaration: Declaration("Mrs", "Jane", "Smith-Jones", "Flat 2, 10", "sw1a2aa")})
	p.SmithJones = w.Gift(sj, "pi_sj", "", "pi_sj", "50.00", "0", UTC(2026, 3, 2, 10, 0))
	p.SmithJonesDonation = sj
	w.Entry(ledger.Entry{AppealID: w.Appeal.ID, FundraiserID: w.Ruby, DonationID: sj.ID, Kind: ledger.KindFee,
		Source: ledger.SourceStripe, SourceRef: "ch_sj", ChargeID: "ch_sj", PaymentIntent: "pi_sj", Fee: decimal.RequireFromString("0.95"), OccurredAt: UTC(2026, 3, 2, 10, 5)})

	// No title (a blank cell), a hidden name, and a partial refund: the remainder is claimed.
	Ada := w.Donation(donations.NewDonation{Amount: decimal.RequireFromString("100.00"), DisplayName: "Ada L", HideName: true,
		Message: "For a safe house", Declaration: Declaration("", "Ada", "Lovelace", "12", "n1 9gu")})
	p.Ada = w.Gift(Ada, "pi_ada", "", "pi_ada", "100.00", "1.70", UTC(2026, 3, 5, 12, 0))
	w.Refund(Ada, "ch_ada", "pi_ada", "30.00", 3000, UTC(2026, 3, 10, 8, 0))

	// Fully refunded: not claimed.
	tom := w.Donation(donations.NewDonation{Amount: decimal.RequireFromString("40.00"), DisplayName: "Tom",
		Declaration: Declaration("Mr", "Tom", "Brown", "3", "CR2 6XH")})
	p.FullyRefunded = w.Gift(tom, "pi_tom", "", "pi_tom", "40.00", "0.80", UTC(2026, 3, 20, 14, 0))
	w.Refund(tom, "ch_tom", "pi_tom", "40.00", 4000, UTC(2026, 3, 21, 14, 0))

	// No declaration, and free text a spreadsheet would run as formulas.
	Undeclared := w.Donation(donations.NewDonation{Amount: decimal.RequireFromString("60.00"), DisplayName: `=HYPERLINK("x")`, Message: "+44 7700 900000"})
	p.Undeclared = w.Gift(Undeclared, "pi_undeclared", "", "pi_undeclared", "60.00", "1.10", UTC(2026, 3, 22, 16, 0))

	// Money Stripe reported for a session this service never created.
	var unmatchedID string
	if err := w.S.InTx(ctx, func(tx pgx.Tx) error {
		um, err := donations.UpsertUnmatched(ctx, tx, donations.Unmatched{AppealSlug: w.Appeal.Slug, Amount: decimal.RequireFromString("15.00"), PaymentIntent: "pi_link"})
		unmatchedID = um.ID
		return err
	}); err != nil {
		w.T.Fatal(err)
	}
	w.Gift(w.FixID(unmatchedID), "pi_link", "", "pi_link", "15.00", "0.43", UTC(2026, 3, 23, 8, 0))

	// An open dispute holds the gift back from the claim until it is decided.
	carl := w.Donation(donations.NewDonation{Amount: decimal.RequireFromString("45.00"), DisplayName: "Carl",
		Declaration: Declaration("Mr", "Carl", "Dee", "9", "DN55 1PT")})
	p.OpenDispute = w.Gift(carl, "pi_carl", "", "pi_carl", "45.00", "0.90", UTC(2026, 3, 25, 11, 0))
	w.Entry(ledger.Entry{AppealID: w.Appeal.ID, DonationID: carl.ID, Kind: ledger.KindDisputeHold, Source: ledger.SourceStripe, SourceRef: "dp_carl",
		ChargeID: "ch_carl", PaymentIntent: "pi_carl", Amount: decimal.RequireFromString("-45.00"), GiftAidBase: decimal.RequireFromString("-45.00"), OccurredAt: UTC(2026, 3, 28, 11, 0)})

	// Sixty £20 gifts (at the limit, so aggregated: £1,000 on one row, the rest on the
	// next) and two smaller ones; £20.01 is over the limit and named, with an initial.
	start := UTC(2026, 4, 1, 0, 0)
	for i := range 60 {
		small := w.Donation(donations.NewDonation{Amount: decimal.RequireFromString("20.00"), DisplayName: fmt.Sprintf("Supporter %d", i+1),
			Declaration: Declaration("", "Sam", fmt.Sprintf("Small%d", i+1), fmt.Sprint(i+1), "M1 1AE")})
		pi := fmt.Sprintf("pi_small_%02d", i+1)
		w.Gift(small, pi, "", pi, "20.00", "0.50", start.Add(time.Duration(i)*6*time.Hour))
	}
	for i, amt := range []string{"5.00", "3.00"} {
		small := w.Donation(donations.NewDonation{Amount: decimal.RequireFromString(amt), Declaration: Declaration("", "Lee", "Tiny", "1", "EC1A 1BB")})
		pi := fmt.Sprintf("pi_tiny_%d", i+1)
		w.Gift(small, pi, "", pi, amt, "0.20", UTC(2026, 4, 20+i, 12, 0))
	}
	obrien := w.Donation(donations.NewDonation{Amount: decimal.RequireFromString("20.01"), Declaration: Declaration("Ms", "J", "O'Brien", "4a", "sw1a 1aa")})
	w.Gift(obrien, "pi_obrien", "", "pi_obrien", "20.01", "0.50", UTC(2026, 4, 22, 12, 0))

	// 23:30 UTC on 30 June is 00:30 on 1 July in London: outside a claim up to 1 July.
	kim := w.Donation(donations.NewDonation{Amount: decimal.RequireFromString("80.00"), Declaration: Declaration("Ms", "Kim", "Lee", "22", "SW1A 1AA")})
	p.Boundary = w.Gift(kim, "pi_kim", "", "pi_kim", "80.00", "1.40", UTC(2026, 6, 30, 23, 30))
	return p
}
