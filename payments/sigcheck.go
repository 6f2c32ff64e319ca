package payments

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"giving/campaigns"
)

// Why a webhook request's signature was refused: the reason label of
// giving_webhook_signature_failures_total.
//
// Anyone on the internet can send any of these, so none of them alone says Stripe's
// deliveries are failing. What a stranger cannot do is name an event that exists in this
// Stripe account: a refused request (a well-formed signature that does not match, or a
// stale one) whose body names such an event was sent by Stripe, signed with a secret this
// service does not hold (the endpoint's secret was rotated) or at a time its clock
// disagrees with. Only those are counted in giving_webhook_signature_failures_from_stripe_total,
// the signal that pages.
const (
	sigMissing   = "missing"   // no Stripe-Signature header
	sigMalformed = "malformed" // not "t=<unix time>,v1=<64 hex digits>"
	sigStale     = "stale"     // well formed, timestamp outside the tolerance
	sigMismatch  = "mismatch"  // well formed and fresh, signed with no secret configured here
)

var sigReasons = []string{sigMissing, sigMalformed, sigStale, sigMismatch}

// wellFormedSignature reports whether a Stripe-Signature header has the shape Stripe sends:
// a unix timestamp and at least one v1 HMAC-SHA256 (64 hex digits).
func wellFormedSignature(header string) bool {
	var t, v1 bool
	for _, pair := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return false
		}
		switch k {
		case "t":
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return false
			}
			t = true
		case "v1":
			v1 = v1 || (len(v) == 64 && isHex(v))
		}
	}
	return t && v1
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// EventLookup asks Stripe whether an event exists in this account.
type EventLookup interface {
	EventExists(ctx context.Context, id string) (bool, error)
}

// StripeEvents asks Stripe's API.
type StripeEvents struct{ API *client.API }

// EventExists is true when Stripe has the event, false when Stripe says there is no such
// event, and an error when Stripe could not be asked.
func (s StripeEvents) EventExists(ctx context.Context, id string) (bool, error) {
	p := &stripe.EventParams{}
	p.Context = ctx
	_, err := s.API.Events.Get(id, p)
	var se *stripe.Error
	if errors.As(err, &se) && (se.HTTPStatusCode == http.StatusNotFound || se.Code == stripe.ErrorCodeResourceMissing) {
		return false, nil
	}
	return err == nil, err
}

// sigLookupEvery spaces the questions to Stripe: at most one refused request every 10 s is
// looked up, one at a time, so a flood of forged requests costs Stripe's API (and the
// service) nothing more. Stripe retries a failing delivery for three days, so one answer in
// ten seconds is plenty to notice it.
const sigLookupEvery = 10 * time.Second

// askStripe queues a River job that looks up the event a refused request names
// (SignatureCheckWorker), at most once every SignatureLookupEvery. Without Events (the
// sandbox) or a store it does nothing. ctx is the request's: the job is in the database
// before the request is answered.
func (h *Webhooks) askStripe(ctx context.Context, body []byte, reason string) {
	every := h.SignatureLookupEvery
	if every <= 0 {
		every = sigLookupEvery
	}
	now := h.now().UnixNano()
	last := h.lastLookup.Load()
	if h.Events == nil || h.store == nil || now-last < int64(every) {
		return // checked before reading the body, so a flood costs no parsing either
	}
	id := unverifiedEventID(body)
	if id == "" || !h.lastLookup.CompareAndSwap(last, now) {
		return
	}
	err := h.store.InTx(ctx, func(tx pgx.Tx) error {
		return campaigns.InsertJob(ctx, tx, SignatureCheckJob{EventID: id, Reason: reason})
	})
	if err != nil {
		h.log.Warn("could not queue the question to Stripe about a refused webhook", "event", id, "err", err)
	}
}

// SignatureCheckJob asks Stripe whether the event a refused webhook request named exists.
type SignatureCheckJob struct {
	EventID string `json:"event_id"`
	Reason  string `json:"reason"` // stale or mismatch
}

func (SignatureCheckJob) Kind() string { return "check_refused_webhook" }

// InsertOpts: one question per event while it waits; two tries, since the next refused
// delivery of a real event asks again anyway.
func (SignatureCheckJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: campaigns.JobQueueStripe, MaxAttempts: 2, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// SignatureCheckWorker counts a refused delivery as a failure from Stripe's side when Stripe
// has the event it names: the signal that pages (the endpoint's secret was rotated, or the
// clock is wrong).
type SignatureCheckWorker struct {
	river.WorkerDefaults[SignatureCheckJob]
	Events  EventLookup
	Log     *slog.Logger
	Metrics *Metrics
}

func (w *SignatureCheckWorker) Timeout(*river.Job[SignatureCheckJob]) time.Duration {
	return 10 * time.Second
}

func (w *SignatureCheckWorker) Work(ctx context.Context, job *river.Job[SignatureCheckJob]) error {
	ok, err := w.Events.EventExists(ctx, job.Args.EventID)
	switch {
	case err != nil:
		w.Log.Warn("could not ask Stripe about the event a refused webhook names", "event", job.Args.EventID, "err", err)
		return err
	case ok:
		w.Metrics.SignatureFailuresFromStripe.Inc()
		w.Log.Error("Stripe's own webhook delivery failed the signature check: set STRIPE_WEBHOOK_SECRET to the endpoint's signing secret (and check the clock)",
			"event", job.Args.EventID, "reason", job.Args.Reason)
	}
	return nil
}

// SignatureCheckWorker is the worker for this handler's lookups, or nil without Events.
func (h *Webhooks) SignatureCheckWorker() *SignatureCheckWorker {
	if h.Events == nil {
		return nil
	}
	return &SignatureCheckWorker{Events: h.Events, Log: h.log, Metrics: h.metrics}
}

// unverifiedEventID reads the event id a refused body claims, if it looks like one
// ("evt_" and letters or digits).
func unverifiedEventID(body []byte) string {
	ev, err := parseEvent(body)
	if err != nil || !strings.HasPrefix(ev.ID, "evt_") || len(ev.ID) > 255 {
		return ""
	}
	for _, c := range ev.ID[4:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_') {
			return ""
		}
	}
	return ev.ID
}
