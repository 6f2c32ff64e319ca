package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"golang.org/x/net/html"

	"giving/campaigns/appeals"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/payments"
	"giving/web/webtest"
)

// pathOf is a redirect's target within the site, failing unless it stays on base.
func pathOf(t *testing.T, s *site, location string) string {
	t.Helper()
	if !strings.HasPrefix(location, s.URL+"/") {
		t.Fatalf("redirect to %q leaves the site %s", location, s.URL)
	}
	return strings.TrimPrefix(location, s.URL)
}

func TestSandboxGiving(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})

	// A £3 one-off gift, the first tier.
	page := s.get("/")
	f := donateForm(t, page.doc)
	f.Set("tier", tierID(t, page.doc, "£3.00"))
	f.Set("frequency", "one_off")
	r := s.post("/donate", f)
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST /donate: %d %s", r.status, text(r.doc))
	}
	checkout := pathOf(t, s, r.header.Get("Location"))
	if !strings.HasPrefix(checkout, "/sandbox/checkout/") {
		t.Fatalf("redirected to %q, want the sandbox checkout", checkout)
	}
	sessionID := strings.TrimPrefix(checkout, "/sandbox/checkout/")

	r = s.get(checkout)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d", checkout, r.status)
	}
	if body := text(r.doc); !strings.Contains(body, "Sandbox") || !strings.Contains(body, "£3.00") {
		t.Errorf("sandbox checkout page: %q", body)
	}

	r = s.post(checkout+"/pay", sandboxPayer)
	if r.status != http.StatusSeeOther {
		t.Fatalf("pay: %d %s", r.status, r.body)
	}
	thanks := pathOf(t, s, r.header.Get("Location"))
	if thanks != "/thanks?session_id="+sessionID {
		t.Errorf("after paying: %q, want the thank-you page for %s", thanks, sessionID)
	}
	r = s.get(thanks)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d", thanks, r.status)
	}
	notice := withClass(r.doc, "notice")
	if len(notice) == 0 || !strings.Contains(text(notice[0]), "£3.00") || !strings.Contains(text(notice[0]), "has been received") {
		t.Errorf("thank-you notice: %q", text(r.doc))
	}
	if got := progressFigures(r.doc); !strings.Contains(got, "£3.00 raised of £50,000.00") {
		t.Errorf("thank-you progress: %q", got)
	}
	if got := s.appealTotals(); got.Raised != "3.00" || got.Donations != 1 || got.GiftAid != "0.00" {
		t.Errorf("after £3: %+v", got)
	}

	// Paying the same session again (a back button, a double click) records nothing new.
	if r := s.post(checkout+"/pay", sandboxPayer); r.status != http.StatusSeeOther {
		t.Fatalf("pay again: %d", r.status)
	}
	if got := s.appealTotals(); got.Raised != "3.00" || got.Donations != 1 {
		t.Errorf("after paying twice: %+v", got)
	}

	// £10 a month, typed, with Gift Aid.
	page = s.get("/")
	f = donateForm(t, page.doc)
	for k, v := range map[string]string{"tier": "custom", "amount": "10", "frequency": "monthly",
		"gift_aid": "1", "first_name": "Ada", "last_name": "Lovelace", "house": "12",
		"postcode": "sw1a1aa", "scope": giftaid.ScopeThisAndFuture} {
		f.Set(k, v)
	}
	r = s.post("/donate", f)
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST /donate monthly: %d %s", r.status, text(r.doc))
	}
	checkout = pathOf(t, s, r.header.Get("Location"))
	if r := s.get(checkout); !strings.Contains(text(r.doc), "£10.00 every month") {
		t.Errorf("sandbox page for a monthly gift: %q", text(r.doc))
	}
	r = s.post(checkout+"/pay", sandboxPayer)
	if r.status != http.StatusSeeOther {
		t.Fatalf("pay monthly: %d %s", r.status, r.body)
	}
	r = s.get(pathOf(t, s, r.header.Get("Location")))
	if body := text(r.doc); !strings.Contains(body, "monthly gift of £10.00") || !strings.Contains(body, "Gift Aid") {
		t.Errorf("thank-you page for a monthly Gift Aid gift: %q", body)
	}
	if got := s.appealTotals(); got.Raised != "13.00" || got.GiftAid != "2.50" || got.Donations != 2 {
		t.Errorf("after £3 + £10 monthly with Gift Aid: %+v, want raised 13.00, gift_aid 2.50", got)
	}

	var postcode, version, wording, scope string
	err := s.store.Pool().QueryRow(context.Background(), `SELECT g.postcode, g.wording_version, g.wording, g.scope
		FROM gift_aid_declarations g JOIN donations d ON d.gift_aid_declaration_id = g.id`).Scan(&postcode, &version, &wording, &scope)
	if err != nil {
		t.Fatal(err)
	}
	if postcode != "SW1A 1AA" {
		t.Errorf("stored postcode %q, want SW1A 1AA", postcode)
	}
	if version != giftaid.GiftAidWordingVersion {
		t.Errorf("wording version %q, want %q", version, giftaid.GiftAidWordingVersion)
	}
	// The wording stored is, byte for byte, the chosen scope's sentence and the terms the
	// page showed beside the box.
	if shown := shownDeclaration(t, page.doc, giftaid.ScopeThisAndFuture); wording != shown {
		t.Errorf("stored wording\n%q\ndiffers from the wording shown\n%q", wording, shown)
	}
	if scope != giftaid.ScopeThisAndFuture {
		t.Errorf("scope %q", scope)
	}
}

