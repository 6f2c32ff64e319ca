package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/appeals"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/payments"
	"giving/web"
)

const webhookSecret = "whsec_test_web_0123456789"

// site is the whole public site on a fresh database: the real router, the real webhook
// endpoint, and either the offline sandbox or a fake Stripe API as the checkout.
type site struct {
	t      *testing.T
	URL    string
	store  *campaigns.Store
	stripe *fakeStripe // nil with the sandbox
	client *http.Client
}

type siteOptions struct {
	stripe    bool    // a fake Stripe API instead of the sandbox
	perMinute float64 // checkout sessions per client a minute; 0: effectively unlimited
	// The charity's configured money settings; zero values leave web.New's defaults.
	fees        payments.FeeSchedule
	limits      payments.AmountLimits
	aggregation decimal.Decimal
	// trustedProxies is TRUSTED_PROXIES; log receives the service's log (nil: discarded);
	// baseURL replaces the server's own address as BASE_URL (the sandbox still pays at the
	// real one).
	trustedProxies string
	log            io.Writer
	baseURL        string
	// accountsOnly is the site for log-in tests: no checkout, no webhook endpoint, and
	// web.New's own total cache and checkout limit (stripe, perMinute and the money
	// settings are then unused).
	accountsOnly bool
	// devOutbox serves GET /dev/outbox; require2FA is REQUIRE_2FA_FOR; clock, when set, is
	// the time the site's store checks two-factor codes against (the test's own store
	// keeps the real one).
	devOutbox  bool
	require2FA []accounts.Role
	clock      func() time.Time
	// pageCache keeps the figures and public pages cached, as in production (they are
	// otherwise read fresh on every request).
	pageCache bool
	// users get accounts with testPassword, in this order, once the site is up.
	users []user
	// donorMail, when set, writes donors' receipts and other emails (nil: none, as before).
	donorMail *donations.DonorMail
	// reconcileAPI, when set, is the Stripe API the reconciliation page lists from (none:
	// the page says there is no Stripe account, as in the sandbox).
	reconcileAPI string
}

type user struct {
	email string
	role  accounts.Role
}

// Accounts the log-in tests share.
var (
	trusteeUser = user{"trustee@example.org", accounts.RoleTrustee}
	adminUser   = user{"admin@example.org", accounts.RoleAdmin}
	rubyUser    = user{"ruby@example.org", accounts.RoleFundraiser}
	samUser     = user{"sam@example.org", accounts.RoleFundraiser}
)

