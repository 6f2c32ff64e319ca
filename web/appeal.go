package web

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"
	"golang.org/x/sync/singleflight"

	"giving/campaigns/appeals"
	"giving/campaigns/ledger"
	"giving/payments"
)

// appealView is an appeal with its totals, as the public pages show it.
type appealView struct {
	Appeal     appeals.Appeal
	Totals     ledger.Totals
	Supporters []appeals.Supporter // the latest gifts, newest first
}

// totalsCache keeps public figures for at most ttl, so a burst of visitors costs one
// database read per appeal per ttl; concurrent misses share one load.
type totalsCache struct {
	ttl   time.Duration
	now   func() time.Time
	group singleflight.Group
	mu    sync.Mutex
	items map[string]cachedView
}

type cachedView struct {
	view    appealView
	expires time.Time
}

func newTotalsCache(ttl time.Duration, now func() time.Time) *totalsCache {
	return &totalsCache{ttl: ttl, now: now, items: map[string]cachedView{}}
}

func (c *totalsCache) get(key string, load func() (appealView, error)) (appealView, error) {
	now := c.now()
	c.mu.Lock()
	item, ok := c.items[key]
	c.mu.Unlock()
	if ok && now.Before(item.expires) {
		return item.view, nil
	}
	v, err, _ := c.group.Do(key, func() (any, error) {
		view, err := load()
		if err != nil {
			return appealView{}, err
		}
		c.mu.Lock()
		c.items[key] = cachedView{view: view, expires: c.now().Add(c.ttl)}
		c.mu.Unlock()
		return view, nil
	})
	return v.(appealView), err
}

// forget drops a cached appeal after an admin changed it on this instance (others see
// the change within the cache's second).
func (c *totalsCache) forget(key string) {
	c.mu.Lock()
	delete(c.items, key)
	c.mu.Unlock()
}

func (s *Server) loadAppeal(ctx context.Context, slug string) (appealView, error) {
	return s.cache.get("appeal:"+slug, func() (appealView, error) {
		// Shared by every request waiting on this load: one visitor leaving must not fail
		// the others.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		a, err := appeals.AppealBySlug(ctx, s.store, slug)
		if err != nil {
			return appealView{}, err
		}
		return s.appealView(ctx, a)
	})
}

// appealView reads what the public sees of an appeal: its totals and latest supporters.
func (s *Server) appealView(ctx context.Context, a appeals.Appeal) (appealView, error) {
	t, err := appeals.AppealTotals(ctx, s.store, a.ID)
	if err != nil {
		return appealView{}, err
	}
	list, err := appeals.RecentSupporters(ctx, s.store, a.ID, recentSupporters)
	if err != nil {
		return appealView{}, err
	}
	return appealView{Appeal: a, Totals: t, Supporters: list}, nil
}

func progress(label string, t ledger.Totals, target any) map[string]any {
	m := map[string]any{"Label": label, "Raised": t.Raised(), "Target": target, "Donors": t.Donors}
	if d, ok := target.(decimal.Decimal); ok {
		m["Percent"] = percentLabel(t.Raised(), d)
	}
	return m
}

// percentLabel is progress as a donor reads it: a first gift is never "0%".
func percentLabel(raised, target decimal.Decimal) string {
	if p := percent(raised, target); p > 0 || raised.Sign() <= 0 {
		return strconv.Itoa(p) + "%"
	}
	return "<1%"
}

// recentSupporters is how many gifts a page lists near its top.
const recentSupporters = 8

// appealPage is GET /: the appeal's promise, progress and the donate form on the first
// screen; its supporters and story below.
func (s *Server) appealPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.loadAppeal(r.Context(), appeals.DefaultAppealSlug)
	if err != nil {
		return err
	}
	noStore(w)
	return s.renderAppeal(w, r, http.StatusOK, v, blankForm(""), "")
}

// renderAppeal shows the appeal with the form as the donor left it (blank, with problems,
// or after a cancelled payment with a notice).
func (s *Server) renderAppeal(w http.ResponseWriter, r *http.Request, status int, v appealView, f donateForm, notice string) error {
	a := v.Appeal
	s.render(w, r, status, "appeal.html", map[string]any{
		"Title": a.Name, "Description": a.Summary, "Appeal": a, "Form": s.formView(r.Context(), a, f, notice),
		"Progress":   progress("Progress toward the appeal target", v.Totals, a.Target),
		"Supporters": supportersView(s.store.Now(), v.Supporters),
		"Share":      s.share("/", a.Name, a.Summary, "I've just supported "+a.Name+". Will you join me?"),
	})
	return nil
}

// totalsJSON is the public JSON contract (README): amounts as strings with two decimals.
type totalsJSON struct {
	Slug      string `json:"slug"`
	Name      string `json:"name"`
	Currency  string `json:"currency"`
	Target    string `json:"target"`
	Raised    string `json:"raised"`
	GiftAid   string `json:"gift_aid"`
	Donations int64  `json:"donations"`
	Donors    int64  `json:"donors"`
	Percent   int    `json:"percent"`
	URL       string `json:"url"`
}

// campaignJSON is GET /api/campaigns/{slug}.
func (s *Server) campaignJSON(w http.ResponseWriter, r *http.Request) error {
	v, err := s.loadAppeal(r.Context(), chi.URLParam(r, "slug"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=1")
	writeJSON(w, http.StatusOK, totalsJSON{
		Slug: v.Appeal.Slug, Name: v.Appeal.Name, Currency: v.Appeal.Currency,
		Target: payments.FormatAmount(v.Appeal.Target), Raised: payments.FormatAmount(v.Totals.Raised()),
		GiftAid: payments.FormatAmount(v.Totals.GiftAid()), Donations: v.Totals.Gifts, Donors: v.Totals.Donors,
		Percent: percent(v.Totals.Raised(), v.Appeal.Target), URL: s.baseURL.JoinPath("/").String(),
	})
	return nil
}
