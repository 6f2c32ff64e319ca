// Event builder: Stripe webhook events in the exact JSON shapes of API
// version 2023-10-16 (stripe.APIVersion of stripe-go v76).
//
// It is used by the offline sandbox gateway, which sends correctly signed,
// Stripe-shaped events to the service's own POST /webhooks/stripe, so that the
// same code path runs as in production, and by tests.
//
// API (amounts are int64 pence, currency is always "gbp", livemode is false):
//
//	type Meta struct{ DonationID, Campaign, Fundraiser string }
//	type EventBuilder struct {
//		Now        func() time.Time // nil: time.Now
//		DonorEmail string           // customer_details / billing_details; "" : "donor@example.com"
//		DonorName  string           // "" : "Sandbox Donor"
//	}
//	func (b EventBuilder) WithEventID(id string) EventBuilder
//	func (b EventBuilder) CheckoutSessionCompleted(sessionID, paymentIntentID, customerID string, amountPence int64, paymentStatus string, m Meta) []byte
//	func (b EventBuilder) CheckoutSessionAsync(succeeded bool, sessionID, paymentIntentID, customerID string, amountPence int64, m Meta) []byte
//	func (b EventBuilder) CheckoutSessionExpired(sessionID string, amountPence int64, m Meta) []byte
//	func (b EventBuilder) CheckoutSubscriptionCompleted(sessionID, subscriptionID, customerID string, amountPence int64, m Meta) []byte
//	func (b EventBuilder) InvoicePaid(invoiceID, subscriptionID, customerID, chargeID, paymentIntentID string, amountPence int64, billingReason string, m Meta) []byte
//	func (b EventBuilder) InvoicePaymentFailed(invoiceID, subscriptionID, customerID string, amountPence int64, m Meta) []byte
//	func (b EventBuilder) SubscriptionUpdated(subscriptionID, customerID string, amountPence int64, status string, cancelAtPeriodEnd bool, m Meta) []byte
//	func (b EventBuilder) SubscriptionDeleted(subscriptionID, customerID string, amountPence int64, m Meta) []byte
//	func (b EventBuilder) ChargeSucceeded(chargeID, paymentIntentID, customerID string, amountPence, feePence int64, invoiceID string, m Meta) []byte
//	func (b EventBuilder) ChargeRefunded(chargeID, paymentIntentID string, amountPence, amountRefundedPence int64, m Meta) []byte
//	func (b EventBuilder) DisputeCreated(disputeID, chargeID, paymentIntentID string, amountPence int64) []byte
//	func (b EventBuilder) DisputeClosed(disputeID, chargeID, paymentIntentID string, amountPence int64, won bool, feePence int64) []byte
//	func NewID(prefix string) string
//	func SignPayload(payload []byte, secret string, at time.Time) string
//
// Every builder returns the raw request body of one event:
// {"id":"evt_...","object":"event","api_version":"2023-10-16","created":...,
// "data":{"object":{...}},"livemode":false,"pending_webhooks":1,
// "request":{"id":null,"idempotency_key":null},"type":"..."}, indented with two
// spaces like Stripe's own deliveries. Sign it with SignPayload and send it with
// the result in the Stripe-Signature header.
//
// Ids: any id argument left empty is generated with crypto/rand (NewID), as is
// the event id unless WithEventID gave one. Optional references (a payment
// intent, customer, invoice, ...) are therefore better passed explicitly when
// a test needs to correlate events.
//
// Shapes, as Stripe renders them in events for API 2023-10-16:
//   - payment_intent, customer, subscription, invoice, charge are id strings
//     (or null), never objects. Metadata is {"donation_id","campaign",
//     "fundraiser"}; keys with an empty value are left out, as Stripe drops them.
//   - checkout.session.*: client_reference_id = Meta.DonationID, metadata = m.
//     Payment mode: submit_type "donate", customer_creation "always",
//     payment_intent set. Subscription mode: payment_intent null, subscription
//     set, invoice null (real Stripe names the first invoice there; the
//     builder does not know it). An expired session has no payment intent,
//     customer or customer_details.
//   - invoice.*: the invoice's own metadata is empty (Stripe does not copy
//     subscription metadata to it); the placing data is
//     subscription_details.metadata = m and lines.data[0].metadata = m (a
//     line of type "subscription" reflects its subscription's metadata).
//     lines.data[0].period is [now, now+1 month). invoice.payment_failed has
//     status "open", paid false, attempted true, attempt_count 1, charge and
//     payment_intent null.
//   - customer.subscription.*: metadata = m, one item at amountPence a month.
//     cancel_at_period_end true sets cancel_at = current_period_end and
//     canceled_at = now. data.previous_attributes is not included (the builder
//     does not know what changed). deleted: status "canceled", ended_at = now.
//   - charge.succeeded: balance_transaction is EXPANDED to a full
//     balance_transaction object (amount, fee, net, fee_details) so the
//     sandbox can state fees. Real Stripe sends only the "txn_..." id here;
//     the service must handle both and fetch the balance transaction
//     (GET /v1/balance_transactions/{id}) when given an id. charge metadata
//     = m (Stripe copies payment_intent_data.metadata to the charge; for
//     invoice charges it is empty, so pass Meta{}).
//   - charge.refunded: amount_refunded is cumulative; refunded is true only
//     when amount_refunded == amount; balance_transaction is an id; the
//     refunds list is absent (not included by default since 2022-11-15).
//   - charge.dispute.*: disputes carry only the charge and payment_intent ids
//     (no donation metadata: find the donation through the charge). created:
//     status "needs_response", balance_transactions []. closed lost: status
//     "lost", balance_transactions = [withdrawal: amount -amountPence, fee
//     feePence, net -(amountPence+feePence)]. closed won: status "won",
//     balance_transactions = [withdrawal as above, reinstatement: amount
//     +amountPence, fee -feePence], which sum to zero. (Real Stripe withdraws
//     the funds when the dispute opens, so its created event already lists the
//     withdrawal; this builder keeps it to the closed event.)

