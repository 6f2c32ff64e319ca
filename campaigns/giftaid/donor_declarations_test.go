package giftaid_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
)

// donorWorld is a GiftWorld whose store reads a clock the test sets: a declaration is dated
// by the store's clock when its donation is created.
type donorWorld struct {
	*campaignstest.GiftWorld
	at time.Time
}

func newDonorWorld(t *testing.T) *donorWorld {
	w := &donorWorld{GiftWorld: campaignstest.NewGiftWorld(t)}
	w.S = w.S.WithClock(func() time.Time { return w.at })
	return w
}

// give creates a donation of hers at the clock's time (a declaration when scope is not "")
// and records its gift then.
func (w *donorWorld) give(email, amount, scope string, monthly bool, at time.Time, ref string) (donations.Donation, int64) {
	w.T.Helper()
	w.at = at
	n := donations.NewDonation{Amount: d(amount), Email: email, Monthly: monthly}
	if scope != "" {
		n.Declaration = campaignstest.Declaration("Ms", "Mia", "Hart", "14", "YO1 7HH")
		n.Declaration.Scope = scope
	}
	dn := w.Donation(n)
	return dn, w.Gift(dn, ref, "", ref, amount, "0.20", at)
}

func mustClaim(t *testing.T, w *donorWorld, now time.Time) giftaid.Claim {
	t.Helper()
	c, err := giftaid.MakeClaim(context.Background(), w.S, giftaid.ClaimOptions{Now: now, Actor: accounts.User{Email: "trustee@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// HMRC: a donor who declared "this and future" on a £10 gift and later gives £20 once and
// £5 a month on donations with no declaration of their own has all of them on the next
// claim; a gift she made before declaring is not covered, nor is another donor's.
func TestFutureDeclarationCoversLaterGifts(t *testing.T) {
	t.Parallel()
	w := newDonorWorld(t)
	_, before := w.give("mia@example.org", "15.00", "", false, campaignstest.UTC(2025, 12, 1, 10, 0), "pi_before")
	_, first := w.give("mia@example.org", "10.00", giftaid.ScopeThisAndFuture, false, campaignstest.UTC(2026, 1, 10, 10, 0), "pi_first")
	_, twenty := w.give("Mia@Example.org ", "20.00", "", false, campaignstest.UTC(2026, 2, 1, 10, 0), "pi_twenty")
	monthly, m1 := w.give("mia@example.org", "5.00", "", true, campaignstest.UTC(2026, 3, 1, 10, 0), "in_m1")
	m2 := w.Gift(monthly, "in_m2", "", "in_m2", "5.00", "0.20", campaignstest.UTC(2026, 4, 1, 10, 0))
	_, other := w.give("sam@example.org", "50.00", "", false, campaignstest.UTC(2026, 2, 2, 10, 0), "pi_other")

	c := mustClaim(t, w, campaignstest.UTC(2026, 5, 1, 9, 0))
	in := claimed(c)
	for name, id := range map[string]int64{"£10 declared": first, "£20 later": twenty, "first £5 monthly": m1, "second £5 monthly": m2} {
		if !in[id] {
			t.Errorf("the %s gift is not on the claim", name)
		}
	}
	if in[before] || in[other] {
		t.Error("a gift made before the declaration, or another donor's, was claimed")
	}
	if c.Total.StringFixed(2) != "40.00" || c.Tax.StringFixed(2) != "10.00" {
		t.Errorf("claim total %s tax %s, want 40.00 and 10.00", c.Total, c.Tax)
	}
}

// HMRC: a declaration covering the past four years takes in a gift of three years ago and
// not one of five years ago (nor one of four years and a month ago, still within the claim
// time limit: the declaration, not the limit, leaves it out).
func TestPastFourYearsDeclaration(t *testing.T) {
	t.Parallel()
	w := newDonorWorld(t)
	_, five := w.give("ola@example.org", "60.00", "", false, campaignstest.UTC(2021, 6, 1, 10, 0), "pi_five")
	_, fourPlus := w.give("ola@example.org", "45.00", "", false, campaignstest.UTC(2022, 5, 1, 10, 0), "pi_four_plus")
	_, three := w.give("ola@example.org", "50.00", "", false, campaignstest.UTC(2023, 6, 10, 10, 0), "pi_three")
	_, now := w.give("ola@example.org", "10.00", giftaid.ScopeThisFutureAndPast, false, campaignstest.UTC(2026, 6, 1, 10, 0), "pi_now")

	c := mustClaim(t, w, campaignstest.UTC(2026, 6, 2, 9, 0))
	in := claimed(c)
	if !in[three] || !in[now] {
		t.Error("the gift of three years ago, or the declared one, is not on the claim")
	}
	if in[five] || in[fourPlus] {
		t.Error("a gift from more than four years before the declaration was claimed")
	}
	if w := strings.Join(c.Warnings, "\n"); strings.Contains(w, "HMRC no longer accepts") {
		t.Errorf("warnings %q: the old gifts are outside the declaration, not late", w)
	}
	if c.Total.StringFixed(2) != "60.00" {
		t.Errorf("claim total %s, want 60.00", c.Total)
	}
}

// HMRC: a cancellation dated the 1st stops the gifts from then on; gifts already claimed stay
// claimed, an unclaimed gift before the date is still claimed, the declaration is kept with
// its date, and the donor is told.
func TestCancellationStopsLaterGifts(t *testing.T) {
	t.Parallel()
	w := newDonorWorld(t)
	ctx := context.Background()
	monthly, jan := w.give("kit@example.org", "25.00", giftaid.ScopeThisAndFuture, true, campaignstest.UTC(2026, 1, 5, 10, 0), "in_jan")
	feb := w.Gift(monthly, "in_feb", "", "in_feb", "25.00", "0.58", campaignstest.UTC(2026, 2, 5, 10, 0))
	c1 := mustClaim(t, w, campaignstest.UTC(2026, 2, 20, 9, 0))
	_, late := w.give("kit@example.org", "30.00", "", false, campaignstest.UTC(2026, 2, 25, 10, 0), "pi_late_feb")

	w.at = campaignstest.UTC(2026, 3, 3, 12, 0)
	if _, err := giftaid.DeclarationsInForce(ctx, w.S, "kit@example.org"); err != nil {
		t.Fatal(err)
	}
	first := time.Date(2026, 3, 1, 0, 0, 0, 0, campaigns.London())
	n, err := giftaid.CancelDeclarations(ctx, w.S, giftaid.Cancellation{Email: " KIT@example.org", From: first,
		Reason: "Donor phoned: no longer pays UK tax", Actor: accounts.User{Email: "admin@example.org"}})
	if err != nil || n != 1 {
		t.Fatalf("cancel: %d declarations, %v", n, err)
	}
	if left, err := giftaid.DeclarationsInForce(ctx, w.S, "kit@example.org"); err != nil || len(left) != 0 {
		t.Errorf("after the cancellation %d declarations in force (%v)", len(left), err)
	}
	mar := w.Gift(monthly, "in_mar", "", "in_mar", "25.00", "0.58", campaignstest.UTC(2026, 3, 5, 10, 0))
	_, apr := w.give("kit@example.org", "40.00", "", false, campaignstest.UTC(2026, 4, 2, 10, 0), "pi_apr")

	c2 := mustClaim(t, w, campaignstest.UTC(2026, 5, 1, 9, 0))
	in := claimed(c2)
	if !in[late] || len(in) != 1 {
		t.Errorf("claim 2 holds %v; want only the 25 February gift (%d)", in, late)
	}
	if in[mar] || in[apr] {
		t.Error("a gift after the cancellation was claimed")
	}
	var stillClaimed int
	if err := w.S.Pool().QueryRow(ctx, `SELECT count(*) FROM gift_aid_claim_items WHERE claim_id = $1 AND ledger_entry_id = ANY($2)`,
		c1.ID, []int64{jan, feb}).Scan(&stillClaimed); err != nil || stillClaimed != 2 {
		t.Errorf("%d of January's and February's claimed gifts still on claim 1 (%v), want 2", stillClaimed, err)
	}
	var cancelledAt time.Time
	var reason string
	if err := w.S.Pool().QueryRow(ctx, `SELECT cancelled_at, cancel_reason FROM gift_aid_declarations WHERE id = $1::uuid`,
		monthly.DeclarationID).Scan(&cancelledAt, &reason); err != nil || !cancelledAt.Equal(first) || reason == "" {
		t.Errorf("the declaration kept cancelled at %s with reason %q (%v), want %s", cancelledAt, reason, err, first)
	}
	var mails, audits int
	if err := w.S.Pool().QueryRow(ctx, `SELECT count(*) FROM mail_outbox WHERE to_address = 'kit@example.org'
		AND subject = 'Your Gift Aid declaration is cancelled' AND body LIKE '%from 1 March 2026%'`).Scan(&mails); err != nil || mails != 1 {
		t.Errorf("%d cancellation emails (%v), want 1", mails, err)
	}
	if err := w.S.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'gift aid declaration cancelled' AND actor_email = 'admin@example.org'`).Scan(&audits); err != nil || audits != 1 {
		t.Errorf("%d audit rows (%v), want 1", audits, err)
	}
	if _, err := giftaid.CancelDeclarations(ctx, w.S, giftaid.Cancellation{Email: "kit@example.org", ByDonor: true}); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("cancelling again: %v, want not found", err)
	}
}

// Two declarations covering one gift claim it once.
func TestTwoDeclarationsClaimAGiftOnce(t *testing.T) {
	t.Parallel()
	w := newDonorWorld(t)
	_, a := w.give("bea@example.org", "10.00", giftaid.ScopeThisAndFuture, false, campaignstest.UTC(2026, 1, 10, 10, 0), "pi_a")
	_, b := w.give("bea@example.org", "30.00", giftaid.ScopeThisFutureAndPast, false, campaignstest.UTC(2026, 2, 10, 10, 0), "pi_b")
	_, c := w.give("bea@example.org", "40.00", "", false, campaignstest.UTC(2026, 3, 10, 10, 0), "pi_c")

	cl := mustClaim(t, w, campaignstest.UTC(2026, 4, 1, 9, 0))
	seen := map[int64]int{}
	for _, r := range cl.Rows {
		for _, g := range r.Gifts {
			seen[g]++
		}
	}
	if seen[a] != 1 || seen[b] != 1 || seen[c] != 1 || len(seen) != 3 {
		t.Errorf("gifts on the claim %v; want %d, %d and %d once each", seen, a, b, c)
	}
	if cl.Total.StringFixed(2) != "80.00" || len(cl.Entries) != 3 {
		t.Errorf("claim total %s over %d entries, want 80.00 over 3", cl.Total, len(cl.Entries))
	}
}

// A declaration made on the donate form before the donor's email is known (Stripe reports
// it with the payment) becomes hers when the email arrives, and covers her later gifts.
func TestDeclarationFindsItsDonorWhenTheEmailArrives(t *testing.T) {
	t.Parallel()
	w := newDonorWorld(t)
	first, _ := w.give("", "10.00", giftaid.ScopeThisAndFuture, false, campaignstest.UTC(2026, 1, 10, 10, 0), "pi_first")
	if _, err := w.S.Pool().Exec(context.Background(), `UPDATE donations SET email = 'Lu@example.org' WHERE id = $1::uuid`, first.ID); err != nil {
		t.Fatal(err)
	}
	_, later := w.give("lu@example.org", "25.00", "", false, campaignstest.UTC(2026, 2, 10, 10, 0), "pi_later")
	if c := mustClaim(t, w, campaignstest.UTC(2026, 3, 1, 9, 0)); !claimed(c)[later] {
		t.Error("her later gift is not covered by the declaration made before her email was known")
	}
}
