package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"giving/campaigns/donations"
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
		"CancelURL": s.baseURL.String() + "/donate/cancelled?donation=" + d.ID}, nil
}

func (s *Server) sandboxCheckout(w http.ResponseWriter, r *http.Request) error {
	data, err := s.sandboxData(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "sandbox_checkout.html", data)
	return nil
}

// sandboxPay sends Stripe-shaped events to our own webhook, then lands on the thank-you
// page as Stripe's success redirect would.
func (s *Server) sandboxPay(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "session")
	if err := s.deps.Sandbox.Pay(r.Context(), id); err != nil {
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
