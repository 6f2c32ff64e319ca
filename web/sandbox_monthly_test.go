package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"giving/campaigns/donations"
	"giving/web/webtest"
)

// storedEvent is one event the webhook stored, with the invoice or subscription it carried.
type storedEvent struct {
	ID, Type string
	Object   struct {
		ID                 string `json:"id"`
		Status             string `json:"status"`
		BillingReason      string `json:"billing_reason"`
		AttemptCount       int    `json:"attempt_count"`
		NextPaymentAttempt *int64 `json:"next_payment_attempt"`
		AmountPaid         int64  `json:"amount_paid"`
		CustomerEmail      string `json:"customer_email"`
		Cancellation       *struct {
			Reason string `json:"reason"`
		} `json:"cancellation_details"`
	}
}

// eventsSince are the events stored after the first skip, oldest first.
func (s *site) eventsSince(skip int) []storedEvent {
	s.t.Helper()
	rows, err := s.store.Pool().Query(context.Background(), `SELECT id, type, payload FROM stripe_events ORDER BY received_at, id OFFSET $1`, skip)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	var out []storedEvent
	for rows.Next() {
		var e storedEvent
		var payload []byte
		if err := rows.Scan(&e.ID, &e.Type, &payload); err != nil {
			s.t.Fatal(err)
		}
		var env struct {
			Data struct{ Object json.RawMessage } `json:"data"`
		}
		if err := json.Unmarshal(payload, &env); err != nil {
			s.t.Fatal(err)
		}
		if err := json.Unmarshal(env.Data.Object, &e.Object); err != nil {
			s.t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		s.t.Fatal(err)
	}
	return out
}

func eventTypes(evs []storedEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// A donor's £10 monthly gift, played month by month on the sandbox's monthly page: each
// button stores exactly the events Stripe would send, the donor gets exactly the right
// email once, and the trustees' dashboard follows.
func TestSandboxMonthlyPagePlaysPaymentsFailuresAndStripeGivingUp(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{donorMail: receiptMail, users: []user{trusteeUser}, devOutbox: true})
	trustee := s.browser()
	if p := s.send(trustee, http.MethodPost, "/login", url.Values{"email": {trusteeUser.email}, "password": {testPassword}}); p.status != http.StatusSeeOther {
		t.Fatalf("log in: %d", p.status)
	}
	figure := func(id string) string {
		t.Helper()
		return webtest.Text(t, s.send(trustee, http.MethodGet, "/trustees", nil).body, id)
	}
	mails := func(subject string) int {
		t.Helper()
		return s.count(`SELECT count(*) FROM mail_outbox WHERE to_address = 'ada@example.org' AND subject LIKE $1`, subject)
	}
	const failedMail, endedMail, receipt = "Your monthly gift to %: this month's payment did not go through", "Your monthly gift to % has ended", "Your receipt: £10.00%"

	// No monthly gift yet: the page says how to make one.
	if p := s.get("/sandbox/monthly"); p.status != http.StatusOK || webtest.Count(t, p.body, "#no-gifts") != 1 {
		t.Fatalf("empty page: %d", p.status)
	}
	checkout := give(t, s, map[string]string{"tier": "custom", "amount": "10", "frequency": "monthly"})
	if r := s.post(checkout+"/pay", url.Values{"email": {"ada@example.org"}, "name": {"Ada Lovelace"}}); r.status != http.StatusSeeOther {
		t.Fatalf("pay: %d", r.status)
	}
	var id, key string
	if err := s.store.Pool().QueryRow(context.Background(), `SELECT id::text, replace(id::text, '-', '') FROM donations WHERE email = 'ada@example.org'`).Scan(&id, &key); err != nil {
		t.Fatal(err)
	}
	gift := "#gift-" + id
	page := s.get("/sandbox/monthly")
	if got := webtest.Text(t, page.body, gift+" h2"); got != "£10.00 a month from ada@example.org" {
		t.Fatalf("the gift's heading: %q", got)
	}
	if got := webtest.Text(t, page.body, gift+" .state"); !strings.Contains(got, "Active: month 2’s payment is due on") {
		t.Errorf("state: %q", got)
	}
	if webtest.Attr(t, page.body, gift+` form[action="/sandbox/monthly/`+id+`/fail"] input[name="month"]`, "value") != "2" {
		t.Error("the fail form does not carry month 2")
	}
	if webtest.Count(t, page.body, gift+` form[action="/sandbox/monthly/`+id+`/give-up"] button[disabled]`) != 1 {
		t.Error("Stripe can give up on a gift whose payment has not failed")
	}
	if webtest.Attr(t, page.body, "aside.sandbox-banner a", "href") != "/sandbox/monthly" {
		t.Error("the sandbox banner does not link to the monthly page")
	}
	if mails(receipt) != 1 || figure("#fig-failed") != "0" {
		t.Fatalf("after checkout: %d receipts, %s failed", mails(receipt), figure("#fig-failed"))
	}
	seen := len(s.eventsSince(0))
	play := func(action, month string) response {
		t.Helper()
		return s.post("/sandbox/monthly/"+id+"/"+action, url.Values{"month": {month}})
	}

	// Fail month 2: one invoice.payment_failed for month 2's invoice, Stripe's first
	// attempt with its next one set; the donor is told once, the dashboard counts it.
	r := play("fail", "2")
	if r.status != http.StatusSeeOther {
		t.Fatalf("fail: %d %s", r.status, r.body)
	}
	evs := s.eventsSince(seen)
	if len(evs) != 1 || evs[0].Type != "invoice.payment_failed" || evs[0].ID != "evt_sandbox_"+key+"_invoice_2_failed_1" ||
		evs[0].Object.ID != "in_sandbox_"+key+"_2" || evs[0].Object.AttemptCount != 1 || evs[0].Object.NextPaymentAttempt == nil ||
		evs[0].Object.BillingReason != "subscription_cycle" || evs[0].Object.Status != "open" || evs[0].Object.CustomerEmail != "ada@example.org" {
		t.Fatalf("stored after fail: %+v", evs)
	}
	seen += len(evs)
	if mails(failedMail) != 1 || figure("#fig-failed") != "1" {
		t.Fatalf("after a failed payment: %d emails, %s failed on the dashboard", mails(failedMail), figure("#fig-failed"))
	}
	done := s.get(pathOf(t, s, r.header.Get("Location")))
	if got := webtest.Text(t, done.body, "#sent"); !strings.Contains(got, "£10.00 a month from ada@example.org: Sent invoice.payment_failed") {
		t.Errorf("after fail the page says %q", got)
	}
	if got := webtest.Text(t, done.body, gift+" .state"); !strings.Contains(got, "Past due: month 2’s payment has failed once") {
		t.Errorf("state after a failure: %q", got)
	}

	// Fail it again: Stripe's second attempt at the same invoice, and no second email.
	if r := play("fail", "2"); r.status != http.StatusSeeOther {
		t.Fatalf("fail again: %d", r.status)
	}
	evs = s.eventsSince(seen)
	if len(evs) != 1 || evs[0].Object.ID != "in_sandbox_"+key+"_2" || evs[0].Object.AttemptCount != 2 {
		t.Fatalf("stored after the second failure: %+v", evs)
	}
	seen += len(evs)
	if mails(failedMail) != 1 {
		t.Fatalf("%d payment-failed emails for one month, want 1", mails(failedMail))
	}

	// Take month 2's payment: the same invoice paid, a receipt, no longer past due.
	if r := play("pay", "2"); r.status != http.StatusSeeOther {
		t.Fatalf("pay: %d", r.status)
	}
	evs = s.eventsSince(seen)
	if got := strings.Join(eventTypes(evs), ","); got != "invoice.paid,charge.succeeded" || evs[0].Object.ID != "in_sandbox_"+key+"_2" ||
		evs[0].Object.AmountPaid != 1000 || evs[0].Object.AttemptCount != 3 {
		t.Fatalf("stored after pay: %s %+v", got, evs)
	}
	seen += len(evs)
	if mails(receipt) != 2 || figure("#fig-failed") != "0" {
		t.Fatalf("after month 2 was paid: %d receipts, %s failed", mails(receipt), figure("#fig-failed"))
	}

	// A page from before that payment, pressed again, sends nothing: 422 beside the gift.
	r = play("pay", "2")
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(webtest.Text(t, r.body, gift+" .field-error"), "month 3’s is next") {
		t.Fatalf("a stale page: %d", r.status)
	}
	r = play("pay", "4")
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(webtest.Text(t, r.body, gift+" .field-error"), "Month 3’s payment is next") {
		t.Fatalf("a month ahead: %d", r.status)
	}
	// Stripe gives up only on a gift whose payment failed.
	r = play("give-up", "3")
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(webtest.Text(t, r.body, gift+" .field-error"), "only after a payment has failed") {
		t.Fatalf("give up on a gift in good standing: %d", r.status)
	}
	if r := play("fail", "two"); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("no month: %d", r.status)
	}
	if r := play("refund", "3"); r.status != http.StatusNotFound {
		t.Fatalf("an unknown button: %d", r.status)
	}
	if n := len(s.eventsSince(seen)); n != 0 {
		t.Fatalf("%d events sent by refused presses", n)
	}

	// Month 3 fails (a new invoice: a new email), then Stripe gives up: its last attempt
	// fails with no next one, and the subscription is deleted for payment_failed.
	if r := play("fail", "3"); r.status != http.StatusSeeOther || mails(failedMail) != 2 {
		t.Fatalf("fail month 3: %d, %d emails", r.status, mails(failedMail))
	}
	seen = len(s.eventsSince(0))
	if r := play("give-up", "3"); r.status != http.StatusSeeOther {
		t.Fatalf("give up: %d", r.status)
	}
	evs = s.eventsSince(seen)
	if got := strings.Join(eventTypes(evs), ","); got != "invoice.payment_failed,customer.subscription.deleted" ||
		evs[0].Object.NextPaymentAttempt != nil || evs[0].Object.AttemptCount != 2 ||
		evs[1].Object.Status != "canceled" || evs[1].Object.Cancellation == nil || evs[1].Object.Cancellation.Reason != "payment_failed" {
		t.Fatalf("stored after giving up: %s %+v", got, evs)
	}
	seen += len(evs)
	if mails(endedMail) != 1 || mails(failedMail) != 2 {
		t.Fatalf("after Stripe gave up: %d ended emails, %d failed emails", mails(endedMail), mails(failedMail))
	}
	if figure("#fig-failed") != "0" || figure("#fig-cancelled-failed") != "1" {
		t.Fatalf("dashboard after Stripe gave up: %s failed, %s cancelled after failed payments", figure("#fig-failed"), figure("#fig-cancelled-failed"))
	}
	var body string
	if err := s.store.Pool().QueryRow(context.Background(), `SELECT body FROM mail_outbox WHERE subject LIKE $1`, endedMail).Scan(&body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "Nothing more will be taken from your card") || !strings.Contains(body, "£20.00 you gave over 2 months") {
		t.Errorf("the ended email reads:\n%s", body)
	}

	// The ended gift leaves the page, and a page from before sends nothing more.
	if p := s.get("/sandbox/monthly"); webtest.Count(t, p.body, gift) != 0 || webtest.Count(t, p.body, "#no-gifts") != 1 {
		t.Error("the ended gift is still listed")
	}
	if r := play("give-up", "3"); r.status != http.StatusUnprocessableEntity || mails(endedMail) != 1 || len(s.eventsSince(seen)) != 0 {
		t.Fatalf("give up again: %d", r.status)
	}
}

