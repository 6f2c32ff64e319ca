package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/reports"
)

// httpMetrics are the HTTP and domain metrics, defined in this one place.
type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	now      func() time.Time
}

func newHTTPMetrics(reg prometheus.Registerer, store *campaigns.Store) (*httpMetrics, error) {
	m := &httpMetrics{
		now: store.Now,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "giving_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "giving_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, &appealCollector{store: store}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// instrument records every request under its route pattern (never the raw path, which
// would let visitors create unbounded label values).
func (m *httpMetrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := m.now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			route = "unmatched"
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
		m.latency.WithLabelValues(route).Observe(m.now().Sub(start).Seconds())
	})
}

// appealCollector reports, at scrape time, the appeal's totals (read from the derived
// totals, a few rows, so the figure on the dashboard and on /metrics is the same one) and
// the backlogs an operator alerts on.
type appealCollector struct{ store *campaigns.Store }

var (
	raisedDesc  = prometheus.NewDesc("giving_appeal_raised_pounds", "Money raised by appeal (net of refunds and disputes).", []string{"appeal"}, nil)
	giftsDesc   = prometheus.NewDesc("giving_appeal_gifts", "Gifts recorded in the ledger by appeal.", []string{"appeal"}, nil)
	donorsDesc  = prometheus.NewDesc("giving_appeal_donors", "Distinct donors by appeal.", []string{"appeal"}, nil)
	cancelsDesc = prometheus.NewDesc("giving_subscription_cancels_pending",
		"Disputed monthly gifts not yet confirmed cancelled at Stripe: each card may be charged again. Alert above 0 for an hour.", nil, nil)
	queuedDesc = prometheus.NewDesc("giving_webhook_events_queued",
		"Stored webhook events not yet applied to the totals (across every instance).", nil, nil)
	oldestDesc = prometheus.NewDesc("giving_webhook_oldest_queued_seconds",
		"How long the oldest stored, unapplied webhook event has waited; 0 when none. Alert when it keeps growing.", nil, nil)
	reviewDesc = prometheus.NewDesc("giving_webhook_events_for_review",
		"Stored webhook events waiting for a person, by outcome (error, malformed, wrong_mode, unmatched, deferred).", []string{"outcome"}, nil)
	mailDesc = prometheus.NewDesc("giving_mail_outbox",
		"Mail in the outbox not yet sent (queued) or given up on (failed).", []string{"status"}, nil)
)

func (c *appealCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{raisedDesc, giftsDesc, donorsDesc, cancelsDesc, queuedDesc, oldestDesc, reviewDesc, mailDesc} {
		ch <- d
	}
}

func (c *appealCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if b, err := reports.ReadBacklogs(ctx, c.store); err == nil {
		gauge := func(d *prometheus.Desc, v float64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
		}
		gauge(cancelsDesc, float64(b.SubscriptionCancelsPending))
		gauge(queuedDesc, float64(b.EventsQueued))
		gauge(oldestDesc, b.OldestQueuedSeconds)
		for _, o := range reports.ReviewOutcomes {
			gauge(reviewDesc, float64(b.EventsForReview[o]), o)
		}
		gauge(mailDesc, float64(b.MailQueued), "queued")
		gauge(mailDesc, float64(b.MailFailed), "failed")
	}
	a, err := appeals.AppealBySlug(ctx, c.store, appeals.DefaultAppealSlug)
	if err != nil {
		return
	}
	t, err := appeals.AppealTotals(ctx, c.store, a.ID)
	if err != nil {
		return
	}
	// A gauge is a float64: fine for a dashboard, never used for money decisions.
	raised, _ := t.Raised().Float64()
	ch <- prometheus.MustNewConstMetric(raisedDesc, prometheus.GaugeValue, raised, a.Slug)
	ch <- prometheus.MustNewConstMetric(giftsDesc, prometheus.GaugeValue, float64(t.Gifts), a.Slug)
	ch <- prometheus.MustNewConstMetric(donorsDesc, prometheus.GaugeValue, float64(t.Donors), a.Slug)
}
