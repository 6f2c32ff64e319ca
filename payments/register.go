package payments

import (
	"context"
	"fmt"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// PinnedAPIVersion is the Stripe API version stripe-go v76 speaks and verifies.
func PinnedAPIVersion() string { return stripe.APIVersion }

// HandledEvents are the event types the webhook applies; the endpoint subscribes to these.
var HandledEvents = []string{
	"checkout.session.completed", "checkout.session.async_payment_succeeded",
	"checkout.session.async_payment_failed", "checkout.session.expired",
	"invoice.paid", "invoice.payment_failed",
	"customer.subscription.updated", "customer.subscription.deleted",
	"charge.succeeded", "charge.refunded", "charge.dispute.created", "charge.dispute.closed",
	"payout.paid",
}

// WebhookEndpointParams is the exact registration request: pinned to our API version, or
// every event would be refused by the library.
func WebhookEndpointParams(ctx context.Context, url string) *stripe.WebhookEndpointParams {
	p := &stripe.WebhookEndpointParams{
		URL:           stripe.String(url),
		APIVersion:    stripe.String(stripe.APIVersion),
		EnabledEvents: stripe.StringSlice(HandledEvents),
		Description:   stripe.String("Giving: donations and fundraising"),
	}
	p.Context = ctx
	return p
}

// RegisterWebhook creates the endpoint.
func RegisterWebhook(ctx context.Context, api *client.API, url string) (*stripe.WebhookEndpoint, error) {
	ep, err := api.WebhookEndpoints.New(WebhookEndpointParams(ctx, url))
	if err != nil {
		return nil, fmt.Errorf("register webhook endpoint: %w", err)
	}
	return ep, nil
}
