package web

import (
	"errors"
	"net/http"

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
	return map[string]any{"Title": "Sandbox checkout", "SessionID": id, "Donation": d,
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
