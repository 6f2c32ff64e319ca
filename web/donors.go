package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"giving/campaigns"
	"giving/campaigns/donors"
	"giving/payments"
)

// Donor data duties (UK GDPR) for admins, the same as 'giving donor export|erase': export
// everything held about a donor, and erase their personal data while keeping the amounts
// and, while HMRC requires them, their Gift Aid declarations. The logged-in admin is the
// actor, so the audit log names them. The donor's email travels only in POST bodies, never
// in a URL (where it would reach access logs and browser history), and is never logged.

// sessionErasure carries an erasure's report across the redirect that follows it, so a
// reload shows the result instead of posting again. The report names the donor only by
// DonorHash: an erased donor's email must not linger in the session store.
const sessionErasure = "donor_erasure"

// donorsView is what the donor data page shows.
type donorsView struct {
	Email  string // as typed, kept in the field
	Errors map[string]string
	// Nothing names what was asked about an email nothing is held for: "export", "plan"
	// or "erase".
	Nothing string
	// Facts say what erasing would do (Plan) or did (Erased), in the command line's words.
	Facts  []donors.ErasureFact
	Plan   bool
	Erased bool
	// DonorHash is how the audit log names the erased donor ("" after a reload).
	DonorHash string
}

func (s *Server) renderDonors(w http.ResponseWriter, r *http.Request, status int, title string, v donorsView) error {
	u, _ := currentUser(r)
	if len(v.Errors) > 0 {
		title = "Error: " + title // announced first by screen readers, as the page loads
	}
	w.Header().Set("Cache-Control", "private, no-store")
	s.render(w, r, status, "donors.html", map[string]any{"Title": title, "User": u, "Donors": v})
	return nil
}

// donorEmailFrom reads the form's email: the address to look up, or the view to re-render
// with the problem beside the field (and what was typed kept in it).
func donorEmailFrom(r *http.Request) (string, *donorsView) {
	typed := r.PostFormValue("email")
	email, err := donors.DonorEmail(typed)
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		return "", &donorsView{Email: strings.TrimSpace(typed), Errors: ve.Fields}
	}
	return email, nil
}

// donorsPage is GET /admin/donors: the form to find a donor by email and, after an
// erasure (?done=erased), what it did.
func (s *Server) donorsPage(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Query().Get("done") != "erased" {
		return s.renderDonors(w, r, http.StatusOK, "Donor data", donorsView{})
	}
	// After a reload the report is gone from the session: the audit log still has it.
	v := donorsView{Erased: true}
	if saved := s.auth.sessions.PopString(r.Context(), sessionErasure); saved != "" {
		var rep donors.ErasureReport
		if err := json.Unmarshal([]byte(saved), &rep); err != nil {
			return err
		}
		v.DonorHash, v.Facts = rep.DonorHash, rep.Facts(true)
		if !rep.Found() {
			v.Erased, v.Nothing = false, "erase"
			return s.renderDonors(w, r, http.StatusOK, "Donor data", v)
		}
	}
	return s.renderDonors(w, r, http.StatusOK, "Donor data erased", v)
}

// exportDonor is POST /admin/donors/export: everything held about the donor, as the JSON
// document 'giving donor export' writes, recorded in the audit log under the admin's name.
func (s *Server) exportDonor(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	email, bad := donorEmailFrom(r)
	if bad != nil {
		return s.renderDonors(w, r, http.StatusUnprocessableEntity, "Donor data", *bad)
	}
	// The search is audited whatever it finds: every disclosure, even "nothing", is on record.
	recs, err := donors.ExportDonorRecords(r.Context(), s.store, u, email)
	if err != nil {
		return err
	}
	if !recs.Found() {
		return s.renderDonors(w, r, http.StatusOK, "Donor data", donorsView{Email: email, Nothing: "export"})
	}
	// Written in full first, so a failure is a clean error page rather than half a file.
	var buf bytes.Buffer
	if err := donors.WriteDonorJSON(&buf, recs); err != nil {
		return err
	}
	// The file name holds the date, not the email: downloads lists are not private.
	name := "donor-records-" + s.store.Now().In(campaigns.London()).Format(time.DateOnly) + ".json"
	sendFile(w, name, "application/json; charset=utf-8", buf.Bytes())
	return nil
}

// eraseDonor is POST /admin/donors/erase. Without confirm=yes it shows what erasure would
// do (a dry run: nothing changes, nothing is audited) and asks for confirmation; with it,
// it erases in one transaction, audited under the admin's name, and redirects to the report.
func (s *Server) eraseDonor(w http.ResponseWriter, r *http.Request) error {
	u, _ := currentUser(r)
	email, bad := donorEmailFrom(r)
	if bad != nil {
		return s.renderDonors(w, r, http.StatusUnprocessableEntity, "Donor data", *bad)
	}
	if r.PostFormValue("confirm") != "yes" {
		rep, err := payments.PlanErasure(r.Context(), s.store, u, email, s.store.Now())
		if err != nil {
			return err
		}
		if !rep.Found() {
			return s.renderDonors(w, r, http.StatusOK, "Donor data", donorsView{Email: email, Nothing: "plan"})
		}
		return s.renderDonors(w, r, http.StatusOK, "Check before erasing", donorsView{Email: email, Plan: true, Facts: rep.Facts(false)})
	}
	rep, err := payments.EraseDonor(r.Context(), s.store, u, email, s.store.Now())
	if err != nil {
		return err
	}
	saved, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	s.auth.sessions.Put(r.Context(), sessionErasure, string(saved))
	http.Redirect(w, r, "/admin/donors?done=erased", http.StatusSeeOther)
	return nil
}
