package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"giving/campaigns"
	"giving/campaigns/donations"
	"giving/payments"
)

// The sandbox checkout pages exist only when no Stripe key is configured.

func (s *Server) sandboxData(r *http.Request) (map[string]any, error) {
	id := chi.URLParam(r, "session")
	d, err := s.deps.Sandbox.Session(r.Context(), id)
	if err != nil {
		return nil, err
	}
	method, err := donations.PaymentMethodOf(r.Context(), s.store.Pool(), d.ID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Title": "Sandbox checkout", "SessionID": id, "Donation": d, "DirectDebit": method == donations.MethodBacs,
		"Paid":      d.Status != donations.StatusPending,
		"CancelURL": s.baseURL.String() + "/donate/cancelled?donation=" + d.ID,
		"Payer":     payments.Payer{}, "Errors": map[string]string{}}, nil
}

func (s *Server) sandboxCheckout(w http.ResponseWriter, r *http.Request) error {
	data, err := s.sandboxData(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "sandbox_checkout.html", data)
	return nil
}

// sandboxPay takes the donor's email and the name on the card, as Stripe Checkout asks
// them, sends Stripe-shaped events to our own webhook, then lands on the thank-you page
// as Stripe's success redirect would. A missing or malformed field is answered 422 with
// the reason beside it, and nothing is sent.
func (s *Server) sandboxPay(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "session")
	if err := r.ParseForm(); err != nil {
		return &campaigns.ValidationError{Fields: map[string]string{"form": "The form could not be read."}}
	}
	payer := payments.Payer{Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name")}
	if d, err := s.deps.Sandbox.Session(r.Context(), id); err == nil {
		m, err := donations.PaymentMethodOf(r.Context(), s.store.Pool(), d.ID)
		if err != nil {
			return err
		}
		payer.Bank = m == donations.MethodBacs // the account holder, not the name on a card
	}
	err := s.deps.Sandbox.Pay(r.Context(), id, payer)
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		data, err := s.sandboxData(r)
		if err != nil {
			return err
		}
		data["Payer"], data["Errors"] = payer, ve.Fields
		s.render(w, r, http.StatusUnprocessableEntity, "sandbox_checkout.html", data)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, s.baseURL.String()+"/thanks?session_id="+id, http.StatusSeeOther)
	return nil
}

// sandboxDecline records nothing, as a declined card at Stripe records nothing.
func (s *Server) sandboxDecline(w http.ResponseWriter, r *http.Request) error {
	data, err := s.sandboxData(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusPaymentRequired, "sandbox_declined.html", data)
	return nil
}

// sandboxMonthly lists the sandbox's running monthly gifts, each with buttons that play its
// next month as Stripe would: the payment taken, the payment failed, or Stripe giving up.
// After a button, the page says what was sent (?sent=, from the redirect).
func (s *Server) sandboxMonthly(w http.ResponseWriter, r *http.Request) error {
	data, err := s.sandboxMonthlyData(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if what, ok := sandboxSent[q.Get("sent")]; ok {
		data["Sent"] = what
		for _, g := range data["Gifts"].([]payments.SandboxMonth) {
			if g.ID == q.Get("gift") {
				data["SentFor"] = payments.FormatPounds(g.Amount) + " a month from " + g.Email
			}
		}
	}
	s.render(w, r, http.StatusOK, "sandbox_monthly.html", data)
	return nil
}

// sandboxSent is what the page says each button sent.
var sandboxSent = map[string]string{
	payments.MonthPay:    "Sent invoice.paid and charge.succeeded: the payment is recorded and its receipt is in the outbox.",
	payments.MonthFail:   "Sent invoice.payment_failed: the gift is past due, and the donor is emailed once for this month however often it fails.",
	payments.MonthGiveUp: "Sent the last invoice.payment_failed and customer.subscription.deleted (reason payment_failed): the gift has ended and the donor is told so.",
}

func (s *Server) sandboxMonthlyData(r *http.Request) (map[string]any, error) {
	gifts, err := s.deps.Sandbox.MonthlyGifts(r.Context())
	if err != nil {
		return nil, err
	}
	return map[string]any{"Title": "Sandbox: monthly gifts", "Gifts": gifts, "Outbox": s.deps.DevOutbox,
		"Errors": map[string]string{}}, nil
}

// sandboxMonth plays one gift's next month (pay, fail or give-up in the path; the month
// the page showed in the form). A stale page or a step the gift's state does not allow is
// answered 422 on the page, beside the gift, and nothing is sent.
func (s *Server) sandboxMonth(w http.ResponseWriter, r *http.Request) error {
	id, action := chi.URLParam(r, "donation"), chi.URLParam(r, "action")
	if _, ok := sandboxSent[action]; !ok {
		return campaigns.ErrNotFound
	}
	if err := r.ParseForm(); err != nil {
		return &campaigns.ValidationError{Fields: map[string]string{"form": "The form could not be read."}}
	}
	month, err := strconv.Atoi(r.PostForm.Get("month"))
	if err != nil || month < 2 {
		err = &campaigns.ValidationError{Fields: map[string]string{"form": "The form did not say which month: reload the page and try again."}}
	} else {
		err = s.deps.Sandbox.PlayMonth(r.Context(), id, action, month)
	}
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		data, err := s.sandboxMonthlyData(r)
		if err != nil {
			return err
		}
		data["Errors"], data["ErrorGift"] = ve.Fields, id
		s.render(w, r, http.StatusUnprocessableEntity, "sandbox_monthly.html", data)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, s.baseURL.String()+"/sandbox/monthly?sent="+action+"&gift="+url.QueryEscape(id)+"#gift-"+url.QueryEscape(id), http.StatusSeeOther)
	return nil
}