// The monthly page and its buttons exist only in the sandbox, and refuse cross-site posts.
func TestSandboxMonthlyPageOnlyInTheSandbox(t *testing.T) {
	t.Parallel()
	live := newSite(t, siteOptions{stripe: true})
	if p := live.get("/sandbox/monthly"); p.status != http.StatusNotFound {
		t.Fatalf("with Stripe: GET %d", p.status)
	}
	s := newSite(t, siteOptions{})
	r := s.post("/sandbox/monthly/00000000-0000-0000-0000-000000000000/fail", url.Values{"month": {"2"}}, "Sec-Fetch-Site", "cross-site")
	if r.status != http.StatusForbidden {
		t.Fatalf("a cross-site post: %d", r.status)
	}
	for _, gift := range []string{"00000000-0000-0000-0000-000000000000", "not-a-gift"} {
		if r := s.post("/sandbox/monthly/"+gift+"/fail", url.Values{"month": {"2"}}); r.status != http.StatusNotFound {
			t.Errorf("an unknown gift %q: %d", gift, r.status)
		}
	}
}

// A gift the donor has paused takes no payment: the page says so with its buttons off, and
// a press sends nothing.
func TestSandboxMonthlyPausedGiftTakesNoPayment(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{donorMail: receiptMail})
	checkout := give(t, s, map[string]string{"tier": "custom", "amount": "10", "frequency": "monthly"})
	if r := s.post(checkout+"/pay", url.Values{"email": {"ada@example.org"}, "name": {"Ada Lovelace"}}); r.status != http.StatusSeeOther {
		t.Fatalf("pay: %d", r.status)
	}
	d, err := donations.Lookup(context.Background(), s.store, donations.DonationLookup{SessionID: strings.TrimPrefix(checkout, "/sandbox/checkout/")})
	if err != nil {
		t.Fatal(err)
	}
	m := &manageSite{site: s, gift: d}
	if p := m.post(m.link(time.Now())+"/pause", url.Values{"after": {"0"}, "months": {"1"}}); p.status != http.StatusSeeOther {
		t.Fatalf("pause: %d", p.status)
	}
	m.work()
	gift := "#gift-" + d.ID
	page := s.get("/sandbox/monthly")
	if got := webtest.Text(t, page.body, gift+" .state"); !strings.Contains(got, "Paused by the donor until") {
		t.Fatalf("state of a paused gift: %q", got)
	}
	if n := webtest.Count(t, page.body, gift+" button[disabled]"); n != 3 {
		t.Errorf("%d of 3 buttons off for a paused gift", n)
	}
	seen := len(s.eventsSince(0))
	r := s.post("/sandbox/monthly/"+d.ID+"/fail", url.Values{"month": {"2"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(webtest.Text(t, r.body, gift+" .field-error"), "paused until") {
		t.Fatalf("fail a paused gift: %d", r.status)
	}
	if n := len(s.eventsSince(seen)); n != 0 {
		t.Fatalf("%d events sent for a paused gift", n)
	}
}
