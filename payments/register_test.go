package payments_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"giving/payments"
	"giving/payments/paymentstest"
)

func TestRegisterWebhookPinsTheAPIVersion(t *testing.T) {
	t.Parallel()
	p := payments.WebhookEndpointParams(context.Background(), "https://give.example.org/webhooks/stripe")
	if p.APIVersion == nil || *p.APIVersion != "2023-10-16" || stripe.APIVersion != "2023-10-16" {
		t.Fatalf("endpoint api_version = %v, want 2023-10-16", p.APIVersion)
	}
	if len(p.EnabledEvents) != len(payments.HandledEvents) {
		t.Fatalf("enabled events %d, want %d", len(p.EnabledEvents), len(payments.HandledEvents))
	}
	// stripe-mock validates the request against the 2023-10-16 spec: every event name and
	// parameter must exist there.
	api := payments.NewStripeClient("sk_test_123", paymentstest.StripeMockURL(t), &http.Client{Timeout: 10 * time.Second})
	ep, err := payments.RegisterWebhook(context.Background(), api, "https://give.example.org/webhooks/stripe")
	if err != nil {
		t.Fatalf("stripe-mock refused the registration: %v", err)
	}
	if ep.ID == "" {
		t.Fatal("no endpoint id returned")
	}
}
