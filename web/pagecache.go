package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/sync/singleflight"
)

// pageCache keeps the public appeal and fundraiser pages as rendered for a visitor who is
// not logged in, plain and gzipped, with an ETag, for as long as their figures are cached
// (the totals cache's period, a second by default): in a televised appeal's burst, each page
// is rendered once per period and every other visitor is sent the same bytes, or a 304 when
// she already has them. A logged-in visitor (her page may carry moderation buttons or a
// preview), a request with a query (a notice, a form state) and any answer other than a
// plain 200 go to the handler as before.
type pageCache struct {
	ttl   time.Duration
	now   func() time.Time
	group singleflight.Group
	mu    sync.Mutex
	items map[string]*cachedPage
}

// cachedPage is one page as the public sees it.
type cachedPage struct {
	header  http.Header // the handler's headers, less Cache-Control
	plain   []byte
	gz      []byte
	etag    string
	expires time.Time
	route   string // the route's pattern ("/f/{slug}"), for the request metrics of a hit served in front
}

func newPageCache(ttl time.Duration, now func() time.Time) *pageCache {
	return &pageCache{ttl: ttl, now: now, items: map[string]*cachedPage{}}
}

// publicPageCacheControl lets a browser keep the page but ask again each time: the answer
// is a 304 while the figures are unchanged.
const publicPageCacheControl = "public, no-cache"

// cachedPage serves h's page from the cache to a visitor not logged in (see pageCache).
func (s *Server) cachedPage(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, ok := currentUser(r); ok || r.URL.RawQuery != "" || s.pages.ttl <= 0 {
			return h(w, r)
		}
		p, rec, err := s.pages.get(r.URL.Path, func() (*cachedPage, *pageRecorder, error) {
			rec := newPageRecorder()
			if err := h(rec, r); err != nil {
				return nil, nil, err
			}
			if rec.status != http.StatusOK || rec.header.Get("Set-Cookie") != "" {
				return nil, rec, nil // this visitor's own answer: not for anyone else
			}
			return s.pages.keep(r.URL.Path, chi.RouteContext(r.Context()).RoutePattern(), rec), nil, nil
		})
		switch {
		case err != nil:
			return err
		case rec != nil:
			return rec.replay(w)
		case p == nil:
			return h(w, r) // another visitor's answer was her own
		}
		return p.serve(w, r)
	}
}

// front answers, ahead of the router and the middleware behind it (compression, sessions,
// cross-origin checks, the request timeout), a request the cache can answer as it stands:
// a GET or HEAD with no query and no session cookie, for a public page kept and still
// fresh. Every other request goes on as before, and cachedPage decides as it always has;
// a visitor with a session cookie is never answered here, logged in or not.
func (s *Server) front(next http.Handler) http.Handler {
	cookie := s.auth.sessions.Cookie.Name
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.pages.ttl > 0 && (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.RawQuery == "" {
			if _, err := r.Cookie(cookie); errors.Is(err, http.ErrNoCookie) {
				if p := s.pages.fresh(r.URL.Path); p != nil {
					if rctx := chi.RouteContext(r.Context()); rctx != nil {
						rctx.RoutePatterns = append(rctx.RoutePatterns, p.route)
					}
					_ = p.serve(w, r) // a client gone mid-answer is nothing to report
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// fresh is the page kept under key while it is fresh, else nil.
func (c *pageCache) fresh(key string) *cachedPage {
	c.mu.Lock()
	p, ok := c.items[key]
	c.mu.Unlock()
	if ok && c.now().Before(p.expires) {
		return p
	}
	return nil
}

// get returns the fresh page under key, or renders it with load (one render for every
// visitor asking at once). load answers either a page to keep, or the recorded answer of a
// request that must not be shared: only the visitor whose request made it is given it.
func (c *pageCache) get(key string, load func() (*cachedPage, *pageRecorder, error)) (*cachedPage, *pageRecorder, error) {
	if p := c.fresh(key); p != nil {
		return p, nil, nil
	}
	type result struct {
		page *cachedPage
		rec  *pageRecorder
		own  *int
	}
	me := new(int)
	v, err, _ := c.group.Do(key, func() (any, error) {
		p, rec, err := load()
		return result{page: p, rec: rec, own: me}, err
	})
	if err != nil {
		return nil, nil, err
	}
	res := v.(result)
	if res.rec != nil && res.own != me {
		return nil, nil, nil
	}
	return res.page, res.rec, nil
}

// keep stores a rendered page; when its bytes are those already kept, the kept copy (and
// its ETag) simply lives on.
func (c *pageCache) keep(key, route string, rec *pageRecorder) *cachedPage {
	plain := rec.body.Bytes()
	sum := sha256.Sum256(plain)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	expires := c.now().Add(c.ttl)
	c.mu.Lock()
	old, ok := c.items[key]
	c.mu.Unlock()
	if ok && old.etag == etag {
		p := *old
		p.expires = expires
		c.store(key, &p)
		return &p
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression) // a valid level: no error
	_, _ = zw.Write(plain)
	_ = zw.Close()
	header := rec.header.Clone()
	header.Del("Cache-Control")
	p := &cachedPage{header: header, plain: bytes.Clone(plain), gz: gz.Bytes(), etag: etag, expires: expires, route: route}
	c.store(key, p)
	return p
}

func (c *pageCache) store(key string, p *cachedPage) {
	c.mu.Lock()
	c.items[key] = p
	c.mu.Unlock()
}

// serve sends the page: 304 when the visitor has these bytes already, gzipped when her
// browser accepts it.
func (p *cachedPage) serve(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	for k, v := range p.header {
		h[k] = v
	}
	h.Set("Cache-Control", publicPageCacheControl)
	h.Set("ETag", p.etag)
	h.Add("Vary", "Accept-Encoding")
	h.Add("Vary", "Cookie")
	if etagMatches(r.Header.Get("If-None-Match"), p.etag) {
		h.Del("Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	body := p.plain
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip") // the compression middleware leaves it as it is
		body = p.gz
	}
	// Its length, so the page goes as one body rather than in chunks: net/http counts a body
	// only up to 2 KB, and a page is more even gzipped.
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

// etagMatches reads If-None-Match: a list of entity tags (weak ones compared weakly), or *.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}

// pageRecorder captures a handler's answer so it can be kept, or sent on as it was.
type pageRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newPageRecorder() *pageRecorder { return &pageRecorder{header: http.Header{}} }

func (rec *pageRecorder) Header() http.Header { return rec.header }

func (rec *pageRecorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}

func (rec *pageRecorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.body.Write(b)
}

// replay sends a recorded answer as the handler wrote it.
func (rec *pageRecorder) replay(w http.ResponseWriter) error {
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	w.WriteHeader(rec.status)
	_, err := w.Write(rec.body.Bytes())
	return err
}
