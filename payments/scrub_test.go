package payments_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopspring/decimal"

	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/donations"
	"giving/campaigns/donors"
	"giving/campaigns/giftaid"
	"giving/campaigns/ledger"
	"giving/campaigns/outbox"
	"giving/campaigns/pages"
	"giving/payments"
)

// donorGift creates a donation made by email, with a display name, a message and, when
// decl is set, a Gift Aid declaration.
func (w *world) donorGift(amount, email, name, message string, monthly bool, decl *giftaid.Declaration, fundraiser int64) donations.Donation {
	w.t.Helper()
	d, err := donations.Create(context.Background(), w.store(), donations.NewDonation{AppealID: w.appeal.ID,
		FundraiserID: fundraiser, Amount: decimal.RequireFromString(amount), Monthly: monthly, DisplayName: name,
		Message: message, Email: email, Declaration: decl})
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

func decl(first, last, house, postcode string) *giftaid.Declaration {
	return &giftaid.Declaration{FirstName: first, LastName: last, House: house, Postcode: postcode,
		Scope: "this_and_future", WordingVersion: "test-1", Wording: "I want to Gift Aid my donation"}
}

// withoutCustomer rewrites an event as Stripe sends it for a guest checkout: no customer.
func withoutCustomer(t *testing.T, payload []byte) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	ev["data"].(map[string]any)["object"].(map[string]any)["customer"] = nil
	out, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// snapshot is everything erasure could touch, to prove that something changed nothing.
func (w *world) snapshot() string {
	w.t.Helper()
	var s string
	err := w.pool().QueryRow(context.Background(), `SELECT
		(SELECT string_agg(d::text, '|' ORDER BY d.id) FROM donations d) || '#' ||
		(SELECT string_agg(g::text, '|' ORDER BY g.id) FROM gift_aid_declarations g) || '#' ||
		(SELECT string_agg(e.id || encode(sha256(e.payload), 'hex'), '|' ORDER BY e.id) FROM stripe_events e) || '#' ||
		(SELECT count(*) FROM ledger_entries)::text`).Scan(&s)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

// namesAda finds Ada's name in text as a word: ids are hex, and "ada" is hex too.
var namesAda = regexp.MustCompile(`(?i)\bada\b|lovelace`)

func TestEraseDonorKeepsMoneyAndHMRCRecordsAndReplayStillAgrees(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	ctx := context.Background()
	pool := w.pool()
	ada := payments.EventBuilder{DonorEmail: "ada.lovelace@example.org", DonorName: "Ada Lovelace"}
	bob := payments.EventBuilder{DonorEmail: "bob.smith@example.org", DonorName: "Bob Smith"}
	sevenYearsAgo := time.Now().AddDate(-7, -1, 0)
	oldAda := ada
	oldAda.Now = func() time.Time { return sevenYearsAgo }

	// Ada: a recent one-off gift on Ruby's page with Gift Aid (refunded in part, fee known),
	// a monthly gift, and a gift 7 years ago under an old declaration. Bob gives too.
	recent := w.donorGift("25.00", "Ada.Lovelace@Example.org", "Ada L", "For every woman at the safe house", false,
		decl("Ada", "Lovelace", "12", "SW1A 1AA"), w.ruby)
	w.send(ada.CheckoutSessionCompleted("cs_ada", "pi_ada", "cus_ada", 2500, "paid", meta(w, recent)))
	w.send(ada.ChargeSucceeded("ch_ada", "pi_ada", "cus_ada", 2500, 58, "", meta(w, recent)))
	w.send(ada.ChargeRefunded("ch_ada", "pi_ada", 2500, 500, meta(w, recent)))
	monthly := w.donorGift("10.00", "ada.lovelace@example.org", "Ada", "", true, nil, 0)
	w.send(ada.CheckoutSubscriptionCompleted("cs_ada_m", "sub_ada", "cus_ada_m", 1000, meta(w, monthly)))
	w.send(ada.InvoicePaid("in_ada_1", "sub_ada", "cus_ada_m", "ch_ada_m1", "pi_ada_m1", 1000, "subscription_create", meta(w, monthly)))
	w.send(ada.SubscriptionDeleted("sub_ada", "cus_ada_m", 1000, meta(w, monthly)))
	old := w.donorGift("40.00", "ada.lovelace@example.org", "Ada Lovelace", "In memory of my mother", false,
		decl("Augusta", "Lovelace", "Ockham Park", "KT11 1AA"), 0)
	w.send(oldAda.CheckoutSessionCompleted("cs_ada_old", "pi_ada_old", "cus_ada_old", 4000, "paid", meta(w, old)))
	if _, err := pool.Exec(ctx, `UPDATE gift_aid_declarations SET declared_at = $2 WHERE id = $1::uuid`,
		old.DeclarationID, sevenYearsAgo); err != nil {
		t.Fatal(err)
	}
	bobs := w.donorGift("15.00", "bob.smith@example.org", "Bob Smith", "Go Ruby!", false, decl("Bob", "Smith", "3", "N1 9GU"), w.ruby)
	w.send(bob.CheckoutSessionCompleted("cs_bob", "pi_bob", "cus_bob", 1500, "paid", meta(w, bobs)))
	w.send(bob.ChargeSucceeded("ch_bob", "pi_bob", "cus_bob", 1500, 43, "", meta(w, bobs)))
	// Cara checked out twice as a guest (no Stripe customer): the donor count knows her by
	// her email alone.
	cara := payments.EventBuilder{DonorEmail: "cara@example.org", DonorName: "Cara Guest"}
	c1 := w.donorGift("5.00", "cara@example.org", "Cara", "", false, nil, 0)
	c2 := w.donorGift("6.00", "cara@example.org", "Cara", "", false, nil, 0)
	w.send(withoutCustomer(t, cara.CheckoutSessionCompleted("cs_cara1", "pi_cara1", "", 500, "paid", meta(w, c1))))
	w.send(withoutCustomer(t, cara.CheckoutSessionCompleted("cs_cara2", "pi_cara2", "", 600, "paid", meta(w, c2))))
	w.noDifference()

	appealBefore, rubyBefore := w.totals(ledger.AppealScope(w.appeal.ID)), w.totals(ledger.FundraiserScope(w.ruby))
	if appealBefore.Donors != 5 { // cus_ada, cus_ada_m, cus_ada_old, cus_bob, Cara's email
		t.Fatalf("donors before: %d", appealBefore.Donors)
	}
	var ledgerBefore int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries`).Scan(&ledgerBefore)

	// The export holds Ada's donations, declarations, money and events, and nothing of Bob.
	recs, err := donors.ExportDonorRecords(ctx, w.store(), accounts.CommandLine(), " ADA.lovelace@example.ORG")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs.Donations) != 3 || len(recs.Declarations) != 2 || len(recs.Events) != 7 {
		t.Fatalf("export: %d donations, %d declarations, %d events", len(recs.Donations), len(recs.Declarations), len(recs.Events))
	}
	var doc strings.Builder
	if err := donors.WriteDonorJSON(&doc, recs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"amount": "25.00"`, `"amount": "-5.00"`, `"amount": "40.00"`, `"first_name": "Augusta"`,
		`"postcode": "SW1A 1AA"`, `"message": "For every woman at the safe house"`, `"stripe_customer": "cus_ada"`,
		`"email": "ada.lovelace@example.org"`, `"name": "Ada Lovelace"`} {
		if !strings.Contains(doc.String(), want) {
			t.Errorf("export lacks %s", want)
		}
	}
	for _, never := range []string{"bob", "Bob", "cara", "N1 9GU", "cus_bob"} {
		if strings.Contains(doc.String(), never) {
			t.Errorf("export of Ada contains %q", never)
		}
	}
	if !json.Valid([]byte(doc.String())) {
		t.Fatal("export is not JSON")
	}

	// Ruby thanked Ada: the outbox holds Ada's address until she is erased; a mail to
	// someone else stays.
	for _, to := range []string{"ada.lovelace@example.org", "someone.else@example.org"} {
		if err := w.store().InTx(ctx, func(tx pgx.Tx) error {
			return outbox.QueueMail(ctx, tx, outbox.Mail{To: to, Subject: "Thank you", Body: "Thank you for giving."})
		}); err != nil {
			t.Fatal(err)
		}
	}

	// A dry run reports exactly what would happen and changes nothing.
	before := w.snapshot()
	plan, err := payments.PlanErasure(ctx, w.store(), accounts.CommandLine(), "ada.lovelace@example.org", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if after := w.snapshot(); after != before {
		t.Fatal("a dry run changed something")
	}

	rep, err := payments.EraseDonor(ctx, w.store(), accounts.CommandLine(), "Ada.Lovelace@EXAMPLE.org", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(plan) != fmt.Sprint(rep) {
		t.Errorf("dry run %+v, erasure %+v", plan, rep)
	}
	if rep.DonationsScrubbed != 3 || len(rep.DeclarationsKept) != 1 || rep.DeclarationsErased != 1 || rep.EventsScrubbed != 6 || rep.MailDeleted != 1 { // the subscription event holds no contact details
		t.Fatalf("report: %+v", rep)
	}
	var mailToAda, mailToOthers int
	if err := w.pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE to_address ILIKE 'ada%'), count(*) FILTER (WHERE to_address NOT ILIKE 'ada%') FROM mail_outbox`).Scan(&mailToAda, &mailToOthers); err != nil {
		t.Fatal(err)
	}
	if mailToAda != 0 || mailToOthers != 1 {
		t.Errorf("outbox after erasure: %d mails to the donor, %d to others; want 0 and 1", mailToAda, mailToOthers)
	}
	kept := rep.DeclarationsKept[0]
	if kept.ID != recent.DeclarationID || !kept.KeepUntil.After(time.Now().AddDate(6, 0, 0)) || kept.KeepUntil.Month() != time.April || kept.KeepUntil.Day() != 5 {
		t.Fatalf("kept declaration: %+v", kept)
	}

	// Donations: personal data gone, money and Stripe ids kept.
	for _, d := range []donations.Donation{recent, monthly, old} {
		got := w.reloadDonation(d.ID)
		if got.Email != "" || got.DisplayName != "" || got.Message != "" || !got.HideName {
			t.Errorf("donation %s not scrubbed: %+v", d.ID, got)
		}
		if !got.Amount.Equal(d.Amount) || got.PaymentIntent == "" && got.SubscriptionID == "" || got.CustomerID == "" {
			t.Errorf("donation %s lost its money or Stripe ids: %+v", d.ID, got)
		}
	}
	if s := w.status(recent.ID); s != donations.StatusPaid {
		t.Errorf("status changed to %s", s)
	}
	if got := w.reloadDonation(bobs.ID); got.Email != "bob.smith@example.org" || got.DisplayName != "Bob Smith" {
		t.Errorf("Bob's donation was touched: %+v", got)
	}
	wall, err := pages.Wall(ctx, w.store(), w.ruby, 10)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, e := range wall {
		names[e.Amount.StringFixed(2)] = e.Name + "/" + e.Message
	}
	if names["25.00"] != "Anonymous/" || names["15.00"] != "Bob Smith/Go Ruby!" {
		t.Errorf("donor wall: %v", names)
	}

	// Money: every total and the ledger unchanged.
	if a := w.totals(ledger.AppealScope(w.appeal.ID)); fmt.Sprint(a) != fmt.Sprint(appealBefore) {
		t.Errorf("appeal totals moved: %+v -> %+v", appealBefore, a)
	}
	if r := w.totals(ledger.FundraiserScope(w.ruby)); fmt.Sprint(r) != fmt.Sprint(rubyBefore) {
		t.Errorf("Ruby's totals moved: %+v -> %+v", rubyBefore, r)
	}
	var ledgerAfter int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries`).Scan(&ledgerAfter)
	if ledgerAfter != ledgerBefore {
		t.Errorf("ledger %d -> %d entries", ledgerBefore, ledgerAfter)
	}

	// Declarations: the recent one kept for HMRC and marked; the old one erased.
	var first, last, house, postcode string
	var requested, erased *time.Time
	readDecl := func(id string) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT first_name, last_name, house, postcode, erasure_requested_at, erased_at
			FROM gift_aid_declarations WHERE id = $1::uuid`, id).Scan(&first, &last, &house, &postcode, &requested, &erased); err != nil {
			t.Fatal(err)
		}
	}
	readDecl(recent.DeclarationID)
	if first != "Ada" || last != "Lovelace" || house != "12" || postcode != "SW1A 1AA" || requested == nil || erased != nil {
		t.Errorf("recent declaration: %s %s %s %s requested %v erased %v", first, last, house, postcode, requested, erased)
	}
	readDecl(old.DeclarationID)
	if first != "" || last != "" || house != "" || postcode != "" || erased == nil {
		t.Errorf("old declaration not erased: %s %s %s %s", first, last, house, postcode)
	}
	readDecl(bobs.DeclarationID)
	if first != "Bob" || requested != nil {
		t.Errorf("Bob's declaration touched")
	}

	// Stored events: Ada's email and name gone, ids and amounts kept; Bob's untouched.
	rows, err := pool.Query(ctx, `SELECT convert_from(payload, 'UTF8') FROM stripe_events`)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		all.WriteString(p)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	payloads := strings.ToLower(all.String())
	for _, gone := range []string{"ada.lovelace", "ada lovelace"} {
		if strings.Contains(payloads, gone) {
			t.Errorf("stored events still contain %q", gone)
		}
	}
	for _, stays := range []string{"bob.smith@example.org", "cus_ada", "pi_ada", "sub_ada", `"amount_total": 2500`, `"donation_id": "` + recent.ID} {
		if !strings.Contains(payloads, strings.ToLower(stays)) {
			t.Errorf("stored events lost %q", stays)
		}
	}
	// Replay from the scrubbed events still rebuilds the same totals.
	w.noDifference()

	// The audit log has the erasure and the export, without the email.
	log, err := audit.Log(ctx, w.store().Pool(), 10)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]string{}
	for _, e := range log {
		actions[e.Action] = e.Detail
		if namesAda.MatchString(e.Detail) {
			t.Errorf("audit entry %q names the donor: %s", e.Action, e.Detail)
		}
	}
	hash := donors.DonorHash("ada.lovelace@example.org")
	if d := actions["donor erased"]; !strings.Contains(d, hash) || !strings.Contains(d, "3 donations") {
		t.Errorf("audit of the erasure: %q", d)
	}
	if d := actions["donor export"]; !strings.Contains(d, hash) {
		t.Errorf("audit of the export: %q", d)
	}

	// Erasing again, or erasing an email nobody gave with, changes nothing and says so.
	for _, email := range []string{"ada.lovelace@example.org", "nobody@example.org"} {
		before := w.snapshot()
		rep, err := payments.EraseDonor(ctx, w.store(), accounts.CommandLine(), email, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Found() || !strings.Contains(rep.Summary(), "nothing held") {
			t.Errorf("%s: %+v", email, rep)
		}
		if after := w.snapshot(); after != before {
			t.Errorf("erasing %s changed something", email)
		}
	}

	// Cara, known only by her email: erased, and replay still counts one donor.
	rep, err = payments.EraseDonor(ctx, w.store(), accounts.CommandLine(), "cara@example.org", time.Now())
	if err != nil || rep.DonationsScrubbed != 2 || rep.EventsScrubbed != 2 {
		t.Fatalf("erase Cara: %+v %v", rep, err)
	}
	var caraLeft int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM stripe_events WHERE convert_from(payload, 'UTF8') ~* 'cara@|cara guest'`).Scan(&caraLeft)
	if caraLeft != 0 {
		t.Errorf("%d events still name Cara", caraLeft)
	}
	w.noDifference()
}

func (w *world) reloadDonation(id string) donations.Donation {
	w.t.Helper()
	d, err := donations.Lookup(context.Background(), w.store(), donations.DonationLookup{ID: id})
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

func TestScrubPayloadNullsContactDetailsAtAnyDepth(t *testing.T) {
	t.Parallel()
	in := []byte(`{"id":"evt_1","type":"checkout.session.completed","created":1700000000,
		"data":{"object":{"id":"cs_1","customer":"cus_1","amount_total":12345678901234567,
			"customer_details":{"email":"x@example.org","name":"X Y","address":{"postal_code":"SW1A 1AA"}},
			"customer_email":"x@example.org","metadata":{"donation_id":"d1","campaign":"c"},
			"shipping":{"name":"X"},"payment_intent":{"id":"pi_1","receipt_email":"x@example.org",
			"charges":[{"billing_details":{"email":"x@example.org"},"amount":100}]}},
		"previous_attributes":{"customer_details":{"email":"old@example.org"}}}}`)
	out, changed := payments.ScrubPayload(in)
	if !changed {
		t.Fatal("nothing scrubbed")
	}
	s := string(out)
	for _, gone := range []string{"example.org", "X Y", "SW1A"} {
		if strings.Contains(s, gone) {
			t.Errorf("scrubbed payload still holds %q:\n%s", gone, s)
		}
	}
	for _, stays := range []string{`"amount_total": 12345678901234567`, `"donation_id": "d1"`, `"customer": "cus_1"`, `"id": "pi_1"`, `"amount": 100`} {
		if !strings.Contains(s, stays) {
			t.Errorf("scrubbed payload lost %s:\n%s", stays, s)
		}
	}
	if again, changed := payments.ScrubPayload(out); changed || string(again) != s {
		t.Error("scrubbing twice changed the payload again")
	}

	// A guest checkout (no customer): the email becomes a stand-in, the same for the same
	// donor whatever the case, so the distinct-donor count survives a replay.
	guest := func(email string) string {
		out, _ := payments.ScrubPayload([]byte(`{"data":{"object":{"customer":null,"customer_details":{"email":"` + email + `","name":"G"}}}}`))
		return string(out)
	}
	a, b := guest("Guest@Example.org"), guest("guest@example.org")
	if a != b || strings.Contains(a, "example.org") || !strings.Contains(a, "@erased.invalid") || strings.Contains(a, `"G"`) {
		t.Errorf("guest stand-ins: %s / %s", a, b)
	}
	if guest("other@example.org") == a {
		t.Error("two guests share a stand-in")
	}

	if out, changed := payments.ScrubPayload([]byte("not json x@example.org")); !changed || strings.Contains(string(out), "example.org") {
		t.Errorf("non-JSON body: %s", out)
	}
}
