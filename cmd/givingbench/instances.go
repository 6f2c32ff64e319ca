package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"giving/campaigns"
	"giving/campaigns/ledger"
)

// instancesResult is one closed-loop webhook run spread over N service instances (each
// its own site, pool and appliers) against the one database.
type instancesResult struct {
	N        int
	Answered loadResult
	Backlog  int           // still queued when the load ended
	Settle   time.Duration // until the appliers of every instance had applied them
}

// AppliedRate is the run's events over the time from its first delivery to its last
// event applied.
func (r instancesResult) AppliedRate() float64 {
	return ratio(float64(r.Answered.Completed), (r.Answered.Elapsed + r.Settle).Seconds())
}

// instancesCheck is what the runs over several instances left: the appeal's gifts before
// and after, the events answered, and CompareTotals.
type instancesCheck struct {
	GiftsBefore, GiftsAfter int64
	Sent                    int
	Diffs                   []ledger.Difference
}

// measureInstances sends the same closed-loop load to 1, 2 and 3 instances in turn (the
// running site and up to two more started on the same database), round robin, and waits
// for every event to be applied after each run.
func measureInstances(ctx context.Context, store *campaigns.Store, dsn string, appealID int64, siteURL, secret string,
	spec loadSpec, counts []int) ([]instancesResult, instancesCheck, error) {
	var check instancesCheck
	before, err := ledger.ReadTotals(ctx, store.Pool(), ledger.AppealScope(appealID))
	if err != nil {
		return nil, check, err
	}
	check.GiftsBefore = before.Gifts
	var out []instancesResult
	for _, n := range counts {
		r, err := runInstances(ctx, store, dsn, appealID, siteURL, secret, spec, n)
		if err != nil {
			return out, check, fmt.Errorf("%d instances: %w", n, err)
		}
		check.Sent += r.Answered.Completed
		out = append(out, r)
	}
	after, err := ledger.ReadTotals(ctx, store.Pool(), ledger.AppealScope(appealID))
	if err != nil {
		return out, check, err
	}
	check.GiftsAfter = after.Gifts
	check.Diffs, err = ledger.CompareTotals(ctx, store)
	return out, check, err
}

func runInstances(ctx context.Context, store *campaigns.Store, dsn string, appealID int64, siteURL, secret string, spec loadSpec, n int) (instancesResult, error) {
	res := instancesResult{N: n}
	urls := []string{siteURL}
	for len(urls) < n {
		pool, err := campaigns.OpenPool(ctx, dsn, campaigns.PoolOptions{MaxConns: 20})
		if err != nil {
			return res, err
		}
		defer pool.Close()
		extra, err := startSite(campaigns.NewStore(pool), secret, benchLogger())
		if err != nil {
			return res, err
		}
		defer extra.Close()
		urls = append(urls, extra.URL)
	}
	ids, err := createDonations(ctx, store, appealID, spec.Total)
	if err != nil {
		return res, err
	}
	events, err := buildEvents(ids, fmt.Sprintf("%si%d", randomTag(), n))
	if err != nil {
		return res, err
	}
	if err := quiet(ctx, store.Pool()); err != nil {
		return res, err
	}
	posters := make([]requestFunc, n)
	for i, u := range urls {
		posters[i] = poster(u+"/webhooks/stripe", secret, events)
	}
	res.Answered, err = runLoad(ctx, spec, func(ctx context.Context, i int) (*http.Request, error) {
		return posters[i%n](ctx, i)
	})
	if err != nil {
		return res, err
	}
	res.Backlog, res.Settle, err = settle(ctx, store.Pool())
	return res, err
}
