package ledger_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns/appeals"
	"giving/campaigns/campaignstest"
	"giving/campaigns/ledger"
)

var d = decimal.RequireFromString

func TestSeedIsIdempotent(t *testing.T) {
	t.Parallel()
	s, a := campaignstest.Seeded(t, 8)
	created, err := appeals.Seed(context.Background(), s, appeals.SeedOptions{Target: d("99.00")})
	if err != nil || created {
		t.Fatalf("second seed: created=%v err=%v, want nothing changed", created, err)
	}
	again, _ := appeals.AppealBySlug(context.Background(), s, appeals.DefaultAppealSlug)
	if !again.Target.Equal(a.Target) || len(again.Tiers) != len(a.Tiers) {
		t.Fatalf("second seed changed the appeal: %+v -> %+v", a, again)
	}
	if !a.Tiers[0].Amount.Equal(d("3")) || !a.Tiers[len(a.Tiers)-1].Amount.Equal(d("2000")) {
		t.Fatalf("tiers should run from £3 to £2,000: %+v", a.Tiers)
	}
	if !a.IsDefault {
		t.Fatal("the seeded appeal should be the default appeal")
	}
}

// A mix of gifts, refunds, disputes and fees, some recorded twice, leaves totals equal to
// figures computed independently here.
func TestTotalsFollowTheLedger(t *testing.T) {
	t.Parallel()
	s, a := campaignstest.Seeded(t, 8)
	ruby := campaignstest.AddFundraiser(t, s, a.ID, "ruby")
	now := time.Now()
	entries := []ledger.Entry{
		{AppealID: a.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "pi_1", Amount: d("3.00"), Fee: d("0.25"), GiftAidBase: d("3.00"), DonorKey: "cus_a"},
		{AppealID: a.ID, FundraiserID: ruby, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "pi_2", Amount: d("2000.00"), Fee: d("30.20"), DonorKey: "cus_b"},
		{AppealID: a.ID, FundraiserID: ruby, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "in_1", Amount: d("10.00"), Monthly: true, GiftAidBase: d("10.00"), DonorKey: "cus_a"},
		{AppealID: a.ID, FundraiserID: ruby, Kind: ledger.KindRefund, Source: ledger.SourceStripe, SourceRef: "ch_2", Seq: "50000", Amount: d("-500.00")},
		{AppealID: a.ID, Kind: ledger.KindDisputeHold, Source: ledger.SourceStripe, SourceRef: "dp_1", Amount: d("-3.00"), GiftAidBase: d("-3.00")},
		{AppealID: a.ID, Kind: ledger.KindDisputeRelease, Source: ledger.SourceStripe, SourceRef: "dp_1", Amount: d("3.00"), GiftAidBase: d("3.00")},
		{AppealID: a.ID, FundraiserID: ruby, Kind: ledger.KindDisputeHold, Source: ledger.SourceStripe, SourceRef: "dp_2", Amount: d("-10.00"), GiftAidBase: d("-10.00")},
		{AppealID: a.ID, FundraiserID: ruby, Kind: ledger.KindDisputeRelease, Source: ledger.SourceStripe, SourceRef: "dp_2", Amount: d("10.00"), GiftAidBase: d("10.00")},
		{AppealID: a.ID, FundraiserID: ruby, Kind: ledger.KindDisputeLost, Source: ledger.SourceStripe, SourceRef: "dp_2", Amount: d("-10.00"), Fee: d("20.00"), GiftAidBase: d("-10.00")},
	}
	for i, e := range entries {
		e.OccurredAt = now
		if !campaignstest.Record(t, s, e) {
			t.Fatalf("entry %d was not recorded", i)
		}
		if campaignstest.Record(t, s, e) {
			t.Fatalf("entry %d was recorded twice", i)
		}
	}
	appeal, err := appeals.AppealTotals(context.Background(), s, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	// By hand: gross 2013.00; refunded 500; open disputes 0; lost 10.
	want := map[string]string{"raised": "1503.00", "gross": "2013.00", "refunded": "500.00", "lost": "10.00",
		"fees": "50.45", "net": "1452.55", "gift_aid": "0.75", "gifts": "3", "donors": "2"}
	got := map[string]string{"raised": appeal.Raised().StringFixed(2), "gross": appeal.Gross.StringFixed(2),
		"refunded": appeal.Refunded.StringFixed(2), "lost": appeal.Lost.StringFixed(2), "fees": appeal.Fees.StringFixed(2),
		"net": appeal.Net().StringFixed(2), "gift_aid": appeal.GiftAid().StringFixed(2),
		"gifts": fmt.Sprint(appeal.Gifts), "donors": fmt.Sprint(appeal.Donors)}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("appeal %s = %s, want %s", k, got[k], v)
		}
	}
	page, err := ledger.ReadTotals(context.Background(), s.Pool(), ledger.FundraiserScope(ruby))
	if err != nil {
		t.Fatal(err)
	}
	if page.Raised().StringFixed(2) != "1500.00" || page.Gifts != 2 || page.Donors != 2 {
		t.Errorf("Ruby's page: raised %s gifts %d donors %d, want 1500.00, 2, 2", page.Raised().StringFixed(2), page.Gifts, page.Donors)
	}
	diffs, err := ledger.CompareTotals(context.Background(), s)
	if err != nil || len(diffs) != 0 {
		t.Fatalf("replay found %v (err %v), want no difference", diffs, err)
	}
}

