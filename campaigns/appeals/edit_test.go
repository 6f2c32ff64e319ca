package appeals_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/appeals"
	"giving/campaigns/audit"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/ledger"
	"giving/campaigns/pages"

	"github.com/shopspring/decimal"
)

var d = decimal.RequireFromString

func TestAdminActionsAreAuditedAndForbiddenToTrustees(t *testing.T) {
	t.Parallel()
	s, a := campaignstest.Seeded(t, 8)
	ctx := context.Background()
	admin := accounts.User{ID: 0, Email: "admin@example.org", Role: accounts.RoleAdmin}
	trustee := accounts.User{Email: "trustee@example.org", Role: accounts.RoleTrustee}
	edit := appeals.AppealEdit{Name: a.Name, Summary: a.Summary, Story: a.Story, Target: d("75000"),
		SurplusStatement: a.SurplusStatement, Fund: a.Fund}

	if err := appeals.UpdateAppeal(ctx, s, trustee, a.ID, edit); !errors.Is(err, campaigns.ErrForbidden) {
		t.Fatalf("a trustee edited the appeal: %v", err)
	}
	if err := appeals.UpdateAppeal(ctx, s, admin, a.ID, edit); err != nil {
		t.Fatal(err)
	}
	if got, _ := appeals.AppealByID(ctx, s, a.ID); !got.Target.Equal(d("75000")) {
		t.Fatalf("target %s, want 75000", got.Target)
	}
	bad := edit
	bad.Target = d("-1")
	var ve *campaigns.ValidationError
	if err := appeals.UpdateAppeal(ctx, s, admin, a.ID, bad); !errors.As(err, &ve) || ve.Fields["target"] == "" {
		t.Fatalf("negative target: %v", err)
	}
	tier := a.Tiers[0]
	if err := appeals.SaveTier(ctx, s, admin, a.ID, tier.ID, appeals.TierEdit{Amount: d("3"), Title: "A hot meal", Impact: "Pays for a hot meal and a warm drink", Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := appeals.SaveTier(ctx, s, admin, a.ID, 0, appeals.TierEdit{Amount: d("2000"), Title: "Again", Impact: "Duplicate amount", Active: true}); !errors.As(err, &ve) {
		t.Fatalf("a second £2,000 tier: %v", err)
	}
	fr := campaignstest.AddFundraiser(t, s, a.ID, "ruby")
	if err := pages.SetFundraiserStatus(ctx, s, trustee, fr, "hidden", ""); !errors.Is(err, campaigns.ErrForbidden) {
		t.Fatalf("a trustee hid a page: %v", err)
	}
	if err := pages.SetFundraiserStatus(ctx, s, admin, fr, "hidden", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := pages.PublicFundraiser(ctx, s, "ruby"); !errors.Is(err, campaigns.ErrNotFound) {
		t.Fatalf("hidden page still public: %v", err)
	}
	log, err := audit.Log(ctx, s.Pool(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	joined := strings.Join(actions, ",")
	for _, want := range []string{"appeal edited", "tier saved", "fundraiser page hidden"} {
		if !strings.Contains(joined, want) {
			t.Errorf("audit log %q lacks %q", joined, want)
		}
	}
	if strings.Count(joined, "appeal edited") != 1 {
		t.Errorf("refused or invalid edits were audited: %q", joined)
	}
}

func TestUnmatchedMoneyIsReviewedNotRewritten(t *testing.T) {
	t.Parallel()
	s, a := campaignstest.Seeded(t, 8)
	ctx := context.Background()
	var id string
	if err := s.Pool().QueryRow(ctx, `INSERT INTO donations (appeal_id, amount, frequency, payment_intent_id, unmatched)
		VALUES ($1, 12.34, 'one_off', 'pi_link', true) RETURNING id::text`, a.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	campaignstest.Record(t, s, ledger.Entry{AppealID: a.ID, DonationID: id, Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: "pi_link", Amount: d("12.34")})
	list, err := donations.ListUnmatched(ctx, s, 10)
	if err != nil || len(list) != 1 || !list[0].Amount.Equal(d("12.34")) || list[0].Reference != "pi_link" {
		t.Fatalf("unmatched list: %+v %v", list, err)
	}
	admin := accounts.User{Email: "admin@example.org", Role: accounts.RoleAdmin}
	var ve *campaigns.ValidationError
	if err := donations.ResolveUnmatched(ctx, s, admin, id, ""); !errors.As(err, &ve) {
		t.Fatalf("a review without a note: %v", err)
	}
	if err := donations.ResolveUnmatched(ctx, s, admin, id, "Payment Link from the spring gala"); err != nil {
		t.Fatal(err)
	}
	if list, _ := donations.ListUnmatched(ctx, s, 10); len(list) != 0 {
		t.Fatalf("reviewed money still listed: %+v", list)
	}
	if err := donations.ResolveUnmatched(ctx, s, admin, id, "again"); !errors.Is(err, campaigns.ErrNotFound) {
		t.Fatalf("second review: %v", err)
	}
	tot, _ := appeals.AppealTotals(ctx, s, a.ID)
	if tot.Raised().StringFixed(2) != "12.34" {
		t.Fatalf("review moved money: %s", tot.Raised())
	}
}
