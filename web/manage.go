package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/payments"
)

// A donor manages her monthly gift through an emailed link, with no account
// (campaigns/donations/manage.go): GET/POST /manage asks for the links by email, and
// /manage/{token} shows the gift and its forms. The token is in the URL, so these pages
// are never cached and never send a Referer.

const manageTitle = "Manage my monthly gift"

func (s *Server) renderManage(w http.ResponseWriter, r *http.Request, status int, page string, data map[string]any) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if data["Title"] == nil {
		data["Title"] = manageTitle
	}
	if data["Errors"] == nil {
		data["Errors"] = map[string]string(nil)
	}
	s.render(w, r, status, page, data)
}

// manageRequestPage: GET /manage (?sent=1 after a request).
func (s *Server) manageRequestPage(w http.ResponseWriter, r *http.Request) error {
	s.renderManage(w, r, http.StatusOK, "manage_request.html", map[string]any{"Sent": r.URL.Query().Get("sent") == "1"})
	return nil
}

// manageRequest: POST /manage. The answer is the same redirect whether or not the address
// gives monthly: the links are looked up and emailed by a background job.
func (s *Server) manageRequest(w http.ResponseWriter, r *http.Request) error {
	if err := parseSmallForm(w, r); err != nil {
		return err
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	err := donations.RequestManageLinks(r.Context(), s.store, email, clientKey(r), s.site(r))
	if msg, ok := tooMany(w, err, "ask for a link"); ok {
		s.renderManage(w, r, http.StatusTooManyRequests, "manage_request.html", map[string]any{"Email": email, "Problem": msg})
		return nil
	}
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		s.renderManage(w, r, http.StatusUnprocessableEntity, "manage_request.html", map[string]any{"Email": email, "Errors": ve.Fields})
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/manage?sent=1", http.StatusSeeOther)
	return nil
}

// manageAsked is what the page says after each request (?asked=), until Stripe confirms.
var manageAsked = map[string]string{
	donations.ChangeCancel: "We have asked Stripe to cancel your monthly gift.",
	donations.ChangePause:  "We have asked Stripe to pause your payments.",
	donations.ChangeResume: "We have asked Stripe to restart your payments.",
	donations.ChangeAmount: "We have asked Stripe to change your monthly amount.",
}

// managePage: GET /manage/{token}. A link that never existed is 404; one expired or
// withdrawn gets a page saying so (410) with the way to a new one.
func (s *Server) managePage(w http.ResponseWriter, r *http.Request) error {
	return s.renderManageGift(w, r, http.StatusOK, nil, nil, "")
}

func (s *Server) renderManageGift(w http.ResponseWriter, r *http.Request, status int, errs map[string]string, kept map[string]string, problem string) error {
	token := chi.URLParam(r, "token")
	g, err := donations.ManageLinkGift(r.Context(), s.store, token)
	if errors.Is(err, donations.ErrGiftEnded) && r.Method == http.MethodGet {
		// Where a donor lands after cancelling: the gift has ended, and so has the link.
		s.renderManage(w, r, http.StatusOK, "manage_expired.html", map[string]any{"Ended": true})
		return nil
	}
	if errors.Is(err, donations.ErrLinkExpired) {
		s.renderManage(w, r, http.StatusGone, "manage_expired.html", map[string]any{"Ended": errors.Is(err, donations.ErrGiftEnded)})
		return nil
	}
	if err != nil {
		return err // ErrNotFound: 404
	}
	now := s.store.Now()
	data := map[string]any{"Gift": g, "Token": token, "Errors": errs, "Kept": kept, "Problem": problem,
		"Paused": g.Paused(now), "Waiting": g.Waiting(), "Min": s.deps.Limits.Amount.Min, "Max": s.deps.Limits.Amount.Max,
		"Asked": manageAsked[r.URL.Query().Get("asked")], "CardSaved": r.URL.Query().Get("card") == "saved",
		"CanCard": s.manager() != nil}
	if data["Statements"], err = s.statementYears(r.Context(), g.ID); err != nil { // statement.go
		return err
	}
	// Her Gift Aid declarations in force, which she may cancel here (manageCancelGiftAid).
	d, err := donations.Lookup(r.Context(), s.store, donations.DonationLookup{ID: g.ID})
	if err != nil {
		return err
	}
	if d.Email != "" {
		in, err := giftaid.DeclarationsInForce(r.Context(), s.store, d.Email)
		if err != nil {
			return err
		}
		data["GiftAid"] = len(in) > 0
	}
	data["GiftAidCancelled"] = r.URL.Query().Get("giftaid") == "cancelled"
	if c := g.Waiting(); c != nil {
		data["Asked"] = "" // the waiting change is shown instead
	}
	if len(g.Changes) > 0 && g.Changes[0].ConfirmedAt != nil && r.URL.Query().Get("asked") != "" {
		data["Done"] = g.Changes[0].Describe()
		data["Asked"] = ""
	}
	s.renderManage(w, r, status, "manage.html", data)
	return nil
}

// manager is the provider that makes changes (Stripe, or the sandbox), or nil.
func (s *Server) manager() payments.SubscriptionManager {
	if h, ok := s.deps.Webhooks.(*payments.Webhooks); ok {
		return h.Manager()
	}
	return nil
}

// manageChange: POST /manage/{token}/{action}.
func (s *Server) manageChange(w http.ResponseWriter, r *http.Request) error {
	if err := parseSmallForm(w, r); err != nil {
		return err
	}
	token, action := chi.URLParam(r, "token"), chi.URLParam(r, "action")
	after, err := strconv.ParseInt(r.PostForm.Get("after"), 10, 64)
	if err != nil || after < 0 {
		after = -2 // never matches: a form that did not come from the page changes nothing
	}
	c := donations.ChangeRequest{Kind: action, After: after, Site: s.site(r)}
	kept := map[string]string{}
	switch action {
	case donations.ChangeCancel, donations.ChangeResume, donations.ChangeCard:
	case donations.ChangePause:
		kept["months"] = r.PostForm.Get("months")
		c.PauseMonths, _ = strconv.Atoi(r.PostForm.Get("months"))
	case donations.ChangeAmount:
		kept["amount"] = r.PostForm.Get("amount")
		amt, problem := s.monthlyAmount(r.PostForm.Get("amount"))
		if problem != "" {
			return s.renderManageGift(w, r, http.StatusUnprocessableEntity, map[string]string{"amount": problem}, kept, "")
		}
		c.NewAmount = amt
	default:
		return campaigns.ErrNotFound
	}
	if action == donations.ChangeCard && s.manager() == nil {
		return campaigns.ErrNotFound
	}
	id, err := donations.RequestChangeByLink(r.Context(), s.store, token, c)
	var ve *campaigns.ValidationError
	switch {
	case errors.As(err, &ve):
		return s.renderManageGift(w, r, http.StatusUnprocessableEntity, ve.Fields, kept, "")
	case errors.Is(err, donations.ErrStale):
		return s.renderManageGift(w, r, http.StatusConflict, nil, nil,
			"This page was out of date (it was sent again, or the gift changed in another window), so nothing was changed. Here is the gift as it is now.")
	case errors.Is(err, donations.ErrChangeWaiting):
		return s.renderManageGift(w, r, http.StatusConflict, nil, nil,
			"Another change is still waiting for Stripe's confirmation, so nothing was changed. Please try again in a minute.")
	case errors.Is(err, donations.ErrLinkExpired):
		s.renderManage(w, r, http.StatusGone, "manage_expired.html", map[string]any{"Ended": errors.Is(err, donations.ErrGiftEnded), "Refused": true})
		return nil
	case err != nil:
		return err
	}
	back := s.site(r) + "/manage/" + token
	if action == donations.ChangeCard {
		g, err := donations.ManageLinkGift(r.Context(), s.store, token)
		if err != nil {
			return err
		}
		sess, err := s.openCardSession(r, g.ID, id, back)
		if err != nil {
			return err
		}
		http.Redirect(w, r, sess.URL, http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/manage/"+token+"?asked="+action, http.StatusSeeOther)
	return nil
}

// openCardSession opens Checkout in setup mode for the gift's customer (a direct call:
// the donor is waiting to type the card) and records it on the request.
func (s *Server) openCardSession(r *http.Request, donationID string, request int64, back string) (payments.CheckoutSession, error) {
	d, err := donations.Lookup(r.Context(), s.store, donations.DonationLookup{ID: donationID})
	if err != nil {
		return payments.CheckoutSession{}, err
	}
	sess, err := s.manager().CardSession(r.Context(), d.CustomerID, d.SubscriptionID, request, back)
	if err != nil {
		return payments.CheckoutSession{}, err
	}
	return sess, donations.SetupSession(r.Context(), s.store, request, sess.ID)
}

// monthlyAmount reads a new monthly amount within GIFT_MIN and GIFT_MAX, or says what is
// wrong with it.
func (s *Server) monthlyAmount(v string) (decimal.Decimal, string) {
	lim := s.deps.Limits.Amount
	amt, err := payments.ParseAmount(strings.TrimPrefix(strings.TrimSpace(v), "£"))
	if err != nil || amt.LessThan(lim.Min) || amt.GreaterThan(lim.Max) {
		return decimal.Zero, "Enter an amount between " + payments.FormatPounds(lim.Min) + " and " + payments.FormatPounds(lim.Max) + ", such as 15 or 12.50."
	}
	return amt, ""
}

// sandboxSetupPage: GET /sandbox/setup/{session}, the sandbox's stand-in for Checkout in
// setup mode.
func (s *Server) sandboxSetupPage(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "session")
	if !strings.HasPrefix(id, "cs_test_sandbox_setup_") {
		return campaigns.ErrNotFound
	}
	s.renderManage(w, r, http.StatusOK, "manage_sandbox_card.html", map[string]any{"Title": "Sandbox: update your card", "SessionID": id})
	return nil
}

// sandboxSaveCard: POST /sandbox/setup/{session}/save sends the event a saved card brings.
func (s *Server) sandboxSaveCard(w http.ResponseWriter, r *http.Request) error {
	back, err := s.deps.Sandbox.SaveCard(r.Context(), chi.URLParam(r, "session"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// manageCancelGiftAid: POST /manage/{token}/giftaid/cancel. The donor cancels her Gift Aid
// declarations from now: audited, and confirmed to her by email, in one transaction.
func (s *Server) manageCancelGiftAid(w http.ResponseWriter, r *http.Request) error {
	if err := parseSmallForm(w, r); err != nil {
		return err
	}
	token := chi.URLParam(r, "token")
	g, err := donations.ManageLinkGift(r.Context(), s.store, token)
	if errors.Is(err, donations.ErrLinkExpired) {
		s.renderManage(w, r, http.StatusGone, "manage_expired.html", map[string]any{"Ended": errors.Is(err, donations.ErrGiftEnded), "Refused": true})
		return nil
	}
	if err != nil {
		return err
	}
	d, err := donations.Lookup(r.Context(), s.store, donations.DonationLookup{ID: g.ID})
	if err != nil {
		return err
	}
	_, err = giftaid.CancelDeclarations(r.Context(), s.store, giftaid.Cancellation{Email: d.Email, ByDonor: true,
		Actor: giftaid.DonorActor{}, Charity: s.charity().Name, SignOff: s.donorSignOff()})
	if errors.Is(err, campaigns.ErrNotFound) || d.Email == "" {
		return s.renderManageGift(w, r, http.StatusConflict, nil, nil, "You have no Gift Aid declaration in force with us, so there was nothing to cancel.")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/manage/"+token+"?giftaid=cancelled", http.StatusSeeOther)
	return nil
}

// donorSignOff ends an email to a donor the way every other one ends, when the service
// sends donor emails.
func (s *Server) donorSignOff() string {
	if h, ok := s.deps.Webhooks.(*payments.Webhooks); ok && h.DonorMail != nil {
		return h.DonorMail.SignOff()
	}
	return ""
}
