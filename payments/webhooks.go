package payments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"giving/campaigns"
)

// MaxWebhookBody caps what the webhook reads; Stripe's events are a few KiB.
const MaxWebhookBody = 1 << 20

// Webhooks receives Stripe's events: it verifies the signature on the raw body, stores each
// event once by id, applies it in the same transaction, and answers 2xx only once that
// transaction has committed. A database it cannot reach gets 503, so Stripe retries.
type Webhooks struct {
	store   *campaigns.Store
	secrets []string
	live    bool
	log     *slog.Logger
	metrics *Metrics
	// Tolerance for the signature timestamp; 0 means stripe-go's default of 300 s.
	Tolerance time.Duration
	// Balance fetches fees that events name only by balance transaction id (nil: the
	// sandbox, whose events carry them).
	Balance BalanceLookup
}

// NewWebhooks builds the handler. secrets holds every accepted signing secret (two while
// one is being rolled); live is the mode of the configured key.
func NewWebhooks(store *campaigns.Store, secrets []string, live bool, log *slog.Logger, m *Metrics) *Webhooks {
	return &Webhooks{store: store, secrets: secrets, live: live, log: log, metrics: m}
}

func (h *Webhooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.metrics.received("unknown", "too_large")
			http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read body", http.StatusBadRequest)
		return
	}
	if !h.verify(body, r.Header.Get("Stripe-Signature")) {
		h.metrics.SignatureFailures.Inc()
		h.log.Warn("webhook signature rejected", "remote", r.RemoteAddr, "has_header", r.Header.Get("Stripe-Signature") != "")
		http.Error(w, "invalid signature", http.StatusBadRequest)
		return
	}
	ev, parseErr := parseEvent(body)
	outcome, err := h.storeAndApply(r.Context(), ev, body, parseErr)
	if err != nil {
		h.metrics.received(ev.typ(), "retry")
		h.log.Error("webhook not stored: asking Stripe to retry", "event", ev.ID, "type", ev.typ(), "err", err)
		http.Error(w, "temporarily unable to record the event; please retry", http.StatusServiceUnavailable)
		return
	}
	h.metrics.received(ev.typ(), outcome)
	if outcome == "applied" || outcome == "deferred" || outcome == "unmatched" {
		h.learnFee(r.Context(), ev)
	}
	h.metrics.Latency.Observe(time.Since(start).Seconds())
	h.metrics.LastEvent.SetToCurrentTime()
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"received":true,"outcome":%q}`+"\n", outcome)
}

// verify checks the signature against each configured secret. The payload is not parsed
// here, so a validly signed but malformed body is still stored for review.
func (h *Webhooks) verify(body []byte, header string) bool {
	if header == "" {
		return false
	}
	tolerance := h.Tolerance
	if tolerance == 0 {
		tolerance = webhook.DefaultTolerance
	}
	for _, s := range h.secrets {
		if webhook.ValidatePayloadWithTolerance(body, header, s, tolerance) == nil {
			return true
		}
	}
	return false
}

// event is a verified Stripe event; ID is synthesised for a body that is not JSON.
type event struct {
	stripe.Event
}

func (e event) typ() string {
	if e.Type == "" {
		return "malformed"
	}
	return string(e.Type)
}

func parseEvent(body []byte) (event, error) {
	var e event
	err := json.Unmarshal(body, &e.Event)
	if err == nil && (e.ID == "" || e.Type == "" || e.Data == nil) {
		err = errors.New("event lacks id, type or data")
	}
	if err != nil {
		sum := sha256.Sum256(body)
		return event{Event: stripe.Event{ID: "malformed_" + hex.EncodeToString(sum[:12])}}, err
	}
	return e, nil
}

// receive stores a verified event once and applies it in the same transaction. It returns
// the outcome recorded ("applied", "duplicate", "deferred", "unmatched", "ignored",
// "malformed", "wrong_mode", "error"); an error means nothing durable happened.
func receive(ctx context.Context, tx pgx.Tx, ev event, body []byte, parseErr error, h *Webhooks) (string, error) {
	created := time.Unix(ev.Created, 0)
	if ev.Created == 0 {
		created = time.Now()
	}
	tag, err := tx.Exec(ctx, `INSERT INTO stripe_events (id, type, api_version, livemode, created, payload)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
		ev.ID, ev.typ(), ev.APIVersion, ev.Livemode, created, body)
	if err != nil {
		return "", fmt.Errorf("store event: %w", err)
	}
	if tag.RowsAffected() == 0 {
		h.metrics.Duplicates.Inc()
		return "duplicate", nil
	}
	outcome, detail := "applied", ""
	switch {
	case parseErr != nil:
		outcome, detail = "malformed", parseErr.Error()
		h.log.Warn("webhook body is signed but malformed: stored for review", "event", ev.ID, "err", parseErr)
	case ev.Livemode != h.live:
		outcome, detail = "wrong_mode", fmt.Sprintf("event livemode=%v but the configured key's is %v", ev.Livemode, h.live)
		h.log.Error("webhook from the wrong Stripe mode: stored, not applied", "event", ev.ID)
	default:
		if ev.APIVersion != stripe.APIVersion {
			// The fields read here are stable across versions, so the event is still applied;
			// but the endpoint should be re-created pinned to our version.
			h.metrics.VersionMismatches.Inc()
			h.log.Error("webhook API version mismatch: re-create the endpoint with 'giving stripe register-webhook'",
				"event", ev.ID, "event_version", ev.APIVersion, "expected", stripe.APIVersion)
		}
		outcome, detail, err = applyInSavepoint(ctx, tx, ev, h)
		if err != nil {
			return "", err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE stripe_events SET outcome = $2, detail = $3,
		applied_at = CASE WHEN $2 IN ('applied', 'unmatched', 'ignored') THEN now() END WHERE id = $1`,
		ev.ID, outcome, detail); err != nil {
		return "", fmt.Errorf("mark event: %w", err)
	}
	return outcome, nil
}

// applyInSavepoint applies the event; a failure that retrying cannot cure (a shape we do
// not understand) rolls back only the application and leaves the event stored as "error"
// for review, while a database failure aborts everything so Stripe retries.
func applyInSavepoint(ctx context.Context, tx pgx.Tx, ev event, h *Webhooks) (string, string, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return "", "", err
	}
	outcome, err := apply(ctx, sp, ev)
	if err == nil {
		if err := sp.Commit(ctx); err != nil {
			return "", "", err
		}
		return outcome, "", nil
	}
	_ = sp.Rollback(ctx)
	var bad *badEventError
	if errors.As(err, &bad) {
		h.log.Error("webhook could not be applied: stored for review", "event", ev.ID, "type", ev.Type, "err", err)
		return "error", err.Error(), nil
	}
	return "", "", err
}

// badEventError is a problem with the event itself; retrying will not help.
type badEventError struct{ err error }

func (e *badEventError) Error() string { return e.err.Error() }
func (e *badEventError) Unwrap() error { return e.err }

func badEvent(format string, args ...any) error {
	return &badEventError{fmt.Errorf(format, args...)}
}
