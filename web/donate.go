package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/donations"
	"giving/campaigns/donors"
	"giving/campaigns/giftaid"
	"giving/campaigns/pages"
	"giving/payments"
)

// donateForm is the donate form as the donor filled it in: kept as typed so a page with
// problems shows their own words back beside each problem.
type donateForm struct {
	Token       string
	Fundraiser  string // page slug, "" for the appeal itself
	Appeal      string // the appeal's slug when it is not the default appeal and no page is named
	Tier        string // a tier id, or "custom"
	Amount      string
	Frequency   string
	DisplayName string
	Message     string
	HideName    bool
	HideAmount  bool
	CoverFee    bool
	GiftAid     bool
	Title       string
	FirstName   string
	LastName    string
	House       string
	Postcode    string
	Scope       string
	// Overseas: she lives outside the UK, and Address is her whole home address (HMRC's
	// schedule takes it in the house field, with the postcode "X").
	Overseas bool
	Address  string
	// OwnMoney: a page's owner giving on her own page confirms the money is her own.
	OwnMoney bool
	Consent  consentForm // the marketing consent fieldset (charity.go)
	Errors   map[string]string

	// PaymentMethod is "card" or "bacs_debit" (Direct Debit); a form that offered no choice
	// sends none, which is card.
	PaymentMethod string
}

// submissionKey is what finds a second submission of the same form (a double click, or
// Back and Give again): the form's token, with who sent it and what she sent. The public
// appeal and fundraiser pages are served from one cached copy a second (pagecache.go), so
// every visitor in that second is given the same token; the token alone would send a second
// donor to the first donor's checkout. Two donors share a key only if they sent the very same
// form, from the same address, with the same browser, within that second.
func submissionKey(r *http.Request, token string) string {
	h := sha256.New()
	for _, part := range []string{token, clientKey(r), r.UserAgent(), r.PostForm.Encode()} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func blankForm(fundraiser string) donateForm {
	return donateForm{Token: newToken(), Fundraiser: fundraiser, Frequency: "one_off", PaymentMethod: donations.MethodCard, Scope: giftaid.ScopeThis}
}

func parseDonateForm(r *http.Request) donateForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	on := func(k string) bool { return r.PostFormValue(k) != "" }
	f := donateForm{Token: v("token"), Fundraiser: v("fundraiser"), Appeal: v("appeal"), Tier: v("tier"), Amount: v("amount"),
		Frequency: v("frequency"), PaymentMethod: v("payment_method"), DisplayName: v("display_name"), Message: v("message"),
		HideName: on("hide_name"), HideAmount: on("hide_amount"), CoverFee: on("cover_fee"), GiftAid: on("gift_aid"),
		Title: v("title"), FirstName: v("first_name"), LastName: v("last_name"), House: v("house"),
		Postcode: v("postcode"), Scope: v("scope"), Overseas: on("overseas"), Address: v("address"), OwnMoney: on("own_money"),
		Consent: parseConsent(r)}
	if len(f.Token) != 32 {
		f.Token = newToken()
	}
	if f.PaymentMethod == "" {
		f.PaymentMethod = donations.MethodCard
	}
	return f
}

// Limits bound what a donor may type and give.
type Limits struct {
	Amount payments.AmountLimits
}

func tooLong(s string, n int) bool { return utf8.RuneCountInString(s) > n }

