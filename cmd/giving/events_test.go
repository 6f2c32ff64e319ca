package main

import (
	"context"
	"strings"
	"testing"

	"giving/campaigns/appeals"
	"giving/campaigns/audit"
	"giving/campaigns/donations"
	"giving/payments"
)

// An operator sees which stored events were not applied and why, and once the cause is
// fixed, retries the failed ones: the gift then counts, exactly once, and the retry is in
// the audit log. Events that did not fail are refused, naming why.
func TestEventsListAndRetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := map[string]string{}
	store, pool, appeal := seededStore(t, env)
	d, err := donations.Create(ctx, store, donations.NewDonation{AppealID: appeal.ID, Amount: payments.FromPence(2500)})
	if err != nil {
		t.Fatal(err)
	}
	// A paid gift an older version failed to apply, a body nobody can read, and one applied.
	failed := payments.EventBuilder{}.WithEventID("evt_failed").CheckoutSessionCompleted("cs_f", "pi_f", "cus_f", 2500, "paid",
		payments.Meta{DonationID: d.ID, Campaign: appeal.Slug})
	// And one that fails for a reason a retry cannot fix: money in dollars.
	d2, err := donations.Create(ctx, store, donations.NewDonation{AppealID: appeal.ID, Amount: payments.FromPence(1000)})
	if err != nil {
		t.Fatal(err)
	}
	usd := strings.Replace(string(payments.EventBuilder{}.WithEventID("evt_usd").CheckoutSessionCompleted("cs_u", "pi_u", "cus_u", 1000, "paid",
		payments.Meta{DonationID: d2.ID, Campaign: appeal.Slug})), `"currency": "gbp"`, `"currency": "usd"`, 1)
	if !strings.Contains(usd, `"usd"`) {
		t.Fatal("could not make a dollar event")
	}
	if _, err := pool.Exec(ctx, `INSERT INTO stripe_events (id, type, payload, outcome, detail) VALUES
		('evt_usd', 'checkout.session.completed', $2::bytea, 'error', 'currency "usd"'),
		('evt_failed', 'checkout.session.completed', $1, 'error', 'a bug in the version of 1 December'),
		('malformed_ab12', 'malformed', 'not json', 'malformed', 'invalid character'),
		('evt_held', 'charge.refunded', '{}', 'review', 'charge ch_1: amount_refunded £50.00 is larger than the charge''s £20.00'),
		('evt_fine', 'checkout.session.expired', '{}', 'ignored', '')`, failed, []byte(usd)); err != nil {
		t.Fatal(err)
	}

	out, err := runCmd(t, env, "events")
	if err != nil {
		t.Fatalf("events: %v\n%s", err, out)
	}
	t.Log("\n" + out)
	for _, want := range []string{"2 error", "1 review", "1 malformed", "0 wrong_mode", "evt_failed", "a bug in the version of 1 December", "malformed_ab12",
		"evt_held", "larger than the charge's £20.00"} {
		if !strings.Contains(out, want) {
			t.Errorf("events lists no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "evt_fine") {
		t.Errorf("events lists an event that was applied:\n%s", out)
	}
	if out, err := runCmd(t, env, "events", "--outcome", "ignored"); err == nil {
		t.Errorf("--outcome ignored accepted:\n%s", out)
	}

	out, err = runCmd(t, env, "events", "retry", "evt_failed", "evt_fine", "evt_nobody", "evt_usd")
	if err == nil || !strings.Contains(err.Error(), "3 of 4") {
		t.Errorf("retry with two that cannot be retried: err %v", err)
	}
	for _, want := range []string{"evt_failed: applied", `evt_fine: not retried: event evt_fine is "ignored"`, "evt_nobody: no stored event", "evt_usd: still not applied: currency"} {
		if !strings.Contains(out, want) {
			t.Errorf("retry output lacks %q:\n%s", want, out)
		}
	}
	tot, err := appeals.AppealTotals(ctx, store, appeal.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Raised().StringFixed(2) != "25.00" || tot.Gifts != 1 {
		t.Fatalf("after the retry: raised %s in %d gifts, want 25.00 in 1", tot.Raised(), tot.Gifts)
	}
	// Once applied it is not an error any more: a second retry changes nothing.
	if out, err := runCmd(t, env, "events", "retry", "evt_failed"); err == nil || !strings.Contains(out, `is "applied"`) {
		t.Errorf("second retry: %v\n%s", err, out)
	}
	if tot, _ := appeals.AppealTotals(ctx, store, appeal.ID); tot.Gifts != 1 {
		t.Fatalf("a second retry recorded the gift again: %d gifts", tot.Gifts)
	}
	log, err := audit.Log(ctx, store.Pool(), 20)
	if err != nil {
		t.Fatal(err)
	}
	retried := 0
	for _, e := range log {
		if e.Action == "webhook event retried" && strings.Contains(e.Detail, "evt_failed") {
			retried++
		}
	}
	if retried != 1 {
		t.Errorf("audit log has %d retries of evt_failed, want 1", retried)
	}
	if out, err := runCmd(t, env, "replay"); err != nil {
		t.Errorf("replay after the retry: %v\n%s", err, out)
	}
}