func TestSandboxDeclineRecordsNothing(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	page := s.get("/")
	f := donateForm(t, page.doc)
	f.Set("tier", tierID(t, page.doc, "£3.00"))
	r := s.post("/donate", f)
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST /donate: %d", r.status)
	}
	r = s.post(pathOf(t, s, r.header.Get("Location"))+"/decline", nil)
	if !strings.Contains(strings.ToLower(text(r.doc)), "declined") {
		t.Errorf("decline page: %d %q", r.status, text(r.doc))
	}
	if n := s.count(`SELECT count(*) FROM ledger_entries`); n != 0 {
		t.Errorf("%d ledger entries after a decline, want 0", n)
	}
	if got := s.appealTotals(); got.Raised != "0.00" || got.Donations != 0 {
		t.Errorf("after a decline: %+v", got)
	}
}

func TestForgedPriceFieldsIgnored(t *testing.T) {
	t.Parallel()
	forged := map[string]string{"amount": "1", "price": "1", "unit_amount": "1", "currency": "usd",
		"success_url": "https://evil.example/", "cancel_url": "https://evil.example/cancel", "client_reference_id": "x"}
	for _, tc := range []struct {
		name      string
		tier      string // a tier's amount, or "" for a typed amount
		amount    string
		forge     bool
		wantPence string
	}{
		{name: "tier with forged fields", tier: "£3.00", forge: true, wantPence: "300"},
		{name: "typed amount with pound sign and comma", amount: "£1,000.50", wantPence: "100050"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, siteOptions{stripe: true})
			page := s.get("/")
			f := donateForm(t, page.doc)
			if tc.forge {
				for k, v := range forged {
					f.Set(k, v)
				}
			}
			if tc.tier != "" {
				f.Set("tier", tierID(t, page.doc, tc.tier))
			} else {
				f.Set("tier", "custom")
				f.Set("amount", tc.amount)
			}
			r := s.post("/donate", f)
			if r.status != http.StatusSeeOther {
				t.Fatalf("POST /donate: %d %s", r.status, text(r.doc))
			}
			if loc := r.header.Get("Location"); loc != "https://checkout.stripe.com/c/pay/cs_test_1" {
				t.Errorf("redirected to %q, want Stripe's checkout", loc)
			}
			var donationID string
			if err := s.store.Pool().QueryRow(context.Background(), `SELECT id::text FROM donations`).Scan(&donationID); err != nil {
				t.Fatal(err)
			}
			seen := s.stripe.seen()
			if len(seen) != 1 {
				t.Fatalf("Stripe saw %d session requests, want 1", len(seen))
			}
			got := seen[0].Form
			for field, want := range map[string]string{
				"line_items[0][price_data][unit_amount]": tc.wantPence,
				"line_items[0][price_data][currency]":    "gbp",
				"line_items[0][quantity]":                "1",
				"client_reference_id":                    donationID,
				"metadata[donation_id]":                  donationID,
				"metadata[campaign]":                     appeals.DefaultAppealSlug,
				"mode":                                   "payment",
			} {
				if got.Get(field) != want {
					t.Errorf("%s = %q, want %q", field, got.Get(field), want)
				}
			}
			if su := got.Get("success_url"); !strings.HasPrefix(su, s.URL+"/thanks?session_id=") {
				t.Errorf("success_url %q, want the site's thank-you page", su)
			}
			if cu := got.Get("cancel_url"); cu != s.URL+"/donate/cancelled?donation="+donationID {
				t.Errorf("cancel_url %q", cu)
			}
			if seen[0].Key != "checkout:"+donationID {
				t.Errorf("Idempotency-Key %q, want checkout:%s", seen[0].Key, donationID)
			}
		})
	}
}

