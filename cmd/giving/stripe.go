package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"giving/payments"
)

func cmdStripe(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "register-webhook" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(stdout, "Usage: giving stripe register-webhook [--url URL]")
			return nil
		}
		return usageError{"usage: giving stripe register-webhook [--url URL]"}
	}
	fs := newFlags("stripe register-webhook", "stripe register-webhook [--url URL]", `Creates the Stripe webhook endpoint for this service, pinned to API version
`+payments.PinnedAPIVersion()+` (the version stripe-go v76 verifies; events of any other version are
refused by the library), subscribed to exactly the events the service applies. Prints the
endpoint id and its signing secret once: put the secret in STRIPE_WEBHOOK_SECRET.
Needs STRIPE_SECRET_KEY (and honours STRIPE_API_BASE).`, stdout)
	url := fs.String("url", "", "the endpoint URL (default BASE_URL + /webhooks/stripe)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig(env, needs{})
	if err != nil {
		return err
	}
	if cfg.StripeKey == "" {
		return fmt.Errorf("STRIPE_SECRET_KEY is not set: register-webhook talks to Stripe")
	}
	target := *url
	if target == "" {
		if cfg.BaseURL == nil {
			return fmt.Errorf("BASE_URL is not set: give --url or BASE_URL so Stripe knows where to send events")
		}
		target = cfg.BaseURL.String() + "/webhooks/stripe"
	}
	api := payments.NewStripeClient(cfg.StripeKey, cfg.StripeAPIBase, &http.Client{Timeout: 30 * time.Second})
	ep, err := payments.RegisterWebhook(ctx, api, target)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "stripe: created webhook endpoint %s for %s (API version %s)\n", ep.ID, ep.URL, ep.APIVersion)
	if ep.Secret != "" {
		fmt.Fprintf(stdout, "stripe: set STRIPE_WEBHOOK_SECRET=%s (shown once)\n", ep.Secret)
	}
	return nil
}
