package donors_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/donors"
	"giving/campaigns/giftaid"
)

var d = decimal.RequireFromString

func TestGiftAidKeepUntilIsSixYearsAfterTheTaxYearEnds(t *testing.T) {
	t.Parallel()
	lon := campaigns.London()
	cases := []struct {
		gift time.Time
		want string
	}{
		{time.Date(2020, 4, 5, 23, 59, 0, 0, lon), "2026-04-05"},      // last day of the 2019-20 tax year
		{time.Date(2020, 4, 6, 0, 1, 0, 0, lon), "2027-04-05"},        // first day of 2020-21
		{time.Date(2020, 4, 5, 23, 30, 0, 0, time.UTC), "2027-04-05"}, // 00:30 on 6 April in London (BST)
		{time.Date(2020, 12, 31, 12, 0, 0, 0, lon), "2027-04-05"},
		{time.Date(2021, 1, 1, 12, 0, 0, 0, lon), "2027-04-05"},
	}
	for _, c := range cases {
		if got := giftaid.GiftAidKeepUntil(c.gift).Format(time.DateOnly); got != c.want {
			t.Errorf("gift %s: keep until %s, want %s", c.gift, got, c.want)
		}
	}
}

// noEvents stands in for payments.ScrubEvents (campaigns cannot import payments) and
// records the Stripe ids it was asked about.
type noEvents struct{ ids []string }

func (n *noEvents) scrub(_ context.Context, _ pgx.Tx, ids []string) (int, error) {
	n.ids = ids
	return 0, nil
}