func TestDoubleSubmitOneDonation(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{stripe: true})
	page := s.get("/")
	f := donateForm(t, page.doc)
	f.Set("tier", tierID(t, page.doc, "£3.00"))
	first := s.post("/donate", f)
	second := s.post("/donate", f)
	for i, r := range []response{first, second} {
		if r.status != http.StatusSeeOther {
			t.Fatalf("submission %d: %d %s", i+1, r.status, text(r.doc))
		}
	}
	if a, b := first.header.Get("Location"), second.header.Get("Location"); a != b {
		t.Errorf("the two submissions went to different checkouts: %q and %q", a, b)
	}
	if n := s.donations(); n != 1 {
		t.Errorf("%d donations stored, want 1", n)
	}
	var id string
	if err := s.store.Pool().QueryRow(context.Background(), `SELECT id::text FROM donations`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	seen := s.stripe.seen()
	if len(seen) != 2 {
		t.Fatalf("Stripe saw %d requests, want 2", len(seen))
	}
	for i, req := range seen {
		if req.Key != "checkout:"+id {
			t.Errorf("request %d Idempotency-Key %q, want checkout:%s", i+1, req.Key, id)
		}
	}
}

// rawText is an element's text exactly as in the page (a browser's textContent).
func rawText(n *html.Node) string {
	var b strings.Builder
	for _, t := range findAll(n, func(n *html.Node) bool { return n.Type == html.TextNode }) {
		b.WriteString(t.Data)
	}
	return b.String()
}

// shownDeclaration is the Gift Aid declaration the donate form on doc shows for scope: the
// sentence beside that scope's radio button, a space, and the terms under the choices.
func shownDeclaration(t *testing.T, doc *html.Node, scope string) string {
	t.Helper()
	radios := findAll(doc, func(n *html.Node) bool {
		return isElem("input")(n) && attrVal(n, "name") == "scope" && attrVal(n, "value") == scope
	})
	terms := byID(doc, "giftaid-declaration")
	if len(radios) != 1 || terms == nil {
		t.Fatalf("the form has %d %q scope choices and terms %v", len(radios), scope, terms != nil)
	}
	sentence := withClass(radios[0].Parent, "declaration-sentence")
	if len(sentence) != 1 {
		t.Fatalf("the %q choice has no declaration sentence", scope)
	}
	return rawText(sentence[0]) + " " + rawText(terms)
}

