package web

import (
	"math"
	"net"
	"net/http"
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
	swept   time.Time
}

type clientLimit struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimiter(perMinute float64, burst int) *limiter {
	return &limiter{every: rate.Limit(perMinute / 60), burst: burst, clients: map[string]*clientLimit{}, swept: time.Now()}
}

// allow reports whether key may act now, else how many seconds to wait.
func (l *limiter) allow(key string) (int, bool) {
	now := time.Now()
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
		return int(math.Ceil(d.Seconds())), false
	}
	return 0, true
}

// clientKey is the connecting address. Forwarded-for headers are not trusted: anyone can
// send them, and trusting them would let a script dodge the limit.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
