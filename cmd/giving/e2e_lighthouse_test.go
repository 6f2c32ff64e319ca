//go:build lighthouse

package main

// Lighthouse on the appeal, a fundraiser's page and a team's page: a benchmark of quality,
// not a timed test. It fails only on a score below e2eLighthouseMin in performance,
// accessibility, best practices or SEO. It is built with -tags lighthouse, which `make e2e`
// and `make lighthouse` set and `make test` does not (a Lighthouse run takes a while).

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// e2eLighthouseVersion is the npm package the runs use, kept in step with .ci/run.
const e2eLighthouseVersion = "12.2.3"

const e2eLighthouseInstall = `npm install --prefix "$HOME/.cache/giving-tools/lighthouse" lighthouse@` + e2eLighthouseVersion

// e2eLighthouseMin is the lowest score (of 100) a category may have.
const e2eLighthouseMin = 95

// e2eLighthouseCLI finds Lighthouse's command-line script: $LIGHTHOUSE_CLI, else the copy
// .ci/run installs. A machine without it, or with a Node older than Lighthouse's engine
// (>= 18.16), fails the test naming what to install.
func e2eLighthouseCLI(t *testing.T) string {
	t.Helper()
	cli := os.Getenv("LIGHTHOUSE_CLI")
	if cli == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		cli = filepath.Join(cache, "giving-tools", "lighthouse", "node_modules", "lighthouse", "cli", "index.js")
	}
	pkg, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(cli)), "package.json"))
	if err != nil || !strings.Contains(string(pkg), `"version": "`+e2eLighthouseVersion+`"`) {
		t.Fatalf("Lighthouse %s not found at %s (%v): install it with `%s` (.ci/run does), or set LIGHTHOUSE_CLI to its cli/index.js",
			e2eLighthouseVersion, cli, err, e2eLighthouseInstall)
	}
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		t.Fatalf("no node for Lighthouse: install Node.js 18.16 or later (`apt-get install -y nodejs` on Debian 12 gives 18.19): %v", err)
	}
	m := regexp.MustCompile(`^v(\d+)\.(\d+)`).FindStringSubmatch(strings.TrimSpace(string(out)))
	if m == nil {
		t.Fatalf("node --version says %q", out)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major < 18 || major == 18 && minor < 16 {
		t.Fatalf("Lighthouse %s needs Node.js 18.16 or later; this node is %s", e2eLighthouseVersion, strings.TrimSpace(string(out)))
	}
	return cli
}

// TestE2ELighthouse runs Lighthouse (its default: a phone on a throttled network, and a
// laptop) on /, a fundraiser's page and a team's page.
func TestE2ELighthouse(t *testing.T) {
	chromium := e2eChromePath(t)
	cli := e2eLighthouseCLI(t)
	site := e2eStart(t)
	e2eAddPage(t, site, "Ruby", "ruby-runs-10k", "Ruby runs the 10k", "I am running my first 10k for women rebuilding their lives after modern slavery.\n\nEvery pound helps.")
	e2eAddPage(t, site, "Sam", "sam-swims-a-mile", "Sam swims a mile", "A mile in the lake, for Freedom.")
	e2eExec(t, site, `
		INSERT INTO teams (appeal_id, slug, name, target, captain_id, join_code, created_at)
		SELECT f.appeal_id, 'office-runners', 'The Office Runners', 1500, f.owner_id, 'e2e-join-code-0123456789abcdef', now()
		FROM fundraisers f WHERE f.slug = 'ruby-runs-10k';
		INSERT INTO team_members (fundraiser_id, team_id, joined_at)
		SELECT f.id, t.id, now() FROM fundraisers f, teams t WHERE f.slug IN ('ruby-runs-10k', 'sam-swims-a-mile')`)
	arts := e2eArtifactDir(t).dir
	for _, preset := range []string{"mobile", "desktop"} {
		for _, path := range []string{"/", "/f/ruby-runs-10k", "/t/office-runners"} {
			name := preset + strings.NewReplacer("/", "-").Replace(strings.TrimSuffix(path, "/"))
			if path == "/" {
				name = preset + "-appeal"
			}
			report := filepath.Join(arts, "lighthouse-"+name+".json")
			args := []string{cli, site.URL + path, "--output=json", "--output-path=" + report, "--quiet",
				"--only-categories=performance,accessibility,best-practices,seo",
				"--chrome-flags=--headless=new --no-sandbox --disable-gpu"}
			if preset == "desktop" {
				args = append(args, "--preset=desktop")
			}
			cmd := exec.Command("node", args...)
			cmd.Env = append(os.Environ(), "CHROME_PATH="+chromium)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("lighthouse %s: %v\n%s", path, err, e2eTail(out, 4000))
			}
			scores, failing, bench, err := e2eLighthouseScores(report)
			if err != nil {
				t.Fatal(err)
			}
			// Lighthouse's simulated phone assumes a machine of benchmark index 1000 or so; a
			// busy one scores far lower, and its performance score with it.
			t.Logf("Lighthouse %s %s: %v (this machine's benchmark index %.0f)", preset, path, scores, bench)
			for cat, score := range scores {
				if score < e2eLighthouseMin {
					t.Errorf("Lighthouse %s %s: %s %d, want at least %d; audits losing points: %s (benchmark index %.0f; report %s)",
						preset, path, cat, score, e2eLighthouseMin, strings.Join(failing[cat], "; "), bench, report)
				}
			}
		}
	}
}

// e2eLighthouseScores reads a report: each category's score out of 100, the titles of the
// audits that cost it points, and the machine's benchmark index as Lighthouse measured it.
func e2eLighthouseScores(report string) (map[string]int, map[string][]string, float64, error) {
	b, err := os.ReadFile(report)
	if err != nil {
		return nil, nil, 0, err
	}
	var r struct {
		Environment struct {
			BenchmarkIndex float64 `json:"benchmarkIndex"`
		} `json:"environment"`
		Categories map[string]struct {
			Score     *float64 `json:"score"`
			AuditRefs []struct {
				ID     string  `json:"id"`
				Weight float64 `json:"weight"`
			} `json:"auditRefs"`
		} `json:"categories"`
		Audits map[string]struct {
			Title        string   `json:"title"`
			Score        *float64 `json:"score"`
			DisplayValue string   `json:"displayValue"`
		} `json:"audits"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, nil, 0, fmt.Errorf("read %s: %w", report, err)
	}
	scores, failing := map[string]int{}, map[string][]string{}
	for id, c := range r.Categories {
		if c.Score == nil {
			return nil, nil, 0, fmt.Errorf("%s: category %s has no score (the run failed)", report, id)
		}
		scores[id] = int(*c.Score*100 + 0.5)
		for _, ref := range c.AuditRefs {
			if a, ok := r.Audits[ref.ID]; ok && ref.Weight > 0 && a.Score != nil && *a.Score < 0.9 {
				failing[id] = append(failing[id], fmt.Sprintf("%s (%.2f %s)", a.Title, *a.Score, a.DisplayValue))
			}
		}
	}
	return scores, failing, r.Environment.BenchmarkIndex, nil
}
