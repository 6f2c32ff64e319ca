package payments

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"giving/campaigns"
	"giving/campaigns/donations"
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

// cancelTimeout bounds one call to the provider.
const cancelTimeout = 30 * time.Second

// SubscriptionCancelWorker is the River worker that cancels, at the provider, the
// subscription of a disputed monthly gift (campaigns.SubscriptionCancelJob, queued with
// the dispute). River retries a failure after NextRetry, for days: a disputed card must not
// be charged again.
type SubscriptionCancelWorker struct {
	river.WorkerDefaults[donations.SubscriptionCancelJob]
	Store     *campaigns.Store
	Canceller SubscriptionCanceller
	Log       *slog.Logger
	Metrics   *Metrics
}

// Timeout leaves room to record the outcome after the provider's bounded answer.
func (w *SubscriptionCancelWorker) Timeout(*river.Job[donations.SubscriptionCancelJob]) time.Duration {
	return cancelTimeout + 30*time.Second
}

// NextRetry is campaigns.RetryBackoff after the failed attempt, on the store's clock.
func (w *SubscriptionCancelWorker) NextRetry(job *river.Job[donations.SubscriptionCancelJob]) time.Time {
	return w.Store.Now().Add(campaigns.RetryBackoff(job.Attempt))
}

func (w *SubscriptionCancelWorker) Work(ctx context.Context, job *river.Job[donations.SubscriptionCancelJob]) error {
	return donations.CancelSubscription(ctx, w.Store, job.Args.SubscriptionID, job.Attempt, cancelTimeout,
		func(ctx context.Context, c donations.SubscriptionCancel) error {
			err := w.Canceller.CancelSubscription(ctx, c.SubscriptionID, c.Reason, c.Attempts)
			if err != nil {
				w.Metrics.SubscriptionCancels.WithLabelValues("retry").Inc()
				w.Log.Error("a disputed monthly gift is not yet cancelled at Stripe; will retry",
					"subscription", c.SubscriptionID, "donation", c.DonationID, "attempt", c.Attempts, "err", err)
				return err
			}
			w.Metrics.SubscriptionCancels.WithLabelValues("cancelled").Inc()
			w.Log.Info("cancelled a disputed monthly gift at Stripe", "subscription", c.SubscriptionID, "donation", c.DonationID)
			return nil
		})
}

// SubscriptionCancelWorker is the worker for this handler's canceller (Stripe, or the
// sandbox), or nil when it has none.
func (h *Webhooks) SubscriptionCancelWorker() *SubscriptionCancelWorker {
	if h.Subscriptions == nil {
		return nil
	}
	return &SubscriptionCancelWorker{Store: h.store, Canceller: h.Subscriptions, Log: h.log, Metrics: h.metrics}
}