// validate decides the donation from the form. The amount comes from the chosen tier or
// the typed amount, parsed here; anything else the browser sent about price is ignored.
func (f *donateForm) validate(a appeals.Appeal, fundraiserID int64, lim Limits, pay payWays, ga giftAidBox) (donations.NewDonation, error) {
	ve := &campaigns.ValidationError{}
	n := donations.NewDonation{AppealID: a.ID, FundraiserID: fundraiserID, FormToken: f.Token, PaymentMethod: f.PaymentMethod}
	switch {
	case f.Tier != "" && f.Tier != "custom":
		id, err := strconv.ParseInt(f.Tier, 10, 64)
		t, terr := a.Tier(id)
		if err != nil || terr != nil {
			ve.Add("tier", "Choose one of the amounts shown, or type your own")
			break
		}
		n.TierID, n.Amount = t.ID, t.Amount
		f.Amount = ""
	case f.Amount == "":
		ve.Add("amount", "Choose an amount, or type your own")
	default:
		amt, err := payments.ParseAmount(f.Amount)
		if err == nil {
			err = lim.Amount.Check(amt)
		}
		if err != nil {
			ve.Add("amount", amountMessage(err))
			break
		}
		n.Amount = amt
	}
	switch f.Frequency {
	case "one_off":
	case "monthly":
		n.Monthly = true
	default:
		ve.Add("frequency", "Choose one-off or monthly")
	}
	pay.checkMethod(ve, f.PaymentMethod, n.Monthly)
	if tooLong(f.DisplayName, 60) {
		ve.Add("display_name", "Use 60 characters or fewer")
	}
	if tooLong(f.Message, 500) {
		ve.Add("message", "Use 500 characters or fewer")
	}
	n.DisplayName, n.Message, n.HideName, n.HideAmount = f.DisplayName, f.Message, f.HideName, f.HideAmount
	if f.CoverFee && n.Amount.Sign() > 0 {
		n.CoverFee = pay.fees(f.PaymentMethod).Cover(n.Amount) // the chosen method's schedule
	}
	if f.GiftAid {
		f.validateGiftAid(ve, ga)
		if len(ve.Fields) == 0 {
			house, postcode := f.House, f.Postcode
			if f.Overseas {
				house, postcode = f.Address, giftaid.OverseasPostcode
			}
			// The wording stored is the wording the form showed, from the same function.
			n.Declaration = &giftaid.Declaration{Title: f.Title, FirstName: f.FirstName, LastName: f.LastName,
				House: house, Postcode: postcode, Scope: f.Scope, WordingVersion: giftaid.GiftAidWordingVersion,
				Wording: giftaid.Wording(ga.Charity, f.Scope), OwnMoneyConfirmed: ga.Owner && f.OwnMoney}
		}
	}
	f.Errors = ve.Fields
	return n, ve.OrNil()
}

func (f *donateForm) validateGiftAid(ve *campaigns.ValidationError, ga giftAidBox) {
	switch {
	case ga.OwnerBarred:
		ve.Add("gift_aid", "The charity is paying your costs for this sponsored event, so HMRC does not allow Gift Aid on your own sponsorship. Untick Gift Aid to give without it.")
	case ga.Owner && !f.OwnMoney:
		ve.Add("own_money", "This is your own page: tick the box to confirm this gift is your own money, not money you collected from others, or untick Gift Aid.")
	}
	if tooLong(f.Title, 4) {
		ve.Add("title", "Use 4 characters or fewer, like Ms or Dr")
	}
	if f.FirstName == "" {
		ve.Add("first_name", "Enter your first name or initial: HMRC needs it for Gift Aid")
	} else if tooLong(f.FirstName, 35) {
		ve.Add("first_name", "Use 35 characters or fewer")
	}
	if f.LastName == "" {
		ve.Add("last_name", "Enter your last name: HMRC needs it for Gift Aid")
	} else if tooLong(f.LastName, 35) {
		ve.Add("last_name", "Use 35 characters or fewer")
	}
	switch {
	case f.Overseas && f.Address == "":
		ve.Add("address", "Enter your full home address: HMRC needs it for Gift Aid")
	case f.Overseas && tooLong(f.Address, 40):
		ve.Add("address", "HMRC's claim form takes 40 characters: shorten it, like 12 Rue de la Paix, Paris, France")
	case f.Overseas:
	case f.House == "":
		ve.Add("house", "Enter your house name or number: HMRC needs your home address for Gift Aid")
	case tooLong(f.House, 40):
		ve.Add("house", "Use 40 characters or fewer")
	}
	if !f.Overseas {
		if pc, ok := giftaid.NormalisePostcode(f.Postcode); !ok {
			ve.Add("postcode", "Enter a UK postcode, like SW1A 1AA, or tick \"I live outside the UK\"")
		} else {
			f.Postcode = pc
		}
	}
	switch f.Scope {
	case giftaid.ScopeThis, giftaid.ScopeThisAndFuture, giftaid.ScopeThisFutureAndPast:
	default:
		ve.Add("scope", "Choose which donations this declaration covers")
	}
}