package payments

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"giving/campaigns"
)

// Meta is the donation metadata that Checkout Sessions, payment intents,
// charges and subscriptions carry: {"donation_id","campaign","fundraiser"}.
type Meta struct{ DonationID, Campaign, Fundraiser string }

func (m Meta) metadata() map[string]string {
	md := map[string]string{}
	if m.DonationID != "" {
		md["donation_id"] = m.DonationID
	}
	if m.Campaign != "" {
		md["campaign"] = m.Campaign
	}
	if m.Fundraiser != "" {
		md["fundraiser"] = m.Fundraiser
	}
	return md
}

// EventBuilder builds signed-ready Stripe webhook event payloads. The zero
// value is usable: it uses time.Now, random ids and a placeholder donor.
type EventBuilder struct {
	Now        func() time.Time // clock for "created" and periods; nil means time.Now
	DonorEmail string           // donor email in customer_details / billing_details; "" means "donor@example.com"
	DonorName  string           // donor name; "" means "Sandbox Donor"
	// Method is the sessions' one payment method type: "" means "card", "bacs_debit" a
	// Direct Debit.
	Method string

	eventID string
}

// WithEventID returns a copy of b whose events carry the given id instead of
// a random "evt_..." id, so tests can build distinct deterministic events
// (and exact duplicates).
func (b EventBuilder) WithEventID(id string) EventBuilder {
	b.eventID = id
	return b
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewID returns prefix followed by 24 random base62 characters from
// crypto/rand, shaped like a Stripe id ("evt_", "cs_test_", "pi_", "ch_", ...).
func NewID(prefix string) string {
	const n = 24
	out := make([]byte, 0, len(prefix)+n)
	out = append(out, prefix...)
	var buf [64]byte
	for len(out) < len(prefix)+n {
		_, _ = rand.Read(buf[:]) // never fails (crypto/rand panics instead)
		for _, c := range buf {
			if c < 248 && len(out) < len(prefix)+n { // 248 = 4*62: unbiased
				out = append(out, base62[c%62])
			}
		}
	}
	return string(out)
}

// SignPayload returns the Stripe-Signature header value "t=<unix>,v1=<hex>"
// for payload signed with secret at time at, as Stripe computes it.
func SignPayload(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload:   payload,
		Secret:    secret,
		Timestamp: at,
	}).Header
}

type obj = map[string]any

func (b EventBuilder) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return campaigns.SystemClock()
}

func (b EventBuilder) email() string {
	if b.DonorEmail != "" {
		return b.DonorEmail
	}
	return "donor@example.com"
}

func (b EventBuilder) name() string {
	if b.DonorName != "" {
		return b.DonorName
	}
	return "Sandbox Donor"
}

func orID(id, prefix string) string {
	if id == "" {
		return NewID(prefix)
	}
	return id
}

// ref renders an optional id reference: the id, or null when empty.
func ref(id string) any {
	if id == "" {
		return nil
	}
	return id
}

type eventRequest struct {
	ID             *string `json:"id"`
	IdempotencyKey *string `json:"idempotency_key"`
}

type eventData struct {
	Object obj `json:"object"`
}

type eventEnvelope struct {
	ID              string       `json:"id"`
	Object          string       `json:"object"`
	APIVersion      string       `json:"api_version"`
	Created         int64        `json:"created"`
	Data            eventData    `json:"data"`
	Livemode        bool         `json:"livemode"`
	PendingWebhooks int          `json:"pending_webhooks"`
	Request         eventRequest `json:"request"`
	Type            string       `json:"type"`
}

