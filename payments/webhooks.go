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
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"giving/campaigns"
	"giving/campaigns/dbq"
	"giving/campaigns/donations"
)

// MaxWebhookBody caps what the webhook reads; Stripe's events are a few KiB.
const MaxWebhookBody = 1 << 20

// Webhooks receives Stripe's events: it verifies the signature on the raw body, stores each
// event once by id, and answers 2xx only once that has committed: a lone delivery with one
// INSERT, deliveries arriving together with one INSERT for them all (gather.go). The stored
// event is the durable queue: it is applied (ledger, totals, donation) in a transaction of
// its own, inline when the service is quiet and otherwise by the appliers Run starts,
// exactly once whichever gets it first. A database it cannot reach gets 503, so Stripe
// retries.
type Webhooks struct {
	store   *campaigns.Store
	now     func() time.Time // the store's clock
	secrets []string
	live    bool
	log     *slog.Logger
	metrics *Metrics
	// Tolerance for the signature timestamp; 0 means stripe-go's default of 300 s.
	Tolerance time.Duration
	// Balance fetches fees that events name only by balance transaction id (nil: the
	// sandbox, whose events carry them).
	Balance BalanceLookup
	// Subscriptions cancels, at Stripe, the monthly gifts a dispute ended (the sandbox
	// stands in for it with a no-op: it charges no renewals). Set it before Run.
	Subscriptions SubscriptionCanceller
	// Events confirms with Stripe that a delivery refused for its signature names a real
	// event, so only failures from Stripe's side page (nil: the sandbox; see sigcheck.go).
	Events EventLookup
	// SignatureLookupEvery spaces those questions (zero: one every 10 s at most).
	SignatureLookupEvery time.Duration
	// GiftMax is the configured GIFT_MAX (zero: DefaultLimits.Max); an event carrying more
	// than AmountSanityFactor times it is stored for review, not applied (sanity.go).
	GiftMax decimal.Decimal
	// ApplyTries and ApplyBackoff bound the tries of an event that fails to apply for a
	// reason that is not transient (zero: DefaultApplyTries, DefaultApplyBackoff).
	ApplyTries   int
	ApplyBackoff time.Duration
	// GatherWait bounds how long a delivery waits for a storer to take it while the
	// service is busy (gather.go) before it is answered 503 (zero: as long as a request
	// waits for a connection, campaigns.DefaultAcquireWait).
	GatherWait time.Duration
	// MaxBatch is the most events an applier's transaction applies (zero: BatchSize); a
	// test sets it lower to have many batches meet.
	MaxBatch int
	// DonorMail writes the donor's receipts and other emails about her money, queued with
	// each money fact (donormail.go); nil sends none (replay). Set it before Run.
	DonorMail *donations.DonorMail

	// unbounded skips the amount bound: replay applies again what was applied live under
	// whatever GIFT_MAX held then.
	unbounded  bool
	lastLookup atomic.Int64  // unix nanoseconds of the last refused delivery looked up at Stripe
	inFlight   atomic.Int64  // webhook requests being served; above one, deliveries are stored together and none applies inline
	wake       chan struct{} // tells the appliers an event was left queued
	gathering  gathering     // deliveries waiting to be stored together
}

// NewWebhooks builds the handler. secrets holds every accepted signing secret (two while
// one is being rolled); live is the mode of the configured key.
func NewWebhooks(store *campaigns.Store, secrets []string, live bool, log *slog.Logger, m *Metrics) *Webhooks {
	now := campaigns.SystemClock // a handler without a store only verifies (tests)
	if store != nil {
		now = store.Now
	}
	return &Webhooks{store: store, now: now, secrets: secrets, live: live, log: log, metrics: m,
		wake: make(chan struct{}, 1)}
}