// formOrder is the donate form's fields from top to bottom: its error summary lists
// problems in the order the donor meets the fields.
var formOrder = []string{"form", "tier", "amount", "frequency", "payment_method", "gift_aid", "own_money", "scope", "title", "first_name",
	"last_name", "house", "postcode", "address", "consent_address", "consent_phone_number", "display_name", "message"}

// errorList is the form's problems in form order (any field not listed comes last, by name).
func (f donateForm) errorList() []fieldError { return orderedErrors(f.Errors, formOrder) }

// orderedErrors lists a form's problems in the order of its fields (order), then any
// others by name.
func orderedErrors(errs map[string]string, order []string) []fieldError {
	out := make([]fieldError, 0, len(errs))
	for _, k := range order {
		if msg, ok := errs[k]; ok {
			out = append(out, fieldError{ID: k, Msg: msg})
		}
	}
	rest := make([]string, 0)
	for k := range errs {
		if !slices.Contains(order, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		out = append(out, fieldError{ID: k, Msg: errs[k]})
	}
	return out
}

func amountMessage(err error) string {
	var ae *payments.AmountError
	if errors.As(err, &ae) {
		return ae.Reason
	}
	return "Enter an amount in pounds, like 25 or 25.50"
}

// donate is POST /donate: validate, store the donation (and Gift Aid declaration), create
// the payment session and send the donor to pay. Problems re-render the form (422).
func (s *Server) donate(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return &campaigns.ValidationError{Fields: map[string]string{"form": "The form could not be read; please try again"}}
	}
	f := parseDonateForm(r)
	page, err := s.donationTarget(r.Context(), f.Fundraiser, f.Appeal)
	if err != nil {
		return err
	}
	// A page past its end date takes no more gifts (teams.go).
	if closed, err := s.refuseClosedPage(w, r, page, f); closed || err != nil {
		return err
	}
	ga, err := s.giftAidBox(r, page.fundraiser)
	if err != nil {
		return err
	}
	pay, err := s.payWays(r.Context())
	if err != nil {
		return err
	}
	n, err := f.validate(page.appeal, page.fundraiserID, s.deps.Limits, pay, ga)
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	consents := f.Consent.answers(s.consentMode(r.Context()), s.deps.Charity.Name, f.Errors)
	n.FormToken = submissionKey(r, f.Token)
	if !page.appeal.Open {
		// A closed appeal takes no gifts, through its own page or a fundraiser's.
		f.Errors = map[string]string{"tier": closedMessage(page.appeal)}
		err = &campaigns.ValidationError{Fields: f.Errors}
	}
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) || len(f.Errors) > 0 {
		return s.renderDonatePage(w, r, http.StatusUnprocessableEntity, page, f, "")
	}
	// The limit is on checkout sessions: a donor correcting a form (422 above) spends
	// none, and a session that could not be created is handed back.
	retry, release, ok := s.limiter.take(clientKey(r))
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		s.render(w, r, http.StatusTooManyRequests, "error.html", map[string]any{"Title": "Too many attempts",
			"Message": "You've tried to give several times in a short while. Please wait a minute and try again."})
		return nil
	}
	giver := s.giverSecret(w, r)
	d, err := donors.CreateDonation(r.Context(), s.store, n, consents) // with her marketing answers
	if err != nil {
		release()
		return err
	}
	if err := donations.BindGiver(r.Context(), s.store, d.ID, giver); err != nil {
		release()
		return err
	}
	// A second submission of the same form finds the same donation, and the idempotency
	// key derived from it makes Stripe return the same session.
	sess, err := s.deps.Checkout.CreateSession(r.Context(), payments.CheckoutRequest{
		DonationID: d.ID, Campaign: page.appeal.Slug, Fundraiser: page.fundraiserSlug, Amount: d.Total(), Monthly: d.Monthly,
		Description: "Gift to " + page.appeal.Name, PaymentMethod: f.PaymentMethod,
		SuccessURL: s.baseURL.String() + "/thanks?session_id={CHECKOUT_SESSION_ID}",
		CancelURL:  s.baseURL.String() + "/donate/cancelled?donation=" + d.ID,
	})
	if err != nil {
		// The donation stays pending; the donor gets a calm message and their choices back.
		release()
		s.log.Error("create checkout session", "donation", d.ID, "err", err)
		return s.renderDonatePage(w, r, http.StatusBadGateway, page, f,
			"We couldn't reach our payment provider just now. Nothing was charged. Please try again in a minute.")
	}
	if err := donations.SetCheckoutSession(r.Context(), s.store, d.ID, sess.ID); err != nil {
		return err
	}
	http.Redirect(w, r, sess.URL, http.StatusSeeOther)
	return nil
}

