package payments

import (
	"net/http"
	"strings"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// NewStripeClient builds a Stripe client with its own backends, so nothing depends on
// stripe-go's package globals (stripe.Key, the default backends): tests can run clients
// against different servers side by side.
//
// When apiBase is set (STRIPE_API_BASE, or stripe-mock in tests) the API, Connect and
// Uploads backends all point at it; otherwise each keeps Stripe's own URL. httpClient may be
// nil for stripe-go's default (80 s timeout). stripe-go's logger is silenced: every error
// is returned to the caller, who logs it once with the donation it concerns.
func NewStripeClient(secretKey, apiBase string, httpClient *http.Client) *client.API {
	// GetBackendWithConfig fills in the config it is given (the URL among other things),
	// so each backend needs a config of its own: sharing one would send uploads to the API
	// URL.
	config := func() *stripe.BackendConfig {
		c := &stripe.BackendConfig{
			HTTPClient:    httpClient,
			LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
		}
		if apiBase != "" {
			c.URL = stripe.String(strings.TrimSuffix(apiBase, "/"))
		}
		return c
	}
	api := &client.API{}
	api.Init(secretKey, &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, config()),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, config()),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, config()),
	})
	return api
}

// KeyMode tells which mode a secret key works in. No key means the offline sandbox;
// sk_live_ and rk_live_ (restricted) keys are live; sk_test_ and rk_test_ keys, and
// anything else, are test mode (Stripe itself refuses a malformed key). Only a key that is
// plainly live reports live, which is what the sandbox's refusal to run and the livemode
// check on events rely on.
func KeyMode(key string) (live bool, sandbox bool) {
	switch {
	case key == "":
		return false, true
	case strings.HasPrefix(key, "sk_live_"), strings.HasPrefix(key, "rk_live_"):
		return true, false
	default: // sk_test_, rk_test_
		return false, false
	}
}
