package main

import (
	"context"
	"fmt"
	"net/http"

	"giving/campaigns/appeals"
)

// appealResult compares the public appeal JSON with a bare chi handler under the same load.
type appealResult struct {
	JSON, Page, Bare loadResult
}

// PageRatio is the appeal page's (HTML) throughput as a share of the bare handler's.
func (r appealResult) PageRatio() float64 { return ratio(r.Page.PerSecond(), r.Bare.PerSecond()) }

// Ratio is the appeal JSON's throughput as a share of the bare handler's.
func (r appealResult) Ratio() float64 { return ratio(r.JSON.PerSecond(), r.Bare.PerSecond()) }

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func getter(url string) requestFunc {
	return func(ctx context.Context, _ int) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	}
}

// browserGetter asks for url as a browser does, accepting gzip (every browser sends
// Accept-Encoding: gzip); the compressed body is read whole, not unpacked.
func browserGetter(url string) requestFunc {
	return func(ctx context.Context, _ int) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err == nil {
			req.Header.Set("Accept-Encoding", "gzip, deflate, br")
		}
		return req, err
	}
}

// measureAppeal hits GET /api/campaigns/fundraising-for-freedom and the appeal page GET /
// on the real site, and the bare route, with the same concurrency and count, each after a
// short warm-up. The three take turns, appealRounds times, each starting the round in turn
// (as the webhook load's ceiling and endpoint do), so a spell when the shared machine is
// slow falls on all three alike rather than on whichever ran in it.
func measureAppeal(ctx context.Context, siteURL, bareURL string, spec loadSpec) (appealResult, error) {
	jsonURL := siteURL + "/api/campaigns/" + appeals.DefaultAppealSlug
	warm := loadSpec{Concurrency: spec.Concurrency, Total: min(spec.Total, 10*spec.Concurrency), Cap: spec.Cap}
	var res appealResult
	runs := []struct {
		name string
		get  requestFunc
		out  *loadResult
	}{{"bare chi", getter(bareURL + "/bare"), &res.Bare}, {"appeal JSON", getter(jsonURL), &res.JSON},
		{"appeal page", browserGetter(siteURL + "/"), &res.Page}}
	for _, run := range runs {
		if _, err := runLoad(ctx, warm, run.get); err != nil {
			return res, fmt.Errorf("%s warm-up: %w", run.name, err)
		}
	}
	turn := spec
	turn.Total = max(1, spec.Total/appealRounds)
	for round := range appealRounds {
		for i := range runs {
			run := runs[(round+i)%len(runs)]
			r, err := runLoad(ctx, turn, run.get)
			if err != nil {
				return res, fmt.Errorf("%s: %w", run.name, err)
			}
			*run.out = run.out.merge(r)
		}
	}
	return res, nil
}

// appealRounds is how many turns the bare handler, the JSON and the page take.
const appealRounds = 4
