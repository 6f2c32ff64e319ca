package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"
	"go.yaml.in/yaml/v3"

	"giving/campaigns/testwait"
	"giving/payments"
)

// alertRules is the shape of a Prometheus rule file, as much as these checks read.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// metricName finds the service's own metric names in a PromQL expression.
var metricName = regexp.MustCompile(`\b(?:giving|process|go)_[a-z0-9_]+\b`)

// readAlertRules reads the shipped alerting rules.
func readAlertRules(t *testing.T) alertRules {
	t.Helper()
	b, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	return rules
}

// checkAlertRules checks the shipped alerting rules against a scrape of a running service:
// an alert on a metric the service does not expose would never fire, so every metric
// named must be on /metrics from the first scrape, and each rule must say how urgent it
// is and what to do.
func checkAlertRules(t *testing.T, scrape string) {
	t.Helper()
	rules := readAlertRules(t)
	exposed := map[string]bool{}
	for _, line := range strings.Split(scrape, "\n") {
		if name, _, ok := strings.Cut(line, " "); ok && !strings.HasPrefix(line, "#") {
			name, _, _ = strings.Cut(name, "{")
			exposed[name] = true
		}
	}
	seen := map[string]bool{}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || seen[r.Alert] {
				t.Errorf("rule %d in %s: alert name %q empty or repeated", n, g.Name, r.Alert)
			}
			seen[r.Alert] = true
			if s := r.Labels["severity"]; s != "page" && s != "ticket" {
				t.Errorf("%s: severity %q, want page or ticket", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs a summary and a description saying what to do", r.Alert)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") {
				t.Errorf("%s: unbalanced parentheses in %q", r.Alert, r.Expr)
			}
			for _, m := range metricName.FindAllString(r.Expr, -1) {
				if !exposed[m] {
					t.Errorf("%s: expression uses %s, which the service does not expose", r.Alert, m)
				}
			}
		}
	}
	if n < 8 {
		t.Errorf("alerts.yml has %d rules", n)
	}
}

// stripeHas stands in for Stripe's API: it knows the events in ids and counts questions.
type stripeHas struct {
	ids   map[string]bool
	asked atomic.Int64
}

func (s *stripeHas) EventExists(_ context.Context, id string) (bool, error) {
	defer s.asked.Add(1)
	return s.ids[id], nil
}

// Anyone on the internet can post to /webhooks/stripe: unsigned, with a garbage header,
// with a well-formed signature made up or stale. None of that may move a series a paging
// alert watches. A delivery Stripe really sent (an event Stripe has) that fails the check,
// because the endpoint's secret was rotated, must.
func TestSignatureAlertPagesOnlyOnStripesFailures(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	stripe := &stripeHas{ids: map[string]bool{"evt_1RealFromStripe": true}}
	store, pool, _ := seededStore(t, map[string]string{})
	hooks := payments.NewWebhooks(store, []string{"whsec_test_current_madeup"}, false,
		slog.New(slog.NewTextHandler(io.Discard, nil)), payments.NewMetrics(reg))
	hooks.Events, hooks.SignatureLookupEvery = stripe, time.Nanosecond
	srv := httptest.NewServer(hooks)
	t.Cleanup(srv.Close)
	// The lookups are River jobs, worked here as the service works them.
	workers := river.NewWorkers()
	river.AddWorker(workers, hooks.SignatureCheckWorker())
	jobs, err := store.NewJobClient(pool, nil, workers)
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = jobs.Stop(context.Background()) })
	post := func(body []byte, header string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		if header != "" {
			req.Header.Set("Stripe-Signature", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("refused signature answered %d", resp.StatusCode)
		}
	}
	event := func(id string) []byte {
		return payments.EventBuilder{}.WithEventID(id).CheckoutSessionExpired("cs_x", 500, payments.Meta{})
	}
	for i := range 6 {
		forged := event(fmt.Sprintf("evt_forged%d", i))
		post(forged, "")
		post(forged, "t=abc,v1=zzz")
		post(forged, payments.SignPayload(forged, "whsec_guessed", time.Now()))
		post(forged, payments.SignPayload(forged, "whsec_test_current_madeup", time.Now().Add(-time.Hour)))
	}
	// Each well-formed one was looked up (and Stripe has none of them).
	testwait.Eventually(t, "the forged events looked up", func() bool { return stripe.asked.Load() == 12 })
	scrape := scrapeRegistry(t, reg)
	for _, want := range []string{`reason="missing"} 6`, `reason="malformed"} 6`, `reason="mismatch"} 6`, `reason="stale"} 6`} {
		if !strings.Contains(scrape, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	for rule, v := range pagingSignatureSeries(t, scrape) {
		if v != 0 {
			t.Errorf("%s pages after strangers' requests: its series sum to %v", rule, v)
		}
	}

	// The endpoint's secret was rotated in Stripe's dashboard but not here.
	genuine := event("evt_1RealFromStripe")
	post(genuine, payments.SignPayload(genuine, "whsec_test_rotated_madeup", time.Now()))
	testwait.Eventually(t, "Stripe's failing delivery counted", func() bool {
		for _, v := range pagingSignatureSeries(t, scrapeRegistry(t, reg)) {
			if v > 0 {
				return true
			}
		}
		return false
	})
}

func scrapeRegistry(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

var (
	selector = regexp.MustCompile(`\b(giving_[a-z0-9_]+)(?:\{([^}]*)\})?`)
	matcher  = regexp.MustCompile(`(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	sample   = regexp.MustCompile(`^([a-z0-9_]+)(?:\{(.*)\})? (\S+)$`)
)

// pagingSignatureSeries returns, for each paging rule in alerts.yml about signatures, the
// sum of the scraped values of every series its expression selects: 0 means the counters
// it watches have not moved, so it cannot fire.
func pagingSignatureSeries(t *testing.T, scrape string) map[string]float64 {
	t.Helper()
	rules := readAlertRules(t)
	out := map[string]float64{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Labels["severity"] != "page" || !strings.Contains(r.Expr, "signature") {
				continue
			}
			out[r.Alert] = 0
			for _, sel := range selector.FindAllStringSubmatch(r.Expr, -1) {
				out[r.Alert] += sumSelected(t, scrape, sel[1], sel[2])
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("alerts.yml has no paging rule about webhook signatures")
	}
	return out
}

func sumSelected(t *testing.T, scrape, name, matchers string) float64 {
	t.Helper()
	sum := 0.0
	for _, line := range strings.Split(scrape, "\n") {
		m := sample.FindStringSubmatch(line)
		if m == nil || m[1] != name {
			continue
		}
		labels := map[string]string{}
		for _, l := range matcher.FindAllStringSubmatch(m[2], -1) {
			labels[l[1]] = l[3]
		}
		selected := true
		for _, c := range matcher.FindAllStringSubmatch(matchers, -1) {
			v := labels[c[1]]
			switch c[2] {
			case "=":
				selected = selected && v == c[3]
			case "!=":
				selected = selected && v != c[3]
			case "=~", "!~":
				re := regexp.MustCompile(`^(?:` + c[3] + `)$`)
				selected = selected && re.MatchString(v) == (c[2] == "=~")
			}
		}
		if selected {
			v, err := strconv.ParseFloat(m[3], 64)
			if err != nil {
				t.Fatalf("scrape line %q: %v", line, err)
			}
			sum += v
		}
	}
	return sum
}
