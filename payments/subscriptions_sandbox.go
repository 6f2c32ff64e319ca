package payments

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"giving/campaigns"
	"giving/campaigns/donations"
)

// The sandbox makes a monthly gift's changes as Stripe would: each answers with the signed
// customer.subscription.updated (or .deleted) event Stripe would send, delivered to the
// service's own webhook, so the same confirmation path runs as in production. A card
// update opens a sandbox page standing in for Checkout in setup mode.

// sandboxCards remembers where each sandbox card session returns to.
var sandboxCards sync.Map // session id -> return URL

func (s *Sandbox) subscriptionEvent(ctx context.Context, subscriptionID, eventID string, change func(sub obj, d donations.Donation) (string, error)) error {
	d, err := donations.Lookup(ctx, s.store, donations.DonationLookup{SubscriptionID: subscriptionID})
	if err != nil {
		return fmt.Errorf("sandbox: subscription %s: %w", subscriptionID, err)
	}
	g, err := donations.Managed(ctx, s.store.Pool(), d.ID)
	if err != nil {
		return err
	}
	pence, err := ToPence(d.Total())
	if err != nil {
		return err
	}
	b := EventBuilder{Now: s.store.Now}.WithEventID(eventID)
	sub := b.subscription(subscriptionID, d.CustomerID, pence, "active", Meta{DonationID: d.ID})
	if g.Paused(s.store.Now()) {
		sub["pause_collection"] = obj{"behavior": "void", "resumes_at": g.PausedUntil.Unix()}
	}
	typ, err := change(sub, d)
	if err != nil {
		return err
	}
	return s.deliver(ctx, b.event(typ, sub))
}

func setPrice(sub obj, pence int64) {
	sub["items"].(obj)["data"].([]any)[0].(obj)["price"].(obj)["unit_amount"] = pence
	sub["items"].(obj)["data"].([]any)[0].(obj)["price"].(obj)["unit_amount_decimal"] = strconv.FormatInt(pence, 10)
}

// EndSubscription sends customer.subscription.deleted, as Stripe does on a cancellation.
func (s *Sandbox) EndSubscription(ctx context.Context, id, reason string, request int64) error {
	return s.subscriptionEvent(ctx, id, "evt_sandbox_manage_"+strconv.FormatInt(request, 10), func(sub obj, _ donations.Donation) (string, error) {
		now := s.store.Now().Unix()
		sub["status"], sub["canceled_at"], sub["ended_at"], sub["pause_collection"] = "canceled", now, now, nil
		sub["cancellation_details"] = obj{"comment": reason, "feedback": nil, "reason": "cancellation_requested"}
		return "customer.subscription.deleted", nil
	})
}

// PauseSubscription sends the subscription with pause_collection set.
func (s *Sandbox) PauseSubscription(ctx context.Context, id string, resumesAt time.Time, request int64) error {
	return s.subscriptionEvent(ctx, id, "evt_sandbox_manage_"+strconv.FormatInt(request, 10), func(sub obj, _ donations.Donation) (string, error) {
		sub["pause_collection"] = obj{"behavior": "void", "resumes_at": resumesAt.Unix()}
		return "customer.subscription.updated", nil
	})
}

// ResumeSubscription sends the subscription with pause_collection cleared.
func (s *Sandbox) ResumeSubscription(ctx context.Context, id string, request int64) error {
	return s.subscriptionEvent(ctx, id, "evt_sandbox_manage_"+strconv.FormatInt(request, 10), func(sub obj, _ donations.Donation) (string, error) {
		sub["pause_collection"] = nil
		return "customer.subscription.updated", nil
	})
}

// ChangeAmount sends the subscription with its item's new price.
func (s *Sandbox) ChangeAmount(ctx context.Context, id string, pence int64, request int64) error {
	return s.subscriptionEvent(ctx, id, "evt_sandbox_manage_"+strconv.FormatInt(request, 10), func(sub obj, _ donations.Donation) (string, error) {
		setPrice(sub, pence)
		return "customer.subscription.updated", nil
	})
}

// CardSession opens the sandbox's stand-in for Checkout in setup mode.
func (s *Sandbox) CardSession(ctx context.Context, customerID, subscriptionID string, request int64, returnURL string) (CheckoutSession, error) {
	id := "cs_test_sandbox_setup_" + strconv.FormatInt(request, 10)
	sandboxCards.Store(id, returnURL)
	return CheckoutSession{ID: id, URL: s.baseURL.JoinPath("/sandbox/setup/", id).String()}, nil
}

// SaveCard sends the checkout.session.completed (mode setup) a saved card brings, and
// returns where the donor goes next.
func (s *Sandbox) SaveCard(ctx context.Context, sessionID string) (string, error) {
	request, ok := strings.CutPrefix(sessionID, "cs_test_sandbox_setup_")
	if !ok {
		return "", fmt.Errorf("sandbox card session: %w", campaigns.ErrNotFound)
	}
	b := EventBuilder{Now: s.store.Now}.WithEventID("evt_sandbox_setup_" + request)
	sess := b.session(sessionID, "setup", "complete", "no_payment_required", "", "", "", 0, Meta{})
	sess["setup_intent"] = "seti_sandbox_" + request
	if err := s.deliver(ctx, b.event("checkout.session.completed", sess)); err != nil {
		return "", err
	}
	back, _ := sandboxCards.Load(sessionID)
	u, _ := back.(string)
	if u == "" {
		return s.baseURL.String() + "/manage", nil
	}
	return u + "?card=saved", nil
}

// CardOf is the sandbox card a sandbox setup intent saved.
func (s *Sandbox) CardOf(_ context.Context, setupIntent string) (string, error) {
	return "pm_sandbox_" + strings.TrimPrefix(setupIntent, "seti_sandbox_"), nil
}

// UseCard sends the subscription with the saved card as its default payment method.
func (s *Sandbox) UseCard(ctx context.Context, id, pm string, request int64) error {
	return s.subscriptionEvent(ctx, id, "evt_sandbox_manage_"+strconv.FormatInt(request, 10), func(sub obj, _ donations.Donation) (string, error) {
		sub["default_payment_method"] = pm
		return "customer.subscription.updated", nil
	})
}