func TestGiftAidRoundsDownOnTheTotal(t *testing.T) {
	t.Parallel()
	s, a := campaignstest.Seeded(t, 8)
	for i, amt := range []string{"3.33", "3.33", "3.33"} {
		campaignstest.Record(t, s, ledger.Entry{AppealID: a.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: fmt.Sprintf("pi_%d", i),
			Amount: d(amt), GiftAidBase: d(amt), DonorKey: "x"})
	}
	tot, _ := appeals.AppealTotals(context.Background(), s, a.ID)
	// 9.99 × 0.25 = 2.4975: the claim is 2.49, not three rounded 0.83s (2.49) nor 2.50.
	if got := tot.GiftAid().StringFixed(2); got != "2.49" {
		t.Fatalf("gift aid = %s, want 2.49", got)
	}
}

func TestLedgerRefusesBadEntriesAndEdits(t *testing.T) {
	t.Parallel()
	s, a := campaignstest.Seeded(t, 8)
	bad := []ledger.Entry{
		{AppealID: a.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "pi_x", Amount: d("3.999"), OccurredAt: campaignstest.EntryTime},
		{AppealID: a.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "pi_x", Amount: d("-3"), OccurredAt: campaignstest.EntryTime},
		{AppealID: a.ID, Kind: ledger.KindRefund, Source: ledger.SourceStripe, SourceRef: "ch_x", Amount: d("3"), OccurredAt: campaignstest.EntryTime},
		{AppealID: a.ID, Kind: ledger.KindGift, Amount: d("3"), OccurredAt: campaignstest.EntryTime},
		{AppealID: a.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "pi_x", Amount: d("3")},                           // when?
		{AppealID: a.ID, Kind: ledger.KindGift, SourceRef: "pi_x", Amount: d("3"), OccurredAt: campaignstest.EntryTime},                   // from where?
		{AppealID: a.ID, Kind: ledger.KindGift, Source: "paypal", SourceRef: "pi_x", Amount: d("3"), OccurredAt: campaignstest.EntryTime}, // unknown source
		ledger.Reverse(ledger.Entry{AppealID: a.ID, Kind: ledger.KindFee, Source: ledger.SourceStripe, SourceRef: "ch_x", Fee: d("0.20")}, "reversal", campaignstest.EntryTime),
	}
	for _, e := range bad {
		err := s.InTx(context.Background(), func(tx pgx.Tx) error {
			_, err := ledger.Record(context.Background(), tx, e)
			return err
		})
		if err == nil {
			t.Errorf("entry %+v was accepted", e)
		}
	}
	campaignstest.Record(t, s, ledger.Entry{AppealID: a.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "pi_ok", Amount: d("3")})
	_, err := s.Pool().Exec(context.Background(), `UPDATE ledger_entries SET amount = 300`)
	if err == nil || !strings.Contains(err.Error(), "immutable") {
		t.Fatalf("editing the ledger: err = %v, want it refused", err)
	}
}