func TestDonateValidation(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	giftAid := map[string]string{"tier": "custom", "amount": "10", "gift_aid": "1", "first_name": "Ada",
		"last_name": "Lovelace", "house": "12", "postcode": "SW1A 1AA", "scope": giftaid.ScopeThis}
	for _, tc := range []struct {
		name     string
		set      map[string]string
		field    string // the field with the problem
		message  string // part of the message beside it
		keepID   string // the input whose value must be kept ("" for none)
		keepWant string
	}{
		{"fraction of a penny", map[string]string{"tier": "custom", "amount": "3.999"}, "amount", "fractions of a penny", "amount", "3.999"},
		{"zero", map[string]string{"tier": "custom", "amount": "0"}, "amount", "above zero", "amount", "0"},
		{"negative", map[string]string{"tier": "custom", "amount": "-5"}, "amount", "above zero", "amount", "-5"},
		{"not a number", map[string]string{"tier": "custom", "amount": "abc"}, "amount", "Enter an amount in pounds", "amount", "abc"},
		{"below the minimum", map[string]string{"tier": "custom", "amount": "£0.50"}, "amount", "smallest gift is £1.00", "amount", "£0.50"},
		{"above the maximum", map[string]string{"tier": "custom", "amount": "£1,000,000"}, "amount", "largest gift is £10,000.00", "amount", "£1,000,000"},
		{"another currency", map[string]string{"tier": "custom", "amount": "5 USD"}, "amount", "pounds sterling", "amount", "5 USD"},
		{"no amount", map[string]string{"tier": "custom", "amount": ""}, "amount", "Choose an amount", "", ""},
		{"unknown tier", map[string]string{"tier": "999999"}, "tier", "Choose one of the amounts", "", ""},
		{"weekly", map[string]string{"tier": "custom", "amount": "10", "frequency": "weekly"}, "frequency", "one-off or monthly", "amount", "10"},
		{"Gift Aid with a bad postcode", merge(giftAid, map[string]string{"postcode": "12345"}), "postcode", "UK postcode", "postcode", "12345"},
		{"Gift Aid without a last name", merge(giftAid, map[string]string{"last_name": ""}), "last_name", "last name", "first_name", "Ada"},
		{"Gift Aid from abroad without the address", merge(giftAid, map[string]string{"overseas": "1", "house": "", "postcode": ""}), "address", "full home address", "first_name", "Ada"},
		{"Gift Aid from abroad, address too long for HMRC", merge(giftAid, map[string]string{"overseas": "1", "address": "12 Rue de la Paix, 75002 Paris, France, Europe"}),
			"address", "40 characters", "address", "12 Rue de la Paix, 75002 Paris, France, Europe"},
		{"display name too long", map[string]string{"tier": "custom", "amount": "10", "display_name": strings.Repeat("n", 61)}, "display_name", "60 characters", "display_name", strings.Repeat("n", 61)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := s.get("/")
			f := donateForm(t, page.doc)
			for k, v := range tc.set {
				f.Set(k, v)
			}
			r := s.post("/donate", f)
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", r.status)
			}
			msg := byID(r.doc, tc.field+"-error")
			if msg == nil {
				t.Fatalf("no #%s-error on the page: %q", tc.field, text(r.doc))
			}
			if !strings.Contains(text(msg), tc.message) {
				t.Errorf("#%s-error reads %q, want %q", tc.field, text(msg), tc.message)
			}
			if !beside(msg, byID(r.doc, tc.field)) {
				t.Errorf("#%s-error is not beside #%s", tc.field, tc.field)
			}
			if tc.keepID != "" {
				in := byID(r.doc, tc.keepID)
				if in == nil || attrVal(in, "value") != tc.keepWant {
					t.Errorf("#%s value %q, want the donor's %q kept", tc.keepID, attrVal(in, "value"), tc.keepWant)
				}
			}
			// The summary links to the field, and the donor's choice of frequency stays.
			if links := findAll(r.doc, func(n *html.Node) bool { return attrVal(n, "href") == "#"+tc.field }); len(links) == 0 {
				t.Errorf("the error summary does not link to #%s", tc.field)
			}
			if f.Get("gift_aid") != "" && checkedRadio(r.doc, "scope") != f.Get("scope") {
				t.Errorf("Gift Aid scope not kept: %q", checkedRadio(r.doc, "scope"))
			}
		})
	}
	if n := s.donations(); n != 0 {
		t.Errorf("%d donations stored from invalid forms, want 0", n)
	}
	if n := s.count(`SELECT count(*) FROM gift_aid_declarations`); n != 0 {
		t.Errorf("%d Gift Aid declarations stored from invalid forms, want 0", n)
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// beside: the message shares a parent with the field, or sits inside the field's fieldset.
func beside(msg, field *html.Node) bool {
	if msg == nil || field == nil {
		return false
	}
	if msg.Parent == field.Parent {
		return true
	}
	for p := msg.Parent; p != nil; p = p.Parent {
		if p == field {
			return true
		}
	}
	return false
}

func TestStripeErrorIsCalm(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{stripe: true})
	s.stripe.failing(true)
	page := s.get("/")
	f := donateForm(t, page.doc)
	tier := tierID(t, page.doc, "£3.00")
	f.Set("tier", tier)
	f.Set("display_name", "Ruby's friend")
	r := s.post("/donate", f)
	if r.status != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", r.status)
	}
	for _, leak := range []string{"boom", "api_error", "goroutine", "panic", "cs_test"} {
		if strings.Contains(strings.ToLower(r.body), leak) {
			t.Errorf("the donor sees %q", leak)
		}
	}
	notice := withClass(r.doc, "notice")
	if len(notice) == 0 || !strings.Contains(text(notice[0]), "Nothing was charged") {
		t.Errorf("no calm notice: %q", text(r.doc))
	}
	if checkedRadio(r.doc, "tier") != tier || attrVal(byID(r.doc, "display_name"), "value") != "Ruby's friend" {
		t.Error("the donor's choices were not kept")
	}
	var status string
	if err := s.store.Pool().QueryRow(context.Background(), `SELECT status FROM donations`).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status != donations.StatusPending {
		t.Errorf("donation status %q, want pending", status)
	}

	// Stripe recovers: the same form now goes through, to the same donation.
	s.stripe.failing(false)
	if r := s.post("/donate", f); r.status != http.StatusSeeOther {
		t.Errorf("retry after Stripe recovered: %d", r.status)
	}
	if n := s.donations(); n != 1 {
		t.Errorf("%d donations after a retry, want 1", n)
	}
}

