package payments

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the webhook's operational signals, defined in this one place.
type Metrics struct {
	Events     *prometheus.CounterVec
	Latency    prometheus.Histogram
	Duplicates prometheus.Counter
	// SignatureFailures counts refused requests by reason (missing, malformed, stale,
	// mismatch): anyone can send these. SignatureFailuresFromStripe counts those Stripe
	// confirmed it sent (sigcheck.go): the endpoint's secret or the clock is wrong.
	SignatureFailures           *prometheus.CounterVec
	SignatureFailuresFromStripe prometheus.Counter
	VersionMismatches           prometheus.Counter
	// Retries counts transactions retried after a deadlock or serialization failure.
	Retries prometheus.Counter
	// Applied counts queued events applied, by outcome; ApplyLag is the time from
	// storing an event to applying it (inline: milliseconds; under load: the backlog).
	Applied  *prometheus.CounterVec
	ApplyLag prometheus.Histogram
	// Gathered is how many deliveries each gathered INSERT stored together (gather.go):
	// it grows with a burst.
	Gathered prometheus.Histogram
	// ApplyFailures counts failed applies by what became of the event: "later" (tried
	// again after a backoff), "error" (set aside after its tries, or wrong in itself) and
	// "review" (its data cannot be true for this charity).
	ApplyFailures *prometheus.CounterVec
	// LastEvent lets an alert fire when webhooks stop arriving.
	LastEvent prometheus.Gauge
	// SubscriptionCancels counts attempts to cancel a disputed monthly gift at Stripe, by
	// outcome ("cancelled" or "retry"): a growing "retry" means a donor may be charged again.
	SubscriptionCancels *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them on reg (nil: unregistered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "giving_webhook_events_total",
			Help: "Stripe events received, by type and outcome."}, []string{"type", "outcome"}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "giving_webhook_processing_seconds",
			Help: "Time to answer one webhook delivery: verify, store, and apply when a slot is free.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		Applied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "giving_webhook_applied_total",
			Help: "Stored Stripe events applied to the ledger, by outcome."}, []string{"outcome"}),
		ApplyFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "giving_webhook_apply_failures_total",
			Help: "Failed applies of stored Stripe events, by result: later (tried again after a backoff), error or review (set aside for a person)."}, []string{"result"}),
		ApplyLag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "giving_webhook_apply_lag_seconds",
			Help: "Time from storing a Stripe event to applying it.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		Gathered: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "giving_webhook_gathered_deliveries",
			Help: "Webhook deliveries stored together with one INSERT while the service was busy.", Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512}}),
		Duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "giving_webhook_duplicates_total",
			Help: "Stripe events delivered again after they were stored."}),
		SignatureFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "giving_webhook_signature_failures_total",
			Help: "Webhook requests refused for their signature, by reason: missing, malformed, stale or mismatch. Anyone can send these."}, []string{"reason"}),
		SignatureFailuresFromStripe: prometheus.NewCounter(prometheus.CounterOpts{Name: "giving_webhook_signature_failures_from_stripe_total",
			Help: "Refused webhook requests naming an event Stripe confirms exists: Stripe's own deliveries fail (secret rotated, or the clock is off)."}),
		VersionMismatches: prometheus.NewCounter(prometheus.CounterOpts{Name: "giving_webhook_api_version_mismatches_total",
			Help: "Events whose api_version is not the pinned 2023-10-16: the endpoint needs re-creating."}),
		Retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "giving_webhook_tx_retries_total",
			Help: "Event transactions tried again after a deadlock or serialization failure."}),
		LastEvent: prometheus.NewGauge(prometheus.GaugeOpts{Name: "giving_webhook_last_event_timestamp_seconds",
			Help: "Unix time of the last event stored."}),
		SubscriptionCancels: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "giving_subscription_cancels_total",
			Help: "Attempts to cancel a disputed monthly gift's subscription at Stripe, by outcome."}, []string{"outcome"}),
	}
	for _, r := range []string{"later", "error", "review"} {
		m.ApplyFailures.WithLabelValues(r) // every series exists from the first scrape
	}
	for _, r := range sigReasons {
		m.SignatureFailures.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.Events, m.Latency, m.Duplicates, m.SignatureFailures, m.VersionMismatches, m.Retries, m.LastEvent, m.Applied, m.ApplyLag, m.Gathered,
			m.SubscriptionCancels, m.ApplyFailures, m.SignatureFailuresFromStripe)
	}
	return m
}

// known event types keep the type label bounded whatever a sender puts in it.
var knownTypes = map[string]bool{
	"checkout.session.completed": true, "checkout.session.async_payment_succeeded": true,
	"checkout.session.async_payment_failed": true, "checkout.session.expired": true,
	"invoice.paid": true, "invoice.payment_failed": true, "customer.subscription.updated": true,
	"customer.subscription.deleted": true, "charge.refunded": true, "charge.succeeded": true,
	"charge.updated": true, "charge.dispute.created": true, "charge.dispute.closed": true,
	"payout.paid": true,
}

func (m *Metrics) received(typ, outcome string) {
	if !knownTypes[typ] {
		typ = "other"
	}
	m.Events.WithLabelValues(typ, outcome).Inc()
}
