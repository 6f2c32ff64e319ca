package payments

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// CheckoutRequest is what the server decided for one donation; nothing in it comes from
// the browser unchecked (the amount is a tier's or a ParseAmount'd and limit-checked one).
type CheckoutRequest struct {
	DonationID    string          // uuid; also the session's client_reference_id
	Campaign      string          // appeal slug
	Fundraiser    string          // fundraiser page slug, may be ""
	Amount        decimal.Decimal // GBP, whole pence
	Monthly       bool
	Description   string // what the donor sees on Checkout, e.g. "Gift to Fundraising for Freedom"
	SuccessURL    string // from BASE_URL; must contain {CHECKOUT_SESSION_ID}
	CancelURL     string
	CustomerEmail string // optional
	// PaymentMethod is the one way to pay the donor chose on the donate form, among those
	// the charity offers: "card" or "bacs_debit" (Direct Debit); "" means card.
	PaymentMethod string
}

// CheckoutSession is where the donor goes to pay.
type CheckoutSession struct{ ID, URL string }

// Checkout creates payment sessions: Stripe's, or the offline sandbox's.
type Checkout interface {
	CreateSession(ctx context.Context, r CheckoutRequest) (CheckoutSession, error)
}

// StripeCheckout creates Stripe Checkout Sessions.
type StripeCheckout struct{ API *client.API }

// IdempotencyKey is the key for a donation's Checkout Session. It is derived from the
// donation, not random, so that the service's own retries (a double click, a resubmitted
// form finding the same donation) get the same session back from Stripe instead of a
// second one. Stripe refuses a key reused with different parameters, which is right: a
// donation's amount and mode never change once created.
func IdempotencyKey(donationID string) string { return "checkout:" + donationID }

// SessionParams builds the exact request for r. It is pure, so tests can inspect every
// field; it refuses a request that is incomplete or whose amount is not whole positive
// pence rather than letting Stripe guess.
func SessionParams(r CheckoutRequest) (*stripe.CheckoutSessionParams, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	pence, err := ToPence(r.Amount)
	if err != nil {
		return nil, fmt.Errorf("checkout amount: %w", err)
	}
	if pence <= 0 {
		return nil, fmt.Errorf("checkout amount: %w", ErrAmountNotPositive)
	}

	// The same three keys go on the session and on the object that outlives it (the
	// payment intent, or the subscription whose invoices carry them as
	// subscription_details.metadata), so that every later charge, refund and invoice can
	// be placed against its appeal and fundraiser without the session. Each gets its own
	// map so that nothing downstream can change one through another.
	meta := func() map[string]string {
		return map[string]string{"donation_id": r.DonationID, "campaign": r.Campaign, "fundraiser": r.Fundraiser}
	}
	price := &stripe.CheckoutSessionLineItemPriceDataParams{
		Currency:    stripe.String(string(stripe.CurrencyGBP)),
		UnitAmount:  stripe.Int64(pence),
		ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(r.Description)},
	}
	p := &stripe.CheckoutSessionParams{
		ClientReferenceID: stripe.String(r.DonationID),
		SuccessURL:        stripe.String(r.SuccessURL),
		CancelURL:         stripe.String(r.CancelURL),
		LineItems:         []*stripe.CheckoutSessionLineItemParams{{PriceData: price, Quantity: stripe.Int64(1)}},
	}
	p.Metadata = meta()
	// Exactly the method the donor chose, so the fee she may have covered is that method's
	// and nothing depends on what is switched on in Stripe's Dashboard. Stripe's Bacs
	// mandate emails (the Direct Debit Guarantee and the advance notice the scheme
	// requires) stay on: nothing here turns them off.
	method := r.PaymentMethod
	if method == "" {
		method = string(stripe.PaymentMethodTypeCard)
	}
	p.PaymentMethodTypes = []*string{stripe.String(method)}
	if r.CustomerEmail != "" {
		p.CustomerEmail = stripe.String(r.CustomerEmail)
	}
	if r.Monthly {
		p.Mode = stripe.String(string(stripe.CheckoutSessionModeSubscription))
		price.Recurring = &stripe.CheckoutSessionLineItemPriceDataRecurringParams{
			Interval: stripe.String(string(stripe.PriceRecurringIntervalMonth)),
		}
		// No submit_type, customer_creation or payment_intent_data: they are payment-mode
		// only, and real Stripe (unlike stripe-mock) rejects them on subscriptions.
		// Subscriptions always create a customer anyway.
		p.SubscriptionData = &stripe.CheckoutSessionSubscriptionDataParams{Metadata: meta()}
	} else {
		p.Mode = stripe.String(string(stripe.CheckoutSessionModePayment))
		p.SubmitType = stripe.String(string(stripe.CheckoutSessionSubmitTypeDonate))
		// A customer for every one-off gift, so a donor who gives again is recognisable and
		// refunds and Gift Aid can be traced to a person.
		p.CustomerCreation = stripe.String(string(stripe.CheckoutSessionCustomerCreationAlways))
		p.PaymentIntentData = &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: meta()}
	}
	p.SetIdempotencyKey(IdempotencyKey(r.DonationID))
	return p, nil
}

func (r CheckoutRequest) validate() error {
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"donation id", r.DonationID}, {"campaign", r.Campaign}, {"description", r.Description},
		{"success URL", r.SuccessURL}, {"cancel URL", r.CancelURL},
	} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("checkout request: missing %s", strings.Join(missing, ", "))
	}
	switch r.PaymentMethod {
	case "", string(stripe.PaymentMethodTypeCard), string(stripe.PaymentMethodTypeBACSDebit):
	default:
		return fmt.Errorf("checkout request: payment method %q is neither card nor bacs_debit", r.PaymentMethod)
	}
	// Without the placeholder the thank-you page cannot tell which session it is for.
	if !strings.Contains(r.SuccessURL, "{CHECKOUT_SESSION_ID}") {
		return errors.New("checkout request: success URL must contain {CHECKOUT_SESSION_ID}")
	}
	return nil
}

// CreateSession asks Stripe for a Checkout Session. Stripe's errors come back wrapped
// ("create checkout session: ...", errors.As finds the *stripe.Error) so that the caller
// can log the detail and show the donor a calm message.
func (s StripeCheckout) CreateSession(ctx context.Context, r CheckoutRequest) (CheckoutSession, error) {
	p, err := SessionParams(r)
	if err != nil {
		return CheckoutSession{}, err
	}
	p.Context = ctx
	sess, err := s.API.CheckoutSessions.New(p)
	if err != nil {
		return CheckoutSession{}, fmt.Errorf("create checkout session: %w", err)
	}
	if sess.ID == "" || sess.URL == "" {
		return CheckoutSession{}, fmt.Errorf("create checkout session: Stripe returned session %q without a URL", sess.ID)
	}
	return CheckoutSession{ID: sess.ID, URL: sess.URL}, nil
}
