package payments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stripe/stripe-go/v76"

	"giving/campaigns"
	"giving/campaigns/donations"
)

// A donor's (or an admin's) change to a monthly gift is made at Stripe by ManageWorker, a
// River job queued in the transaction that records the request; Stripe's
// customer.subscription.updated or .deleted event then confirms it (confirmSubscription,
// from applySubscription), and only then does the manage page show it as done. A card
// update is the exception: the donor is sent at once to Checkout in setup mode; its
// checkout.session.completed queues the job that makes the new card the subscription's.

// SubscriptionManager makes a monthly gift's changes at the payment provider. Each call is
// idempotent for one request (its id is in Stripe's idempotency key).
type SubscriptionManager interface {
	// EndSubscription cancels at once, without proration or a final invoice.
	EndSubscription(ctx context.Context, subscriptionID, reason string, request int64) error
	// PauseSubscription stops collecting payments until resumesAt (pause_collection with
	// behavior void: the invoices of the pause are voided, never charged later).
	PauseSubscription(ctx context.Context, subscriptionID string, resumesAt time.Time, request int64) error
	// ResumeSubscription collects payments again (pause_collection cleared).
	ResumeSubscription(ctx context.Context, subscriptionID string, request int64) error
	// ChangeAmount puts a new monthly price on the subscription's item, without
	// proration, so the next payment is the new amount.
	ChangeAmount(ctx context.Context, subscriptionID string, pence int64, request int64) error
	// CardSession opens Checkout in setup mode for a new card; the donor comes back to
	// returnURL.
	CardSession(ctx context.Context, customerID, subscriptionID string, request int64, returnURL string) (CheckoutSession, error)
	// CardOf is the payment method a finished setup intent saved.
	CardOf(ctx context.Context, setupIntent string) (string, error)
	// UseCard makes that payment method the subscription's default.
	UseCard(ctx context.Context, subscriptionID, paymentMethod string, request int64) error
}

// EndSubscription is CancelSubscription, its idempotency key naming the request.
func (s StripeSubscriptions) EndSubscription(ctx context.Context, id, reason string, request int64) error {
	return s.CancelSubscription(ctx, id, reason, int(request))
}

func idempotent(p *stripe.Params, ctx context.Context, what string, request int64) {
	p.Context = ctx
	p.SetIdempotencyKey("manage:" + what + ":" + strconv.FormatInt(request, 10))
}

// PauseSubscription: pause_collection {behavior: void, resumes_at}.
func (s StripeSubscriptions) PauseSubscription(ctx context.Context, id string, resumesAt time.Time, request int64) error {
	p := &stripe.SubscriptionParams{PauseCollection: &stripe.SubscriptionPauseCollectionParams{
		Behavior: stripe.String(string(stripe.SubscriptionPauseCollectionBehaviorVoid)), ResumesAt: stripe.Int64(resumesAt.Unix())}}
	idempotent(&p.Params, ctx, "pause", request)
	if _, err := s.API.Subscriptions.Update(id, p); err != nil {
		return fmt.Errorf("pause subscription %s at Stripe: %w", id, err)
	}
	return nil
}

// ResumeSubscription: pause_collection set to "" (Stripe's way to clear it).
func (s StripeSubscriptions) ResumeSubscription(ctx context.Context, id string, request int64) error {
	p := &stripe.SubscriptionParams{}
	p.AddExtra("pause_collection", "")
	idempotent(&p.Params, ctx, "resume", request)
	if _, err := s.API.Subscriptions.Update(id, p); err != nil {
		return fmt.Errorf("resume subscription %s at Stripe: %w", id, err)
	}
	return nil
}