func TestCancelKeepsChoices(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		tier      string // tier amount, or "" for a typed amount
		amount    string
		frequency string
		wantValue string // #amount value kept
	}{
		{name: "typed monthly", amount: "10", frequency: "monthly", wantValue: "10.00"},
		{name: "tier once", tier: "£15.00", frequency: "one_off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, siteOptions{})
			page := s.get("/")
			f := donateForm(t, page.doc)
			wantTier := "custom"
			if tc.tier != "" {
				wantTier = tierID(t, page.doc, tc.tier)
			} else {
				f.Set("amount", tc.amount)
			}
			f.Set("tier", wantTier)
			f.Set("frequency", tc.frequency)
			f.Set("display_name", "Ruby's friend")
			r := s.post("/donate", f)
			if r.status != http.StatusSeeOther {
				t.Fatalf("POST /donate: %d", r.status)
			}
			checkout := s.get(pathOf(t, s, r.header.Get("Location")))
			links := findAll(checkout.doc, func(n *html.Node) bool { return isElem("a")(n) && text(n) == "Cancel and go back" })
			if len(links) != 1 {
				t.Fatal("no cancel link on the checkout page")
			}
			cancel := pathOf(t, s, attrVal(links[0], "href"))
			if !strings.HasPrefix(cancel, "/donate/cancelled?donation=") {
				t.Fatalf("cancel URL %q", cancel)
			}

			r = s.get(cancel)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s: %d", cancel, r.status)
			}
			if notice := withClass(r.doc, "notice"); len(notice) == 0 || !strings.Contains(text(notice[0]), "nothing was charged") {
				t.Errorf("cancel notice: %q", text(r.doc))
			}
			if got := checkedRadio(r.doc, "tier"); got != wantTier {
				t.Errorf("tier %q, want %q", got, wantTier)
			}
			if got := attrVal(byID(r.doc, "amount"), "value"); got != tc.wantValue {
				t.Errorf("amount %q, want %q", got, tc.wantValue)
			}
			if got := checkedRadio(r.doc, "frequency"); got != tc.frequency {
				t.Errorf("frequency %q, want %q", got, tc.frequency)
			}
			if got := attrVal(byID(r.doc, "display_name"), "value"); got != "Ruby's friend" {
				t.Errorf("display name %q", got)
			}
			if n := s.count(`SELECT count(*) FROM ledger_entries`); n != 0 {
				t.Errorf("%d ledger entries after a cancel", n)
			}
			// The kept form can be sent again as it stands.
			again := donateForm(t, r.doc)
			if again.Get("token") == f.Get("token") {
				t.Error("the re-shown form reuses the spent token")
			}
			if r := s.post("/donate", again); r.status != http.StatusSeeOther {
				t.Errorf("resubmitting the kept form: %d %s", r.status, text(r.doc))
			}
		})
	}
}