// newSite is the one way the tests build the site: a pool on a fresh seeded database, an
// httptest server and web.New with the options' dependencies.
func newSite(t *testing.T, opt siteOptions) *site {
	t.Helper()
	ctx := context.Background()
	store, _ := campaignstest.Seeded(t, 10)

	// The sandbox needs the server's URL before the handler exists.
	var handler atomic.Pointer[http.Handler]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	logOut := opt.log
	if logOut == nil {
		logOut = io.Discard
	}
	logger := slog.New(slog.NewTextHandler(logOut, nil))
	proxies, err := web.ParseTrustedProxies(opt.trustedProxies)
	if err != nil {
		t.Fatal(err)
	}
	deps := web.Deps{
		Store:          store,
		Log:            logger,
		BaseURL:        base,
		TrustedProxies: proxies,
		DevOutbox:      opt.devOutbox,
		Require2FA:     opt.require2FA,
	}
	if opt.clock != nil {
		deps.Store = store.WithClock(opt.clock)
	}
	s := &site{t: t, URL: srv.URL, store: store}
	s.client = s.browser() // the site's own: a donor sees their own gift
	if !opt.accountsOnly {
		perMinute := opt.perMinute
		if perMinute == 0 {
			perMinute = 1e9 // tests post many forms from one address
		}
		if !opt.pageCache {
			deps.CacheTTL = -1 // every read sees the ledger as it is
		}
		hooks := payments.NewWebhooks(store, []string{webhookSecret}, false, logger, payments.NewMetrics(nil))
		hooks.DonorMail = opt.donorMail
		deps.Webhooks = hooks
		if opt.reconcileAPI != "" {
			deps.Reconciler = &payments.Reconciler{API: payments.NewStripeClient("sk_test_123", opt.reconcileAPI, nil), Store: store, Webhooks: hooks}
		}
		deps.CheckoutPerMinute = perMinute
		deps.Fees = opt.fees
		deps.Limits = web.Limits{Amount: opt.limits}
		deps.AggregationLimit = opt.aggregation
		sandboxFees := payments.DefaultFees
		if !opt.fees.Percent.IsZero() || !opt.fees.Fixed.IsZero() {
			sandboxFees = opt.fees
		}
		if opt.stripe {
			s.stripe = newFakeStripe(t)
			deps.Checkout = payments.StripeCheckout{API: payments.NewStripeClient("sk_test_123", s.stripe.srv.URL, nil)}
		} else {
			sb, err := payments.NewSandbox(store, "", base, srv.URL+"/webhooks/stripe", webhookSecret, sandboxFees)
			if err != nil {
				t.Fatal(err)
			}
			deps.Checkout, deps.Sandbox = sb, sb
		}
	}
	if opt.baseURL != "" {
		if deps.BaseURL, err = url.Parse(opt.baseURL); err != nil {
			t.Fatal(err)
		}
	}
	w, err := web.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	h := w.Handler()
	handler.Store(&h)
	for _, u := range opt.users {
		if _, err := accounts.CreateUser(ctx, store, accounts.CommandLine(), u.email, testPassword, u.role); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// browser is one person's browser: its own cookie jar, never following redirects.
func (s *site) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// fakeStripe records every Checkout Session request and honours idempotency keys as
// Stripe does: the same key gets the same session back.
type fakeStripe struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests []stripeRequest
	sessions map[string]string // idempotency key -> session id
	fail     bool              // answer every request with a 500 api_error
}

type stripeRequest struct {
	Form url.Values
	Key  string // Idempotency-Key
}

func newFakeStripe(t *testing.T) *fakeStripe {
	f := &fakeStripe{sessions: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/checkout/sessions" {
			http.Error(w, `{"error":{"message":"unexpected request","type":"invalid_request_error"}}`, http.StatusNotFound)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		key := r.Header.Get("Idempotency-Key")
		f.requests = append(f.requests, stripeRequest{Form: r.PostForm, Key: key})
		w.Header().Set("Content-Type", "application/json")
		if f.fail {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"error":{"message":"boom","type":"api_error"}}`)
			return
		}
		id, ok := f.sessions[key]
		if !ok || key == "" {
			id = fmt.Sprintf("cs_test_%d", len(f.sessions)+1)
			f.sessions[key] = id
		}
		fmt.Fprintf(w, `{"id":%q,"object":"checkout.session","url":"https://checkout.stripe.com/c/pay/%s"}`, id, id)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeStripe) seen() []stripeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]stripeRequest(nil), f.requests...)
}

func (f *fakeStripe) failing(v bool) {
	f.mu.Lock()
	f.fail = v
	f.mu.Unlock()
}

// response is what a browser would get, with the HTML parsed when there is some.
type response struct {
	status int
	header http.Header
	body   string
	doc    *html.Node
}

func (s *site) do(req *http.Request) response {
	s.t.Helper()
	return s.with(s.client, req)
}

// with sends req from browser c.
func (s *site) with(c *http.Client, req *http.Request) response {
	s.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		if r.doc, err = html.Parse(strings.NewReader(r.body)); err != nil {
			s.t.Fatalf("parse %s: %v", req.URL, err)
		}
	}
	return r
}

// send is a request from browser c: a form, when not nil, as a browser posts it, and
// header the name-value pairs to set.
func (s *site) send(c *http.Client, method, path string, form url.Values, header ...string) response {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.abs(path), body)
	if err != nil {
		s.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return s.with(c, req)
}

func (s *site) abs(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	return s.URL + path
}

func (s *site) get(path string) response {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.abs(path), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do(req)
}

func (s *site) post(path string, form url.Values, header ...string) response {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.abs(path), strings.NewReader(form.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return s.do(req)
}

// totals is the public JSON contract; amounts must be strings.
type totals struct {
	Slug      string `json:"slug"`
	Name      string `json:"name"`
	Currency  string `json:"currency"`
	Target    string `json:"target"`
	Raised    string `json:"raised"`
	GiftAid   string `json:"gift_aid"`
	Donations int64  `json:"donations"`
	Donors    int64  `json:"donors"`
}

func (s *site) totals(path string) totals {
	s.t.Helper()
	r := s.get(path)
	if r.status != http.StatusOK {
		s.t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	var v totals
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		s.t.Fatalf("GET %s: %v in %s", path, err, r.body)
	}
	return v
}

func (s *site) appealTotals() totals {
	s.t.Helper()
	return s.totals("/api/campaigns/" + appeals.DefaultAppealSlug)
}

func (s *site) count(query string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.store.Pool().QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (s *site) donations() int { s.t.Helper(); return s.count(`SELECT count(*) FROM donations`) }

// addFundraiser inserts a fundraiser page directly, as a trustee's approval would leave it.
func (s *site) addFundraiser(slug, title, story, status string) {
	s.t.Helper()
	_, err := s.store.Pool().Exec(context.Background(), `INSERT INTO fundraisers (appeal_id, slug, title, story, target, status)
		SELECT id, $1, $2, $3, 500, $4 FROM appeals WHERE slug = $5`, slug, title, story, status, appeals.DefaultAppealSlug)
	if err != nil {
		s.t.Fatal(err)
	}
}

// --- HTML helpers: assertions on what a visitor sees ---

func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	if n != nil {
		walk(n)
	}
	return out
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func attrVal(n *html.Node, key string) string { v, _ := attr(n, key); return v }

func isElem(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == tag }
}

func hasClass(n *html.Node, class string) bool {
	return n.Type == html.ElementNode && strings.Contains(" "+attrVal(n, "class")+" ", " "+class+" ")
}

func withClass(doc *html.Node, class string) []*html.Node {
	return findAll(doc, func(n *html.Node) bool { return hasClass(n, class) })
}

func byID(doc *html.Node, id string) *html.Node {
	found := findAll(doc, func(n *html.Node) bool { return n.Type == html.ElementNode && attrVal(n, "id") == id })
	if len(found) == 0 {
		return nil
	}
	return found[0]
}

var spaces = regexp.MustCompile(`\s+`)

// text is an element's visible text with whitespace collapsed.
func text(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	for _, t := range findAll(n, func(n *html.Node) bool { return n.Type == html.TextNode }) {
		b.WriteString(t.Data)
		b.WriteByte(' ')
	}
	return strings.TrimSpace(spaces.ReplaceAllString(b.String(), " "))
}

func ancestor(n *html.Node, tag string) *html.Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.Data == tag {
			return p
		}
	}
	return nil
}

// donateForm is the donate form on a page, as a browser would submit it untouched.
func donateForm(t *testing.T, doc *html.Node) url.Values {
	t.Helper()
	forms := findAll(doc, func(n *html.Node) bool {
		return isElem("form")(n) && strings.HasPrefix(attrVal(n, "action"), "/donate")
	})
	if len(forms) != 1 {
		t.Fatalf("want one donate form, found %d", len(forms))
	}
	v := url.Values{}
	for _, in := range findAll(forms[0], isElem("input")) {
		name := attrVal(in, "name")
		switch attrVal(in, "type") {
		case "hidden", "text":
			if value := attrVal(in, "value"); value != "" || attrVal(in, "type") == "hidden" {
				v.Set(name, value)
			}
		case "radio", "checkbox":
			if _, checked := attr(in, "checked"); checked {
				v.Set(name, attrVal(in, "value"))
			}
		}
	}
	return v
}

// tierID is the value of the tier radio whose label shows amount ("£3.00").
func tierID(t *testing.T, doc *html.Node, amount string) string {
	t.Helper()
	for _, in := range findAll(doc, func(n *html.Node) bool { return isElem("input")(n) && attrVal(n, "name") == "tier" }) {
		if l := ancestor(in, "label"); l != nil {
			if strongs := findAll(l, isElem("strong")); len(strongs) > 0 && text(strongs[0]) == amount {
				return attrVal(in, "value")
			}
		}
	}
	t.Fatalf("no tier for %s on the page", amount)
	return ""
}

// checkedRadio is the value of the checked radio named name.
func checkedRadio(doc *html.Node, name string) string {
	for _, in := range findAll(doc, func(n *html.Node) bool { return isElem("input")(n) && attrVal(n, "name") == name }) {
		if _, ok := attr(in, "checked"); ok {
			return attrVal(in, "value")
		}
	}
	return ""
}

func progressFigures(doc *html.Node) string {
	p := withClass(doc, "progress-figures")
	if len(p) == 0 {
		return ""
	}
	return text(p[0])
}

// --- Tests of the public pages and contract ---

func TestAppealPage(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	r := s.get("/")
	if r.status != http.StatusOK {
		t.Fatalf("GET /: %d", r.status)
	}
	if h1 := findAll(r.doc, isElem("h1")); len(h1) == 0 || text(h1[0]) != "Fundraising for Freedom" {
		t.Errorf("h1 = %q, want the appeal name", text(h1[0]))
	}

	t.Run("tiers with their impact", func(t *testing.T) {
		tiers := map[string]string{}
		for _, li := range withClass(r.doc, "tile") {
			tiers[text(withClass(li, "tile-amount")[0])] = text(withClass(li, "tile-impact")[0])
		}
		for amount, impact := range map[string]string{
			"£3.00":     "A survivor's meal",
			"£2,000.00": "A safe house stay",
		} {
			if tiers[amount] != impact {
				t.Errorf("tier %s shows %q, want %q (all: %v)", amount, tiers[amount], impact, tiers)
			}
		}
	})

	t.Run("progress", func(t *testing.T) {
		if got := progressFigures(r.doc); !strings.Contains(got, "£0.00 raised of £50,000.00") {
			t.Errorf("progress reads %q", got)
		}
		bars := findAll(r.doc, func(n *html.Node) bool { return attrVal(n, "role") == "progressbar" })
		if len(bars) != 1 {
			t.Fatalf("want one progressbar, found %d", len(bars))
		}
		if v := attrVal(bars[0], "aria-valuenow"); v != "0" {
			t.Errorf("aria-valuenow = %q, want 0", v)
		}
		if v := attrVal(bars[0], "aria-label"); v == "" {
			t.Error("progressbar has no accessible name")
		}
	})

	t.Run("donate form has a token", func(t *testing.T) {
		f := donateForm(t, r.doc)
		if tok := f.Get("token"); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(tok) {
			t.Errorf("token = %q", tok)
		}
		if _, ok := f["fundraiser"]; !ok || f.Get("fundraiser") != "" {
			t.Errorf("appeal form should carry an empty fundraiser, got %q", f.Get("fundraiser"))
		}
	})

	t.Run("every field has a label", func(t *testing.T) {
		labelFor := map[string]bool{}
		for _, l := range findAll(r.doc, isElem("label")) {
			if f, ok := attr(l, "for"); ok {
				labelFor[f] = true
			}
		}
		fields := findAll(r.doc, func(n *html.Node) bool {
			return (isElem("input")(n) && attrVal(n, "type") != "hidden") || isElem("textarea")(n) || isElem("select")(n)
		})
		if len(fields) < 10 {
			t.Fatalf("only %d form fields found", len(fields))
		}
		for _, f := range fields {
			id := attrVal(f, "id")
			if (id != "" && labelFor[id]) || ancestor(f, "label") != nil {
				continue
			}
			t.Errorf("<%s name=%q id=%q> has no label", f.Data, attrVal(f, "name"), id)
		}
		// And every label's for= points at a real field.
		for id := range labelFor {
			if byID(r.doc, id) == nil {
				t.Errorf("label for=%q points at nothing", id)
			}
		}
	})
}

func TestCampaignJSON(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	got := s.appealTotals()
	want := totals{Slug: "fundraising-for-freedom", Name: "Fundraising for Freedom", Currency: "GBP",
		Target: "50000.00", Raised: "0.00", GiftAid: "0.00", Donations: 0, Donors: 0}
	if got != want {
		t.Errorf("campaign JSON = %+v\nwant %+v", got, want)
	}

	r := s.get("/api/campaigns/no-such-appeal")
	if r.status != http.StatusNotFound {
		t.Errorf("unknown slug: %d, want 404", r.status)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("unknown slug Content-Type %q, want JSON", ct)
	}
	var e map[string]string
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || e["error"] == "" {
		t.Errorf("unknown slug body %q: %v", r.body, err)
	}
}

func TestCrossSitePostRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		header []string
	}{
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site"}},
		{"foreign Origin", []string{"Origin", "https://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, siteOptions{})
			page := s.get("/")
			f := donateForm(t, page.doc)
			f.Set("tier", tierID(t, page.doc, "£3.00"))
			r := s.post("/donate", f, tc.header...)
			if r.status != http.StatusForbidden {
				t.Errorf("status %d, want 403", r.status)
			}
			if n := s.donations(); n != 0 {
				t.Errorf("%d donations stored, want 0", n)
			}
		})
	}
}

func TestCheckoutRateLimit(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{perMinute: 1})
	page := s.get("/")
	f := donateForm(t, page.doc)
	f.Set("tier", tierID(t, page.doc, "£3.00"))
	for i := 1; i <= 5; i++ {
		if r := s.post("/donate", f); r.status != http.StatusSeeOther {
			t.Fatalf("attempt %d: %d, want 303 within the burst", i, r.status)
		}
	}
	r := s.post("/donate", f)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("6th attempt: %d, want 429", r.status)
	}
	if ra := r.header.Get("Retry-After"); !regexp.MustCompile(`^[1-9][0-9]*$`).MatchString(ra) {
		t.Errorf("Retry-After = %q, want whole seconds", ra)
	}
	if !strings.Contains(text(r.doc), "Please wait a minute") {
		t.Errorf("429 page does not explain: %q", text(r.doc))
	}
}

func TestOperations(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})

	if r := s.get("/healthz"); r.status != http.StatusOK {
		t.Errorf("/healthz: %d", r.status)
	}
	if r := s.get("/readyz"); r.status != http.StatusOK || strings.TrimSpace(r.body) != "ready" {
		t.Errorf("/readyz: %d %q", r.status, r.body)
	}

	page := s.get("/")
	for h, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'self'",
		"X-Frame-Options":         "DENY",
	} {
		if got := page.header.Get(h); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}

	links := findAll(page.doc, func(n *html.Node) bool { return isElem("link")(n) && attrVal(n, "rel") == "stylesheet" })
	if len(links) != 1 {
		t.Fatalf("want one stylesheet, found %d", len(links))
	}
	href := attrVal(links[0], "href")
	if !regexp.MustCompile(`^/static/style\.[0-9a-f]{8}\.css$`).MatchString(href) {
		t.Errorf("stylesheet URL %q is not content-hashed", href)
	}
	css := s.get(href)
	if css.status != http.StatusOK || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || !strings.Contains(css.body, "{") {
		t.Errorf("GET %s: %d %q", href, css.status, css.header.Get("Content-Type"))
	}
	if cc := css.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("Cache-Control %q, want a year", cc)
	}
	if r := s.get("/static/style.css"); r.status != http.StatusNotFound {
		t.Errorf("unhashed static URL: %d, want 404", r.status)
	}
}

func TestFundraiserPage(t *testing.T) {
	t.Parallel()
	const xss = "<script>alert(1)</script>"
	s := newSite(t, siteOptions{})
	title := "Ruby runs for freedom " + xss
	s.addFundraiser("ruby", title, "I am running 10k.\n\n"+xss, "approved")
	s.addFundraiser("waiting", "Not yet approved", "", "pending")
	s.addFundraiser("gone", "Hidden by a trustee", "", "hidden")

	t.Run("only approved pages are public", func(t *testing.T) {
		for _, slug := range []string{"waiting", "gone", "nobody"} {
			if r := s.get("/f/" + slug); r.status != http.StatusNotFound {
				t.Errorf("/f/%s: %d, want 404", slug, r.status)
			}
			r := s.get("/api/fundraisers/" + slug)
			if r.status != http.StatusNotFound || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("/api/fundraisers/%s: %d %s, want 404 JSON", slug, r.status, r.header.Get("Content-Type"))
			}
		}
	})

	page := s.get("/f/ruby")
	if page.status != http.StatusOK {
		t.Fatalf("/f/ruby: %d", page.status)
	}
	if h1 := findAll(page.doc, isElem("h1")); len(h1) == 0 || text(h1[0]) != title {
		t.Errorf("h1 = %q, want %q", text(h1[0]), title)
	}
	if f := donateForm(t, page.doc); f.Get("fundraiser") != "ruby" {
		t.Errorf("hidden fundraiser = %q, want ruby", f.Get("fundraiser"))
	}

	t.Run("a problem re-shows Ruby's page, not the appeal", func(t *testing.T) {
		f := donateForm(t, page.doc)
		f.Set("tier", "custom")
		f.Set("amount", "3.999")
		r := s.post("/donate", f)
		if r.status != http.StatusUnprocessableEntity || byID(r.doc, "amount-error") == nil {
			t.Fatalf("status %d, want 422 with #amount-error", r.status)
		}
		if h1 := findAll(r.doc, isElem("h1")); len(h1) == 0 || text(h1[0]) != title {
			t.Errorf("re-shown page h1 %q, want Ruby's page", text(h1[0]))
		}
		if got := donateForm(t, r.doc).Get("fundraiser"); got != "ruby" {
			t.Errorf("re-shown form's fundraiser %q, want ruby", got)
		}
	})

	// give makes and pays one gift on Ruby's page.
	give := func(amount string, set map[string]string) {
		t.Helper()
		p := s.get("/f/ruby")
		f := donateForm(t, p.doc)
		f.Set("tier", tierID(t, p.doc, amount))
		for k, v := range set {
			f.Set(k, v)
		}
		r := s.post("/donate", f)
		if r.status != http.StatusSeeOther {
			t.Fatalf("donate: %d %s", r.status, text(r.doc))
		}
		if r := s.post(r.header.Get("Location")+"/pay", sandboxPayer); r.status != http.StatusSeeOther {
			t.Fatalf("pay: %d %s", r.status, r.body)
		}
	}
	give("£3.00", map[string]string{"display_name": xss, "message": xss})

	if got := s.totals("/api/fundraisers/ruby"); got.Raised != "3.00" || got.Donations != 1 || got.Currency != "GBP" || got.Slug != "ruby" {
		t.Errorf("fundraiser JSON %+v, want raised 3.00 from 1 gift", got)
	}
	if got := s.appealTotals(); got.Raised != "3.00" {
		t.Errorf("appeal raised %q, want 3.00: a fundraiser's gift counts for the appeal", got.Raised)
	}

	give("£15.00", map[string]string{"display_name": "Secret Sam", "hide_name": "1"})
	give("£40.00", map[string]string{"display_name": "Quiet Quinn", "hide_amount": "1"})

	page = s.get("/f/ruby")
	if strings.Contains(page.body, "<script>alert(1)") {
		t.Error("the page contains an unescaped <script>alert(1)")
	}
	if !strings.Contains(progressFigures(page.doc), "£58.00 raised of £500.00") {
		t.Errorf("progress reads %q", progressFigures(page.doc))
	}
	wall := map[string]*html.Node{}
	for _, e := range withClass(page.doc, "wall-entry") {
		wall[text(withClass(e, "wall-name")[0])] = e
	}
	if len(wall) != 3 {
		t.Fatalf("wall has %d distinct names, want 3: %v", len(wall), text(byID(page.doc, "wall-h").Parent))
	}
	if e := wall[xss]; e == nil {
		t.Error("the wall does not show the display name as typed (escaped)")
	} else {
		if m := withClass(e, "wall-message"); len(m) != 1 || text(m[0]) != xss {
			t.Errorf("wall message %q", text(e))
		}
		if a := withClass(e, "wall-amount"); len(a) != 1 || text(a[0]) != "£3.00" {
			t.Errorf("wall amount for the £3 gift: %q", text(e))
		}
	}
	if wall["Secret Sam"] != nil {
		t.Error(`"keep my name private" still shows the name`)
	}
	if e := wall["Anonymous"]; e == nil || !strings.Contains(text(e), "£15.00") {
		t.Errorf("anonymous gift: %q, want Anonymous with £15.00", text(e))
	}
	if e := wall["Quiet Quinn"]; e == nil {
		t.Error("the gift with a hidden amount is missing from the wall")
	} else if len(withClass(e, "wall-amount")) != 0 || strings.Contains(text(e), "£40") {
		t.Errorf(`"don't show the amount" shows it: %q`, text(e))
	}
	if wallText := text(byID(page.doc, "wall-h").Parent); strings.Contains(wallText, "£40.00") {
		t.Errorf("the hidden amount appears on the wall: %q", wallText)
	}
}
