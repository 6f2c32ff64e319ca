package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/realclientip/realclientip-go"
)

// TrustedProxies are the reverse proxies (TRUSTED_PROXIES) whose X-Forwarded-For is
// believed. Behind them every connection comes from a proxy, so without this every
// visitor would share one rate limit. The zero value trusts nobody: the client is the
// connecting address, and any X-Forwarded-For is ignored.
type TrustedProxies struct {
	ranges []net.IPNet
	// forwarded is the right-most address of X-Forwarded-For that is not itself trusted:
	// each proxy appends the address it was connected from, so the addresses to the right
	// of the first untrusted one were written by proxies we trust, and everything to its
	// left was written by the client and may be made up.
	forwarded realclientip.Strategy
}

// ParseTrustedProxies reads a comma-separated list of addresses and CIDR ranges, such as
// "10.0.0.0/8, 192.0.2.10, 2001:db8::/32". An empty list trusts nobody.
func ParseTrustedProxies(list string) (TrustedProxies, error) {
	var items []string
	for _, it := range strings.Split(list, ",") {
		if it = strings.TrimSpace(it); it != "" {
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		return TrustedProxies{}, nil
	}
	ranges, err := realclientip.AddressesAndRangesToIPNets(items...)
	if err != nil {
		return TrustedProxies{}, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	s, err := realclientip.NewRightmostTrustedRangeStrategy("X-Forwarded-For", ranges)
	if err != nil {
		return TrustedProxies{}, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	return TrustedProxies{ranges: ranges, forwarded: s}, nil
}

// String lists the trusted ranges, for the start-up log.
func (p TrustedProxies) String() string {
	out := make([]string, len(p.ranges))
	for i, r := range p.ranges {
		out[i] = r.String()
	}
	return strings.Join(out, ",")
}

func (p TrustedProxies) trusts(addr string) bool {
	ip := net.ParseIP(addr)
	for _, r := range p.ranges {
		if ip != nil && r.Contains(ip) {
			return true
		}
	}
	return false
}

// clientAddr is the address of the person making r: the connecting address, unless that
// is a trusted proxy, when it is the right-most untrusted address the proxies forwarded.
// A chain the proxies left without any untrusted address (or with garbage where the
// client should be) falls back to the connecting address.
func (p TrustedProxies) clientAddr(r *http.Request) string {
	remote := realclientip.RemoteAddrStrategy{}.ClientIP(nil, r.RemoteAddr)
	if remote == "" {
		return r.RemoteAddr
	}
	if !p.trusts(remote) {
		return remote
	}
	if ip := p.forwarded.ClientIP(r.Header, r.RemoteAddr); ip != "" {
		return ip
	}
	return remote
}

type clientKeyCtx struct{}

// client is who made a request: the full address for the logs, and the key the rate
// limits count under.
type client struct {
	addr, key string
}

// limitKey is what the rate limits count under: an IPv4 address, or an IPv6 address's /64
// (one household or server gets a whole /64, and could otherwise step through it).
func limitKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// clientKey is the rate-limit key of the request's client (see identify).
func clientKey(r *http.Request) string {
	if c, ok := r.Context().Value(clientKeyCtx{}).(client); ok {
		return c.key
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return limitKey(host)
}

// identify works out the client of every request once (TRUSTED_PROXIES) and logs one line
// per request with it. The line names the route pattern, never the raw path or query:
// those carry reset and confirmation tokens and checkout session ids.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.store.Now()
		addr := s.proxies.clientAddr(r)
		c := client{addr: addr, key: limitKey(addr)}
		r = r.WithContext(context.WithValue(r.Context(), clientKeyCtx{}, c))
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		s.log.Info("request", "method", r.Method, "route", route, "status", status, "client", c.addr,
			"took", s.store.Now().Sub(start).Round(time.Microsecond))
	})
}