// A paid donation's cancel link goes to its thank-you page; a pending one's never shows the
// Gift Aid home address again; pages with a form token are never stored by shared caches.
func TestCancelAfterPayingAndPrivacy(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	page := s.get("/")
	if cc := page.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("appeal page Cache-Control %q: a form token must not be cached", cc)
	}
	f := donateForm(t, page.doc)
	for k, v := range map[string]string{"tier": "custom", "amount": "12", "frequency": "one_off", "gift_aid": "1",
		"first_name": "Ada", "last_name": "Lovelace", "house": "Flat 7 Cedar Court", "postcode": "SW1A 1AA", "scope": "this"} {
		f.Set(k, v)
	}
	r := s.post("/donate", f)
	checkout := pathOf(t, s, r.header.Get("Location"))
	var donation string
	if err := s.store.Pool().QueryRow(context.Background(), `SELECT id::text FROM donations`).Scan(&donation); err != nil {
		t.Fatal(err)
	}
	back := s.get("/donate/cancelled?donation=" + donation)
	if back.status != http.StatusOK || strings.Contains(back.body, "Cedar Court") || strings.Contains(back.body, "SW1A 1AA") {
		t.Fatalf("cancel page (%d) shows the home address", back.status)
	}
	if got := webtest.Attr(t, back.body, "form input#last_name", "value"); got != "Lovelace" {
		t.Errorf("cancel page lost the donor's name: last name %q", got)
	}
	s.post(checkout+"/pay", sandboxPayer)
	after := s.get("/donate/cancelled?donation=" + donation)
	if after.status != http.StatusSeeOther || !strings.HasPrefix(pathOf(t, s, after.header.Get("Location")), "/thanks?session_id=") {
		t.Fatalf("cancel link of a paid gift: %d to %q, want the thank-you page", after.status, after.header.Get("Location"))
	}
}

// The charity's configured limits (GIFT_MIN, GIFT_MAX) decide which amounts are refused,
// and the message states them; the configured fee schedule (CARD_FEE_*) decides the
// covered amount sent to Stripe and the wording of the offer.
func TestConfiguredLimitsAndFees(t *testing.T) {
	t.Parallel()
	d := decimal.RequireFromString
	s := newSite(t, siteOptions{stripe: true,
		limits: payments.AmountLimits{Min: d("5.00"), Max: d("250.00")},
		fees:   payments.FeeSchedule{Percent: d("2"), Fixed: d("0.30")}})
	for _, tc := range []struct{ amount, message string }{
		{"4.99", "smallest gift is £5.00"},
		{"1", "smallest gift is £5.00"}, // the default minimum no longer applies
		{"250.01", "largest gift is £250.00"},
	} {
		page := s.get("/")
		f := donateForm(t, page.doc)
		f.Set("tier", "custom")
		f.Set("amount", tc.amount)
		r := s.post("/donate", f)
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("£%s: status %d, want 422", tc.amount, r.status)
		}
		if msg := byID(r.doc, "amount-error"); msg == nil || !strings.Contains(text(msg), tc.message) {
			t.Errorf("£%s: #amount-error %q, want %q", tc.amount, text(msg), tc.message)
		}
	}
	if n := s.donations(); n != 0 {
		t.Fatalf("%d donations stored from refused amounts", n)
	}

	page := s.get("/")
	if body := text(page.doc); !strings.Contains(body, "2% + £0.30, rounded up to the next penny") {
		t.Errorf("the fee offer does not state the configured schedule: %q", body)
	}
	f := donateForm(t, page.doc)
	f.Set("tier", "custom")
	f.Set("amount", "100")
	f.Set("cover_fee", "1")
	if r := s.post("/donate", f); r.status != http.StatusSeeOther {
		t.Fatalf("£100 covering the fee: %d %s", r.status, text(r.doc))
	}
	// By hand: T = 100.30 / 0.98 = 102.3469… → 102.35; its fee 2% of 102.35 + 0.30 =
	// 2.347 → 2.35 leaves exactly 100.00, and 102.34 would leave 99.99. With the default
	// 1.5% + 20p the total would be 101.73.
	seen := s.stripe.seen()
	if len(seen) != 1 {
		t.Fatalf("Stripe saw %d requests, want 1", len(seen))
	}
	if got := seen[0].Form.Get("line_items[0][price_data][unit_amount]"); got != "10235" {
		t.Errorf("unit_amount %s, want 10235 (£100 + £2.35 covering 2%% + 30p)", got)
	}
	var cover decimal.Decimal
	if err := s.store.Pool().QueryRow(context.Background(), `SELECT cover_fee FROM donations`).Scan(&cover); err != nil {
		t.Fatal(err)
	}
	if !cover.Equal(d("2.35")) {
		t.Errorf("stored cover %s, want 2.35", cover)
	}
}