// donationPage is where a gift is attributed: the appeal, and a fundraiser page if any.
type donationPage struct {
	appeal         appeals.Appeal
	fundraiserID   int64
	fundraiserSlug string
	fundraiser     *pages.Fundraiser
}

// donationTarget is the page a form names: a fundraiser page, else an appeal by its slug,
// else the default appeal.
func (s *Server) donationTarget(ctx context.Context, fundraiserSlug, appealSlug string) (donationPage, error) {
	if fundraiserSlug == "" {
		if appealSlug == "" {
			appealSlug = appeals.DefaultAppealSlug
		}
		a, err := appeals.AppealBySlug(ctx, s.store, appealSlug)
		return donationPage{appeal: a}, err
	}
	fr, err := pages.PublicFundraiser(ctx, s.store, fundraiserSlug)
	if err != nil {
		return donationPage{}, err
	}
	a, err := appeals.AppealByID(ctx, s.store, fr.AppealID)
	return donationPage{appeal: a, fundraiserID: fr.ID, fundraiserSlug: fr.Slug, fundraiser: &fr}, err
}

// renderDonatePage shows the appeal (or fundraiser page) with the form as the donor left it.
func (s *Server) renderDonatePage(w http.ResponseWriter, r *http.Request, status int, p donationPage, f donateForm, notice string) error {
	if p.fundraiser != nil {
		return s.renderFundraiserPage(w, r, status, *p.fundraiser, p.appeal, f, notice)
	}
	v, err := s.appealView(r.Context(), p.appeal)
	if err != nil {
		return err
	}
	return s.renderAppeal(w, r, status, v, f, notice)
}

// giftAidBox is what the Gift Aid box says and asks: the declaration names the charity
// (CHARITY_NAME), and on a fundraiser's page it is for the donor's own money only.
type giftAidBox struct {
	Charity string
	OnPage  bool // a fundraiser's page
	// Owner: the page's owner, logged in, is giving on it: she confirms the money is her
	// own. OwnerBarred: her page is a sponsored event and the charity pays her costs, so
	// her own sponsorship cannot have Gift Aid (HMRC).
	Owner, OwnerBarred bool
	Sponsored          bool // a sponsored event an admin checked
}

func (s *Server) giftAidBox(r *http.Request, fr *pages.Fundraiser) (giftAidBox, error) {
	ga := giftAidBox{Charity: s.charity().Name}
	if fr == nil {
		return ga, nil
	}
	sp, err := pages.PageSponsorship(r.Context(), s.store, fr.ID)
	if err != nil {
		return ga, err
	}
	u, in := currentUser(r)
	ga.OnPage, ga.Sponsored = true, sp.Approved()
	ga.Owner = in && fr.OwnerID != 0 && u.ID == fr.OwnerID
	ga.OwnerBarred = ga.Owner && sp.Marked() && sp.CharityPaysCosts
	return ga, nil
}