func TestReplayCatchesATamperedTotal(t *testing.T) {
	t.Parallel()
	s, a := campaignstest.Seeded(t, 8)
	campaignstest.Record(t, s, ledger.Entry{AppealID: a.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "pi_1", Amount: d("25.00"), DonorKey: "a"})
	if _, err := s.Pool().Exec(context.Background(), `UPDATE totals SET gross = gross + 1 WHERE scope = 'appeal'`); err != nil {
		t.Fatal(err)
	}
	diffs, err := ledger.CompareTotals(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 1 || diffs[0].Field != "gross" || diffs[0].Stored != "26" || diffs[0].Ledger != "25" {
		t.Fatalf("replay found %v, want gross 26 vs 25", diffs)
	}
}

// Concurrent writers spread over shards and duplicates racing each other still count once.
func TestConcurrentDuplicatesCountOnce(t *testing.T) {
	t.Parallel()
	s, a := campaignstest.Seeded(t, 8)
	const gifts = 200
	errs := make(chan error, gifts*2)
	for i := range gifts * 2 {
		go func() {
			n := i % gifts
			errs <- s.InTx(context.Background(), func(tx pgx.Tx) error {
				_, err := ledger.Record(context.Background(), tx, ledger.Entry{AppealID: a.ID, Kind: ledger.KindGift,
					Source: ledger.SourceStripe, SourceRef: fmt.Sprintf("pi_%d", n), Amount: d("3.00"), DonorKey: fmt.Sprintf("cus_%d", rand.IntN(50)), OccurredAt: campaignstest.EntryTime})
				return err
			})
		}()
	}
	for range gifts * 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	tot, _ := appeals.AppealTotals(context.Background(), s, a.ID)
	if tot.Raised().StringFixed(2) != "600.00" || tot.Gifts != gifts {
		t.Fatalf("raised %s from %d gifts, want 600.00 from %d", tot.Raised().StringFixed(2), tot.Gifts, gifts)
	}
	if diffs, _ := ledger.CompareTotals(context.Background(), s); len(diffs) != 0 {
		t.Fatalf("replay: %v", diffs)
	}
}

// A fact is keyed by its source as well as the source's id: Stripe's "7" and offline
// taking 7 are two gifts, and Reverse undoes a gift in full (raised and Gift Aid base move
// back, the fee paid stays) while the gift stays in the history.
func TestSourcesKeepTheirOwnKeysAndReverseUndoesAGift(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, a := campaignstest.Seeded(t, 8)
	stripeGift := ledger.Entry{AppealID: a.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "7",
		Amount: d("40.00"), Fee: d("0.80"), GiftAidBase: d("40.00"), DonorKey: "a"}
	offlineGift := ledger.Entry{AppealID: a.ID, Kind: ledger.KindGift, Source: ledger.SourceOffline, SourceRef: "7",
		Amount: d("120.00"), DonorKey: ""}
	if !campaignstest.Record(t, s, stripeGift) || !campaignstest.Record(t, s, offlineGift) {
		t.Fatal("a Stripe gift and an offline taking with the same id were taken for one fact")
	}
	if campaignstest.Record(t, s, offlineGift) {
		t.Fatal("the same offline taking was recorded twice")
	}
	reversal := ledger.Reverse(stripeGift, "reversal", campaignstest.EntryTime.Add(time.Hour))
	if !campaignstest.Record(t, s, reversal) || campaignstest.Record(t, s, reversal) {
		t.Fatal("a reversal must record once")
	}
	tot, err := ledger.ReadTotals(ctx, s.Pool(), ledger.AppealScope(a.ID))
	if err != nil {
		t.Fatal(err)
	}
	if tot.Raised().StringFixed(2) != "120.00" || tot.Gross.StringFixed(2) != "160.00" || tot.Refunded.StringFixed(2) != "40.00" ||
		tot.Fees.StringFixed(2) != "0.80" || !tot.GiftAidBase.IsZero() || tot.Gifts != 2 {
		t.Fatalf("after reversing the Stripe gift: raised %s gross %s refunded %s fees %s gift aid base %s gifts %d; want 120.00, 160.00, 40.00, 0.80, 0, 2",
			tot.Raised(), tot.Gross, tot.Refunded, tot.Fees, tot.GiftAidBase, tot.Gifts)
	}
	if diffs, err := ledger.CompareTotals(ctx, s); err != nil || len(diffs) != 0 {
		t.Fatalf("replay found %v (err %v)", diffs, err)
	}
}
