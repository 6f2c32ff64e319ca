package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"giving/campaigns/appeals"
	"giving/campaigns/campaignstest"
	"giving/campaigns/ledger"
)

// In a burst, the public appeal and fundraiser pages are sent from the cache: gzipped, with
// an ETag that a returning browser gets a 304 for; a new gift shows once the figures'
// second has passed, with a new ETag; a logged-in trustee is never sent the public copy.
func TestPublicPagesAreServedFromTheCache(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(time.Date(2026, 3, 2, 19, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	s := newSite(t, siteOptions{accountsOnly: true, clock: clock, users: []user{trusteeUser}})
	s.addFundraiser("ruby", "Ruby runs for freedom", "I am running 10k.", "approved")
	ctx := context.Background()
	appeal, err := appeals.AppealBySlug(ctx, s.store, appeals.DefaultAppealSlug)
	if err != nil {
		t.Fatal(err)
	}
	gunzip := func(r response) string {
		t.Helper()
		if r.header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("not compressed: Content-Encoding %q", r.header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader([]byte(r.body)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, path := range []string{"/", "/f/ruby"} {
		first := s.send(s.browser(), http.MethodGet, path, nil, "Accept-Encoding", "gzip")
		etag := first.header.Get("ETag")
		if first.status != http.StatusOK || etag == "" {
			t.Fatalf("%s: %d with ETag %q", path, first.status, etag)
		}
		page := gunzip(first)
		// Another visitor, whose browser takes no gzip: the same page, from the cache.
		second := s.send(s.browser(), http.MethodGet, path, nil, "Accept-Encoding", "identity")
		if second.status != http.StatusOK || second.header.Get("ETag") != etag || second.body != page {
			t.Fatalf("%s: a second visitor got %d, ETag %q (want %q), same page %v", path, second.status, second.header.Get("ETag"), etag, second.body == page)
		}
		// Each goes as one body of a stated length, not in chunks.
		for _, r := range []response{first, second} {
			if got := r.header.Get("Content-Length"); got != strconv.Itoa(len(r.body)) {
				t.Errorf("%s: Content-Length %q for a body of %d bytes", path, got, len(r.body))
			}
		}
		// A returning browser: 304, nothing sent again.
		again := s.send(s.browser(), http.MethodGet, path, nil, "If-None-Match", etag)
		if again.status != http.StatusNotModified || again.body != "" {
			t.Fatalf("%s with If-None-Match %s: %d and %d bytes, want 304 and none", path, etag, again.status, len(again.body))
		}
	}

	// A gift: within the figures' second every visitor still gets the page as it was, then
	// the new total, under a new ETag.
	before := s.send(s.browser(), http.MethodGet, "/", nil, "Accept-Encoding", "identity")
	campaignstest.Record(t, s.store, ledger.Entry{AppealID: appeal.ID, Kind: ledger.KindGift, Source: ledger.SourceStripe,
		SourceRef: "pi_cache", Amount: decimal.RequireFromString("1234.00"), DonorKey: "cus_cache"})
	if same := s.send(s.browser(), http.MethodGet, "/", nil, "Accept-Encoding", "identity"); same.header.Get("ETag") != before.header.Get("ETag") {
		t.Fatal("the page changed within the figures' second")
	}
	now.Add(int64(2 * time.Second))
	after := s.send(s.browser(), http.MethodGet, "/", nil, "Accept-Encoding", "identity", "If-None-Match", before.header.Get("ETag"))
	if after.status != http.StatusOK || after.header.Get("ETag") == before.header.Get("ETag") || after.body == before.body {
		t.Fatalf("after a gift: %d with ETag %q (was %q)", after.status, after.header.Get("ETag"), before.header.Get("ETag"))
	}
	if !bytes.Contains([]byte(after.body), []byte("1,234")) {
		t.Fatal("the new total is not on the page")
	}

	// A logged-in trustee gets her own page, never the public copy.
	a := &accountSite{s}
	c := a.loggedIn(trusteeUser.email)
	mine := s.send(c, http.MethodGet, "/", nil, "If-None-Match", after.header.Get("ETag"))
	if mine.status != http.StatusOK || mine.header.Get("ETag") != "" || mine.header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("logged in: %d, ETag %q, Cache-Control %q; want 200, none, private, no-store",
			mine.status, mine.header.Get("ETag"), mine.header.Get("Cache-Control"))
	}
}

// Every visitor in a second is sent the same cached page, with the same form token; two
// donors who both give from it each get their own donation and checkout, and a double click
// still finds the first submission's.
func TestDonorsGivingFromOneCachedPageGetTheirOwnGifts(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 19, 0, 0, 0, time.UTC)
	s := newSite(t, siteOptions{pageCache: true, clock: func() time.Time { return at }}) // the cache never goes stale
	fa, fb := donateForm(t, s.get("/").doc), donateForm(t, s.get("/").doc)
	if fa.Get("token") != fb.Get("token") {
		t.Fatalf("the two visitors were not sent the same cached page (tokens %q, %q)", fa.Get("token"), fb.Get("token"))
	}
	fa.Set("display_name", "Amira")
	fb.Set("display_name", "Beth")
	ra, rb := s.post("/donate", fa), s.post("/donate", fb)
	if ra.status != http.StatusSeeOther || rb.status != http.StatusSeeOther {
		t.Fatalf("POST /donate: %d and %d, want 303 each", ra.status, rb.status)
	}
	if ra.header.Get("Location") == rb.header.Get("Location") {
		t.Fatalf("Beth was sent to Amira's checkout %s", ra.header.Get("Location"))
	}
	if n := s.count(`SELECT count(*) FROM donations`); n != 2 {
		t.Fatalf("%d donations for two donors, want 2", n)
	}
	again := s.post("/donate", fa) // Amira's double click
	if again.header.Get("Location") != ra.header.Get("Location") {
		t.Fatalf("a second press of Give went to %s, not her checkout %s", again.header.Get("Location"), ra.header.Get("Location"))
	}
	if n := s.count(`SELECT count(*) FROM donations`); n != 2 {
		t.Fatalf("%d donations after a double click, want 2", n)
	}
}
