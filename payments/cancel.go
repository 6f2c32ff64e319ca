package payments

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"giving/campaigns"
)

// SubscriptionCanceller ends a monthly gift's subscription at the payment provider. attempt
// counts from 1 for each subscription; it is part of Stripe's idempotency key.
type SubscriptionCanceller interface {
	CancelSubscription(ctx context.Context, subscriptionID, reason string, attempt int) error
}

// StripeSubscriptions cancels through Stripe's API.
type StripeSubscriptions struct{ API *client.API }

// CancelSubscription cancels at once (no proration, no final invoice: a disputed card is
// not to be charged again). The idempotency key names the attempt, because Stripe replays
// a stored error for a reused key for a day; a cancellation that did happen but whose
// answer was lost is found on the next attempt by reading the subscription back.
func (s StripeSubscriptions) CancelSubscription(ctx context.Context, id, reason string, attempt int) error {
	p := &stripe.SubscriptionCancelParams{
		CancellationDetails: &stripe.SubscriptionCancelCancellationDetailsParams{Comment: stripe.String(reason)},
	}
	p.Context = ctx
	p.SetIdempotencyKey("cancel-subscription:" + id + ":" + strconv.Itoa(attempt))
	_, err := s.API.Subscriptions.Cancel(id, p)
	if err == nil {
		return nil
	}
	// Already cancelled (by the donor, in Stripe's dashboard, or by an earlier attempt):
	// Stripe refuses to cancel it again, and there is nothing left to do.
	g := &stripe.SubscriptionParams{}
	g.Context = ctx
	if sub, gerr := s.API.Subscriptions.Get(id, g); gerr == nil && sub.Status == stripe.SubscriptionStatusCanceled {
		return nil
	}
	return fmt.Errorf("cancel subscription %s at Stripe: %w", id, err)
}

// cancelInterval is how often the queue of subscriptions to cancel is looked at; disputes
// are rare, and a monthly charge is weeks away.
const cancelInterval = 5 * time.Second

// CancelSubscriptions cancels at the provider every subscription that is due (queued by a
// dispute, or due for a retry), one at a time, and returns how many it tried. Without a
// canceller (a test that sets none) it leaves them queued.
func (h *Webhooks) CancelSubscriptions(ctx context.Context) (int, error) {
	if h.Subscriptions == nil {
		return 0, nil
	}
	return h.store.CancelDue(ctx, func(ctx context.Context, c campaigns.SubscriptionCancel) error {
		// Bounded well under campaigns.CancelLease, so no other worker takes the row meanwhile.
		callCtx, stop := context.WithTimeout(ctx, 30*time.Second)
		defer stop()
		err := h.Subscriptions.CancelSubscription(callCtx, c.SubscriptionID, c.Reason, c.Attempts)
		if err != nil {
			h.metrics.SubscriptionCancels.WithLabelValues("retry").Inc()
			h.log.Error("a disputed monthly gift is not yet cancelled at Stripe; will retry",
				"subscription", c.SubscriptionID, "donation", c.DonationID, "attempt", c.Attempts, "err", err)
			return err
		}
		h.metrics.SubscriptionCancels.WithLabelValues("cancelled").Inc()
		h.log.Info("cancelled a disputed monthly gift at Stripe", "subscription", c.SubscriptionID, "donation", c.DonationID)
		return nil
	})
}

// runCancels calls CancelSubscriptions every cancelInterval until ctx ends.
func (h *Webhooks) runCancels(ctx context.Context) {
	tick := time.NewTicker(cancelInterval)
	defer tick.Stop()
	for {
		if _, err := h.CancelSubscriptions(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("cancelling subscriptions paused; will try again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
