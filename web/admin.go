package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/campaigns/pages"
	"giving/payments"
)

// The admin page: fundraiser pages, offline and unmatched money, monthly gifts and Gift Aid
// declarations (appeals and their tiers have their own pages, appeals.go). Every change is
// checked again in the domain and written to the audit log there.

// adminDone is what the page says after each kind of change (?done=), so an admin knows the
// save went through; an unknown value says nothing.
var adminDone = map[string]string{
	"page":             "The fundraiser page's status is saved.",
	"approved":         "The page is approved: it is live, and its fundraiser is emailed the link.",
	"hidden":           "The page is hidden: only trustees and admins can see it.",
	"unmatched":        "The payment is marked as reviewed.",
	"offline-verified": "The offline money is verified: it now counts in the totals.",
	"offline-rejected": "The offline money is rejected: it does not count.",
	"offline-reversed": "The offline money is reversed: it no longer counts, and the fundraiser sees why.",
	"monthly-cancel":   "The cancellation is asked of Stripe: the gift shows as cancelled once Stripe confirms it, and the donor is emailed.",
	"payment-methods":  "The ways to pay are saved: the donate form offers them from now on.",
	"giftaid-cancel":   "The Gift Aid declaration is cancelled from that date, and the donor is emailed a confirmation. Gifts already claimed are not affected.",
	"sponsored":        "The sponsored event is checked: its gifts are marked sponsored on the Gift Aid schedule.",
	"not-sponsored":    "The page is no longer marked a sponsored event.",
}

func (s *Server) adminPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderAdmin(w, r, http.StatusOK, nil, nil, adminDone[r.URL.Query().Get("done")])
}

// renderAdmin shows the admin page; errs are problems by field id, and kept what was typed
// in fields outside the appeal and tier forms (a reversal's reason), by field id.
func (s *Server) renderAdmin(w http.ResponseWriter, r *http.Request, status int, errs, kept map[string]string, notice string) error {
	u, _ := currentUser(r)
	a, err := s.defaultAppeal(r)
	if err != nil {
		return err
	}
	list, err := s.adminPageList(r, a.ID)
	if err != nil {
		return err
	}
	// The approval queue, at the top: pages waiting, the longest waiting first.
	waiting, err := pages.PagesWaiting(r.Context(), s.store, a.ID, adminPagesPer)
	if err != nil {
		return err
	}
	unmatched, err := donations.ListUnmatched(r.Context(), s.store, 100)
	if err != nil {
		return err
	}
	// Offline money fundraisers entered, waiting to be verified or rejected, and the most
	// recently verified, which may be reversed (pages.go).
	offline, err := pages.PendingOffline(r.Context(), s.store, 200)
	if err != nil {
		return err
	}
	decided, err := pages.DecidedOffline(r.Context(), s.store, 50)
	if err != nil {
		return err
	}
	// Running monthly gifts, for an admin to cancel one for a donor who telephoned; the
	// address searched for is posted, never put in a URL (manage.go).
	monthlyEmail := strings.TrimSpace(r.PostFormValue("monthly_email"))
	monthly, err := donations.RunningMonthlyGifts(r.Context(), s.store, monthlyEmail)
	if err != nil {
		return err
	}
	// A donor's Gift Aid declarations in force, found the same way, to cancel (cancel.go).
	giftAidEmail := strings.TrimSpace(r.PostFormValue("giftaid_email"))
	var declarations []giftaid.InForce
	if giftAidEmail != "" {
		if declarations, err = giftaid.DeclarationsInForce(r.Context(), s.store, giftAidEmail); err != nil {
			return err
		}
	}
	// Pages their fundraisers marked sponsored events, for an admin to check (sponsored.go).
	sponsored, err := pages.SponsoredWaiting(r.Context(), s.store)
	if err != nil {
		return err
	}
	pay, err := donations.PaymentSettingsNow(r.Context(), s.store.Pool())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, no-store")
	s.render(w, r, status, "admin.html", map[string]any{"Pay": pay, "BacsFees": s.deps.BacsFees, "CardFees": s.deps.Fees, "GiftAidEmail": giftAidEmail, "Declarations": declarations,
		"Today": s.store.Now().In(campaigns.London()).Format(time.DateOnly), "Title": "Manage the appeal", "User": u, "Appeal": a,
		"Pages": list, "Unmatched": unmatched, "Errors": errs, "Kept": kept, "Notice": notice, "Offline": offline, "Decided": decided,
		"Monthly": monthly, "MonthlyEmail": monthlyEmail, "Waiting": waiting, "Sponsored": sponsored})
	return nil
}

// adminPagesPer is how many fundraiser pages /admin lists at once.
const adminPagesPer = 50

// adminPageList is one stretch of the appeal's fundraiser pages, with links to the ones
// before and after: plain links (?pages=2), so paging works without JavaScript.
type adminPageList struct {
	Pages            []pages.Fundraiser
	From, To, Total  int64
	PrevURL, NextURL string
	Number           int // this stretch, from 1
}

