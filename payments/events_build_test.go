package payments

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

const testEventSecret = "whsec_test_events_build"

var testEventMeta = Meta{DonationID: "don_123", Campaign: "fundraising-for-freedom", Fundraiser: "ruby"}

func testEventBuilder() EventBuilder {
	return EventBuilder{Now: time.Now, DonorEmail: "ada@example.com", DonorName: "Ada Donor"}
}

// verifyEvent signs payload now, verifies it as the webhook handler will and
// checks the envelope common to every event.
func verifyEvent(t *testing.T, payload []byte, wantType string) stripe.Event {
	t.Helper()
	header := SignPayload(payload, testEventSecret, time.Now())
	if !strings.HasPrefix(header, "t=") || !strings.Contains(header, ",v1=") {
		t.Fatalf("header %q is not t=...,v1=...", header)
	}
	ev, err := webhook.ConstructEventWithOptions(payload, header, testEventSecret, webhook.ConstructEventOptions{})
	if err != nil {
		t.Fatalf("ConstructEventWithOptions: %v\n%s", err, payload)
	}
	if string(ev.Type) != wantType {
		t.Errorf("type = %q, want %q", ev.Type, wantType)
	}
	if ev.APIVersion != "2023-10-16" || ev.Object != "event" || ev.Livemode || ev.PendingWebhooks != 1 {
		t.Errorf("envelope: api_version %q object %q livemode %v pending_webhooks %d",
			ev.APIVersion, ev.Object, ev.Livemode, ev.PendingWebhooks)
	}
	if !strings.HasPrefix(ev.ID, "evt_") {
		t.Errorf("id = %q, want evt_...", ev.ID)
	}
	if d := time.Since(time.Unix(ev.Created, 0)); d < -time.Second || d > time.Minute {
		t.Errorf("created %d is not now", ev.Created)
	}
	if ev.Request == nil || ev.Request.ID != "" || ev.Request.IdempotencyKey != "" {
		t.Errorf("request = %+v, want nulls", ev.Request)
	}
	if ev.Data == nil || len(ev.Data.Raw) == 0 {
		t.Fatalf("no data.object")
	}
	// The raw envelope must have exactly Stripe's top-level keys and nulls.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "object", "api_version", "created", "data", "livemode", "pending_webhooks", "request", "type"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("event lacks %q", k)
		}
	}
	if got := string(bytes.Join(bytes.Fields(raw["request"]), nil)); got != `{"id":null,"idempotency_key":null}` {
		t.Errorf("request = %s", got)
	}
	if got := ev.Data.Object["currency"]; got != nil && got != "gbp" {
		t.Errorf("currency = %v, want gbp", got)
	}
	if got := ev.Data.Object["livemode"]; got != false {
		t.Errorf("object livemode = %v", got)
	}
	return ev
}