// formView is what the form template needs; ga is the Gift Aid box's (giftAidBox).
func (s *Server) formView(ctx context.Context, a appeals.Appeal, f donateForm, notice string, ga giftAidBox) map[string]any {
	// A fresh form starts on the admin's chosen tier (else a middle one), so one press of
	// Give makes a gift.
	if f.Tier == "" && f.Amount == "" && len(f.Errors) == 0 && len(a.Tiers) > 0 {
		f.Tier = strconv.FormatInt(a.PreselectedTier(), 10)
	}
	// The form posts back to the appeal it is on.
	if f.Fundraiser == "" && !a.IsDefault {
		f.Appeal = a.Slug
	}
	// The appeal's "if we raise more than we need" statement, under the Give button; it is
	// introduced unless it says so itself.
	label := !strings.HasPrefix(strings.ToLower(a.SurplusStatement), "if we raise more")
	pay, err := s.payWays(ctx)
	if err != nil {
		// The form still works: card only, as before Direct Debit was offered.
		s.log.Error("read payment settings", "err", err)
		pay.Offers = donations.PaymentSettings{}
	}
	return map[string]any{"F": f, "Pay": pay, "Surplus": a.SurplusStatement, "SurplusLabel": label, "Errors": f.errorList(), "Notice": notice, "Tiers": a.Tiers,
		"Fees": s.deps.Fees, "Min": s.deps.Limits.Amount.Min, "Max": s.deps.Limits.Amount.Max,
		// The declaration as shown, from the functions that make the wording stored.
		"GiftAid": ga, "Scopes": giftaid.Scopes(ga.Charity), "Terms": giftaid.DeclarationTerms(ga.Charity),
		"GiftAidPence": a.GiftAidRate.Shift(2).StringFixed(0), "Consent": s.consentView(ctx)}
}

// thanks is the success page. It records nothing: money is recorded from webhooks only.
// It shows the donation only to the browser that made it (giver.go).
func (s *Server) thanks(w http.ResponseWriter, r *http.Request) error {
	d, err := donations.Lookup(r.Context(), s.store, donations.DonationLookup{SessionID: r.URL.Query().Get("session_id")})
	if errors.Is(err, campaigns.ErrNotFound) {
		return s.anyonesThanks(w, r)
	}
	if err != nil {
		return err
	}
	if mine, err := s.isGiver(r, d.ID); err != nil || !mine {
		if err != nil {
			return err
		}
		return s.anyonesThanks(w, r)
	}
	a, err := appeals.AppealByID(r.Context(), s.store, d.AppealID)
	if err != nil {
		return err
	}
	t, err := appeals.AppealTotals(r.Context(), s.store, a.ID)
	if err != nil {
		return err
	}
	var impact string
	if d.TierID != 0 {
		if tier, err := a.Tier(d.TierID); err == nil {
			impact = tier.Impact
		}
	}
	confirmed := d.Status != donations.StatusPending && d.Status != donations.StatusProcessing
	method, err := donations.PaymentMethodOf(r.Context(), s.store.Pool(), d.ID)
	if err != nil {
		return err
	}
	data := map[string]any{
		"Title": "Thank you", "Appeal": a, "Donation": d, "Impact": impact, "Confirmed": confirmed,
		// A Direct Debit is collected days after it is set up: until then the gift is
		// processing, and the page says when the money is collected.
		"DirectDebit": method == donations.MethodBacs && !confirmed, "Processing": d.Status == donations.StatusProcessing,
		"Collect":  donations.UKDate(donations.FirstCollection(d.CreatedAt)),
		"Progress": progress("Progress toward the appeal target", t, a.Target),
	}
	if d.FundraiserID != 0 {
		if err := s.thanksForPage(r, d.FundraiserID, a, data); err != nil {
			return err
		}
	}
	if d.Monthly {
		// What happens next: the next payment, on the first payment's day of the month.
		now := s.store.Now()
		first, err := donations.FirstGiftAt(r.Context(), s.store, d.ID, now)
		if err != nil {
			return err
		}
		data["NextPayment"], data["PaymentDay"] = donations.UKDate(donations.NextMonthlyPayment(first, now)), donations.DayOfMonth(first)
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "thanks.html", data)
	return nil
}