// adminPageList reads the stretch ?pages= asks for; a number that is not one, or beyond
// the last, shows the first or the last.
func (s *Server) adminPageList(r *http.Request, appealID int64) (adminPageList, error) {
	n, err := strconv.Atoi(r.URL.Query().Get("pages"))
	if err != nil || n < 1 {
		n = 1
	}
	n = min(n, 1_000_000)
	list, total, err := pages.AppealPages(r.Context(), s.store, appealID, adminPagesPer, (n-1)*adminPagesPer)
	if err != nil {
		return adminPageList{}, err
	}
	if last := max(1, int((total+adminPagesPer-1)/adminPagesPer)); n > last {
		n = last
		if list, total, err = pages.AppealPages(r.Context(), s.store, appealID, adminPagesPer, (n-1)*adminPagesPer); err != nil {
			return adminPageList{}, err
		}
	}
	l := adminPageList{Pages: list, Total: total, Number: n, From: int64((n-1)*adminPagesPer) + 1}
	l.To = l.From + int64(len(list)) - 1
	if n > 1 {
		l.PrevURL = fmt.Sprintf("/admin?pages=%d#pages-h", n-1)
	}
	if l.To < total {
		l.NextURL = fmt.Sprintf("/admin?pages=%d#pages-h", n+1)
	}
	return l, nil
}

// adminResult re-renders with the problems beside the fields, or redirects after success.
func (s *Server) adminResult(w http.ResponseWriter, r *http.Request, err error, done string) error {
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		return s.renderAdmin(w, r, http.StatusUnprocessableEntity, ve.Fields, nil, "")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin?done="+done, http.StatusSeeOther)
	return nil
}

func money(s string) decimal.Decimal {
	d, err := payments.ParseAmount(s)
	if err != nil {
		return decimal.Zero // validation in the domain names the field
	}
	return d
}

func (s *Server) adminFundraiserStatus(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return campaigns.ErrNotFound
	}
	err = pages.SetFundraiserStatus(r.Context(), s.store, u, id, strings.TrimSpace(r.PostFormValue("status")), s.site(r))
	// From the queue, back to the queue, saying what happened.
	if q := r.PostFormValue("from"); q == "queue" && err == nil {
		http.Redirect(w, r, "/admin?done="+map[string]string{"approved": "approved", "hidden": "hidden"}[r.PostFormValue("status")]+"#queue-h", http.StatusSeeOther)
		return nil
	}
	// Back to the stretch of the list the admin was on.
	if n, perr := strconv.Atoi(r.PostFormValue("pages")); err == nil && perr == nil && n > 1 {
		http.Redirect(w, r, fmt.Sprintf("/admin?done=page&pages=%d#pages-h", n), http.StatusSeeOther)
		return nil
	}
	return s.adminResult(w, r, err, "page")
}

// adminSponsored is POST /admin/fundraisers/{id}/sponsored: an admin checks a page its
// fundraiser marked a sponsored event (decision "approve"), or takes the mark off.
func (s *Server) adminSponsored(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return campaigns.ErrNotFound
	}
	approve := r.PostFormValue("decision") == "approve"
	if err := pages.CheckSponsoredEvent(r.Context(), s.store, u, id, approve); err != nil {
		return err
	}
	done := "not-sponsored"
	if approve {
		done = "sponsored"
	}
	http.Redirect(w, r, "/admin?done="+done+"#sponsored-h", http.StatusSeeOther)
	return nil
}

func (s *Server) adminResolve(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	err := donations.ResolveUnmatched(r.Context(), s.store, u, chi.URLParam(r, "id"), r.PostFormValue("note"))
	return s.adminResult(w, r, err, "unmatched")
}

// adminCancelMonthly cancels a monthly gift for a donor who asked the office, with the
// reason, through the donor's own path (campaigns/donations/manage.go), the admin as actor.
func (s *Server) adminCancelMonthly(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	id := chi.URLParam(r, "id")
	reason := r.PostFormValue("reason")
	err := donations.AdminCancel(r.Context(), s.store, u, id, reason, s.site(r))
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		return s.renderAdmin(w, r, http.StatusUnprocessableEntity, ve.Fields, map[string]string{"reason-" + id: reason}, "")
	}
	if errors.Is(err, donations.ErrChangeWaiting) || errors.Is(err, donations.ErrLinkExpired) {
		return s.renderAdmin(w, r, http.StatusConflict, map[string]string{"reason-" + id: "This gift has a change waiting for Stripe, or has already ended."},
			map[string]string{"reason-" + id: reason}, "")
	}
	return s.adminResult(w, r, err, "monthly-cancel")
}

// adminCancelGiftAid cancels a donor's Gift Aid declarations from a date, for a donor who
// asked the office (or no longer pays enough tax), with the reason; the donor's address is
// posted, never in a URL. Audited, and the donor emailed, in the same transaction.
func (s *Server) adminCancelGiftAid(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	from := s.store.Now()
	kept := map[string]string{"giftaid_reason": r.PostFormValue("reason"), "giftaid_from": r.PostFormValue("from")}
	if v := strings.TrimSpace(r.PostFormValue("from")); v != "" {
		day, err := time.ParseInLocation(time.DateOnly, v, campaigns.London())
		if err != nil {
			return s.renderAdmin(w, r, http.StatusUnprocessableEntity, map[string]string{"giftaid_from": "Enter the date as a day, month and year"}, kept, "")
		}
		from = day
	}
	_, err := giftaid.CancelDeclarations(r.Context(), s.store, giftaid.Cancellation{Email: r.PostFormValue("giftaid_email"), From: from,
		Reason: r.PostFormValue("reason"), Actor: u, Charity: s.charity().Name, SignOff: s.donorSignOff()})
	var ve *campaigns.ValidationError
	switch {
	case errors.As(err, &ve):
		return s.renderAdmin(w, r, http.StatusUnprocessableEntity, map[string]string{"giftaid_reason": ve.Fields["reason"]}, kept, "")
	case errors.Is(err, campaigns.ErrNotFound):
		return s.renderAdmin(w, r, http.StatusConflict, map[string]string{"giftaid_email": "No Gift Aid declaration in force from that date for this address"}, kept, "")
	}
	return s.adminResult(w, r, err, "giftaid-cancel")
}
