package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"giving/web/webtest"
)

// stripeLists serves Stripe's list endpoints (charges, refunds, disputes, payouts,
// events) from the charges it is given; the rest are empty.
type stripeLists struct {
	mu      sync.Mutex
	charges []map[string]any
}

func (f *stripeLists) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data := []map[string]any{}
	switch r.URL.Path {
	case "/v1/charges":
		data = f.charges
	case "/v1/refunds", "/v1/disputes", "/v1/payouts", "/v1/events":
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "has_more": false, "url": r.URL.Path})
}

func paidCharge(id, pi string, pence int64) map[string]any {
	return map[string]any{"id": id, "object": "charge", "amount": pence, "amount_refunded": 0, "currency": "gbp",
		"created": time.Now().Unix(), "paid": true, "captured": true, "status": "succeeded", "payment_intent": pi,
		"livemode": false, "metadata": map[string]any{}}
}

// The reconciliation page, for one appeal, lists that appeal's gifts and Stripe charges
// and none of the other's; a charge the ledger cannot match is shown for every appeal,
// marked "not matched"; every appeal (the default) has both.
func TestReconcilePageByAppeal(t *testing.T) {
	t.Parallel()
	lists := &stripeLists{}
	api := httptest.NewServer(lists)
	t.Cleanup(api.Close)
	p := &pagesSite{newSite(t, siteOptions{users: []user{adminUser, trusteeUser}, reconcileAPI: api.URL})}
	admin, trustee := p.as("admin@example.org"), p.as("trustee@example.org")
	p.openEmergencyAppeal(admin)
	p.giveOn("/", "10", "ada@example.org")
	p.giveOn("/a/winter-emergency", "25", "grace@example.org")

	// Stripe has a charge for each gift, as the ledger names its payment, and one more.
	rows, err := p.store.Pool().Query(context.Background(), `SELECT a.slug, e.payment_intent, (e.amount * 100)::bigint
		FROM ledger_entries e JOIN appeals a ON a.id = e.appeal_id WHERE e.kind = 'gift' ORDER BY e.id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var slug, pi string
		var pence int64
		if err := rows.Scan(&slug, &pi, &pence); err != nil {
			t.Fatal(err)
		}
		if slug == "fundraising-for-freedom" {
			pence += 100 // Stripe charged £1 more than the ledger holds: a difference to report
		}
		lists.charges = append(lists.charges, paidCharge("ch_"+strings.ReplaceAll(slug, "-", "_"), pi, pence))
	}
	if rows.Err() != nil || len(lists.charges) != 2 {
		t.Fatalf("gifts in the ledger: %d, %v", len(lists.charges), rows.Err())
	}
	lists.charges = append(lists.charges, paidCharge("ch_stray", "pi_stray", 700))

	for _, c := range []struct {
		query, chosen, charges, ledger string
		mismatch                       bool // the report names the Freedom appeal's charge
	}{
		{"?appeal=winter-emergency", "Winter emergency appeal", "1", "£25.00", false},
		{"?appeal=fundraising-for-freedom", "Fundraising for Freedom", "1", "£10.00", true},
		{"?appeal=all", "All appeals", "2", "£35.00", true},
		{"", "All appeals", "2", "£35.00", true},
	} {
		r := p.send(trustee, http.MethodGet, "/trustees/reconcile"+c.query, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", c.query, r.status, text(r.doc))
		}
		for sel, want := range map[string]string{"#appeal option[selected]": c.chosen, "#rec-charges": c.charges,
			"#rec-not-matched": "1", "#rec-ledger-amount": c.ledger} {
			if got := webtest.Text(t, r.body, sel); got != want {
				t.Errorf("%q: %s is %q, want %q", c.query, sel, got, want)
			}
		}
		report := webtest.Text(t, r.body, "pre.report")
		if got := strings.Contains(report, "amount_mismatch ch_fundraising_for_freedom"); got != c.mismatch {
			t.Errorf("%q: the report names the Freedom appeal's charge: %v, want %v:\n%s", c.query, got, c.mismatch, report)
		}
		if !strings.Contains(report, "ch_stray") || !strings.Contains(report, "not matched to any appeal") {
			t.Errorf("%q: the stray charge is not marked as not matched:\n%s", c.query, report)
		}
	}
}
