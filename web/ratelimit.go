package web

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a per-client token bucket for creating checkout sessions. It lives in each
// instance's memory: behind N instances a client gets at most N times the rate, which is
// enough to stop a script from flooding Stripe with sessions.
type limiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	clients map[string]*clientLimit
	now     func() time.Time
	swept   time.Time
}

type clientLimit struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimiter(perMinute float64, burst int, now func() time.Time) *limiter {
	return &limiter{every: rate.Limit(perMinute / 60), burst: burst, clients: map[string]*clientLimit{}, now: now, swept: now()}
}

// take spends one of key's tokens now, or reports how many seconds to wait. The caller
// hands the token back with release when the action it paid for did not happen.
func (l *limiter) take(key string) (retry int, release func(), ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute { // forget idle clients so the map stays small
		for k, c := range l.clients {
			if now.Sub(c.seen) > 10*time.Minute {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	c, ok := l.clients[key]
	if !ok {
		c = &clientLimit{l: rate.NewLimiter(l.every, l.burst)}
		l.clients[key] = c
	}
	c.seen = now
	r := c.l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return int(math.Ceil(d.Seconds())), nil, false
	}
	return 0, r.Cancel, true
}
