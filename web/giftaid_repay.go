package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"giving/campaigns"
	"giving/campaigns/giftaid"
	"giving/payments"
)

// The claims made, on the trustees' Gift Aid page, and HMRC's repayment of each recorded
// when it reaches the bank.

// repayForm is the repayment form of one claim as typed, with the problems found.
type repayForm struct {
	ClaimID        int64
	Amount, PaidOn string
	Errors         map[string]string
}

// claimMadeView is a claim made as the page shows it, with its form while HMRC has not paid.
type claimMadeView struct {
	giftaid.ClaimMade
	Form repayForm
}

// PaidOnText is the repayment's day as people write it.
func (c claimMadeView) PaidOnText() string { return c.PaidOn.Format("2 Jan 2006") }

// renderGiftAid is the Gift Aid page: the preview of the next claim and the claims made.
// form is a repayment form shown again as typed (ClaimID 0: none); problem a message about
// the claims made (a repayment recorded already).
func (s *Server) renderGiftAid(w http.ResponseWriter, r *http.Request, status int, form repayForm, problem string) error {
	u, _ := currentUser(r)
	a, list, err := s.appealChoice(r, "all", true)
	if err != nil {
		return err
	}
	c, err := giftaid.PrepareClaim(r.Context(), s.store, giftaid.ClaimOptions{Actor: u, AggregationLimit: s.deps.AggregationLimit,
		AppealID: appealIDOf(a)})
	if err != nil {
		return err
	}
	made, totals, err := giftaid.ClaimsMade(r.Context(), s.store.Pool())
	if err != nil {
		return err
	}
	views := make([]claimMadeView, len(made))
	notice := ""
	repaid, _ := strconv.ParseInt(r.URL.Query().Get("repaid"), 10, 64)
	for i, m := range made {
		views[i] = claimMadeView{ClaimMade: m, Form: repayForm{ClaimID: m.ID}}
		if form.ClaimID == m.ID {
			views[i].Form = form
		}
		if m.Repaid && m.ID == repaid {
			notice = fmt.Sprintf("HMRC's repayment of claim %d is recorded: %s on %s.", m.ID, payments.FormatPounds(m.RepaidAmount),
				m.PaidOn.Format("2 January 2006"))
		}
	}
	chosen := "all"
	if a != nil {
		chosen = a.Slug
	}
	now := s.store.Now().In(campaigns.London())
	w.Header().Set("Cache-Control", "private, no-store")
	s.render(w, r, status, "giftaid.html", map[string]any{"Title": "Gift Aid claim", "User": u, "Claim": c,
		"Limit": s.deps.AggregationLimit, "AppealChoices": list, "Chosen": chosen, "ChosenAppeal": a,
		"ClaimsMade": views, "ClaimTotals": totals, "RepaidNotice": notice, "ClaimsProblem": problem,
		"Today": now.Format(giftaid.RepaymentDayLayout)})
	return nil
}

// recordRepayment is POST /trustees/gift-aid/claims/{id}/repayment: records what HMRC paid
// on a claim and when, then back to the page saying so. A problem with the amount or the
// day shows the page again (422) with the reason beside the field and what was typed.
func (s *Server) recordRepayment(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("gift aid claim %q: %w", chi.URLParam(r, "id"), campaigns.ErrNotFound)
	}
	if err := parseSmallForm(w, r); err != nil {
		return err
	}
	u, _ := currentUser(r)
	form := repayForm{ClaimID: id, Amount: r.PostFormValue("amount"), PaidOn: r.PostFormValue("paid_on")}
	// The amount is read exactly, as every amount typed into Giving is; the domain checks
	// the rest (above zero, the day, the claim).
	amount, perr := payments.ParseAmount(form.Amount)
	if perr == nil {
		err = giftaid.RecordRepayment(r.Context(), s.store, giftaid.Repayment{ClaimID: id, Amount: amount, PaidOn: form.PaidOn, Actor: u})
		return s.repaymentAnswer(w, r, form, err)
	}
	msg := "Enter the amount HMRC paid, like 312.50"
	if errors.Is(perr, payments.ErrAmountSubPenny) || errors.Is(perr, payments.ErrAmountNotPositive) || errors.Is(perr, payments.ErrCurrency) {
		msg = perr.Error()
	}
	ve := &campaigns.ValidationError{}
	ve.Add("amount", msg)
	if _, problem := giftaid.RepaymentDay(s.store, form.PaidOn); problem != "" {
		ve.Add("paid_on", problem) // both problems at once
	}
	return s.repaymentAnswer(w, r, form, ve)
}

// repaymentAnswer turns RecordRepayment's answer into the page.
func (s *Server) repaymentAnswer(w http.ResponseWriter, r *http.Request, form repayForm, err error) error {
	id := form.ClaimID
	var ve *campaigns.ValidationError
	switch {
	case err == nil:
		q := url.Values{"repaid": {strconv.FormatInt(id, 10)}}
		if a := strings.TrimSpace(r.PostFormValue("appeal")); a != "" && a != "all" {
			q.Set("appeal", a)
		}
		http.Redirect(w, r, "/trustees/gift-aid?"+q.Encode()+"#claims-h", http.StatusSeeOther)
		return nil
	case errors.As(err, &ve):
		form.Errors = ve.Fields
		return s.renderGiftAid(w, r, http.StatusUnprocessableEntity, form, "")
	case errors.Is(err, giftaid.ErrAlreadyRepaid):
		return s.renderGiftAid(w, r, http.StatusConflict, repayForm{}, fmt.Sprintf(
			"HMRC's repayment of claim %d was recorded already, so nothing was changed: a claim is repaid once. It is shown below.", id))
	default:
		return err
	}
}
