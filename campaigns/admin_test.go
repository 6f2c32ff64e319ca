package campaigns_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"giving/campaigns"
	"giving/campaigns/ledger"
)

func TestAdminActionsAreAuditedAndForbiddenToTrustees(t *testing.T) {
	t.Parallel()
	s, a := newStore(t)
	ctx := context.Background()
	admin := campaigns.User{ID: 0, Email: "admin@example.org", Role: campaigns.RoleAdmin}
	trustee := campaigns.User{Email: "trustee@example.org", Role: campaigns.RoleTrustee}
	edit := campaigns.AppealEdit{Name: a.Name, Summary: a.Summary, Story: a.Story, Target: d("75000")}

	if err := s.UpdateAppeal(ctx, trustee, a.ID, edit); !errors.Is(err, campaigns.ErrForbidden) {
		t.Fatalf("a trustee edited the appeal: %v", err)
	}
	if err := s.UpdateAppeal(ctx, admin, a.ID, edit); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AppealByID(ctx, a.ID); !got.Target.Equal(d("75000")) {
		t.Fatalf("target %s, want 75000", got.Target)
	}
	bad := edit
	bad.Target = d("-1")
	var ve *campaigns.ValidationError
	if err := s.UpdateAppeal(ctx, admin, a.ID, bad); !errors.As(err, &ve) || ve.Fields["target"] == "" {
		t.Fatalf("negative target: %v", err)
	}
	tier := a.Tiers[0]
	if err := s.SaveTier(ctx, admin, a.ID, tier.ID, campaigns.TierEdit{Amount: d("3"), Title: "A hot meal", Impact: "Pays for a hot meal and a warm drink", Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveTier(ctx, admin, a.ID, 0, campaigns.TierEdit{Amount: d("2000"), Title: "Again", Impact: "Duplicate amount", Active: true}); !errors.As(err, &ve) {
		t.Fatalf("a second £2,000 tier: %v", err)
	}
	fr := addFundraiser(t, s, a.ID, "ruby")
	if err := s.SetFundraiserStatus(ctx, trustee, fr, "hidden"); !errors.Is(err, campaigns.ErrForbidden) {
		t.Fatalf("a trustee hid a page: %v", err)
	}
	if err := s.SetFundraiserStatus(ctx, admin, fr, "hidden"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PublicFundraiser(ctx, "ruby"); !errors.Is(err, campaigns.ErrNotFound) {
		t.Fatalf("hidden page still public: %v", err)
	}
	log, err := s.AuditLog(ctx, 10)
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
	s, a := newStore(t)
	ctx := context.Background()
	var id string
	if err := s.Pool().QueryRow(ctx, `INSERT INTO donations (appeal_id, amount, frequency, payment_intent_id, unmatched)
		VALUES ($1, 12.34, 'one_off', 'pi_link', true) RETURNING id::text`, a.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	record(t, s, ledger.Entry{AppealID: a.ID, DonationID: id, Kind: ledger.KindGift, StripeObject: "pi_link", Amount: d("12.34")})
	list, err := s.Unmatched(ctx, 10)
	if err != nil || len(list) != 1 || !list[0].Amount.Equal(d("12.34")) || list[0].Reference != "pi_link" {
		t.Fatalf("unmatched list: %+v %v", list, err)
	}
	admin := campaigns.User{Email: "admin@example.org", Role: campaigns.RoleAdmin}
	var ve *campaigns.ValidationError
	if err := s.ResolveUnmatched(ctx, admin, id, ""); !errors.As(err, &ve) {
		t.Fatalf("a review without a note: %v", err)
	}
	if err := s.ResolveUnmatched(ctx, admin, id, "Payment Link from the spring gala"); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.Unmatched(ctx, 10); len(list) != 0 {
		t.Fatalf("reviewed money still listed: %+v", list)
	}
	if err := s.ResolveUnmatched(ctx, admin, id, "again"); !errors.Is(err, campaigns.ErrNotFound) {
		t.Fatalf("second review: %v", err)
	}
	tot, _ := s.AppealTotals(ctx, a.ID)
	if tot.Raised().StringFixed(2) != "12.34" {
		t.Fatalf("review moved money: %s", tot.Raised())
	}
}
