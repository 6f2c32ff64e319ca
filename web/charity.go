package web

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/go-chi/chi/v5"

	"giving/campaigns"
	"giving/campaigns/charity"
	"giving/campaigns/donors"
	"giving/campaigns/reports"
)

// The charity's own pages (privacy notice, contact, complaints), the marketing consent
// fieldset of the donate form, the page behind the "stop emails about our work" link in
// every email, the admins' settings for both, and the trustees' consented-contacts CSV.

// ---- The donate form's consent fieldset (_consent.html) ----

// consentForm is the consent fieldset as the donor left it.
type consentForm struct {
	Ticked  map[string]bool // by field name (consent_email, ...)
	Address string          // given with post
	Phone   string          // given with phone
}

// Any reports whether any box is ticked (the fieldset then opens to show it).
func (c consentForm) Any() bool {
	for _, t := range c.Ticked {
		if t {
			return true
		}
	}
	return false
}

func parseConsent(r *http.Request) consentForm {
	c := consentForm{Ticked: map[string]bool{}, Address: strings.TrimSpace(r.PostFormValue("consent_address")),
		Phone: strings.TrimSpace(r.PostFormValue("consent_phone_number"))}
	for _, q := range donors.ConsentQuestions(donors.ModeOptIn, "") {
		c.Ticked[q.Field] = r.PostFormValue(q.Field) != ""
	}
	return c
}

// phonePattern is a phone number as people type it: digits, spaces, +, brackets, dashes.
var phonePattern = regexp.MustCompile(`^\+?[0-9 ()\-]{7,20}$`)

// answers turns the fieldset into the donor's answers in mode, adding any problem (a post
// or phone yes with nothing to contact her at) to errs beside its field.
func (c consentForm) answers(mode, charityName string, errs map[string]string) []donors.ConsentAnswer {
	var out []donors.ConsentAnswer
	for _, q := range donors.ConsentQuestions(mode, charityName) {
		ticked := c.Ticked[q.Field]
		contact := ""
		switch q.Contact {
		case "address":
			contact = strings.Join(strings.Fields(c.Address), " ")
			switch {
			case ticked && contact == "":
				errs["consent_address"] = "Enter your postal address, or untick the box for post"
			case ticked && tooLong(contact, 300):
				errs["consent_address"] = "Use 300 characters or fewer"
			}
		case "phone":
			contact = c.Phone
			if ticked && !phonePattern.MatchString(contact) {
				errs["consent_phone_number"] = "Enter a phone number, like 020 7946 0000, or untick the box for phone"
			}
		}
		out = append(out, q.Answer(mode, ticked, contact))
	}
	return out
}

// consentMode is how the donate form asks now; a database hiccup asks the strictest way
// (unticked boxes), never assuming consent.
func (s *Server) consentMode(ctx context.Context) string {
	st, err := charity.Read(ctx, s.store.Pool())
	if err != nil {
		s.log.Warn("read consent mode; asking with unticked boxes", "err", err)
		return donors.ModeOptIn
	}
	return st.ConsentMode
}

// consentView is what _consent.html needs beside the form.
func (s *Server) consentView(ctx context.Context) map[string]any {
	mode := s.consentMode(ctx)
	return map[string]any{"Mode": mode, "Questions": donors.ConsentQuestions(mode, s.deps.Charity.Name)}
}

// ---- The charity's pages ----

// charityPage is GET /privacy, /contact and /complaints: the admin's text, or the default.
func (s *Server) charityPage(page string) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		st, err := charity.Read(r.Context(), s.store.Pool())
		if err != nil {
			return err
		}
		s.render(w, r, http.StatusOK, "charity_page.html", map[string]any{"Title": charity.PageTitle(page), "Page": page,
			"Blocks": charity.Blocks(st.Text(page, s.deps.Charity))})
		return nil
	}
}

// ---- The link in every email ----

// preferencesPage is GET /preferences/{token}: what she hears from us, with buttons to stop
// emails or all contact. Opening the link changes nothing (a mail scanner may open it).
func (s *Server) preferencesPage(w http.ResponseWriter, r *http.Request) error {
	p, err := donors.PreferencesByToken(r.Context(), s.store, chi.URLParam(r, "token"))
	if err != nil {
		return err
	}
	return s.renderPreferences(w, r, p, r.URL.Query().Get("done"))
}