// thanksForPage makes the thank-you page for a gift made on a fundraiser's page about her
// page: its progress instead of the appeal's, a link back to it and its share links. A
// page no longer public (hidden since the gift) keeps the appeal's thank-you page.
func (s *Server) thanksForPage(r *http.Request, fundraiserID int64, a appeals.Appeal, data map[string]any) error {
	ctx := r.Context()
	fr, err := pages.FundraiserByID(ctx, s.store, fundraiserID)
	if err != nil || fr.Status != "approved" {
		return err
	}
	t, err := pages.FundraiserTotals(ctx, s.store, fr.ID)
	if err != nil {
		return err
	}
	owner, err := pages.OwnerName(ctx, s.store, fr.ID)
	if err != nil {
		return err
	}
	photo, err := s.pagePhotoView(ctx, fr)
	if err != nil {
		return err
	}
	_, description, invite := pageWords(fr, a, owner)
	data["Page"], data["Owner"] = fr, owner
	data["Share"] = s.pageShare(fr, description, invite, photo)
	data["Progress"] = progress("Progress toward "+fr.Title+"'s target", t, fr.Target)
	return nil
}

// cancelled is the cancel URL: back to the form with the donor's choices kept. Only a
// donation still waiting for payment can be cancelled; a paid one goes to its thank-you
// page. The home address is never put back into a page: the link travels through Stripe
// and browser history. Only the browser that made the donation sees it (giver.go).
func (s *Server) cancelled(w http.ResponseWriter, r *http.Request) error {
	id := r.URL.Query().Get("donation")
	if mine, err := s.isGiver(r, id); err != nil || !mine {
		if err != nil {
			return err
		}
		return s.anyonesCancelled(w, r)
	}
	d, err := donations.Lookup(r.Context(), s.store, donations.DonationLookup{ID: id})
	if err != nil {
		return err
	}
	if d.Status != donations.StatusPending {
		http.Redirect(w, r, s.baseURL.String()+"/thanks?session_id="+url.QueryEscape(d.SessionID), http.StatusSeeOther)
		return nil
	}
	p, err := s.donationTargetByID(r.Context(), d.AppealID, d.FundraiserID)
	if err != nil {
		return err
	}
	f := blankForm(p.fundraiserSlug)
	f.Amount, f.Tier = d.Amount.StringFixed(2), "custom"
	if d.TierID != 0 {
		f.Tier, f.Amount = strconv.FormatInt(d.TierID, 10), ""
	}
	if d.Monthly {
		f.Frequency = "monthly"
	}
	if m, err := donations.PaymentMethodOf(r.Context(), s.store.Pool(), d.ID); err == nil && m != "" {
		f.PaymentMethod = m
	}
	f.DisplayName, f.Message, f.HideName, f.HideAmount, f.CoverFee = d.DisplayName, d.Message, d.HideName, d.HideAmount, d.CoverFee.Sign() > 0
	if d.DeclarationID != "" {
		if g, err := giftaid.DeclarationByID(r.Context(), s.store, d.DeclarationID); err == nil {
			f.GiftAid, f.Title, f.FirstName, f.LastName, f.Scope = true, g.Title, g.FirstName, g.LastName, g.Scope
		}
	}
	noStore(w)
	return s.renderDonatePage(w, r, http.StatusOK, p, f, "Your payment was cancelled and nothing was charged. Your choices are kept below.")
}

func (s *Server) donationTargetByID(ctx context.Context, appealID, fundraiserID int64) (donationPage, error) {
	if fundraiserID == 0 {
		a, err := appeals.AppealByID(ctx, s.store, appealID)
		return donationPage{appeal: a}, err
	}
	fr, err := pages.FundraiserByID(ctx, s.store, fundraiserID)
	if err != nil {
		return donationPage{}, err
	}
	a, err := appeals.AppealByID(ctx, s.store, fr.AppealID)
	return donationPage{appeal: a, fundraiserID: fr.ID, fundraiserSlug: fr.Slug, fundraiser: &fr}, err
}

// noStore keeps pages carrying a one-time form token out of shared caches: two donors
// served one cached copy would share one donation.
func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "private, no-store") }