// ChangeAmount reads the subscription for its item and product, then replaces the item's
// price with an inline monthly price of pence for that product, proration_behavior none.
func (s StripeSubscriptions) ChangeAmount(ctx context.Context, id string, pence int64, request int64) error {
	g := &stripe.SubscriptionParams{}
	g.Context = ctx
	sub, err := s.API.Subscriptions.Get(id, g)
	if err != nil {
		return fmt.Errorf("read subscription %s: %w", id, err)
	}
	if sub.Items == nil || len(sub.Items.Data) == 0 || sub.Items.Data[0].Price == nil || sub.Items.Data[0].Price.Product == nil {
		return fmt.Errorf("subscription %s has no item with a product", id)
	}
	item := sub.Items.Data[0]
	p := &stripe.SubscriptionParams{
		ProrationBehavior: stripe.String("none"),
		Items: []*stripe.SubscriptionItemsParams{{
			ID: stripe.String(item.ID),
			PriceData: &stripe.SubscriptionItemPriceDataParams{
				Currency: stripe.String("gbp"), Product: stripe.String(item.Price.Product.ID),
				Recurring:  &stripe.SubscriptionItemPriceDataRecurringParams{Interval: stripe.String("month")},
				UnitAmount: stripe.Int64(pence),
			},
		}},
	}
	idempotent(&p.Params, ctx, "amount", request)
	if _, err := s.API.Subscriptions.Update(id, p); err != nil {
		return fmt.Errorf("change the amount of subscription %s at Stripe: %w", id, err)
	}
	return nil
}

// CardSession: Checkout in setup mode for the gift's customer, the subscription named in
// the setup intent's metadata.
func (s StripeSubscriptions) CardSession(ctx context.Context, customerID, subscriptionID string, request int64, returnURL string) (CheckoutSession, error) {
	p := &stripe.CheckoutSessionParams{
		Mode:               stripe.String(string(stripe.CheckoutSessionModeSetup)),
		Customer:           stripe.String(customerID),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
		SuccessURL:         stripe.String(returnURL + "?card=saved"),
		CancelURL:          stripe.String(returnURL),
		SetupIntentData: &stripe.CheckoutSessionSetupIntentDataParams{
			Metadata: map[string]string{"subscription_id": subscriptionID, "manage_request": strconv.FormatInt(request, 10)},
		},
	}
	idempotent(&p.Params, ctx, "card", request)
	sess, err := s.API.CheckoutSessions.New(p)
	if err != nil {
		return CheckoutSession{}, fmt.Errorf("open Checkout for a new card: %w", err)
	}
	return CheckoutSession{ID: sess.ID, URL: sess.URL}, nil
}

// CardOf reads the setup intent's payment method.
func (s StripeSubscriptions) CardOf(ctx context.Context, setupIntent string) (string, error) {
	g := &stripe.SetupIntentParams{}
	g.Context = ctx
	si, err := s.API.SetupIntents.Get(setupIntent, g)
	if err != nil {
		return "", fmt.Errorf("read setup intent %s: %w", setupIntent, err)
	}
	if si.PaymentMethod == nil || si.PaymentMethod.ID == "" {
		return "", fmt.Errorf("setup intent %s has no payment method", setupIntent)
	}
	return si.PaymentMethod.ID, nil
}

// UseCard sets the subscription's default_payment_method.
func (s StripeSubscriptions) UseCard(ctx context.Context, subscriptionID, paymentMethod string, request int64) error {
	p := &stripe.SubscriptionParams{DefaultPaymentMethod: stripe.String(paymentMethod)}
	idempotent(&p.Params, ctx, "card-use", request)
	if _, err := s.API.Subscriptions.Update(subscriptionID, p); err != nil {
		return fmt.Errorf("use the new card on subscription %s: %w", subscriptionID, err)
	}
	return nil
}

// ManageWorker makes requested changes at Stripe (donations.ManageJob).
type ManageWorker struct {
	river.WorkerDefaults[donations.ManageJob]
	Store   *campaigns.Store
	Manager SubscriptionManager
	Log     *slog.Logger
}

func (w *ManageWorker) Timeout(*river.Job[donations.ManageJob]) time.Duration {
	return cancelTimeout + 30*time.Second
}

// NextRetry is campaigns.RetryBackoff after the failed attempt, on the store's clock.
func (w *ManageWorker) NextRetry(job *river.Job[donations.ManageJob]) time.Time {
	return w.Store.Now().Add(campaigns.RetryBackoff(job.Attempt))
}

