package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"giving/campaigns/accounts"
	"giving/campaigns/donors"
	"giving/campaigns/outbox"
	"giving/payments"
	"giving/web/webtest"
)

// sendOutbox sends every queued message as the service's mail worker does, footer and all
// (donors.MailFooter, as cmd/giving wires it), to the local outbox, which keeps each
// message as sent.
func sendOutbox(t *testing.T, s *site) {
	t.Helper()
	ctx := context.Background()
	w := &outbox.MailWorker{Store: s.store, Sender: outbox.LocalOutbox{}, Local: true,
		Footer: donors.MailFooter(receiptMail.Charity, s.URL, s.store)}
	mails, err := outbox.Outbox(ctx, s.store, 500)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mails {
		if m.Status != "queued" {
			continue
		}
		job := &river.Job[outbox.MailJob]{JobRow: &rivertype.JobRow{Attempt: 1}, Args: outbox.MailJob{MailID: m.ID}}
		if err := w.Work(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
}

// sentTo is the last message sent to the address, as the outbox kept it.
func sentTo(t *testing.T, s *site, to string) outbox.OutboxMail {
	t.Helper()
	mails, err := outbox.Outbox(context.Background(), s.store, 500)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mails {
		if m.To == to && m.Status == "sent" {
			return m
		}
	}
	t.Fatalf("nothing sent to %s", to)
	return outbox.OutboxMail{}
}

var preferencesLink = regexp.MustCompile(`https?://\S+/preferences/[0-9a-f]{32}\.[A-Za-z0-9_-]+`)

// giveAs gives £5 through the donate form with fields, and pays as email.
func giveAs(t *testing.T, s *site, email string, fields map[string]string) {
	t.Helper()
	all := map[string]string{"tier": "custom", "amount": "5", "frequency": "one_off"}
	for k, v := range fields {
		all[k] = v
	}
	checkout := give(t, s, all)
	if r := s.post(checkout+"/pay", url.Values{"email": {email}, "name": {strings.Split(email, "@")[0] + " Donor"}}); r.status != http.StatusSeeOther {
		t.Fatalf("pay as %s: %d", email, r.status)
	}
}

// consentedCSV downloads the trustees' list for channel, logged in as c: its rows.
func consentedCSV(t *testing.T, s *site, c *http.Client, channel string) [][]string {
	t.Helper()
	r := s.send(c, http.MethodGet, "/trustees/export/consented-"+channel+".csv", nil)
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("consented %s CSV: %d %s", channel, r.status, r.header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// Three donors tick "email me". Bea then presses "Stop emails about our work" behind the
// link in her receipt, as sent; Cat's data is erased. The trustees' list of who may be
// emailed names Ada alone; Bea's withdrawal is stored and audited.
func TestConsentedContactsLeaveOutWithdrawnAndErasedDonors(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{donorMail: receiptMail, users: []user{trusteeUser}})
	for _, email := range []string{"ada@example.org", "bea@example.org", "cat@example.org"} {
		giveAs(t, s, email, map[string]string{"consent_email": "1"})
	}
	giveAs(t, s, "dan@example.org", nil) // never ticked: never listed
	sendOutbox(t, s)

	receipt := sentTo(t, s, "bea@example.org")
	link := preferencesLink.FindString(receipt.Body)
	if link == "" || !strings.Contains(receipt.Body, "\nStop emails about our work, or choose what we send you: "+link) {
		t.Fatalf("Bea's receipt carries no link to stop emails:\n%s", receipt.Body)
	}
	if !strings.Contains(receipt.HTML, `href="`+link+`"`) {
		t.Errorf("the HTML part has no link to %s", link)
	}
	if !strings.Contains(receipt.Body, "Freedom Trust UK, registered charity number 1234567, 1 High Street, London EC1A 1AA.") {
		t.Errorf("the receipt's footer does not name the charity:\n%s", receipt.Body)
	}
	path := strings.TrimPrefix(link, s.URL)

	// Opening the link (a mail scanner may) changes nothing; the button does.
	page := s.get(path)
	if page.status != http.StatusOK || webtest.Text(t, page.body, "main h1") != "Emails and contact from us" {
		t.Fatalf("the link's page: %d", page.status)
	}
	if got := webtest.Text(t, page.body, ".prefs-standing li:first-child"); got != "Email: yes" {
		t.Errorf("before withdrawing the page says %q", got)
	}
	if n := s.count(`SELECT count(*) FROM marketing_consents WHERE mode = 'withdrawal'`); n != 0 {
		t.Fatalf("opening the link stored %d withdrawals", n)
	}
	if r := s.post(path, url.Values{"stop": {"email"}}); r.status != http.StatusSeeOther {
		t.Fatalf("stop emails: %d", r.status)
	}
	page = s.get(path + "?done=email")
	if got := webtest.Text(t, page.body, ".prefs-standing li:first-child"); got != "Email: no" {
		t.Errorf("after withdrawing the page says %q", got)
	}
	if n := s.count(`SELECT count(*) FROM marketing_consents c JOIN donors r ON r.id = c.donor_id
		WHERE r.email = 'bea@example.org' AND c.mode = 'withdrawal' AND c.channel = 'email' AND NOT c.granted
		AND c.wording = 'Stop emails about our work'`); n != 1 {
		t.Errorf("Bea's withdrawal stored %d times, want once with the button's words", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'marketing consent withdrawn' AND detail LIKE '%email (Stop emails about our work)'`); n != 1 {
		t.Errorf("withdrawal audited %d times, want 1", n)
	}
	// A forged link is not found.
	if r := s.get(path[:len(path)-2] + "xx"); r.status != http.StatusNotFound {
		t.Errorf("a forged link: %d, want 404", r.status)
	}

	if _, err := payments.EraseDonor(context.Background(), s.store, accounts.CommandLine(), "cat@example.org", s.store.Now()); err != nil {
		t.Fatal(err)
	}

	trustee := s.browser()
	if r := s.send(trustee, http.MethodPost, "/login", url.Values{"email": {trusteeUser.email}, "password": {testPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("log in: %d", r.status)
	}
	rows := consentedCSV(t, s, trustee, "email")
	if len(rows) != 2 || rows[0][1] != "Email" || rows[1][1] != "ada@example.org" || rows[1][0] != "ada Donor" {
		t.Fatalf("consented contacts by email: %q, want Ada alone", rows)
	}
	if got := rows[1][6]; got != "Yes, please email me about "+s.charityName()+"'s work, news and appeals." {
		t.Errorf("Ada agreed to %q", got)
	}
	// Her answer, with its words, is in her data export; Bea's withdrawal in hers.
	for email, want := range map[string]string{"ada@example.org": `"answer": "yes"`, "bea@example.org": `"wording": "Stop emails about our work"`} {
		recs, err := donors.DonorRecords(context.Background(), s.store, email)
		if err != nil {
			t.Fatal(err)
		}
		var doc strings.Builder
		if err := donors.WriteDonorJSON(&doc, recs); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(doc.String(), `"marketing_consents": [`) || !strings.Contains(doc.String(), want) ||
			!strings.Contains(doc.String(), `"wording": "Yes, please email me about `+s.charityName()+`'s work, news and appeals."`) {
			t.Errorf("%s's data export lacks her marketing answers (%s):\n%s", email, want, doc.String())
		}
	}
	if rows := consentedCSV(t, s, trustee, "post"); len(rows) != 1 {
		t.Errorf("nobody ticked post, but the list has %q", rows)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'consented contacts export'`); n != 2 {
		t.Errorf("%d exports audited, want 2", n)
	}
}

// charityName is the name the site's consent wording uses (no CHARITY_NAME in these tests).
func (s *site) charityName() string { return "Fundraising for Freedom" }

// storedWording is the words stored with donor's answer on channel.
func storedWording(t *testing.T, s *site, email, channel string) (wording, mode string, granted bool) {
	t.Helper()
	err := s.store.Pool().QueryRow(context.Background(), `SELECT c.wording, c.mode, c.granted FROM marketing_consents c
		JOIN donations d ON d.id = c.donation_id JOIN donors r ON r.id = d.donor_id
		WHERE r.email = $1 AND c.channel = $2 ORDER BY c.id DESC LIMIT 1`, email, channel).Scan(&wording, &mode, &granted)
	if err != nil {
		t.Fatalf("%s's %s answer: %v", email, channel, err)
	}
	return wording, mode, granted
}

// The words stored with each answer are the words beside its box, byte for byte, in both
// modes. An admin switches to the soft opt-in (audited): a donor who leaves the opt-out box
// alone is stored as agreeing to email, one who ticks it as not, each with the opt-out's
// words; post and phone still ask with unticked boxes, and a yes to post needs an address.
func TestConsentWordingStoredAsShownAndSoftOptIn(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{users: []user{adminUser}})
	shown := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, ch := range donors.Channels {
			out[ch] = webtest.Text(t, s.get("/").body, `.consent-wording[data-channel="`+ch+`"]`)
		}
		return out
	}
	optIn := shown()
	if webtest.Count(t, s.get("/").body, `form.donate input[name^="consent_"][type=checkbox][checked]`) != 0 {
		t.Fatal("a consent box is ticked before the donor ticks it")
	}
	giveAs(t, s, "ada@example.org", map[string]string{"consent_email": "1", "consent_phone": "1", "consent_phone_number": "020 7946 0000"})
	for _, ch := range donors.Channels {
		w, mode, granted := storedWording(t, s, "ada@example.org", ch)
		if w != optIn[ch] || mode != donors.ModeOptIn || granted != (ch != donors.ChannelPost) {
			t.Errorf("Ada's %s answer: %q %s %v; shown %q", ch, w, mode, granted, optIn[ch])
		}
	}

	admin := s.browser()
	if r := s.send(admin, http.MethodPost, "/login", url.Values{"email": {adminUser.email}, "password": {testPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("log in: %d", r.status)
	}
	if r := s.send(admin, http.MethodPost, "/admin/charity", url.Values{"consent_mode": {donors.ModeSoftOptIn}}); r.status != http.StatusSeeOther {
		t.Fatalf("choose the soft opt-in: %d", r.status)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'consent mode changed' AND actor_email = $1`, adminUser.email); n != 1 {
		t.Errorf("mode change audited %d times, want 1", n)
	}
	soft := shown()
	if !strings.Contains(soft["email"], "Tick this box if you would rather we didn't.") || soft["post"] != optIn["post"] {
		t.Fatalf("soft opt-in shows %q", soft)
	}
	giveAs(t, s, "bea@example.org", nil)                                     // leaves the opt-out alone
	giveAs(t, s, "cat@example.org", map[string]string{"consent_email": "1"}) // ticks it: no emails
	for email, want := range map[string]bool{"bea@example.org": true, "cat@example.org": false} {
		w, mode, granted := storedWording(t, s, email, "email")
		if w != soft["email"] || mode != donors.ModeSoftOptIn || granted != want {
			t.Errorf("%s's email answer: %q %s granted=%v, want %v", email, w, mode, granted, want)
		}
		if _, mode, granted := storedWording(t, s, email, "post"); mode != donors.ModeOptIn || granted {
			t.Errorf("%s's post answer: %s granted=%v, want an unticked opt-in", email, mode, granted)
		}
	}

	// A yes to post with no address: 422 beside the field, nothing stored.
	page := s.get("/")
	f := donateForm(t, page.doc)
	f.Set("consent_post", "1")
	before := s.donations()
	r := s.post("/donate", f)
	if r.status != http.StatusUnprocessableEntity || webtest.Text(t, r.body, "#consent_address-error") != "Error: Enter your postal address, or untick the box for post" {
		t.Fatalf("post without an address: %d", r.status)
	}
	if s.donations() != before {
		t.Error("a refused form stored a donation")
	}
}

// An admin rewrites the privacy notice: the change is audited under her name and /privacy
// shows it; emptying the box brings the default back (audited too). Every page's footer
// links the three pages, and the default notice states HMRC's six years.
func TestPrivacyNoticeEditedByAnAdmin(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{users: []user{adminUser, trusteeUser}})
	home := s.get("/")
	for _, p := range []string{"/privacy", "/contact", "/complaints"} {
		if webtest.Count(t, home.body, `footer.site a[href="`+p+`"]`) != 1 {
			t.Errorf("the footer does not link %s", p)
		}
	}
	if webtest.Count(t, home.body, `form.donate a[href="/privacy"]`) == 0 {
		t.Error("the donate form does not link the privacy notice")
	}
	def := s.get("/privacy")
	if def.status != http.StatusOK || !strings.Contains(def.body, "until 6 years after the end of the tax year (5 April) of the last gift") {
		t.Fatalf("default privacy notice: %d", def.status)
	}

	trustee := s.browser()
	if r := s.send(trustee, http.MethodPost, "/login", url.Values{"email": {trusteeUser.email}, "password": {testPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("log in: %d", r.status)
	}
	if r := s.send(trustee, http.MethodPost, "/admin/charity", url.Values{"consent_mode": {donors.ModeOptIn}, "privacy": {"Trustee's text"}}); r.status != http.StatusForbidden {
		t.Errorf("a trustee edits the privacy notice: %d, want 403", r.status)
	}

	admin := s.browser()
	if r := s.send(admin, http.MethodPost, "/login", url.Values{"email": {adminUser.email}, "password": {testPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("log in: %d", r.status)
	}
	form := s.send(admin, http.MethodGet, "/admin/charity", nil)
	if form.status != http.StatusOK {
		t.Fatalf("/admin/charity: %d", form.status)
	}
	text := "We are a small charity.\n\n## What we keep\n- Your gifts\n- Your Gift Aid declaration"
	if r := s.send(admin, http.MethodPost, "/admin/charity", url.Values{"consent_mode": {donors.ModeOptIn}, "privacy": {text},
		"contact": {webtest.Text(t, form.body, "textarea#contact")}, "complaints": {webtest.Text(t, form.body, "textarea#complaints")}}); r.status != http.StatusSeeOther {
		t.Fatalf("save: %d", r.status)
	}
	page := s.get("/privacy")
	if got := webtest.Text(t, page.body, "main h2"); got != "What we keep" {
		t.Errorf("the edited notice's heading: %q", got)
	}
	if got := webtest.Count(t, page.body, "main li"); got != 2 {
		t.Errorf("the edited notice's list has %d items", got)
	}
	if strings.Contains(page.body, "5 April") {
		t.Error("the edited notice still shows the default")
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'charity page edited' AND actor_email = $1 AND detail LIKE '/privacy %'`, adminUser.email); n != 1 {
		t.Errorf("privacy edit audited %d times, want 1 (contact and complaints unchanged: none)", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'charity page edited'`); n != 1 {
		t.Errorf("%d page edits audited, want 1", n)
	}

	// Too long: 422 beside the field, nothing changed.
	r := s.send(admin, http.MethodPost, "/admin/charity", url.Values{"consent_mode": {donors.ModeOptIn}, "privacy": {strings.Repeat("a", 20001)}})
	if r.status != http.StatusUnprocessableEntity || webtest.Text(t, r.body, "#privacy-error") != "Error: Use 20000 characters or fewer" {
		t.Errorf("a too-long notice: %d", r.status)
	}
	if got := webtest.Text(t, s.get("/privacy").body, "main h2"); got != "What we keep" {
		t.Errorf("a refused edit changed the notice: %q", got)
	}

	// Emptied: the default is back.
	if r := s.send(admin, http.MethodPost, "/admin/charity", url.Values{"consent_mode": {donors.ModeOptIn}, "privacy": {""},
		"contact": {webtest.Text(t, form.body, "textarea#contact")}, "complaints": {webtest.Text(t, form.body, "textarea#complaints")}}); r.status != http.StatusSeeOther {
		t.Fatalf("empty: %d", r.status)
	}
	if !strings.Contains(s.get("/privacy").body, "5 April") {
		t.Error("emptying the notice did not bring the default back")
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'charity page edited' AND detail LIKE '/privacy % back to the default text'`); n != 1 {
		t.Errorf("return to the default audited %d times, want 1", n)
	}
}
