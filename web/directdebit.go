package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"giving/campaigns"
	"giving/campaigns/donations"
	"giving/payments"
)

// Direct Debit beside card: the ways to pay admins offer (/admin), the fee schedule of the
// method the donor chose, and the sandbox's page that collects or refuses a Direct Debit as
// the bank would, days later.

// payWays is what the donate form needs to offer and price the ways to pay.
type payWays struct {
	Offers    donations.PaymentSettings
	Card      payments.FeeSchedule
	Bacs      payments.FeeSchedule
	Guarantee string // the Direct Debit Guarantee, linked beside the choice
}

// directDebitGuaranteeURL is the Direct Debit scheme's own statement of the Guarantee.
const directDebitGuaranteeURL = "https://www.directdebit.co.uk/direct-debit-explained/direct-debit-guarantee/"

func (s *Server) payWays(ctx context.Context) (payWays, error) {
	offers, err := donations.PaymentSettingsNow(ctx, s.store.Pool())
	return payWays{Offers: offers, Card: s.deps.Fees, Bacs: s.deps.BacsFees, Guarantee: directDebitGuaranteeURL}, err
}

// fees is the fee schedule of method ("" is card).
func (p payWays) fees(method string) payments.FeeSchedule {
	if method == donations.MethodBacs {
		return p.Bacs
	}
	return p.Card
}

// checkMethod adds the problem, if any, with the way to pay chosen for a gift.
func (p payWays) checkMethod(ve *campaigns.ValidationError, method string, monthly bool) {
	switch {
	case method == donations.MethodCard:
	case method != donations.MethodBacs:
		ve.Add("payment_method", "Choose card or Direct Debit")
	case !p.Offers.OffersDirectDebit():
		ve.Add("payment_method", "Direct Debit is not offered just now: please choose card")
	case !p.Offers.Offers(method, monthly):
		ve.Add("payment_method", "Direct Debit is for monthly gifts: choose Monthly above, or pay this one-off gift by card")
	}
}

// adminPaymentMethods saves the ways donors may pay (audited in the domain).
func (s *Server) adminPaymentMethods(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	err := donations.SetPaymentSettings(r.Context(), s.store, u, donations.PaymentSettings{
		DirectDebitMonthly: r.PostFormValue("dd_monthly") != "", DirectDebitOneOff: r.PostFormValue("dd_one_off") != ""})
	return s.adminResult(w, r, err, "payment-methods")
}

// sandboxDirectDebits lists the sandbox's Direct Debits waiting to be collected, each with
// "Collect now" and "Bank refuses" buttons; after one, the page says what was sent.
func (s *Server) sandboxDirectDebits(w http.ResponseWriter, r *http.Request) error {
	return s.renderSandboxDirectDebits(w, r, http.StatusOK, nil)
}

func (s *Server) renderSandboxDirectDebits(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) error {
	waiting, err := s.deps.Sandbox.DirectDebits(r.Context())
	if err != nil {
		return err
	}
	data := map[string]any{"Title": "Sandbox: Direct Debits", "Waiting": waiting, "Errors": errs, "Outbox": s.deps.DevOutbox}
	if status == http.StatusOK {
		data["Sent"] = sandboxDebitSent[r.URL.Query().Get("sent")]
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, status, "sandbox_directdebit.html", data)
	return nil
}

// sandboxDebitSent is what the page says each button sent.
var sandboxDebitSent = map[string]string{
	payments.DebitCollect: "Sent checkout.session.async_payment_succeeded (and, for a monthly gift, its first invoice.paid) and charge.succeeded: the money has arrived, the gift counts in the totals and its receipt is in the outbox.",
	payments.DebitRefuse:  "Sent checkout.session.async_payment_failed (and, for a monthly gift, invoice.payment_failed): the bank refused the Direct Debit, so nothing was given and the gift is no longer processing.",
}

// sandboxSettleDebit collects or refuses one waiting Direct Debit. One no longer waiting
// (a second press, a stale page) is answered 422 on the page, and nothing is sent.
func (s *Server) sandboxSettleDebit(w http.ResponseWriter, r *http.Request) error {
	id, action := chi.URLParam(r, "donation"), chi.URLParam(r, "action")
	if _, ok := sandboxDebitSent[action]; !ok {
		return campaigns.ErrNotFound
	}
	err := s.deps.Sandbox.SettleDirectDebit(r.Context(), id, action)
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		return s.renderSandboxDirectDebits(w, r, http.StatusUnprocessableEntity, ve.Fields)
	}
	if errors.Is(err, campaigns.ErrNotFound) {
		return s.renderSandboxDirectDebits(w, r, http.StatusUnprocessableEntity, map[string]string{"form": "There is no such Direct Debit in the sandbox."})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, s.baseURL.String()+"/sandbox/directdebit?sent="+url.QueryEscape(action), http.StatusSeeOther)
	return nil
}
