package payments_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"giving/payments"
)

// The question that decides whether a refused delivery came from Stripe: Stripe's answer
// for an event it has, for one it does not (404 resource_missing), and when it cannot
// answer (which must not count either way).
func TestStripeEventsAsksStripe(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/events/evt_known":
			_, _ = w.Write([]byte(`{"id": "evt_known", "object": "event", "type": "charge.succeeded", "data": {"object": {}}}`))
		case "/v1/events/evt_unknown":
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error": {"code": "resource_missing", "message": "No such event: 'evt_unknown'", "param": "id", "type": "invalid_request_error"}}`))
		default:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"error": {"message": "try later", "type": "api_error"}}`))
		}
	}))
	t.Cleanup(srv.Close)
	ev := payments.StripeEvents{API: payments.NewStripeClient("sk_test_madeup_123", srv.URL, srv.Client())}
	ctx := context.Background()
	if ok, err := ev.EventExists(ctx, "evt_known"); !ok || err != nil {
		t.Errorf("known event: %v %v", ok, err)
	}
	if ok, err := ev.EventExists(ctx, "evt_unknown"); ok || err != nil {
		t.Errorf("unknown event: %v %v", ok, err)
	}
	if ok, err := ev.EventExists(ctx, "evt_down"); ok || err == nil {
		t.Errorf("Stripe failing: %v %v, want an error", ok, err)
	}
}
