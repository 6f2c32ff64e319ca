package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
)

// e2eShownDeclaration reads, as the browser has it, the Gift Aid declaration the donate
// form shows for scope: the sentence beside that choice, a space, and the terms below.
const e2eShownDeclaration = `((scope) => document.querySelector('input[name=scope][value="' + scope + '"]')
	.closest("label").querySelector(".declaration-sentence").textContent + " " +
	document.getElementById("giftaid-declaration").textContent)`

// e2eConnect opens a connection to the site's database, closed when the test ends.
func e2eConnect(t *testing.T, site *e2eSite) *pgx.Conn {
	t.Helper()
	var dsn string
	for _, kv := range site.env {
		if v, ok := strings.CutPrefix(kv, "DATABASE_URL="); ok {
			dsn = v
		}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// e2eQueryString runs one query on the site's database and returns its one text value.
func e2eQueryString(t *testing.T, site *e2eSite, sql string, args ...any) string {
	t.Helper()
	var s string
	if err := e2eConnect(t, site).QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// TestE2EGiftAidWording: a donor reads the Gift Aid declaration beside the box, gives with
// Gift Aid in the sandbox, and the same bytes are the declaration stored, the one in her
// data export ('giving donor export') and, word for word, the one her confirmation email
// quotes. The form with the declaration open is checked at 1280x800 and on a 390x844 phone
// (no sideways scroll, axe-core clean), and so is a fundraiser's sponsored-event setting.
func TestE2EGiftAidWording(t *testing.T) {
	chromium := e2eTools(t)
	site := e2eStart(t)
	browserCtx := e2eBrowser(t, chromium)

	b := e2eNewTab(t, browserCtx, site, "donor")
	b.goTo("/")
	shown := e2eRun(b, "read the declaration shown for this gift", chromedp.Evaluate[string](e2eShownDeclaration+`("this")`))
	if !strings.HasPrefix(shown, "I want to Gift Aid this donation to ") || !strings.Contains(shown, "I am a UK taxpayer") {
		t.Fatalf("the declaration shown reads %q", shown)
	}
	e2eGive(t, b, "£3.00", "", false, "Ada", &e2eGiftAid{"Ada", "Lovelace", "12", "N1 9GU"}, false)

	if stored := e2eQueryString(t, site, `SELECT wording FROM gift_aid_declarations`); stored != shown {
		t.Errorf("the declaration stored\n%q\ndiffers from the one shown\n%q", stored, shown)
	}
	exportFile := filepath.Join(t.TempDir(), "ada.json")
	if out, err := site.giving(t, "", "donor", "export", "--email", "ada@example.org", "--out", exportFile); err != nil {
		t.Fatalf("giving donor export: %v\n%s", err, out)
	}
	out, err := os.ReadFile(exportFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Declarations []struct {
			Wording string `json:"wording"`
		} `json:"gift_aid_declarations"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("donor export: %v\n%s", err, out)
	}
	var exported []string
	for _, d := range doc.Declarations {
		exported = append(exported, d.Wording)
	}
	if len(exported) != 1 || exported[0] != shown {
		t.Errorf("the data export's declarations %q, want exactly the one shown %q", exported, shown)
	}

	// Her confirmation email quotes it word for word (re-wrapped to the email's lines).
	b.goTo("/dev/outbox")
	mail := e2eRun(b, "read the declaration email", chromedp.Evaluate[string](`Array.from(document.querySelectorAll("article.mail"))
		.filter(a => a.querySelector("h2").textContent.includes("Your Gift Aid declaration to"))
		.map(a => a.textContent).join("\n")`))
	if !strings.Contains(strings.Join(strings.Fields(mail), " "), strings.Join(strings.Fields(shown), " ")) {
		t.Errorf("the confirmation email does not quote the declaration word for word:\n%s", mail)
	}
	if !strings.Contains(mail, `cancel my Gift Aid declaration`) {
		t.Errorf("the confirmation email does not say how to cancel:\n%s", mail)
	}

	// The form with the declaration open, on a laptop and on a phone.
	for _, vp := range []e2eViewport{e2eDesktop, e2ePhone} {
		v := e2eNewTab(t, browserCtx, site, vp.name)
		v.size(vp)
		v.goTo("/")
		v.do("tick Gift Aid", chromedp.Click(chromedp.ID("gift_aid")), chromedp.WaitVisible(chromedp.ID("giftaid-declaration")))
		if wide := e2eRun(v, "measure the width", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth`)); wide {
			t.Errorf("%s: the form with the declaration open scrolls sideways", vp.name)
		}
		v.checkA11y("giftaid-declaration")
		v.do("say she lives abroad", chromedp.Click(chromedp.ID("overseas")), chromedp.WaitVisible(chromedp.ID("address")))
		if vis := e2eRun(v, "is the UK postcode hidden", chromedp.Evaluate[bool](`document.getElementById("postcode").offsetParent !== null`)); vis {
			t.Errorf("%s: the UK postcode is still asked for from a donor abroad", vp.name)
		}
		v.screenshot("giftaid-overseas")
	}

	// Ruby marks her page a sponsored event, with HMRC's conditions stated beside it.
	const rubyEmail, rubyPassword = "ruby@example.org", "a long fundraiser passphrase"
	site.addUser(t, rubyEmail, "fundraiser", rubyPassword)
	e2eDeskSQL(t, site, `INSERT INTO fundraisers (appeal_id, slug, title, story, target, status, owner_id)
		SELECT a.id, 'ruby-treks', 'Ruby treks Ben Nevis', 'Up and down in a day.', 500, 'approved', u.id
		FROM appeals a, users u WHERE a.is_default AND u.email = $1`, rubyEmail)
	id := e2eQueryString(t, site, `SELECT id::text FROM fundraisers WHERE slug = 'ruby-treks'`)
	r := e2eNewTab(t, browserCtx, site, "ruby")
	r.goTo("/login")
	r.do("fill in the log-in form", chromedp.SendKeys(chromedp.ID("email"), rubyEmail), chromedp.SendKeys(chromedp.ID("password"), rubyPassword))
	r.navigate("log in", chromedp.Click(chromedp.CSS(`form.login button[type=submit]`)))
	r.goTo("/fundraise/" + id + "/edit")
	r.do("mark it a sponsored event", chromedp.Click(chromedp.ID("sponsored")))
	r.navigate("save", chromedp.Click(chromedp.CSS(`form.page-form button[type=submit]`)))
	r.goTo("/fundraise/" + id + "/edit")
	if got := r.text("#sponsored-state"); !strings.Contains(got, "The charity will check your sponsored event") {
		t.Errorf("after saving, her page form says %q", got)
	}
	r.checkA11y("sponsored-setting")
	r.size(e2ePhone)
	r.goTo("/fundraise/" + id + "/edit")
	r.screenshot("sponsored-setting-phone")
	// On her own page she is asked to confirm that a gift with Gift Aid is her own money.
	r.goTo("/f/ruby-treks")
	r.do("tick Gift Aid", chromedp.Click(chromedp.ID("gift_aid")), chromedp.WaitVisible(chromedp.ID("own_money")))
	r.checkA11y("own-page-giftaid")
}