func (b EventBuilder) event(typ string, object obj) []byte {
	env := eventEnvelope{
		ID:              orID(b.eventID, "evt_"),
		Object:          "event",
		APIVersion:      stripe.APIVersion,
		Created:         b.now().Unix(),
		Data:            eventData{Object: object},
		Livemode:        false,
		PendingWebhooks: 1,
		Type:            typ,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(env); err != nil {
		panic(fmt.Sprintf("payments: encoding %s event: %v", typ, err)) // only maps of plain values: cannot happen
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// ---- Checkout Sessions ----

func (b EventBuilder) session(sessionID, mode, status, paymentStatus, paymentIntentID, subscriptionID, customerID string, amountPence int64, m Meta) obj {
	now := b.now()
	created := now.Add(-5 * time.Minute).Unix()
	s := obj{
		"id":                         orID(sessionID, "cs_test_"),
		"object":                     "checkout.session",
		"after_expiration":           nil,
		"allow_promotion_codes":      nil,
		"amount_subtotal":            amountPence,
		"amount_total":               amountPence,
		"automatic_tax":              obj{"enabled": false, "liability": nil, "status": nil},
		"billing_address_collection": nil,
		"cancel_url":                 nil,
		"client_reference_id":        ref(m.DonationID),
		"client_secret":              nil,
		"consent":                    nil,
		"consent_collection":         nil,
		"created":                    created,
		"currency":                   "gbp",
		"currency_conversion":        nil,
		"custom_fields":              []any{},
		"custom_text": obj{
			"after_submit": nil, "shipping_address": nil, "submit": nil, "terms_of_service_acceptance": nil,
		},
		"customer":          ref(customerID),
		"customer_creation": nil,
		"customer_details": obj{
			"address":    nil,
			"email":      b.email(),
			"name":       b.name(),
			"phone":      nil,
			"tax_exempt": "none",
			"tax_ids":    []any{},
		},
		"customer_email":                       nil,
		"expires_at":                           now.Add(24*time.Hour - 5*time.Minute).Unix(),
		"invoice":                              nil,
		"invoice_creation":                     nil,
		"livemode":                             false,
		"locale":                               nil,
		"metadata":                             m.metadata(),
		"mode":                                 mode,
		"payment_intent":                       ref(paymentIntentID),
		"payment_link":                         nil,
		"payment_method_collection":            nil,
		"payment_method_configuration_details": nil,
		"payment_method_options":               obj{},
		"payment_method_types":                 []any{firstNonEmpty(b.Method, "card")},
		"payment_status":                       paymentStatus,
		"phone_number_collection":              obj{"enabled": false},
		"recovered_from":                       nil,
		"setup_intent":                         nil,
		"shipping_address_collection":          nil,
		"shipping_cost":                        nil,
		"shipping_details":                     nil,
		"shipping_options":                     []any{},
		"status":                               status,
		"submit_type":                          nil,
		"subscription":                         ref(subscriptionID),
		"success_url":                          nil,
		"total_details":                        obj{"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
		"ui_mode":                              "hosted",
		"url":                                  nil,
	}
	if mode == "payment" {
		s["submit_type"] = "donate"
		s["customer_creation"] = "always"
	} else {
		s["payment_method_collection"] = "always"
	}
	return s
}

// CheckoutSessionCompleted builds checkout.session.completed for a one-off
// (mode "payment") session. paymentStatus is "paid" (card) or "unpaid" (an
// asynchronous method still in flight).
func (b EventBuilder) CheckoutSessionCompleted(sessionID, paymentIntentID, customerID string, amountPence int64, paymentStatus string, m Meta) []byte {
	s := b.session(sessionID, "payment", "complete", paymentStatus,
		orID(paymentIntentID, "pi_"), "", orID(customerID, "cus_"), amountPence, m)
	return b.event("checkout.session.completed", s)
}

// CheckoutSessionAsync builds checkout.session.async_payment_succeeded
// (payment_status "paid") or checkout.session.async_payment_failed
// (payment_status "unpaid") for a one-off session; status is "complete".
func (b EventBuilder) CheckoutSessionAsync(succeeded bool, sessionID, paymentIntentID, customerID string, amountPence int64, m Meta) []byte {
	typ, ps := "checkout.session.async_payment_failed", "unpaid"
	if succeeded {
		typ, ps = "checkout.session.async_payment_succeeded", "paid"
	}
	s := b.session(sessionID, "payment", "complete", ps,
		orID(paymentIntentID, "pi_"), "", orID(customerID, "cus_"), amountPence, m)
	return b.event(typ, s)
}

// CheckoutSessionExpired builds checkout.session.expired for a one-off
// session that was never paid: status "expired", payment_status "unpaid", no
// payment intent, customer or customer_details.
func (b EventBuilder) CheckoutSessionExpired(sessionID string, amountPence int64, m Meta) []byte {
	s := b.session(sessionID, "payment", "expired", "unpaid", "", "", "", amountPence, m)
	s["customer_details"] = nil
	return b.event("checkout.session.expired", s)
}

// CheckoutSubscriptionCompleted builds checkout.session.completed for a
// monthly (mode "subscription") session: payment_status "paid",
// payment_intent null, subscription and customer set. No money is recorded
// from this event; the money arrives with invoice.paid.
func (b EventBuilder) CheckoutSubscriptionCompleted(sessionID, subscriptionID, customerID string, amountPence int64, m Meta) []byte {
	s := b.session(sessionID, "subscription", "complete", "paid",
		"", orID(subscriptionID, "sub_"), orID(customerID, "cus_"), amountPence, m)
	return b.event("checkout.session.completed", s)
}

// DirectDebitSubscriptionSession builds one of a monthly session's events when it is paid
// by Bacs Direct Debit (payment_method_types ["bacs_debit"]): typ
// "checkout.session.completed" (payment_status "unpaid": the first payment is on its way),
// "checkout.session.async_payment_succeeded" ("paid") or "checkout.session.async_payment_failed"
// ("unpaid"). The money itself arrives with invoice.paid.
func (b EventBuilder) DirectDebitSubscriptionSession(typ, sessionID, subscriptionID, customerID string, amountPence int64, m Meta) []byte {
	ps := "unpaid"
	if typ == "checkout.session.async_payment_succeeded" {
		ps = "paid"
	}
	b.Method = "bacs_debit"
	s := b.session(sessionID, "subscription", "complete", ps, "", orID(subscriptionID, "sub_"), orID(customerID, "cus_"), amountPence, m)
	return b.event(typ, s)
}

// ---- Prices, subscriptions, invoices ----

func (b EventBuilder) monthlyPrice(amountPence int64, created int64) obj {
	return obj{
		"id":                  NewID("price_"),
		"object":              "price",
		"active":              false,
		"billing_scheme":      "per_unit",
		"created":             created,
		"currency":            "gbp",
		"custom_unit_amount":  nil,
		"livemode":            false,
		"lookup_key":          nil,
		"metadata":            obj{},
		"nickname":            nil,
		"product":             NewID("prod_"),
		"recurring":           obj{"aggregate_usage": nil, "interval": "month", "interval_count": 1, "usage_type": "licensed"},
		"tax_behavior":        "unspecified",
		"tiers_mode":          nil,
		"transform_quantity":  nil,
		"type":                "recurring",
		"unit_amount":         amountPence,
		"unit_amount_decimal": strconv.FormatInt(amountPence, 10),
	}
}

func (b EventBuilder) invoice(invoiceID, subscriptionID, customerID string, amountPence int64, billingReason string, m Meta) obj {
	now := b.now()
	id := orID(invoiceID, "in_")
	subID := orID(subscriptionID, "sub_")
	periodStart, periodEnd := now, now
	if billingReason != "subscription_create" {
		periodStart = now.AddDate(0, -1, 0)
	}
	line := obj{
		"id":                        NewID("il_"),
		"object":                    "line_item",
		"amount":                    amountPence,
		"amount_excluding_tax":      amountPence,
		"currency":                  "gbp",
		"description":               fmt.Sprintf("1 × Monthly donation (at £%d.%02d / month)", amountPence/100, amountPence%100),
		"discount_amounts":          []any{},
		"discountable":              true,
		"discounts":                 []any{},
		"invoice":                   id,
		"livemode":                  false,
		"metadata":                  m.metadata(),
		"period":                    obj{"start": now.Unix(), "end": now.AddDate(0, 1, 0).Unix()},
		"price":                     b.monthlyPrice(amountPence, now.Unix()),
		"proration":                 false,
		"proration_details":         obj{"credited_items": nil},
		"quantity":                  1,
		"subscription":              subID,
		"subscription_item":         NewID("si_"),
		"tax_amounts":               []any{},
		"tax_rates":                 []any{},
		"type":                      "subscription",
		"unit_amount_excluding_tax": strconv.FormatInt(amountPence, 10),
	}
	return obj{
		"id":                      id,
		"object":                  "invoice",
		"account_country":         "GB",
		"account_name":            nil,
		"account_tax_ids":         nil,
		"amount_due":              amountPence,
		"amount_paid":             0,
		"amount_remaining":        amountPence,
		"amount_shipping":         0,
		"application":             nil,
		"application_fee_amount":  nil,
		"attempt_count":           0,
		"attempted":               false,
		"auto_advance":            false,
		"automatic_tax":           obj{"enabled": false, "liability": nil, "status": nil},
		"billing_reason":          billingReason,
		"charge":                  nil,
		"collection_method":       "charge_automatically",
		"created":                 now.Unix(),
		"currency":                "gbp",
		"custom_fields":           nil,
		"customer":                orID(customerID, "cus_"),
		"customer_address":        nil,
		"customer_email":          b.email(),
		"customer_name":           b.name(),
		"customer_phone":          nil,
		"customer_shipping":       nil,
		"customer_tax_exempt":     "none",
		"customer_tax_ids":        []any{},
		"default_payment_method":  nil,
		"default_source":          nil,
		"default_tax_rates":       []any{},
		"description":             nil,
		"discount":                nil,
		"discounts":               []any{},
		"due_date":                nil,
		"effective_at":            now.Unix(),
		"ending_balance":          0,
		"footer":                  nil,
		"from_invoice":            nil,
		"hosted_invoice_url":      nil,
		"invoice_pdf":             nil,
		"issuer":                  obj{"type": "self"},
		"last_finalization_error": nil,
		"latest_revision":         nil,
		"lines": obj{
			"object":   "list",
			"data":     []any{line},
			"has_more": false,
			"url":      "/v1/invoices/" + id + "/lines",
		},
		"livemode":                         false,
		"metadata":                         obj{},
		"next_payment_attempt":             nil,
		"number":                           nil,
		"on_behalf_of":                     nil,
		"paid":                             false,
		"paid_out_of_band":                 false,
		"payment_intent":                   nil,
		"payment_settings":                 obj{"default_mandate": nil, "payment_method_options": nil, "payment_method_types": nil},
		"period_end":                       periodEnd.Unix(),
		"period_start":                     periodStart.Unix(),
		"post_payment_credit_notes_amount": 0,
		"pre_payment_credit_notes_amount":  0,
		"quote":                            nil,
		"receipt_number":                   nil,
		"rendering":                        nil,
		"shipping_cost":                    nil,
		"shipping_details":                 nil,
		"starting_balance":                 0,
		"statement_descriptor":             nil,
		"status":                           "open",
		"status_transitions":               obj{"finalized_at": now.Unix(), "marked_uncollectible_at": nil, "paid_at": nil, "voided_at": nil},
		"subscription":                     subID,
		"subscription_details":             obj{"metadata": m.metadata()},
		"subtotal":                         amountPence,
		"subtotal_excluding_tax":           amountPence,
		"tax":                              nil,
		"test_clock":                       nil,
		"total":                            amountPence,
		"total_discount_amounts":           []any{},
		"total_excluding_tax":              amountPence,
		"total_tax_amounts":                []any{},
		"transfer_data":                    nil,
		"webhooks_delivered_at":            now.Unix(),
	}
}

// InvoicePaid builds invoice.paid for a subscription invoice: status "paid",
// amount_paid = amountPence, billing_reason "subscription_create" (first
// month) or "subscription_cycle" (later months), charge and payment_intent
// ids, subscription_details.metadata = m.
func (b EventBuilder) InvoicePaid(invoiceID, subscriptionID, customerID, chargeID, paymentIntentID string, amountPence int64, billingReason string, m Meta) []byte {
	inv := b.invoice(invoiceID, subscriptionID, customerID, amountPence, billingReason, m)
	now := b.now().Unix()
	inv["amount_paid"] = amountPence
	inv["amount_remaining"] = 0
	inv["attempt_count"] = 1
	inv["attempted"] = true
	inv["charge"] = orID(chargeID, "ch_")
	inv["payment_intent"] = orID(paymentIntentID, "pi_")
	inv["paid"] = true
	inv["status"] = "paid"
	inv["number"] = "SANDBOX-" + strconv.FormatInt(now%100000, 10)
	inv["status_transitions"] = obj{"finalized_at": now, "marked_uncollectible_at": nil, "paid_at": now, "voided_at": nil}
	return b.event("invoice.paid", inv)
}

// InvoicePaymentFailed builds invoice.payment_failed for a monthly renewal
// ("subscription_cycle"): status "open", paid false, amount_paid 0,
// attempted, next_payment_attempt in three days.
func (b EventBuilder) InvoicePaymentFailed(invoiceID, subscriptionID, customerID string, amountPence int64, m Meta) []byte {
	inv := b.invoice(invoiceID, subscriptionID, customerID, amountPence, "subscription_cycle", m)
	inv["attempt_count"] = 1
	inv["attempted"] = true
	inv["next_payment_attempt"] = b.now().Add(72 * time.Hour).Unix()
	return b.event("invoice.payment_failed", inv)
}

func (b EventBuilder) subscription(subscriptionID, customerID string, amountPence int64, status string, m Meta) obj {
	now := b.now()
	id := orID(subscriptionID, "sub_")
	start := now.AddDate(0, -1, 0).Unix()
	item := obj{
		"id":                 NewID("si_"),
		"object":             "subscription_item",
		"billing_thresholds": nil,
		"created":            start,
		"metadata":           obj{},
		"price":              b.monthlyPrice(amountPence, start),
		"quantity":           1,
		"subscription":       id,
		"tax_rates":          []any{},
	}
	return obj{
		"id":                          id,
		"object":                      "subscription",
		"application":                 nil,
		"application_fee_percent":     nil,
		"automatic_tax":               obj{"enabled": false, "liability": nil},
		"billing_cycle_anchor":        start,
		"billing_cycle_anchor_config": nil,
		"billing_thresholds":          nil,
		"cancel_at":                   nil,
		"cancel_at_period_end":        false,
		"canceled_at":                 nil,
		"cancellation_details":        obj{"comment": nil, "feedback": nil, "reason": nil},
		"collection_method":           "charge_automatically",
		"created":                     start,
		"currency":                    "gbp",
		"current_period_end":          now.AddDate(0, 1, 0).Unix(),
		"current_period_start":        now.Unix(),
		"customer":                    orID(customerID, "cus_"),
		"days_until_due":              nil,
		"default_payment_method":      nil,
		"default_source":              nil,
		"default_tax_rates":           []any{},
		"description":                 nil,
		"discount":                    nil,
		"ended_at":                    nil,
		"items": obj{
			"object":   "list",
			"data":     []any{item},
			"has_more": false,
			"url":      "/v1/subscription_items?subscription=" + id,
		},
		"latest_invoice":                    nil,
		"livemode":                          false,
		"metadata":                          m.metadata(),
		"next_pending_invoice_item_invoice": nil,
		"on_behalf_of":                      nil,
		"pause_collection":                  nil,
		"payment_settings":                  obj{"payment_method_options": nil, "payment_method_types": nil, "save_default_payment_method": "off"},
		"pending_invoice_item_interval":     nil,
		"pending_setup_intent":              nil,
		"pending_update":                    nil,
		"schedule":                          nil,
		"start_date":                        start,
		"status":                            status,
		"test_clock":                        nil,
		"transfer_data":                     nil,
		"trial_end":                         nil,
		"trial_settings":                    obj{"end_behavior": obj{"missing_payment_method": "create_invoice"}},
		"trial_start":                       nil,
	}
}

// SubscriptionUpdated builds customer.subscription.updated. status is a
// Stripe subscription status ("active", "past_due", "unpaid", "canceled",
// "incomplete", ...). With cancelAtPeriodEnd, cancel_at is the end of the
// current period and canceled_at is now.
func (b EventBuilder) SubscriptionUpdated(subscriptionID, customerID string, amountPence int64, status string, cancelAtPeriodEnd bool, m Meta) []byte {
	s := b.subscription(subscriptionID, customerID, amountPence, status, m)
	if cancelAtPeriodEnd {
		s["cancel_at_period_end"] = true
		s["cancel_at"] = s["current_period_end"]
		s["canceled_at"] = b.now().Unix()
		s["cancellation_details"] = obj{"comment": nil, "feedback": nil, "reason": "cancellation_requested"}
	}
	return b.event("customer.subscription.updated", s)
}

// SubscriptionDeleted builds customer.subscription.deleted: status
// "canceled", canceled_at and ended_at now.
func (b EventBuilder) SubscriptionDeleted(subscriptionID, customerID string, amountPence int64, m Meta) []byte {
	s := b.subscription(subscriptionID, customerID, amountPence, "canceled", m)
	now := b.now().Unix()
	s["canceled_at"] = now
	s["ended_at"] = now
	s["cancellation_details"] = obj{"comment": nil, "feedback": nil, "reason": "cancellation_requested"}
	return b.event("customer.subscription.deleted", s)
}

// ---- Charges ----

func (b EventBuilder) charge(chargeID, paymentIntentID, customerID string, amountPence int64, invoiceID string, m Meta) obj {
	now := b.now()
	return obj{
		"id":                     orID(chargeID, "ch_"),
		"object":                 "charge",
		"amount":                 amountPence,
		"amount_captured":        amountPence,
		"amount_refunded":        0,
		"application":            nil,
		"application_fee":        nil,
		"application_fee_amount": nil,
		"balance_transaction":    NewID("txn_"),
		"billing_details": obj{
			"address": obj{"city": nil, "country": "GB", "line1": nil, "line2": nil, "postal_code": nil, "state": nil},
			"email":   b.email(),
			"name":    b.name(),
			"phone":   nil,
		},
		"calculated_statement_descriptor": "GIVING",
		"captured":                        true,
		"created":                         now.Unix(),
		"currency":                        "gbp",
		"customer":                        ref(customerID),
		"description":                     nil,
		"disputed":                        false,
		"failure_balance_transaction":     nil,
		"failure_code":                    nil,
		"failure_message":                 nil,
		"fraud_details":                   obj{},
		"invoice":                         ref(invoiceID),
		"livemode":                        false,
		"metadata":                        m.metadata(),
		"on_behalf_of":                    nil,
		"outcome": obj{
			"network_status": "approved_by_network",
			"reason":         nil,
			"risk_level":     "normal",
			"risk_score":     20,
			"seller_message": "Payment complete.",
			"type":           "authorized",
		},
		"paid":           true,
		"payment_intent": ref(paymentIntentID),
		"payment_method": NewID("pm_"),
		"payment_method_details": obj{
			"card": obj{
				"amount_authorized": amountPence,
				"brand":             "visa",
				"checks":            obj{"address_line1_check": nil, "address_postal_code_check": nil, "cvc_check": "pass"},
				"country":           "GB",
				"exp_month":         12,
				"exp_year":          now.Year() + 3,
				"fingerprint":       NewID("")[:16],
				"funding":           "credit",
				"installments":      nil,
				"last4":             "4242",
				"mandate":           nil,
				"network":           "visa",
				"three_d_secure":    nil,
				"wallet":            nil,
			},
			"type": "card",
		},
		"receipt_email":               nil,
		"receipt_number":              nil,
		"receipt_url":                 nil,
		"refunded":                    false,
		"review":                      nil,
		"shipping":                    nil,
		"source_transfer":             nil,
		"statement_descriptor":        nil,
		"statement_descriptor_suffix": nil,
		"status":                      "succeeded",
		"transfer_data":               nil,
		"transfer_group":              nil,
	}
}

func balanceTransaction(created time.Time, source string, amount, fee int64, feeDescription, typ, category string) obj {
	feeDetails := []any{}
	if fee != 0 {
		feeDetails = append(feeDetails, obj{
			"amount":      fee,
			"application": nil,
			"currency":    "gbp",
			"description": feeDescription,
			"type":        "stripe_fee",
		})
	}
	return obj{
		"id":                 NewID("txn_"),
		"object":             "balance_transaction",
		"amount":             amount,
		"available_on":       created.Add(7 * 24 * time.Hour).Unix(),
		"created":            created.Unix(),
		"currency":           "gbp",
		"description":        nil,
		"exchange_rate":      nil,
		"fee":                fee,
		"fee_details":        feeDetails,
		"net":                amount - fee,
		"reporting_category": category,
		"source":             source,
		"status":             "pending",
		"type":               typ,
	}
}

// ChargeSucceeded builds charge.succeeded. invoiceID is "" for a one-off
// gift. balance_transaction is expanded to an object carrying amount, fee
// (feePence), net and fee_details; real Stripe sends the "txn_..." id only,
// and the service must then fetch the balance transaction to learn the fee.
func (b EventBuilder) ChargeSucceeded(chargeID, paymentIntentID, customerID string, amountPence, feePence int64, invoiceID string, m Meta) []byte {
	c := b.charge(chargeID, orID(paymentIntentID, "pi_"), customerID, amountPence, invoiceID, m)
	c["balance_transaction"] = balanceTransaction(b.now(), c["id"].(string), amountPence, feePence,
		"Stripe processing fees", "charge", "charge")
	return b.event("charge.succeeded", c)
}

// ChargeRefunded builds charge.refunded. amountRefundedPence is cumulative
// over all refunds of the charge; refunded is true only when it equals
// amountPence.
func (b EventBuilder) ChargeRefunded(chargeID, paymentIntentID string, amountPence, amountRefundedPence int64, m Meta) []byte {
	c := b.charge(chargeID, orID(paymentIntentID, "pi_"), "", amountPence, "", m)
	c["amount_refunded"] = amountRefundedPence
	c["refunded"] = amountRefundedPence >= amountPence
	return b.event("charge.refunded", c)
}

// ---- Disputes ----

func (b EventBuilder) dispute(disputeID, chargeID, paymentIntentID string, amountPence int64, status string) obj {
	now := b.now()
	evidence := obj{}
	for _, k := range []string{
		"access_activity_log", "billing_address", "cancellation_policy", "cancellation_policy_disclosure",
		"cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name",
		"customer_purchase_ip", "customer_signature", "duplicate_charge_documentation",
		"duplicate_charge_explanation", "duplicate_charge_id", "product_description", "receipt",
		"refund_policy", "refund_policy_disclosure", "refund_refusal_explanation", "service_date",
		"service_documentation", "shipping_address", "shipping_carrier", "shipping_date",
		"shipping_documentation", "shipping_tracking_number", "uncategorized_file", "uncategorized_text",
	} {
		evidence[k] = nil
	}
	return obj{
		"id":                   orID(disputeID, "dp_"),
		"object":               "dispute",
		"amount":               amountPence,
		"balance_transactions": []any{},
		"charge":               orID(chargeID, "ch_"),
		"created":              now.Unix(),
		"currency":             "gbp",
		"evidence":             evidence,
		"evidence_details": obj{
			"due_by":           now.Add(21 * 24 * time.Hour).Unix(),
			"has_evidence":     false,
			"past_due":         false,
			"submission_count": 0,
		},
		"is_charge_refundable": false,
		"livemode":             false,
		"metadata":             obj{},
		"payment_intent":       ref(paymentIntentID),
		"payment_method_details": obj{
			"card": obj{"brand": "visa", "network_reason_code": "10.4"},
			"type": "card",
		},
		"reason": "fraudulent",
		"status": status,
	}
}

// DisputeCreated builds charge.dispute.created: status "needs_response",
// balance_transactions empty. Disputes carry the charge and payment_intent
// ids only, never the donation metadata.
func (b EventBuilder) DisputeCreated(disputeID, chargeID, paymentIntentID string, amountPence int64) []byte {
	return b.event("charge.dispute.created", b.dispute(disputeID, chargeID, paymentIntentID, amountPence, "needs_response"))
}

// DisputeIndemnityClaim builds charge.dispute.created for a Bacs Direct Debit payment the
// donor's bank took back (an indemnity claim): final from the start, so status "lost", with
// the withdrawal and Stripe's fee in balance_transactions, and no card details.
func (b EventBuilder) DisputeIndemnityClaim(disputeID, chargeID, paymentIntentID string, amountPence, feePence int64) []byte {
	d := b.dispute(disputeID, chargeID, paymentIntentID, amountPence, "lost")
	d["reason"] = "debit_not_authorized"
	d["payment_method_details"] = nil
	d["balance_transactions"] = []any{balanceTransaction(b.now(), d["id"].(string), -amountPence, feePence, "Dispute fee", "adjustment", "dispute")}
	return b.event("charge.dispute.created", d)
}

// DisputeClosed builds charge.dispute.closed with status "won" or "lost".
// Lost: balance_transactions holds the withdrawal (amount -amountPence, fee
// feePence, net -(amountPence+feePence)). Won: the withdrawal plus the
// reinstatement (amount +amountPence, fee -feePence), summing to zero.
func (b EventBuilder) DisputeClosed(disputeID, chargeID, paymentIntentID string, amountPence int64, won bool, feePence int64) []byte {
	status := "lost"
	if won {
		status = "won"
	}
	d := b.dispute(disputeID, chargeID, paymentIntentID, amountPence, status)
	id := d["id"].(string)
	now := b.now()
	opened := now.Add(-14 * 24 * time.Hour)
	d["created"] = opened.Unix()
	d["evidence_details"] = obj{
		"due_by":           opened.Add(21 * 24 * time.Hour).Unix(),
		"has_evidence":     true,
		"past_due":         false,
		"submission_count": 1,
	}
	txns := []any{balanceTransaction(opened, id, -amountPence, feePence, "Dispute fee", "adjustment", "dispute")}
	if won {
		txns = append(txns, balanceTransaction(now, id, amountPence, -feePence, "Dispute fee refund", "adjustment", "dispute_reversal"))
	}
	d["balance_transactions"] = txns
	return b.event("charge.dispute.closed", d)
}

// ---- Payouts ----

// PayoutPaid builds payout.paid: Stripe paid amountPence in pounds into the charity's bank
// (an automatic payout, arriving today). Giving records it by asking Stripe for the
// balance transactions it paid out (payout_job.go).
func (b EventBuilder) PayoutPaid(payoutID string, amountPence int64) []byte {
	now := b.now()
	id := orID(payoutID, "po_")
	return b.event("payout.paid", obj{
		"id":                          id,
		"object":                      "payout",
		"amount":                      amountPence,
		"arrival_date":                now.Unix(),
		"automatic":                   true,
		"balance_transaction":         NewID("txn_"),
		"created":                     now.Add(-48 * time.Hour).Unix(),
		"currency":                    "gbp",
		"description":                 "STRIPE PAYOUT",
		"destination":                 NewID("ba_"),
		"failure_balance_transaction": nil,
		"failure_code":                nil,
		"failure_message":             nil,
		"livemode":                    false,
		"metadata":                    obj{},
		"method":                      "standard",
		"original_payout":             nil,
		"reconciliation_status":       "completed",
		"reversed_by":                 nil,
		"source_type":                 "card",
		"statement_descriptor":        nil,
		"status":                      "paid",
		"type":                        "bank_account",
	})
}
