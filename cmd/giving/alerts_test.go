package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
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

// checkAlertRules checks the shipped alerting rules against a scrape of a running service:
// an alert on a metric the service does not expose would never fire, so every metric
// named must be on /metrics from the first scrape, and each rule must say how urgent it
// is and what to do.
func checkAlertRules(t *testing.T, scrape string) {
	t.Helper()
	b, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
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
