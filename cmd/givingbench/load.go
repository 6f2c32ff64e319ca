package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadSpec bounds one closed-loop run: Concurrency goroutines share Total requests and stop
// issuing new ones once Cap has passed.
type loadSpec struct {
	Concurrency int
	Total       int
	Cap         time.Duration
	// Retry503 resends a request answered 503 up to this many times, as Stripe retries a
	// webhook the service could not make durable; each retry is counted and the latency
	// covers every attempt. 0: a 503 fails the run like any other error status.
	Retry503 int
}

// loadResult is what one run measured. Lat holds one latency per completed request.
type loadResult struct {
	Completed int
	Elapsed   time.Duration
	Lat       []time.Duration
	CapHit    bool
	Retries   int // 503 answers that were retried
}

// merge adds another turn of the same load: the counts and times add up and the
// latencies are pooled, so the rate is over both turns' wall time.
func (r loadResult) merge(o loadResult) loadResult {
	return loadResult{Completed: r.Completed + o.Completed, Elapsed: r.Elapsed + o.Elapsed,
		Lat: append(slices.Clip(r.Lat), o.Lat...), CapHit: r.CapHit || o.CapHit, Retries: r.Retries + o.Retries}
}

// PerSecond is completed requests over wall time.
func (r loadResult) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Completed) / r.Elapsed.Seconds()
}

// P returns the q-quantile (0..1) of the latencies.
func (r loadResult) P(q float64) time.Duration { return quantile(r.Lat, q) }

// quantile is the nearest-rank quantile of lat; it sorts a copy.
func quantile(lat []time.Duration, q float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return s[i]
}

// newTransport is the one HTTP transport a run's goroutines share: loopback only, keep-alive,
// one idle connection kept per goroutine so connections are reused, never re-dialled.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
}

// requestFunc builds request i (0 <= i < Total).
type requestFunc func(ctx context.Context, i int) (*http.Request, error)

// errRetry is a 503 that may be sent again.
var errRetry = errors.New("503: retry")

// send sends one request, reads the whole body and fails on anything but 2xx.
func send(client *http.Client, req *http.Request) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		err = fmt.Errorf("%s %s: status %d: %.200s", req.Method, req.URL.Path, resp.StatusCode, body)
		if resp.StatusCode == http.StatusServiceUnavailable {
			err = fmt.Errorf("%w: %w", errRetry, err)
		}
		return err
	}
	return nil
}

// do builds and sends request i, resending it (rebuilt, so freshly signed) after a 503 up
// to retry times, and adds each resend to retries.
func do(ctx context.Context, client *http.Client, build requestFunc, i, retry int, retries *atomic.Int64) error {
	for attempt := 0; ; attempt++ {
		req, err := build(ctx, i)
		if err != nil {
			return err
		}
		err = send(client, req)
		if err == nil || !errors.Is(err, errRetry) || attempt >= retry {
			return err
		}
		retries.Add(1)
	}
}

// runLoad is a closed-loop load generator: each goroutine sends its next request as soon as
// the previous one has answered. Any failed request ends the run with an error: a benchmark
// of a failing service measures nothing.
func runLoad(parent context.Context, spec loadSpec, build requestFunc) (loadResult, error) {
	if spec.Concurrency <= 0 || spec.Total <= 0 || spec.Cap <= 0 {
		return loadResult{}, errors.New("load: concurrency, total and cap must be positive")
	}
	tr := newTransport(spec.Concurrency)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()

	lat := make([]time.Duration, spec.Total)
	done := make([]bool, spec.Total)
	var next, retries atomic.Int64
	var capHit atomic.Bool
	var firstErr error
	var errOnce sync.Once
	start := time.Now()
	deadline := start.Add(spec.Cap)
	var wg sync.WaitGroup
	for range min(spec.Concurrency, spec.Total) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= spec.Total {
					return
				}
				if time.Now().After(deadline) {
					capHit.Store(true)
					return
				}
				t0 := time.Now()
				err := do(ctx, client, build, i, spec.Retry503, &retries)
				lat[i] = time.Since(t0)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("request %d: %w", i, err); cancel() })
					return
				}
				done[i] = true
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return loadResult{}, firstErr
	}
	if err := parent.Err(); err != nil {
		return loadResult{}, err
	}
	res := loadResult{Elapsed: elapsed, CapHit: capHit.Load(), Retries: int(retries.Load())}
	for i, ok := range done {
		if ok {
			res.Lat = append(res.Lat, lat[i])
		}
	}
	res.Completed = len(res.Lat)
	return res, nil
}

// pacedResult is an open-loop run: requests leave on a schedule whatever the answers do.
type pacedResult struct {
	Sent     int           // requests answered 2xx
	Dropped  int           // requests still queued when the time cap passed, never sent
	Elapsed  time.Duration // first scheduled send to last answer
	Achieved float64       // answered requests per second over the sending window
	// FromSchedule measures each request from the moment it was due to leave, so a stalled
	// service cannot hide its delay by holding the sender back (coordinated omission).
	FromSchedule []time.Duration
	// Service measures from the moment the request actually left.
	Service []time.Duration
	Retries int // 503 answers that were retried
}

// runPaced sends total requests at rate per second: a ticker wakes the dispatcher every
// millisecond and it hands every request that is due to a pool of senders, large enough
// that a slow answer never delays the next send.
//
// Requests still waiting for a sender once timeCap has passed since the start are dropped
// and counted, so a service that cannot keep up ends the run in bounded time.
func runPaced(parent context.Context, rate, total, senders, retry503 int, timeCap time.Duration, build requestFunc) (pacedResult, error) {
	if rate <= 0 || total <= 0 || senders <= 0 {
		return pacedResult{}, errors.New("paced load: rate, total and senders must be positive")
	}
	tr := newTransport(senders)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()

	type job struct {
		i   int
		due time.Time
	}
	jobs := make(chan job, total)
	fromSched := make([]time.Duration, total)
	service := make([]time.Duration, total)
	var firstErr error
	var errOnce sync.Once
	var retries, dropped atomic.Int64
	answered := make([]bool, total)
	start := time.Now()
	deadline := start.Add(timeCap)
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for j := range jobs {
				if ctx.Err() != nil {
					continue
				}
				if time.Now().After(deadline) {
					dropped.Add(1)
					continue
				}
				t0 := time.Now()
				err := do(ctx, client, build, j.i, retry503, &retries)
				end := time.Now()
				service[j.i] = end.Sub(t0)
				fromSched[j.i] = end.Sub(j.due)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("paced request %d: %w", j.i, err); cancel() })
					continue
				}
				answered[j.i] = true
			}
		})
	}
	interval := time.Second / time.Duration(rate)
	tick := time.NewTicker(time.Millisecond)
	sent := 0
	for sent < total && ctx.Err() == nil {
		now := <-tick.C
		for sent < total {
			due := start.Add(time.Duration(sent) * interval)
			if due.After(now) {
				break
			}
			jobs <- job{i: sent, due: due}
			sent++
		}
	}
	tick.Stop()
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return pacedResult{}, firstErr
	}
	if err := parent.Err(); err != nil {
		return pacedResult{}, err
	}
	res := pacedResult{Elapsed: elapsed, Dropped: int(dropped.Load()), Retries: int(retries.Load())}
	for i, ok := range answered {
		if ok {
			res.FromSchedule = append(res.FromSchedule, fromSched[i])
			res.Service = append(res.Service, service[i])
		}
	}
	res.Sent = len(res.Service)
	res.Achieved = float64(res.Sent) / elapsed.Seconds()
	return res, nil
}
