package payments

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/donations"
	"giving/campaigns/pages"
)

// Sandbox stands in for Stripe when no key is configured: its checkout page is served by
// this service, and paying there sends correctly signed, Stripe-shaped events to the
// service's own webhook endpoint, so the same code path runs as in production. It never
// moves money and refuses to exist beside a live key.
type Sandbox struct {
	store      *campaigns.Store
	baseURL    *url.URL
	webhookURL string
	secret     string
	fees       FeeSchedule
	client     *http.Client
	// BacsFees is the fee Stripe's events state for a Direct Debit (zero: DefaultBacsFees).
	BacsFees FeeSchedule
}

// NewSandbox returns the gateway. webhookURL is this service's own POST /webhooks/stripe;
// secret signs the events (one of the secrets the webhook accepts).
func NewSandbox(store *campaigns.Store, stripeKey string, baseURL *url.URL, webhookURL, secret string, fees FeeSchedule) (*Sandbox, error) {
	if live, _ := KeyMode(stripeKey); live {
		return nil, errors.New("the sandbox payment gateway refuses to run with a live Stripe key (sk_live_)")
	}
	if secret == "" {
		return nil, errors.New("the sandbox needs a webhook signing secret")
	}
	return &Sandbox{store: store, baseURL: baseURL, webhookURL: webhookURL, secret: secret, fees: fees,
		client: &http.Client{Timeout: 30 * time.Second}}, nil
}

// CreateSession makes a sandbox checkout session: its page lives on this service.
func (s *Sandbox) CreateSession(ctx context.Context, r CheckoutRequest) (CheckoutSession, error) {
	if _, err := ToPence(r.Amount); err != nil {
		return CheckoutSession{}, err
	}
	// Derived from the donation, so a double-submitted form gets the same session, as
	// Stripe's idempotency key gives in production.
	id := "cs_test_sandbox_" + strings.ReplaceAll(r.DonationID, "-", "")
	return CheckoutSession{ID: id, URL: s.baseURL.JoinPath("/sandbox/checkout/", id).String()}, nil
}

// Session is the donation behind a sandbox checkout session, for its page.
func (s *Sandbox) Session(ctx context.Context, sessionID string) (donations.Donation, error) {
	if !strings.HasPrefix(sessionID, "cs_test_sandbox_") {
		return donations.Donation{}, fmt.Errorf("sandbox session: %w", campaigns.ErrNotFound)
	}
	return donations.Lookup(ctx, s.store, donations.DonationLookup{SessionID: sessionID})
}

// Payer is who pays on the sandbox checkout page, which asks what Stripe Checkout asks: an
// email address (the receipt goes there) and the name on the card, or for a Direct Debit
// the account holder's name (Bank).
type Payer struct {
	Email, Name string
	Bank        bool
}

// CheckPayer tidies p (spaces trimmed, the address lower-cased) and checks it as Stripe
// Checkout would, with a ValidationError on "email" and "name" naming each problem.
func CheckPayer(p Payer) (Payer, error) {
	p.Email = strings.ToLower(strings.TrimSpace(p.Email))
	p.Name = strings.Join(strings.Fields(p.Name), " ")
	problems := map[string]string{}
	local, domain, ok := strings.Cut(p.Email, "@")
	switch {
	case p.Email == "":
		problems["email"] = "Enter your email address: your receipt is sent there."
	case !ok || local == "" || !strings.Contains(strings.Trim(domain, "."), ".") || strings.ContainsAny(p.Email, " \t,;<>\"()[]\\") ||
		strings.Contains(domain, "@") || strings.Contains(domain, ".."):
		problems["email"] = "Enter an email address such as name@example.org: your receipt is sent there."
	case len(p.Email) > 254:
		problems["email"] = "An email address has at most 254 characters."
	}
	switch {
	case p.Name == "" && p.Bank:
		problems["name"] = "Enter the name of the account holder, as your bank knows it."
	case p.Name == "":
		problems["name"] = "Enter the name on your card."
	case len([]rune(p.Name)) > 200:
		problems["name"] = "A name has at most 200 characters."
	}
	if len(problems) > 0 {
		return p, &campaigns.ValidationError{Fields: problems}
	}
	return p, nil
}

