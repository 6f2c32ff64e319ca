package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"giving/campaigns"
)

// A trustee records HMRC's repayment of a claim on the Gift Aid page: a fraction of a
// penny or a day still to come is answered 422 with the reason beside its field, what was
// typed kept and nothing recorded; a good one is recorded (303 back to the page, which
// then shows it, with what HMRC paid short); a second is refused.
func TestRecordGiftAidRepayment(t *testing.T) {
	t.Parallel()
	now := time.Now()
	s := newSite(t, siteOptions{clock: func() time.Time { return now }})
	giveWithGiftAid(t, s, "25", "Lovelace")
	trustee := trusteeOn(t, s)
	a := &accountSite{s}
	if claim := a.send(trustee, http.MethodPost, "/trustees/gift-aid/claim", url.Values{}); claim.status != http.StatusOK {
		t.Fatalf("POST /trustees/gift-aid/claim: %d", claim.status)
	}
	id := s.count(`SELECT id::int FROM gift_aid_claims`)
	london := now.In(campaigns.London())
	today, tomorrow := london.Format("2006-01-02"), london.AddDate(0, 0, 1).Format("2006-01-02")
	formID, amountID, dayID := fmt.Sprintf("repay-%d", id), fmt.Sprintf("amount-%d", id), fmt.Sprintf("paid_on-%d", id)
	action := fmt.Sprintf("/trustees/gift-aid/claims/%d/repayment", id)

	page := a.send(trustee, http.MethodGet, "/trustees/gift-aid", nil)
	row := text(byID(page.doc, fmt.Sprintf("claim-%d", id)))
	if !strings.Contains(row, london.Format("2 Jan 2006")) || !strings.Contains(row, "£6.25") || !strings.Contains(row, "Awaiting HMRC") {
		t.Errorf("the claim reads %q, want made today, £6.25 claimed, awaiting HMRC", row)
	}
	if f := byID(page.doc, formID); f == nil || attrVal(f, "action") != action+"#"+formID || byID(page.doc, amountID) == nil || byID(page.doc, dayID) == nil {
		t.Fatalf("no repayment form posting to %s", action)
	}
	for field, want := range map[string]string{"claims-claimed": "£6.25", "claims-repaid": "£0.00", "claims-outstanding": "£6.25"} {
		if got := text(byID(page.doc, field)); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}

	for _, tc := range []struct{ amount, day, field, inputID, says string }{
		{"12.345", today, "amount", amountID, "fractions of a penny"},
		{"6.25", tomorrow, "paid_on", dayID, "still to come"},
	} {
		r := a.send(trustee, http.MethodPost, action, url.Values{"amount": {tc.amount}, "paid_on": {tc.day}, "appeal": {"all"}})
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("%s on %s: %d, want 422", tc.amount, tc.day, r.status)
		}
		msg, input := byID(r.doc, tc.field+"-error"), byID(r.doc, tc.inputID)
		if !strings.Contains(text(msg), tc.says) || msg.Parent != input.Parent || attrVal(input, "aria-invalid") != "true" {
			t.Errorf("%s on %s: the reason %q is missing or not beside the field", tc.amount, tc.day, text(msg))
		}
		if got, got2 := attrVal(byID(r.doc, amountID), "value"), attrVal(byID(r.doc, dayID), "value"); got != tc.amount || got2 != tc.day {
			t.Errorf("the form shown again holds %q on %q, want what was typed: %q on %q", got, got2, tc.amount, tc.day)
		}
	}
	if n := s.count(`SELECT count(*) FROM gift_aid_repayments`) + s.count(`SELECT count(*) FROM audit_log WHERE action = 'record gift aid repayment'`); n != 0 {
		t.Fatalf("refused repayments wrote %d rows", n)
	}

	// HMRC paid 25p less than claimed.
	done := a.send(trustee, http.MethodPost, action, url.Values{"amount": {"£6.00"}, "paid_on": {today}, "appeal": {"all"}})
	if done.status != http.StatusSeeOther {
		t.Fatalf("record the repayment: %d %s", done.status, text(done.doc))
	}
	after := a.send(trustee, http.MethodGet, done.header.Get("Location"), nil)
	paid := "£6.00 on " + london.Format("2 Jan 2006")
	if got := text(byID(after.doc, "repaid-notice")); !strings.Contains(got, fmt.Sprintf("repayment of claim %d is recorded: £6.00", id)) {
		t.Errorf("after recording, the page says %q", got)
	}
	if row := text(byID(after.doc, fmt.Sprintf("claim-%d", id))); !strings.Contains(row, paid) || !strings.Contains(row, "£0.25 less") {
		t.Errorf("the claim reads %q, want %s and £0.25 less", row, paid)
	}
	for field, want := range map[string]string{"claims-claimed": "£6.25", "claims-repaid": "£6.00", "claims-outstanding": "£0.00"} {
		if got := text(byID(after.doc, field)); got != want {
			t.Errorf("after the repayment %s: %q, want %q", field, got, want)
		}
	}
	if byID(after.doc, formID) != nil {
		t.Error("a repaid claim still offers its repayment form")
	}

	again := a.send(trustee, http.MethodPost, action, url.Values{"amount": {"6.25"}, "paid_on": {today}})
	if again.status != http.StatusConflict || !strings.Contains(text(byID(again.doc, "claims-problem")), "recorded already") {
		t.Errorf("a second repayment of the claim: %d %q, want 409 saying it is recorded already", again.status, text(byID(again.doc, "claims-problem")))
	}
	if n := s.count(`SELECT count(*) FROM gift_aid_repayments WHERE amount = 6.00`); n != 1 {
		t.Errorf("%d repayments of £6.00 recorded, want the first alone", n)
	}
}