func wantMeta(t *testing.T, what string, got map[string]string) {
	t.Helper()
	want := map[string]string{"donation_id": "don_123", "campaign": "fundraising-for-freedom", "fundraiser": "ruby"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// rawField returns the raw JSON of data.object[key], to check id-only fields.
func rawField(t *testing.T, ev stripe.Event, key string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(ev.Data.Raw, &m); err != nil {
		t.Fatal(err)
	}
	v, ok := m[key]
	if !ok {
		t.Fatalf("data.object lacks %q", key)
	}
	return string(v)
}

func TestEventCheckoutSessionCompleted(t *testing.T) {
	for _, ps := range []string{"paid", "unpaid"} {
		p := testEventBuilder().CheckoutSessionCompleted("cs_test_1", "pi_1", "cus_1", 2000, ps, testEventMeta)
		ev := verifyEvent(t, p, "checkout.session.completed")
		var s stripe.CheckoutSession
		if err := json.Unmarshal(ev.Data.Raw, &s); err != nil {
			t.Fatal(err)
		}
		if s.ID != "cs_test_1" || s.Object != "checkout.session" || s.Mode != stripe.CheckoutSessionModePayment ||
			s.Status != stripe.CheckoutSessionStatusComplete || string(s.PaymentStatus) != ps {
			t.Errorf("session = %s %s %s %s %s", s.ID, s.Object, s.Mode, s.Status, s.PaymentStatus)
		}
		if s.ClientReferenceID != "don_123" || s.AmountTotal != 2000 || s.Currency != "gbp" {
			t.Errorf("client_reference_id %q amount_total %d currency %q", s.ClientReferenceID, s.AmountTotal, s.Currency)
		}
		if s.PaymentIntent == nil || s.PaymentIntent.ID != "pi_1" || s.Customer == nil || s.Customer.ID != "cus_1" || s.Subscription != nil {
			t.Errorf("payment_intent %+v customer %+v subscription %+v", s.PaymentIntent, s.Customer, s.Subscription)
		}
		if s.CustomerDetails == nil || s.CustomerDetails.Email != "ada@example.com" || s.CustomerDetails.Name != "Ada Donor" {
			t.Errorf("customer_details = %+v", s.CustomerDetails)
		}
		if s.SubmitType != stripe.CheckoutSessionSubmitTypeDonate || s.CustomerCreation != "always" {
			t.Errorf("submit_type %q customer_creation %q", s.SubmitType, s.CustomerCreation)
		}
		wantMeta(t, "metadata", s.Metadata)
		if got := rawField(t, ev, "payment_intent"); got != `"pi_1"` {
			t.Errorf("payment_intent raw = %s, want an id string", got)
		}
		if got := rawField(t, ev, "customer"); got != `"cus_1"` {
			t.Errorf("customer raw = %s, want an id string", got)
		}
	}
}

func TestEventCheckoutSessionAsync(t *testing.T) {
	for _, ok := range []bool{true, false} {
		typ, ps := "checkout.session.async_payment_failed", "unpaid"
		if ok {
			typ, ps = "checkout.session.async_payment_succeeded", "paid"
		}
		ev := verifyEvent(t, testEventBuilder().CheckoutSessionAsync(ok, "cs_test_2", "pi_2", "cus_2", 300, testEventMeta), typ)
		var s stripe.CheckoutSession
		if err := json.Unmarshal(ev.Data.Raw, &s); err != nil {
			t.Fatal(err)
		}
		if s.ID != "cs_test_2" || string(s.PaymentStatus) != ps || s.Status != "complete" || s.Mode != "payment" ||
			s.AmountTotal != 300 || s.PaymentIntent.ID != "pi_2" || s.ClientReferenceID != "don_123" {
			t.Errorf("%s: session = %+v", typ, s)
		}
		wantMeta(t, "metadata", s.Metadata)
	}
}

func TestEventCheckoutSessionExpired(t *testing.T) {
	ev := verifyEvent(t, testEventBuilder().CheckoutSessionExpired("cs_test_3", 5000, testEventMeta), "checkout.session.expired")
	var s stripe.CheckoutSession
	if err := json.Unmarshal(ev.Data.Raw, &s); err != nil {
		t.Fatal(err)
	}
	if s.ID != "cs_test_3" || s.Status != stripe.CheckoutSessionStatusExpired || s.PaymentStatus != "unpaid" ||
		s.AmountTotal != 5000 || s.ClientReferenceID != "don_123" || s.PaymentIntent != nil || s.Customer != nil {
		t.Errorf("session = %+v", s)
	}
	wantMeta(t, "metadata", s.Metadata)
}

func TestEventCheckoutSubscriptionCompleted(t *testing.T) {
	ev := verifyEvent(t, testEventBuilder().CheckoutSubscriptionCompleted("cs_test_4", "sub_4", "cus_4", 1000, testEventMeta), "checkout.session.completed")
	var s stripe.CheckoutSession
	if err := json.Unmarshal(ev.Data.Raw, &s); err != nil {
		t.Fatal(err)
	}
	if s.ID != "cs_test_4" || s.Mode != stripe.CheckoutSessionModeSubscription || s.PaymentStatus != "paid" ||
		s.Status != "complete" || s.AmountTotal != 1000 || s.ClientReferenceID != "don_123" {
		t.Errorf("session = %+v", s)
	}
	if s.Subscription == nil || s.Subscription.ID != "sub_4" || s.Customer == nil || s.Customer.ID != "cus_4" || s.PaymentIntent != nil {
		t.Errorf("subscription %+v customer %+v payment_intent %+v", s.Subscription, s.Customer, s.PaymentIntent)
	}
	if s.SubmitType != "" || s.CustomerCreation != "" {
		t.Errorf("payment-only fields set on a subscription session: %q %q", s.SubmitType, s.CustomerCreation)
	}
	if got := rawField(t, ev, "subscription"); got != `"sub_4"` {
		t.Errorf("subscription raw = %s", got)
	}
	wantMeta(t, "metadata", s.Metadata)
}

func TestEventInvoicePaid(t *testing.T) {
	for _, reason := range []string{"subscription_create", "subscription_cycle"} {
		ev := verifyEvent(t, testEventBuilder().InvoicePaid("in_5", "sub_5", "cus_5", "ch_5", "pi_5", 1000, reason, testEventMeta), "invoice.paid")
		var in stripe.Invoice
		if err := json.Unmarshal(ev.Data.Raw, &in); err != nil {
			t.Fatal(err)
		}
		if in.ID != "in_5" || in.Object != "invoice" || in.AmountPaid != 1000 || in.AmountDue != 1000 || in.AmountRemaining != 0 ||
			in.Status != stripe.InvoiceStatusPaid || !in.Paid || string(in.BillingReason) != reason || in.Currency != "gbp" {
			t.Errorf("invoice = %s %s paid %d due %d rem %d %s %v %s", in.ID, in.Object, in.AmountPaid, in.AmountDue, in.AmountRemaining, in.Status, in.Paid, in.BillingReason)
		}
		if in.Subscription == nil || in.Subscription.ID != "sub_5" || in.Customer == nil || in.Customer.ID != "cus_5" ||
			in.Charge == nil || in.Charge.ID != "ch_5" || in.PaymentIntent == nil || in.PaymentIntent.ID != "pi_5" {
			t.Errorf("refs: sub %+v cus %+v ch %+v pi %+v", in.Subscription, in.Customer, in.Charge, in.PaymentIntent)
		}
		for _, k := range []string{"subscription", "customer", "charge", "payment_intent"} {
			if got := rawField(t, ev, k); !strings.HasPrefix(got, `"`) {
				t.Errorf("%s raw = %s, want an id string", k, got)
			}
		}
		if in.SubscriptionDetails == nil {
			t.Fatal("no subscription_details")
		}
		wantMeta(t, "subscription_details.metadata", in.SubscriptionDetails.Metadata)
		if len(in.Metadata) != 0 {
			t.Errorf("invoice metadata = %v, want empty", in.Metadata)
		}
		if in.Lines == nil || len(in.Lines.Data) != 1 {
			t.Fatalf("lines = %+v", in.Lines)
		}
		l := in.Lines.Data[0]
		if l.Amount != 1000 || l.Type != "subscription" || l.Period == nil || l.Period.End <= l.Period.Start ||
			l.Subscription == nil || l.Subscription.ID != "sub_5" || l.Price == nil || l.Price.Recurring == nil ||
			l.Price.Recurring.Interval != "month" || l.Price.UnitAmount != 1000 {
			t.Errorf("line = %+v", l)
		}
		wantMeta(t, "line metadata", l.Metadata)
		if in.StatusTransitions == nil || in.StatusTransitions.PaidAt == 0 {
			t.Errorf("status_transitions = %+v", in.StatusTransitions)
		}
	}
}

func TestEventInvoicePaymentFailed(t *testing.T) {
	ev := verifyEvent(t, testEventBuilder().InvoicePaymentFailed("in_6", "sub_6", "cus_6", 1000, testEventMeta), "invoice.payment_failed")
	var in stripe.Invoice
	if err := json.Unmarshal(ev.Data.Raw, &in); err != nil {
		t.Fatal(err)
	}
	if in.ID != "in_6" || in.AmountPaid != 0 || in.AmountDue != 1000 || in.Paid || in.Status != stripe.InvoiceStatusOpen ||
		!in.Attempted || in.AttemptCount != 1 || in.NextPaymentAttempt == 0 || in.Subscription.ID != "sub_6" || in.Customer.ID != "cus_6" {
		t.Errorf("invoice = %+v", in)
	}
	wantMeta(t, "subscription_details.metadata", in.SubscriptionDetails.Metadata)
}

func TestEventSubscriptionUpdated(t *testing.T) {
	ev := verifyEvent(t, testEventBuilder().SubscriptionUpdated("sub_7", "cus_7", 1000, "past_due", false, testEventMeta), "customer.subscription.updated")
	var s stripe.Subscription
	if err := json.Unmarshal(ev.Data.Raw, &s); err != nil {
		t.Fatal(err)
	}
	if s.ID != "sub_7" || s.Object != "subscription" || s.Status != stripe.SubscriptionStatusPastDue || s.CancelAtPeriodEnd ||
		s.CancelAt != 0 || s.Customer == nil || s.Customer.ID != "cus_7" || s.CurrentPeriodEnd <= s.CurrentPeriodStart {
		t.Errorf("subscription = %+v", s)
	}
	if s.Items == nil || len(s.Items.Data) != 1 || s.Items.Data[0].Price.UnitAmount != 1000 || s.Items.Data[0].Price.Recurring.Interval != "month" {
		t.Errorf("items = %+v", s.Items)
	}
	wantMeta(t, "metadata", s.Metadata)
	if got := rawField(t, ev, "customer"); got != `"cus_7"` {
		t.Errorf("customer raw = %s", got)
	}

	ev = verifyEvent(t, testEventBuilder().SubscriptionUpdated("sub_7", "cus_7", 1000, "active", true, testEventMeta), "customer.subscription.updated")
	s = stripe.Subscription{}
	if err := json.Unmarshal(ev.Data.Raw, &s); err != nil {
		t.Fatal(err)
	}
	if s.Status != stripe.SubscriptionStatusActive || !s.CancelAtPeriodEnd || s.CancelAt != s.CurrentPeriodEnd || s.CanceledAt == 0 {
		t.Errorf("cancel at period end: %+v", s)
	}
}

func TestEventSubscriptionDeleted(t *testing.T) {
	ev := verifyEvent(t, testEventBuilder().SubscriptionDeleted("sub_8", "cus_8", 1000, testEventMeta), "customer.subscription.deleted")
	var s stripe.Subscription
	if err := json.Unmarshal(ev.Data.Raw, &s); err != nil {
		t.Fatal(err)
	}
	if s.ID != "sub_8" || s.Status != stripe.SubscriptionStatusCanceled || s.EndedAt == 0 || s.CanceledAt == 0 || s.Customer.ID != "cus_8" {
		t.Errorf("subscription = %+v", s)
	}
	wantMeta(t, "metadata", s.Metadata)
}

func TestEventChargeSucceeded(t *testing.T) {
	ev := verifyEvent(t, testEventBuilder().ChargeSucceeded("ch_9", "pi_9", "cus_9", 2000, 50, "", testEventMeta), "charge.succeeded")
	var c stripe.Charge
	if err := json.Unmarshal(ev.Data.Raw, &c); err != nil {
		t.Fatal(err)
	}
	if c.ID != "ch_9" || c.Object != "charge" || c.Amount != 2000 || c.AmountCaptured != 2000 || c.AmountRefunded != 0 ||
		c.Refunded || !c.Paid || !c.Captured || c.Status != stripe.ChargeStatusSucceeded || c.Currency != "gbp" {
		t.Errorf("charge = %+v", c)
	}
	if c.PaymentIntent == nil || c.PaymentIntent.ID != "pi_9" || c.Customer == nil || c.Customer.ID != "cus_9" || c.Invoice != nil {
		t.Errorf("refs: pi %+v cus %+v inv %+v", c.PaymentIntent, c.Customer, c.Invoice)
	}
	bt := c.BalanceTransaction
	if bt == nil || !strings.HasPrefix(bt.ID, "txn_") || bt.Object != "balance_transaction" || bt.Amount != 2000 ||
		bt.Fee != 50 || bt.Net != 1950 || bt.Currency != "gbp" || len(bt.FeeDetails) != 1 || bt.FeeDetails[0].Amount != 50 ||
		bt.FeeDetails[0].Type != "stripe_fee" || bt.Source == nil || bt.Source.ID != "ch_9" {
		t.Errorf("balance_transaction = %+v", bt)
	}
	wantMeta(t, "metadata", c.Metadata)
	if c.BillingDetails == nil || c.BillingDetails.Email != "ada@example.com" {
		t.Errorf("billing_details = %+v", c.BillingDetails)
	}

	// An invoice charge (monthly gift): invoice id set, metadata empty.
	ev = verifyEvent(t, testEventBuilder().ChargeSucceeded("ch_9b", "pi_9b", "cus_9", 1000, 35, "in_9", Meta{}), "charge.succeeded")
	c = stripe.Charge{}
	if err := json.Unmarshal(ev.Data.Raw, &c); err != nil {
		t.Fatal(err)
	}
	if c.Invoice == nil || c.Invoice.ID != "in_9" || len(c.Metadata) != 0 || c.BalanceTransaction.Fee != 35 {
		t.Errorf("invoice charge = %+v", c)
	}
	if got := rawField(t, ev, "invoice"); got != `"in_9"` {
		t.Errorf("invoice raw = %s", got)
	}
}

func TestEventChargeRefunded(t *testing.T) {
	for _, tc := range []struct {
		refunded int64
		full     bool
	}{{500, false}, {2000, true}} {
		ev := verifyEvent(t, testEventBuilder().ChargeRefunded("ch_10", "pi_10", 2000, tc.refunded, testEventMeta), "charge.refunded")
		var c stripe.Charge
		if err := json.Unmarshal(ev.Data.Raw, &c); err != nil {
			t.Fatal(err)
		}
		if c.ID != "ch_10" || c.Amount != 2000 || c.AmountRefunded != tc.refunded || c.Refunded != tc.full ||
			c.PaymentIntent == nil || c.PaymentIntent.ID != "pi_10" {
			t.Errorf("refunded %d: charge = %+v", tc.refunded, c)
		}
		if got := rawField(t, ev, "balance_transaction"); !strings.HasPrefix(got, `"txn_`) {
			t.Errorf("balance_transaction raw = %s, want an id", got)
		}
		wantMeta(t, "metadata", c.Metadata)
	}
}

func TestEventDisputeCreated(t *testing.T) {
	ev := verifyEvent(t, testEventBuilder().DisputeCreated("dp_11", "ch_11", "pi_11", 2000), "charge.dispute.created")
	var d stripe.Dispute
	if err := json.Unmarshal(ev.Data.Raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.ID != "dp_11" || d.Object != "dispute" || d.Status != stripe.DisputeStatusNeedsResponse || d.Amount != 2000 ||
		d.Charge == nil || d.Charge.ID != "ch_11" || d.PaymentIntent == nil || d.PaymentIntent.ID != "pi_11" ||
		len(d.BalanceTransactions) != 0 || d.Currency != "gbp" {
		t.Errorf("dispute = %+v", d)
	}
	if got := rawField(t, ev, "charge"); got != `"ch_11"` {
		t.Errorf("charge raw = %s", got)
	}
}

func TestEventDisputeClosed(t *testing.T) {
	ev := verifyEvent(t, testEventBuilder().DisputeClosed("dp_12", "ch_12", "pi_12", 2000, false, 2000), "charge.dispute.closed")
	var d stripe.Dispute
	if err := json.Unmarshal(ev.Data.Raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.Status != stripe.DisputeStatusLost || d.Charge.ID != "ch_12" || d.PaymentIntent.ID != "pi_12" || len(d.BalanceTransactions) != 1 {
		t.Fatalf("lost dispute = %+v", d)
	}
	bt := d.BalanceTransactions[0]
	if bt.Amount != -2000 || bt.Fee != 2000 || bt.Net != -4000 || bt.Currency != "gbp" || !strings.HasPrefix(bt.ID, "txn_") {
		t.Errorf("lost balance transaction = %+v", bt)
	}

	ev = verifyEvent(t, testEventBuilder().DisputeClosed("dp_13", "ch_13", "pi_13", 2000, true, 2000), "charge.dispute.closed")
	d = stripe.Dispute{}
	if err := json.Unmarshal(ev.Data.Raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.Status != stripe.DisputeStatusWon || d.Charge.ID != "ch_13" || len(d.BalanceTransactions) != 2 {
		t.Fatalf("won dispute = %+v", d)
	}
	var amount, fee, net int64
	for _, bt := range d.BalanceTransactions {
		amount, fee, net = amount+bt.Amount, fee+bt.Fee, net+bt.Net
	}
	if amount != 0 || fee != 0 || net != 0 {
		t.Errorf("won dispute transactions sum to amount %d fee %d net %d, want 0", amount, fee, net)
	}
}

func TestEventIDs(t *testing.T) {
	b := testEventBuilder()
	p1 := b.WithEventID("evt_fixed_1").DisputeCreated("dp_1", "ch_1", "", 100)
	ev := verifyEvent(t, p1, "charge.dispute.created")
	if ev.ID != "evt_fixed_1" {
		t.Errorf("id = %q", ev.ID)
	}
	if got := rawField(t, ev, "payment_intent"); got != "null" {
		t.Errorf("empty payment_intent raw = %s, want null", got)
	}
	// Random ids differ and look like Stripe's.
	a := verifyEvent(t, b.ChargeSucceeded("", "", "", 100, 1, "", Meta{}), "charge.succeeded")
	c := verifyEvent(t, b.ChargeSucceeded("", "", "", 100, 1, "", Meta{}), "charge.succeeded")
	if a.ID == c.ID || len(a.ID) != len("evt_")+24 {
		t.Errorf("random event ids %q %q", a.ID, c.ID)
	}
	if a.Data.Object["id"] == c.Data.Object["id"] || !strings.HasPrefix(a.Data.Object["id"].(string), "ch_") {
		t.Errorf("random charge ids %v %v", a.Data.Object["id"], c.Data.Object["id"])
	}
	// Empty metadata values are dropped, as Stripe does.
	ev = verifyEvent(t, b.CheckoutSessionCompleted("", "", "", 300, "paid", Meta{DonationID: "d", Campaign: "c"}), "checkout.session.completed")
	var s stripe.CheckoutSession
	if err := json.Unmarshal(ev.Data.Raw, &s); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Metadata, map[string]string{"donation_id": "d", "campaign": "c"}) || !strings.HasPrefix(s.ID, "cs_test_") {
		t.Errorf("metadata %v id %q", s.Metadata, s.ID)
	}
	// A fixed clock sets created.
	at := time.Unix(1700000000, 0)
	fixed := EventBuilder{Now: func() time.Time { return at }}.WithEventID("evt_clock")
	var env struct {
		Created int64 `json:"created"`
	}
	if err := json.Unmarshal(fixed.SubscriptionDeleted("sub_1", "cus_1", 100, Meta{}), &env); err != nil || env.Created != at.Unix() {
		t.Errorf("created = %d (%v), want %d", env.Created, err, at.Unix())
	}
}

func TestEventSignature(t *testing.T) {
	p := testEventBuilder().InvoicePaid("in_s", "sub_s", "cus_s", "ch_s", "pi_s", 1000, "subscription_cycle", testEventMeta)

	stale := SignPayload(p, testEventSecret, time.Now().Add(-301*time.Second))
	if _, err := webhook.ConstructEventWithOptions(p, stale, testEventSecret, webhook.ConstructEventOptions{}); !errors.Is(err, webhook.ErrTooOld) {
		t.Errorf("301 s old signature: err = %v, want ErrTooOld", err)
	}
	fresh := SignPayload(p, testEventSecret, time.Now().Add(-290*time.Second))
	if _, err := webhook.ConstructEventWithOptions(p, fresh, testEventSecret, webhook.ConstructEventOptions{}); err != nil {
		t.Errorf("290 s old signature: %v", err)
	}
	if _, err := webhook.ConstructEventWithOptions(p, fresh, "whsec_other", webhook.ConstructEventOptions{}); !errors.Is(err, webhook.ErrNoValidSignature) {
		t.Errorf("wrong secret: err = %v, want ErrNoValidSignature", err)
	}
	tampered := bytes.Replace(p, []byte(`"amount_paid": 1000`), []byte(`"amount_paid": 9000`), 1)
	if bytes.Equal(tampered, p) {
		t.Fatal("amount_paid not found in payload")
	}
	if _, err := webhook.ConstructEventWithOptions(tampered, fresh, testEventSecret, webhook.ConstructEventOptions{}); !errors.Is(err, webhook.ErrNoValidSignature) {
		t.Errorf("tampered body: err = %v, want ErrNoValidSignature", err)
	}
}
