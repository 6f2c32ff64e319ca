package web_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"giving/campaigns/reports"
	"giving/web"
)

// gauges gathers reg and returns every gauge of the named family by its label values
// joined with ","; "" for a gauge without labels.
func gauges(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			key := ""
			for i, l := range m.GetLabel() {
				if i > 0 {
					key += ","
				}
				key += l.GetValue()
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s on /metrics", name)
	}
	return out
}

// The backlogs an operator alerts on are on /metrics, read from the database at each
// scrape, so every instance reports the same figures and a restart loses none of them.
func TestMetricsReportBacklogs(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	if _, err := web.New(web.Deps{Store: a.store, Log: slog.New(slog.DiscardHandler), Registry: reg}); err != nil {
		t.Fatal(err)
	}
	// Nothing owed yet: every figure is there, at zero, so an alert rule has a series.
	if got := gauges(t, reg, "giving_webhook_events_queued")[""]; got != 0 {
		t.Fatalf("queued = %v on an empty service", got)
	}
	review := gauges(t, reg, "giving_webhook_events_for_review")
	for _, o := range reports.ReviewOutcomes {
		if v, ok := review[o]; !ok || v != 0 {
			t.Fatalf("events for review %q = %v (present %v), want a 0 series", o, v, ok)
		}
	}

	if _, err := a.store.Pool().Exec(ctx, `
		INSERT INTO stripe_events (id, type, payload, outcome, received_at) VALUES
		  ('evt_old', 'charge.succeeded', '{}', 'queued', now() - interval '10 minutes'),
		  ('evt_new', 'charge.succeeded', '{}', 'queued', now()),
		  ('evt_bad', 'charge.refunded', '{}', 'error', now()),
		  ('evt_who', 'checkout.session.completed', '{}', 'unmatched', now()),
		  ('evt_who2', 'checkout.session.completed', '{}', 'unmatched', now()),
		  ('evt_done', 'checkout.session.completed', '{}', 'applied', now());
		INSERT INTO mail_outbox (to_address, subject, body, status) VALUES
		  ('ruby@example.org', 'Confirm your email', 'x', 'queued'),
		  ('sam@example.org', 'Reset your password', 'x', 'failed'),
		  ('ada@example.org', 'Thank you', 'x', 'sent')`); err != nil {
		t.Fatal(err)
	}
	if got := gauges(t, reg, "giving_webhook_events_queued")[""]; got != 2 {
		t.Errorf("queued = %v, want 2", got)
	}
	if got := gauges(t, reg, "giving_webhook_oldest_queued_seconds")[""]; got < 595 || got > 900 {
		t.Errorf("oldest queued = %v s, want about 600", got)
	}
	review = gauges(t, reg, "giving_webhook_events_for_review")
	if review["error"] != 1 || review["unmatched"] != 2 || review["malformed"] != 0 {
		t.Errorf("events for review %v, want error 1, unmatched 2, malformed 0", review)
	}
	if mail := gauges(t, reg, "giving_mail_outbox"); mail["queued"] != 1 || mail["failed"] != 1 || len(mail) != 2 {
		t.Errorf("mail outbox %v, want queued 1, failed 1", mail)
	}
}