func TestDonorRecordsAndErasureOfDeclarations(t *testing.T) {
	t.Parallel()
	w := campaignstest.NewGiftWorld(t)
	ctx := context.Background()
	now := time.Now()

	recent := w.Donation(donations.NewDonation{Email: "Grace@Example.org", DisplayName: "Grace H", Message: "Onward",
		Amount: d("30.00"), FundraiserID: w.Ruby, Declaration: campaignstest.Declaration("Dr", "Grace", "Hopper", "7", "EC1A 1BB")})
	w.Gift(recent, "pi_g1", "ch_g1", "pi_g1", "30.00", "0.65", now.Add(-48*time.Hour))
	old := w.Donation(donations.NewDonation{Email: "grace@example.org", Amount: d("12.00"),
		Declaration: campaignstest.Declaration("", "Grace", "Hopper", "Old House", "EC1A 9ZZ")})
	w.Gift(old, "pi_g2", "ch_g2", "pi_g2", "12.00", "0.00", now.AddDate(-8, 0, 0))
	// The same Stripe customer without the email (a later gift): the same person.
	if _, err := w.S.Pool().Exec(ctx, `UPDATE donations SET customer_id = 'cus_grace' WHERE id = ANY($1::uuid[])`,
		[]string{recent.ID}); err != nil {
		t.Fatal(err)
	}
	sameCustomer := w.Donation(donations.NewDonation{Amount: d("3.00")})
	if _, err := w.S.Pool().Exec(ctx, `UPDATE donations SET customer_id = 'cus_grace' WHERE id = $1::uuid`, sameCustomer.ID); err != nil {
		t.Fatal(err)
	}
	other := w.Donation(donations.NewDonation{Email: "alan@example.org", DisplayName: "Alan T", Amount: d("9.00"),
		Declaration: campaignstest.Declaration("", "Alan", "Turing", "1", "MK3 6EB")})
	w.Gift(other, "pi_a1", "ch_a1", "pi_a1", "9.00", "0.00", now.Add(-time.Hour))

	recs, err := donors.DonorRecords(ctx, w.S, "  GRACE@example.ORG ")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs.Donations) != 3 || len(recs.Declarations) != 2 || len(recs.Ledger) != 2 {
		t.Fatalf("records: %d donations, %d declarations, %d ledger entries", len(recs.Donations), len(recs.Declarations), len(recs.Ledger))
	}
	var buf bytes.Buffer
	if err := donors.WriteDonorJSON(&buf, recs); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"amount": "30.00"`, `"card_fee_covered": "0.00"`, `"stripe_fee": "0.65"`, `"last_name": "Hopper"`,
		`"postcode": "EC1A 9ZZ"`, `"message": "Onward"`, `"stripe_customer": "cus_grace"`, `"email": "Grace@Example.org"`} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Errorf("export lacks %s", want)
		}
	}
	if bytes.Contains(buf.Bytes(), []byte("Turing")) || bytes.Contains(buf.Bytes(), []byte("alan")) {
		t.Error("export holds another donor's data")
	}
	if none, err := donors.DonorRecords(ctx, w.S, "nobody@example.org"); err != nil || none.Found() {
		t.Fatalf("unknown donor: %+v %v", none, err)
	}

	var ev noEvents
	var rep donors.ErasureReport
	err = w.S.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		rep, err = donors.EraseDonorTx(ctx, tx, accounts.CommandLine(), "grace@example.org", now, ev.scrub)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.DonationsScrubbed != 3 || rep.DeclarationsErased != 1 || len(rep.DeclarationsKept) != 1 || rep.DeclarationsKept[0].ID != recent.DeclarationID {
		t.Fatalf("report %+v", rep)
	}
	for _, id := range []string{"cus_grace", "pi_g1", "ch_g1", "pi_g2", recent.ID, sameCustomer.ID} {
		if !slices.Contains(ev.ids, id) {
			t.Errorf("events naming %s are not scrubbed (asked about %v)", id, ev.ids)
		}
	}
	if slices.Contains(ev.ids, "pi_a1") {
		t.Error("asked to scrub another donor's events")
	}
	g, err := giftaid.DeclarationByID(ctx, w.S, recent.DeclarationID)
	if err != nil || g.LastName != "Hopper" || g.Postcode != "EC1A 1BB" {
		t.Errorf("recent declaration: %+v %v", g, err)
	}
	if g, _ := giftaid.DeclarationByID(ctx, w.S, old.DeclarationID); g.FirstName != "" || g.LastName != "" || g.House != "" || g.Postcode != "" || g.Wording == "" {
		t.Errorf("old declaration: %+v", g)
	}
	if g, _ := giftaid.DeclarationByID(ctx, w.S, other.DeclarationID); g.LastName != "Turing" {
		t.Errorf("another donor's declaration: %+v", g)
	}

	// The kept declaration is erased once HMRC no longer needs it, and not before.
	if n, err := donors.EraseDueDeclarations(ctx, w.S, accounts.CommandLine(), now, true); err != nil || n != 0 {
		t.Fatalf("erase due now: %d %v", n, err)
	}
	later := rep.DeclarationsKept[0].KeepUntil.AddDate(0, 0, 1)
	if n, err := donors.EraseDueDeclarations(ctx, w.S, accounts.CommandLine(), later, false); err != nil || n != 1 {
		t.Fatalf("count due later: %d %v", n, err)
	}
	if g, _ := giftaid.DeclarationByID(ctx, w.S, recent.DeclarationID); g.LastName != "Hopper" {
		t.Fatal("counting erased")
	}
	if n, err := donors.EraseDueDeclarations(ctx, w.S, accounts.CommandLine(), later, true); err != nil || n != 1 {
		t.Fatalf("erase due later: %d %v", n, err)
	}
	if g, _ := giftaid.DeclarationByID(ctx, w.S, recent.DeclarationID); g.FirstName != "" || g.LastName != "" || g.Postcode != "" {
		t.Errorf("due declaration not erased: %+v", g)
	}
	log, err := audit.Log(ctx, w.S.Pool(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
		if strings.Contains(strings.ToLower(e.Detail), "grace") {
			t.Errorf("audit entry %q names the donor: %s", e.Action, e.Detail)
		}
	}
	if !slices.Contains(actions, "donor erased") || !slices.Contains(actions, "gift aid declarations erased") {
		t.Errorf("audit log: %v", actions)
	}
}

func TestDonorRecordLinksHerDonationsAndErasureScrubsIt(t *testing.T) {
	t.Parallel()
	w := campaignstest.NewGiftWorld(t)
	ctx := context.Background()
	now := time.Now()

	// Two gifts with the same address written differently, one with Gift Aid: one person.
	first := w.Donation(donations.NewDonation{Email: " Grace@Example.org", Amount: d("30.00"),
		Declaration: campaignstest.Declaration("Dr", "Grace", "Hopper", "7", "EC1A 1BB")})
	w.Gift(first, "pi_g1", "ch_g1", "pi_g1", "30.00", "0.00", now.Add(-48*time.Hour))
	second := w.Donation(donations.NewDonation{Email: "grace@example.org", Amount: d("5.00")})
	alan := w.Donation(donations.NewDonation{Email: "alan@example.org", Amount: d("9.00")})
	// A donation whose email arrives later, from Stripe's event, joins her too.
	late := w.Donation(donations.NewDonation{Amount: d("3.00")})
	if err := w.S.InTx(ctx, func(tx pgx.Tx) error {
		if err := donations.LinkDonation(ctx, tx, late.ID, donations.Link{Email: "GRACE@example.org"}); err != nil {
			return err
		}
		return donations.NoteCardName(ctx, tx, late.ID, "  Grace   Hopper ")
	}); err != nil {
		t.Fatal(err)
	}

	rec, err := donors.RecordByEmail(ctx, w.S.Pool(), "grace@EXAMPLE.org ")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Email != "grace@example.org" || rec.Name != "Grace Hopper" || !slices.Equal(rec.DonationIDs, []string{first.ID, second.ID, late.ID}) ||
		!slices.Equal(rec.DeclarationIDs, []string{first.DeclarationID}) {
		t.Fatalf("Grace's record: %+v", rec)
	}
	if rec.Key() != donors.DonorHash("Grace@Example.org") || rec.Key() != first.DonorKey() {
		t.Errorf("record key %s, donor hash %s, ledger key %s: the pseudonymous key changed", rec.Key(), donors.DonorHash("Grace@Example.org"), first.DonorKey())
	}
	if byGift, err := donors.RecordOfDonation(ctx, w.S.Pool(), second.ID); err != nil || byGift.ID != rec.ID {
		t.Fatalf("record of her second gift: %+v %v", byGift, err)
	}
	alans, err := donors.RecordByEmail(ctx, w.S.Pool(), "alan@example.org")
	if err != nil || alans.ID == rec.ID || !slices.Equal(alans.DonationIDs, []string{alan.ID}) {
		t.Fatalf("Alan's record: %+v %v", alans, err)
	}

	// Her export holds her record, with the name on her card.
	recs, err := donors.DonorRecords(ctx, w.S, "grace@example.org")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := donors.WriteDonorJSON(&buf, recs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"donor_records": [`, `"id": "` + rec.ID + `"`, `"name_on_card": "Grace Hopper"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("export lacks %s", want)
		}
	}

	var ev noEvents
	var rep donors.ErasureReport
	if err := w.S.InTx(ctx, func(tx pgx.Tx) error {
		rep, err = donors.EraseDonorTx(ctx, tx, accounts.CommandLine(), "grace@example.org", now, ev.scrub)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if rep.RecordsScrubbed != 1 || !strings.Contains(rep.Summary(), "1 donor records scrubbed") {
		t.Errorf("report: %+v %s", rep, rep.Summary())
	}
	// Her record no longer names her, but still holds her donations together, anonymously.
	if _, err := donors.RecordByEmail(ctx, w.S.Pool(), "grace@example.org"); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("erased donor still found by email: %v", err)
	}
	after, err := donors.RecordOfDonation(ctx, w.S.Pool(), first.ID)
	if err != nil || after.ID != rec.ID || after.Email != "" || after.Name != "" || len(after.DonationIDs) != 3 {
		t.Errorf("her record after erasure: %+v %v", after, err)
	}
	var held int
	if err := w.S.Pool().QueryRow(ctx, `SELECT count(*) FROM donors WHERE email = 'grace@example.org' OR name ILIKE '%hopper%'`).Scan(&held); err != nil || held != 0 {
		t.Errorf("%d donor rows still hold her email or name (%v)", held, err)
	}
	if still, err := donors.RecordByEmail(ctx, w.S.Pool(), "alan@example.org"); err != nil || still.ID != alans.ID {
		t.Errorf("Alan's record after Grace's erasure: %+v %v", still, err)
	}
	// Erasing again finds nothing new to scrub; a gift given afterwards starts a new record.
	again := w.Donation(donations.NewDonation{Email: "grace@example.org", Amount: d("7.00")})
	fresh, err := donors.RecordByEmail(ctx, w.S.Pool(), "grace@example.org")
	if err != nil || fresh.ID == rec.ID || !slices.Equal(fresh.DonationIDs, []string{again.ID}) {
		t.Errorf("a new gift after erasure: %+v %v", fresh, err)
	}
}

// A "future" declaration made eight years ago covers a gift of two years ago that came on
// another donation of hers: HMRC needs it kept six years after that gift, not after the
// gift that carried it. Erasure keeps it; a "this gift only" declaration of the same age
// is erased.
func TestErasureKeepsADeclarationForTheLastGiftItCovers(t *testing.T) {
	t.Parallel()
	w := campaignstest.NewGiftWorld(t)
	ctx := context.Background()
	now := time.Now()
	future := w.Donation(donations.NewDonation{Email: "mary@example.org", Amount: d("10.00"),
		Declaration: campaignstest.Declaration("", "Mary", "Seacole", "14", "SE1 7EH")})
	onlyThis := campaignstest.Declaration("", "Mary", "Seacole", "14", "SE1 7EH")
	onlyThis.Scope = giftaid.ScopeThis
	single := w.Donation(donations.NewDonation{Email: "mary@example.org", Amount: d("5.00"), Declaration: onlyThis})
	eightYearsAgo := now.AddDate(-8, 0, 0)
	if _, err := w.S.Pool().Exec(ctx, `UPDATE gift_aid_declarations SET declared_at = $2, effective_from = $2 WHERE id = ANY($1::uuid[])`,
		[]string{future.DeclarationID, single.DeclarationID}, eightYearsAgo); err != nil {
		t.Fatal(err)
	}
	w.Gift(future, "pi_m1", "ch_m1", "pi_m1", "10.00", "0.00", eightYearsAgo.Add(time.Hour))
	w.Gift(single, "pi_m2", "ch_m2", "pi_m2", "5.00", "0.00", eightYearsAgo.Add(2*time.Hour))
	later := w.Donation(donations.NewDonation{Email: "Mary@example.org", Amount: d("20.00")})
	w.Gift(later, "pi_m3", "ch_m3", "pi_m3", "20.00", "0.00", now.AddDate(-2, 0, 0))

	var ev noEvents
	var rep donors.ErasureReport
	if err := w.S.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		rep, err = donors.EraseDonorTx(ctx, tx, accounts.CommandLine(), "mary@example.org", now, ev.scrub)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if rep.DeclarationsErased != 1 || len(rep.DeclarationsKept) != 1 || rep.DeclarationsKept[0].ID != future.DeclarationID {
		t.Fatalf("report %+v: want the future declaration kept and the single-gift one erased", rep)
	}
	if want := giftaid.GiftAidKeepUntil(now.AddDate(-2, 0, 0)); !rep.DeclarationsKept[0].KeepUntil.Equal(want) {
		t.Errorf("kept until %s, want %s (six years after the last gift it covers)", rep.DeclarationsKept[0].KeepUntil, want)
	}
}
