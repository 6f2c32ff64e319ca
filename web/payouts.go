package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/audit"
	"giving/campaigns/payouts"
)

// The payouts page: each Stripe payout of a month broken into charges, refunds, disputes
// and fees, matched to the ledger, with the Xero statement for a Stripe clearing account.

// payoutMonth reads ?month=YYYY-MM; empty is this London month.
func payoutMonth(r *http.Request, now time.Time) (time.Time, string, error) {
	v := strings.TrimSpace(r.URL.Query().Get("month"))
	if v == "" {
		l := now.In(campaigns.London())
		m := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, campaigns.London())
		return m, m.Format("2006-01"), nil
	}
	m, err := time.ParseInLocation("2006-01", v, campaigns.London())
	if err != nil || m.Year() < 2000 || m.Year() > 2099 {
		ve := &campaigns.ValidationError{}
		ve.Add("month", "Enter a month like "+now.In(campaigns.London()).Format("2006-01"))
		return time.Time{}, v, ve
	}
	return m, v, nil
}

// payoutsPage is GET /trustees/payouts?month=YYYY-MM.
func (s *Server) payoutsPage(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	month, text, err := payoutMonth(r, s.store.Now())
	data := map[string]any{"Title": "Payouts", "User": u, "Month": text, "Sandbox": s.sandbox,
		"CanFetch": s.deps.Reconciler != nil, "Done": r.URL.Query().Get("done")}
	w.Header().Set("Cache-Control", "private, no-store")
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		data["Errors"] = ve.Fields
		s.render(w, r, http.StatusUnprocessableEntity, "payouts.html", data)
		return nil
	}
	if err != nil {
		return err
	}
	list, err := payouts.Month(r.Context(), s.store, month.Year(), month.Month())
	if err != nil {
		return err
	}
	total := decimal.Zero
	var unmatched []payouts.Line
	for _, p := range list {
		total = total.Add(p.Amount)
		unmatched = append(unmatched, p.Unmatched()...)
	}
	data["Payouts"], data["Total"], data["Unmatched"] = list, total, unmatched
	data["MonthText"] = month.Format("January 2006")
	data["Prev"], data["Next"] = month.AddDate(0, -1, 0).Format("2006-01"), month.AddDate(0, 1, 0).Format("2006-01")
	s.render(w, r, http.StatusOK, "payouts.html", data)
	return nil
}

// payoutsXero is GET /trustees/payouts/xero.csv?month=YYYY-MM: the month's payouts as a
// Xero precoded bank statement for the Stripe clearing account; the download is audited.
func (s *Server) payoutsXero(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	month, _, err := payoutMonth(r, s.store.Now())
	if err != nil {
		return err
	}
	list, err := payouts.Month(r.Context(), s.store, month.Year(), month.Month())
	if err != nil {
		return err
	}
	if err := audit.Write(r.Context(), s.store.Pool(), u, "export payouts for xero",
		fmt.Sprintf("%s: %d payouts", month.Format("2006-01"), len(list))); err != nil {
		return err
	}
	setFileHeaders(w, fmt.Sprintf("stripe-clearing-%s.csv", month.Format("2006-01")), "text/csv; charset=utf-8")
	return payouts.WriteXero(w, list)
}

// payoutsSandbox is POST /trustees/payouts/sandbox (the sandbox only): pays out, as
// Stripe would, the ledger's money no sandbox payout has paid yet, without waiting for the
// sandbox's daily payout.
func (s *Server) payoutsSandbox(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	_, err := payouts.Sandbox(r.Context(), s.store, u)
	switch {
	case errors.Is(err, payouts.ErrNothingToPayOut):
		http.Redirect(w, r, "/trustees/payouts?done=nothing", http.StatusSeeOther)
		return nil
	case err != nil:
		return err
	}
	http.Redirect(w, r, "/trustees/payouts?done=paid", http.StatusSeeOther)
	return nil
}

// payoutsFetch is POST /trustees/payouts/fetch (with a Stripe key): records the payouts
// Stripe paid in the last 60 days that are not recorded yet. Each payout is recorded on its
// own when Stripe sends payout.paid; this is the catch-up for one whose event never came.
func (s *Server) payoutsFetch(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	if s.deps.Reconciler == nil {
		http.NotFound(w, r)
		return nil
	}
	n, err := s.deps.Reconciler.FetchPayouts(r.Context(), u, s.store.Now().AddDate(0, 0, -60))
	if err != nil {
		s.log.Error("fetch payouts", "err", err)
		http.Redirect(w, r, "/trustees/payouts?done=failed", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, fmt.Sprintf("/trustees/payouts?done=fetched-%d", n), http.StatusSeeOther)
	return nil
}