func (h *Webhooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	h.inFlight.Add(1)
	defer h.inFlight.Add(-1)
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
	if reason := h.verify(body, r.Header.Get("Stripe-Signature")); reason != "" {
		h.metrics.SignatureFailures.WithLabelValues(reason).Inc()
		h.log.Warn("webhook signature rejected", "remote", r.RemoteAddr, "reason", reason)
		if reason == sigMismatch || reason == sigStale {
			h.askStripe(r.Context(), body, reason)
		}
		http.Error(w, "invalid signature", http.StatusBadRequest)
		return
	}
	ev, parseErr := parseEvent(body)
	var outcome string
	if h.inFlight.Load() > 1 {
		outcome, err = h.storeGathered(r.Context(), ev, body, parseErr)
	} else {
		outcome, err = h.ingest(r.Context(), ev, body, parseErr)
	}
	if err != nil {
		h.metrics.received(ev.typ(), "retry")
		h.log.Error("webhook not stored: asking Stripe to retry", "event", ev.ID, "type", ev.typ(), "err", err)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "temporarily unable to record the event; please retry", http.StatusServiceUnavailable)
		return
	}
	if outcome == "queued" {
		// Durable now. Apply it here when the service is quiet, so a lone delivery
		// answers with the event's effect already in every total; under load the answer
		// goes at once and the appliers catch up.
		outcome = h.applyInline(r.Context(), ev.ID)
	}
	h.metrics.received(ev.typ(), outcome)
	h.metrics.Latency.Observe(h.now().Sub(start).Seconds())
	h.metrics.LastEvent.SetToCurrentTime()
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"received":true,"outcome":%q}`+"\n", outcome)
}

// verify checks the signature against each configured secret and returns "" when one
// matches, or why none does (sigMissing, sigMalformed, sigStale, sigMismatch). The payload
// is not parsed here, so a validly signed but malformed body is still stored for review.
func (h *Webhooks) verify(body []byte, header string) string {
	if header == "" {
		return sigMissing
	}
	if !wellFormedSignature(header) {
		return sigMalformed
	}
	tolerance := h.Tolerance
	if tolerance == 0 {
		tolerance = webhook.DefaultTolerance
	}
	reason := sigMismatch
	for _, s := range h.secrets {
		err := webhook.ValidatePayloadWithTolerance(body, header, s, tolerance)
		if err == nil {
			return ""
		}
		if errors.Is(err, webhook.ErrTooOld) {
			reason = sigStale
		}
	}
	return reason
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

// eventHead is what parseEvent reads of an event: its head, with the object left as raw
// JSON for the one decode into a typed stripe-go struct that applying it needs.
// stripe.Event's own decoding also builds the object as a map of interfaces, which
// nothing here reads and which cost most of the time and garbage of every delivery.
type eventHead struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	APIVersion string `json:"api_version"`
	Created    int64  `json:"created"`
	Livemode   bool   `json:"livemode"`
	Data       *struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// parseEvent reads an event's head, leaving its object as raw JSON. A well-formed event is
// read with gjson (fastjson.go): one check that the body is JSON, then one pass over its head
// and one over its data, in about a fifth of encoding/json's time (BenchmarkParseEvent).
// Anything the fast reading is not sure of (a field of an unexpected type, a missing one, a
// body that is not JSON) is read again by encoding/json, whose verdict, and error, stand.
func parseEvent(body []byte) (event, error) {
	if ev, ok := parseEventFast(body); ok {
		return ev, nil
	}
	return parseEventStd(body)
}

// parseEventStd reads an event's head with encoding/json.
func parseEventStd(body []byte) (event, error) {
	var env eventHead
	err := json.Unmarshal(body, &env)
	if err == nil && (env.ID == "" || env.Type == "" || env.Data == nil) {
		err = errors.New("event lacks id, type or data")
	}
	if err == nil && !isJSONObject(env.Data.Object) {
		err = errors.New("event data.object is not a JSON object")
	}
	if err != nil {
		sum := sha256.Sum256(body)
		return event{Event: stripe.Event{ID: "malformed_" + hex.EncodeToString(sum[:12])}}, err
	}
	return event{Event: stripe.Event{ID: env.ID, Type: stripe.EventType(env.Type), APIVersion: env.APIVersion,
		Created: env.Created, Livemode: env.Livemode, Data: &stripe.EventData{Raw: env.Data.Object}}}, nil
}

// isJSONObject reports whether raw, already known to be valid JSON, is an object.
func isJSONObject(raw json.RawMessage) bool {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c == '{'
	}
	return false
}

// errDuplicate means the event was already stored: the transaction that found out is
// rolled back, so a redelivery changes nothing.
var errDuplicate = errors.New("duplicate event")

// receive applies a verified event and stores it, with its outcome, as the last statement
// of the transaction: the ledger's shard rows are then locked only for that statement and
// the commit. The outcome is "applied", "deferred", "unmatched", "ignored", "malformed" or
// "wrong_mode"; errDuplicate when the event was already stored (by a concurrent
// redelivery); a *badEventError for an event that cannot be applied.
func receive(ctx context.Context, tx pgx.Tx, ev event, body []byte, parseErr error, h *Webhooks) (string, error) {
	outcome, detail := h.classify(ev, parseErr)
	deferKey := ""
	if outcome == "" {
		var err error
		if outcome, deferKey, err = applyLocked(ctx, tx, ev, true); err != nil {
			return "", err
		}
	}
	return outcome, insertEvent(ctx, tx, ev, body, outcome, detail, deferKey)
}

// classify names what becomes of an event that will not be applied: "malformed" or
// "wrong_mode" (stored for review, with the reason), or "" for one to apply.
func (h *Webhooks) classify(ev event, parseErr error) (outcome, detail string) {
	switch {
	case parseErr != nil:
		h.log.Warn("webhook body is signed but malformed: stored for review", "event", ev.ID, "err", parseErr)
		return "malformed", parseErr.Error()
	case ev.Livemode != h.live:
		h.log.Error("webhook from the wrong Stripe mode: stored, not applied", "event", ev.ID)
		return "wrong_mode", fmt.Sprintf("event livemode=%v but the configured key's is %v", ev.Livemode, h.live)
	}
	if ev.APIVersion != stripe.APIVersion {
		// The fields read here are stable across versions, so the event is still applied;
		// but the endpoint should be re-created pinned to our version.
		h.metrics.VersionMismatches.Inc()
		h.log.Error("webhook API version mismatch: re-create the endpoint with 'giving stripe register-webhook'",
			"event", ev.ID, "event_version", ev.APIVersion, "expected", stripe.APIVersion)
	}
	return "", ""
}

// applyLocked takes the payment's lock (serialising every event about one payment across
// instances) and applies ev. With checkStored, the same statement asks whether the event
// is already stored, and errDuplicate says it was.
func applyLocked(ctx context.Context, tx pgx.Tx, ev event, checkStored bool) (outcome, deferKey string, err error) {
	pi := paymentOf(ev)
	stored, err := dbq.New(tx).LockPaymentCheckStored(ctx, dbq.LockPaymentCheckStoredParams{ID: ev.ID, PaymentIntent: pi, CheckStored: checkStored})
	if err != nil {
		return "", "", err
	}
	if stored {
		return "", "", errDuplicate
	}
	return apply(context.WithValue(ctx, lockedPayment{}, pi), tx, ev)
}

func insertEvent(ctx context.Context, tx campaigns.DB, ev event, body []byte, outcome, detail, deferKey string) error {
	// An event without a creation time (never from Stripe) is dated by the transaction.
	var created *time.Time
	if ev.Created != 0 {
		t := time.Unix(ev.Created, 0)
		created = &t
	}
	n, err := dbq.New(tx).InsertStripeEvent(ctx, dbq.InsertStripeEventParams{ID: ev.ID, Type: ev.typ(), ApiVersion: ev.APIVersion,
		Livemode: ev.Livemode, Created: created, Payload: body, Outcome: outcome, Detail: detail, DeferKey: deferKey})
	if err != nil {
		return fmt.Errorf("store event: %w", err)
	}
	if n == 0 {
		return errDuplicate
	}
	return nil
}

// badEventError is a problem with the event itself; retrying will not help.
type badEventError struct{ err error }

func (e *badEventError) Error() string { return e.err.Error() }
func (e *badEventError) Unwrap() error { return e.err }

func badEvent(format string, args ...any) error {
	return &badEventError{fmt.Errorf(format, args...)}
}