func (w *ManageWorker) Work(ctx context.Context, job *river.Job[donations.ManageJob]) error {
	last := job.Attempt >= job.MaxAttempts
	return donations.MakeChange(ctx, w.Store, job.Args.RequestID, job.Attempt, last, func(ctx context.Context, c donations.PendingChange) (string, error) {
		ctx, stop := context.WithTimeout(ctx, cancelTimeout)
		defer stop()
		var pm string
		var err error
		switch c.Kind {
		case donations.ChangeCancel:
			err = w.Manager.EndSubscription(ctx, c.SubscriptionID, "Giving: cancelled at the "+manageActor(c)+"'s request", c.ID)
		case donations.ChangePause:
			err = w.Manager.PauseSubscription(ctx, c.SubscriptionID, *c.ResumesAt, c.ID)
		case donations.ChangeResume:
			err = w.Manager.ResumeSubscription(ctx, c.SubscriptionID, c.ID)
		case donations.ChangeAmount:
			var pence int64
			if pence, err = ToPence(c.NewAmount); err == nil {
				err = w.Manager.ChangeAmount(ctx, c.SubscriptionID, pence, c.ID)
			}
		case donations.ChangeCard:
			// The request holds the setup intent until its card is known; the card is
			// recorded before Stripe is asked, so the confirming event finds it.
			pm = c.PaymentMethodID
			if strings.HasPrefix(pm, "seti_") {
				if pm, err = w.Manager.CardOf(ctx, pm); err == nil {
					err = donations.RecordCard(ctx, w.Store, c.ID, pm)
				}
			}
			if err == nil {
				err = w.Manager.UseCard(ctx, c.SubscriptionID, pm, c.ID)
			}
		}
		if err != nil {
			w.Log.Error("a monthly gift change is not yet made at Stripe; will retry", "request", c.ID, "kind", c.Kind, "err", err)
		}
		return pm, err
	})
}

func manageActor(c donations.PendingChange) string {
	if c.Reason != "" {
		return "charity (" + c.Reason + ")"
	}
	return "donor"
}

// ManageWorker is the worker for this handler's provider (Stripe, or the sandbox), or
// nil when it cannot make changes.
func (h *Webhooks) ManageWorker() *ManageWorker {
	m, ok := h.Subscriptions.(SubscriptionManager)
	if !ok {
		return nil
	}
	return &ManageWorker{Store: h.store, Manager: m, Log: h.log}
}

// Manager is the handler's SubscriptionManager, or nil.
func (h *Webhooks) Manager() SubscriptionManager {
	m, _ := h.Subscriptions.(SubscriptionManager)
	return m
}

// confirmSubscription records what a subscription event says of a managed gift (called by
// applySubscription once the event is known not to be older than the gift's state).
func confirmSubscription(ctx context.Context, tx pgx.Tx, ev event, d donations.Donation, sub *stripe.Subscription, now time.Time) error {
	st := donations.StripeState{Ended: ev.Type == "customer.subscription.deleted" || sub.Status == stripe.SubscriptionStatusCanceled}
	if sub.PauseCollection != nil && sub.PauseCollection.ResumesAt > 0 {
		t := time.Unix(sub.PauseCollection.ResumesAt, 0)
		st.PausedUntil = &t
	}
	if sub.Items != nil && len(sub.Items.Data) > 0 && sub.Items.Data[0].Price != nil {
		st.AmountPence = sub.Items.Data[0].Price.UnitAmount
	}
	if sub.DefaultPaymentMethod != nil {
		st.PaymentMethod = sub.DefaultPaymentMethod.ID
	}
	if sub.CancellationDetails != nil {
		st.CancelReason = string(sub.CancellationDetails.Reason)
	}
	return donations.Confirm(ctx, tx, now, d, st)
}

// applyCardSetup records a finished card update's Checkout session (mode setup).
func applyCardSetup(ctx context.Context, tx pgx.Tx, s *stripe.CheckoutSession, now time.Time) (string, error) {
	if s.Status != stripe.CheckoutSessionStatusComplete || s.SetupIntent == nil {
		return "ignored", nil
	}
	err := donations.CardSaved(ctx, tx, now, s.ID, s.SetupIntent.ID)
	if errors.Is(err, campaigns.ErrNotFound) {
		return "ignored", nil
	}
	if err != nil {
		return "", err
	}
	return "applied", nil
}