// Pay sends the events Stripe would send for a successful payment by p, after checking
// p as the page's form would be checked (CheckPayer). Every id is derived from the
// session, so paying twice sends the same events again and records nothing new.
func (s *Sandbox) Pay(ctx context.Context, sessionID string, p Payer) error {
	p, err := CheckPayer(p)
	if err != nil {
		return err
	}
	d, err := s.Session(ctx, sessionID)
	if err != nil {
		return err
	}
	meta, pence, fee, err := s.money(ctx, d)
	if err != nil {
		return err
	}
	key := strings.TrimPrefix(sessionID, "cs_test_sandbox_")
	b := EventBuilder{DonorEmail: p.Email, DonorName: p.Name}
	pi, ch, cus := "pi_sandbox_"+key, "ch_sandbox_"+key, "cus_sandbox_"+key
	var events [][]byte
	method, err := donations.PaymentMethodOf(ctx, s.store.Pool(), d.ID)
	if err != nil {
		return err
	}
	if method == donations.MethodBacs {
		// A Direct Debit is only set up here: the money is collected days later, when the
		// sandbox's Direct Debit page is asked to (sandbox_directdebit.go).
		b.Method = method
		if d.Monthly {
			events = [][]byte{b.WithEventID("evt_sandbox_"+key+"_session").DirectDebitSubscriptionSession(
				"checkout.session.completed", sessionID, "sub_sandbox_"+key, cus, pence, meta)}
		} else {
			events = [][]byte{b.WithEventID("evt_sandbox_"+key+"_session").CheckoutSessionCompleted(sessionID, pi, cus, pence, "unpaid", meta)}
		}
	} else if d.Monthly {
		sub, in := "sub_sandbox_"+key, "in_sandbox_"+key+"_1"
		events = [][]byte{
			b.WithEventID("evt_sandbox_"+key+"_session").CheckoutSubscriptionCompleted(sessionID, sub, cus, pence, meta),
			b.WithEventID("evt_sandbox_"+key+"_invoice_1").InvoicePaid(in, sub, cus, ch, pi, pence, "subscription_create", meta),
			b.WithEventID("evt_sandbox_"+key+"_charge").ChargeSucceeded(ch, pi, cus, pence, fee, in, meta),
		}
	} else {
		events = [][]byte{
			b.WithEventID("evt_sandbox_"+key+"_session").CheckoutSessionCompleted(sessionID, pi, cus, pence, "paid", meta),
			b.WithEventID("evt_sandbox_"+key+"_charge").ChargeSucceeded(ch, pi, cus, pence, fee, "", meta),
		}
	}
	for _, e := range events {
		if err := s.deliver(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// money is what every event about d carries: its metadata (appeal and fundraiser page by
// slug, as the checkout set them), its amount and Stripe's fee on it, in pence.
func (s *Sandbox) money(ctx context.Context, d donations.Donation) (m Meta, pence, fee int64, err error) {
	a, err := appeals.AppealByID(ctx, s.store, d.AppealID)
	if err != nil {
		return m, 0, 0, err
	}
	m = Meta{DonationID: d.ID, Campaign: a.Slug}
	if d.FundraiserID != 0 {
		f, err := pages.FundraiserByID(ctx, s.store, d.FundraiserID)
		if err != nil {
			return m, 0, 0, fmt.Errorf("sandbox: fundraiser: %w", err)
		}
		m.Fundraiser = f.Slug
	}
	if pence, err = ToPence(d.Total()); err != nil {
		return m, 0, 0, err
	}
	fees := s.fees
	if method, err := donations.PaymentMethodOf(ctx, s.store.Pool(), d.ID); err != nil {
		return m, 0, 0, err
	} else if method == donations.MethodBacs {
		fees = s.BacsFees
		if fees.Percent.IsZero() && fees.Fixed.IsZero() {
			fees = DefaultBacsFees
		}
	}
	if fee, err = ToPence(fees.Fee(d.Total())); err != nil {
		return m, 0, 0, err
	}
	return m, pence, fee, nil
}

// CancelSubscription stands in for Stripe's: the sandbox renews a monthly gift only when
// its monthly page is asked to (sandbox_monthly.go), so there is nothing further to stop.
func (s *Sandbox) CancelSubscription(context.Context, string, string, int) error { return nil }

// deliver posts one signed event to the service's own webhook endpoint, as Stripe would.
func (s *Sandbox) deliver(ctx context.Context, payload []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.webhookURL, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", SignPayload(payload, s.secret, s.store.Now()))
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox: deliver event: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sandbox: webhook answered %s", resp.Status)
	}
	return nil
}