func (s *Server) renderPreferences(w http.ResponseWriter, r *http.Request, p donors.Preferences, done string) error {
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	s.render(w, r, http.StatusOK, "preferences.html", map[string]any{"Title": "Emails and contact from us", "Prefs": p,
		"Done": done, "StopEmail": donors.WithdrawalWording([]string{donors.ChannelEmail}),
		"StopAll": donors.WithdrawalWording(donors.Channels)})
	return nil
}

// withdraw is POST /preferences/{token}: stop=email stops emails about our work, stop=all
// every channel; stored and audited together, then the page again saying so.
func (s *Server) withdraw(w http.ResponseWriter, r *http.Request) error {
	var channels []string
	switch stop := r.PostFormValue("stop"); stop {
	case "email":
		channels = []string{donors.ChannelEmail}
	case "all":
		channels = donors.Channels
	default:
		return &campaigns.ValidationError{Fields: map[string]string{"stop": "Choose what to stop"}}
	}
	token := chi.URLParam(r, "token")
	if _, err := donors.Withdraw(r.Context(), s.store, token, channels); err != nil {
		return err
	}
	http.Redirect(w, r, donors.PreferencesPath+token+"?done="+r.PostFormValue("stop"), http.StatusSeeOther)
	return nil
}

// ---- Admins: consent mode and page texts ----

func (s *Server) adminCharityPage(w http.ResponseWriter, r *http.Request) error {
	st, err := charity.Read(r.Context(), s.store.Pool())
	if err != nil {
		return err
	}
	texts := map[string]string{}
	for _, p := range charity.Pages {
		texts[p] = st.Text(p, s.deps.Charity)
	}
	notice := ""
	if r.URL.Query().Get("saved") != "" {
		notice = "Saved. Each change is in the audit log."
	}
	return s.renderAdminCharity(w, r, http.StatusOK, st.ConsentMode, texts, st, nil, notice)
}

func (s *Server) renderAdminCharity(w http.ResponseWriter, r *http.Request, status int, mode string, texts map[string]string,
	st charity.Settings, errs map[string]string, notice string) error {
	u, _ := currentUser(r)
	type pageField struct {
		Page, Title, Text string
		Edited            bool
	}
	var fields []pageField
	for _, p := range charity.Pages {
		fields = append(fields, pageField{Page: p, Title: charity.PageTitle(p), Text: texts[p], Edited: st.Edited(p)})
	}
	title := "The charity's pages and consent"
	if len(errs) > 0 {
		title = "Error: " + title
	}
	w.Header().Set("Cache-Control", "private, no-store")
	s.render(w, r, status, "admin_charity.html", map[string]any{"Title": title, "User": u, "Mode": mode, "Pages": fields,
		"Errors": errs, "Notice": notice, "OptIn": donors.ModeOptIn, "SoftOptIn": donors.ModeSoftOptIn,
		"OptInLabel": charity.ModeLabel(donors.ModeOptIn), "SoftOptInLabel": charity.ModeLabel(donors.ModeSoftOptIn)})
	return nil
}

// adminSaveCharity is POST /admin/charity: the mode and the three texts, audited.
func (s *Server) adminSaveCharity(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	e := charity.Edit{ConsentMode: r.PostFormValue("consent_mode"), Texts: map[string]string{}}
	for _, p := range charity.Pages {
		e.Texts[p] = r.PostFormValue(p)
	}
	err := charity.Save(r.Context(), s.store, u, e, s.deps.Charity)
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		st, rerr := charity.Read(r.Context(), s.store.Pool())
		if rerr != nil {
			return rerr
		}
		return s.renderAdminCharity(w, r, http.StatusUnprocessableEntity, e.ConsentMode, e.Texts, st, ve.Fields, "")
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/charity?saved=1", http.StatusSeeOther)
	return nil
}

// ---- Trustees: who may be contacted ----

// exportConsented is GET /trustees/export/consented-{channel}.csv.
func (s *Server) exportConsented(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	channel := chi.URLParam(r, "channel")
	var buf strings.Builder
	if err := reports.ExportConsentedContacts(r.Context(), s.store, u, &buf, channel); err != nil {
		return err
	}
	sendFile(w, "consented-contacts-"+channel+".csv", "text/csv; charset=utf-8", []byte(buf.String()))
	return nil
}
