package web_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
	"golang.org/x/net/html"

	"giving/web/webtest"
)

// TestAppealFirstScreen: the appeal's amounts are tiles, each with its impact in a few
// words and none repeated, one of them chosen already; one-off or monthly is a toggle; the
// form posts back to its own place on the page.
func TestAppealFirstScreen(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	r := s.get("/")
	tiles := map[string]string{}
	for _, n := range webtest.Find(t, r.body, "form.donate fieldset#tier label.tile") {
		amount := webtest.NodeText(cascadeFirst(t, n, "tile-amount"))
		tiles[amount] = webtest.NodeText(cascadeFirst(t, n, "tile-impact"))
	}
	for amount, impact := range map[string]string{"£3.00": "A survivor's meal", "£40.00": "A counselling session", "£2,000.00": "A safe house stay", "Other": "Choose your own"} {
		if tiles[amount] != impact {
			t.Errorf("the %s tile reads %q, want %q (all: %v)", amount, tiles[amount], impact, tiles)
		}
	}
	// "A survivor's meal: Pays for a survivor's meal" was the page's own words twice over.
	if n := strings.Count(webtest.Text(t, r.body, "main"), "survivor's meal"); n != 1 {
		t.Errorf("the main content says \"survivor's meal\" %d times, want once (on its tile)", n)
	}
	if got := webtest.Count(t, r.body, "input[name=tier][checked]"); got != 1 {
		t.Errorf("%d amounts chosen on a fresh page, want one", got)
	}
	if got := webtest.Attr(t, r.body, "input[name=tier][checked]", "value"); got != tierID(t, r.doc, "£40.00") {
		t.Errorf("the chosen amount is tier %s, want the middle one (£40.00)", got)
	}
	if got := webtest.Attr(t, r.body, "fieldset.toggle input[name=frequency][checked]", "value"); got != "one_off" {
		t.Errorf("frequency toggle starts on %q, want one_off", got)
	}
	if got := webtest.Text(t, r.body, "fieldset.toggle"); !strings.Contains(got, "Give once") || !strings.Contains(got, "Monthly") {
		t.Errorf("the toggle reads %q", got)
	}
	if got := webtest.Attr(t, r.body, "form.donate", "action"); got != "/donate#donate-message" {
		t.Errorf("the form posts to %q, want its own anchor /donate#donate-message", got)
	}
	webtest.Find(t, r.body, "section#donate > form.donate button.give[type=submit]")
	// The promise and progress come before the form, the story after it.
	order := webtest.Find(t, r.body, "main .promise, main .progress, main #donate, main .story")
	var classes []string
	for _, n := range order {
		c, _ := webtest.NodeAttr(n, "class")
		classes = append(classes, strings.Fields(c)[0])
	}
	if want := []string{"promise", "progress", "donate-section", "story"}; !slices.Equal(classes, want) {
		t.Errorf("the page's order is %v, want %v", classes, want)
	}
}

// cascadeFirst is the first element under n with the class.
func cascadeFirst(t *testing.T, n *html.Node, class string) *html.Node {
	t.Helper()
	found := withClass(n, class)
	if len(found) == 0 {
		t.Fatalf("no .%s in %s", class, webtest.NodeText(n))
	}
	return found[0]
}

// TestDonateErrorsInFormOrder: a wrong amount and a Gift Aid declaration without a name
// or address are listed in the order of the form (Gift Aid's were alphabetical), in a
// summary that takes focus, on a form that posts back to its own anchor.
func TestDonateErrorsInFormOrder(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	f := donateForm(t, s.get("/").doc)
	for k, v := range map[string]string{"tier": "custom", "amount": "12.345", "gift_aid": "1", "first_name": "", "last_name": "", "house": "", "postcode": ""} {
		f.Set(k, v)
	}
	r := s.post("/donate", f)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", r.status)
	}
	var links []string
	for _, a := range webtest.Find(t, r.body, ".error-summary li a") {
		href, _ := webtest.NodeAttr(a, "href")
		links = append(links, href)
	}
	if want := []string{"#amount", "#first_name", "#last_name", "#house", "#postcode"}; !slices.Equal(links, want) {
		t.Errorf("the error summary lists %v, want the form's order %v", links, want)
	}
	for _, a := range []string{"autofocus", "tabindex", "data-focus-first"} {
		if _, ok := webtest.NodeAttr(webtest.Find(t, r.body, "section#donate > .error-summary")[0], a); !ok {
			t.Errorf("the error summary has no %s: it must take focus", a)
		}
	}
	if got := webtest.Attr(t, r.body, "form.donate", "action"); got != "/donate#donate-message" {
		t.Errorf("the re-shown form posts to %q", got)
	}
}

// TestCancelledNoticeAtTheForm: after a cancelled payment the notice sits with the form
// and takes focus.
func TestCancelledNoticeAtTheForm(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	page := s.get("/")
	f := donateForm(t, page.doc)
	f.Set("tier", tierID(t, page.doc, "£15.00"))
	if r := s.post("/donate", f); r.status != http.StatusSeeOther {
		t.Fatalf("donate: %d", r.status)
	}
	var id string
	if err := s.store.Pool().QueryRow(context.Background(), `SELECT id::text FROM donations`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	r := s.get("/donate/cancelled?donation=" + id)
	if got := webtest.Text(t, r.body, "section#donate > .notice[autofocus][tabindex]"); !strings.Contains(got, "nothing was charged") {
		t.Errorf("the notice at the form reads %q", got)
	}
	if got := webtest.Attr(t, r.body, "input[name=tier][checked]", "value"); got != tierID(t, r.doc, "£15.00") {
		t.Errorf("after cancelling, tier %s is chosen, want the donor's £15.00", got)
	}
}

// TestRubysPage: Ruby's page names her, shows a first gift's progress as "<1%", lists her
// supporters near the top with how long ago they gave (by the store's clock), and the
// appeal page lists the same gifts.
func TestRubysPage(t *testing.T) {
	t.Parallel()
	later := time.Now().Add(3*time.Hour + time.Minute)
	p := &pagesSite{newSite(t, siteOptions{users: []user{rubyUser, adminUser}, clock: func() time.Time { return later }})}
	if _, err := p.store.Pool().Exec(context.Background(), `UPDATE users SET display_name = 'Ruby' WHERE email = $1`, rubyUser.email); err != nil {
		t.Fatal(err)
	}
	ruby := p.as(rubyUser.email)
	id, slug := p.newPage(ruby, map[string]string{"title": "Ruby runs the 10k", "story": "I'm running my first 10k. Every pound helps.", "target": "500"})
	p.approve(id)
	p.give("/f/"+slug, "£3.00", map[string]string{"display_name": "Priya", "message": "Go Ruby!"})
	p.give("/f/"+slug, "£15.00", map[string]string{"display_name": "Tom", "hide_amount": "1"})

	r := p.get("/f/" + slug)
	if got := webtest.Text(t, r.body, "article.fundraiser .fundraiser-by"); got != "Ruby is fundraising for Fundraising for Freedom" {
		t.Errorf("the page says %q, want Ruby's name", got)
	}
	if got := webtest.Text(t, r.body, "article.fundraiser h1"); got != "Ruby runs the 10k" {
		t.Errorf("h1 %q", got)
	}
	if got := webtest.Text(t, r.body, ".progress .percent"); got != "3%" {
		t.Errorf("£18 of £500 reads %q, want 3%%", got)
	}
	entries := webtest.Find(t, r.body, ".page-rest .wall .wall-entry")
	if len(entries) != 2 {
		t.Fatalf("%d supporters listed, want 2", len(entries))
	}
	if got := webtest.NodeText(entries[0]); got != "Tom 3 hours ago" {
		t.Errorf("the newest supporter reads %q, want Tom without the hidden amount, 3 hours ago", got)
	}
	if got := webtest.NodeText(entries[1]); got != "Priya £3.00 3 hours ago Go Ruby!" {
		t.Errorf("the first supporter reads %q", got)
	}
	// The supporters come before the story.
	if order := webtest.Find(t, r.body, ".page-rest > .wall, .page-rest > .story"); len(order) != 2 || !strings.Contains(webtest.NodeText(order[0]), "Recent supporters") {
		t.Error("the supporters are not above the story")
	}

	appeal := p.get("/")
	if got := webtest.Text(t, appeal.body, ".wall .donor-wall"); !strings.Contains(got, "Priya £3.00 3 hours ago Go Ruby!") || !strings.Contains(got, "Tom 3 hours ago") {
		t.Errorf("the appeal's supporters read %q", got)
	}

	// A first gift smaller than 1% of the target is not "0%".
	small, smallSlug := p.newPage(ruby, map[string]string{"title": "Ruby's big swim", "target": "10000"})
	p.approve(small)
	p.give("/f/"+smallSlug, "£3.00", nil)
	if got := webtest.Text(t, p.get("/f/"+smallSlug).body, ".progress .percent"); got != "<1%" {
		t.Errorf("£3 of £10,000 reads %q, want <1%%", got)
	}
}

// TestSharing: the appeal and a page carry link-preview tags with their own title,
// description and picture (a page's photo when it has one), plain share links and a QR code.
func TestSharing(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby := p.as(rubyUser.email)
	r := p.upload(ruby, "/fundraise/new", map[string]string{"title": "Ruby's Run", "target": "500", "story": "Running for freedom. Please give."}, "me.jpg", gradientJPEG(t, 1200, 800))
	if r.status != http.StatusSeeOther {
		t.Fatalf("create page: %d", r.status)
	}
	var id int64
	if err := p.store.Pool().QueryRow(context.Background(), `SELECT id FROM fundraisers WHERE slug = 'rubys-run'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	p.approve(id)

	for _, tc := range []struct{ path, title, description, image string }{
		{"/", "Fundraising for Freedom", "Safe houses, meals, counselling and legal help", p.URL + "/static/share."},
		{"/f/rubys-run", "Ruby's Run", "Raising money for Fundraising for Freedom. Running for freedom.", p.URL + "/f/rubys-run/photo"},
	} {
		page := p.get(tc.path)
		meta := func(attr, key string) string {
			return webtest.Attr(t, page.body, `meta[`+attr+`="`+key+`"]`, "content")
		}
		if got := meta("property", "og:title"); got != tc.title {
			t.Errorf("%s og:title %q, want %q", tc.path, got, tc.title)
		}
		if got := meta("property", "og:description"); !strings.HasPrefix(got, tc.description) {
			t.Errorf("%s og:description %q, want %q", tc.path, got, tc.description)
		}
		if got := meta("name", "description"); got != meta("property", "og:description") {
			t.Errorf("%s meta description %q", tc.path, got)
		}
		if got := meta("property", "og:url"); got != p.URL+strings.TrimSuffix(tc.path, "/")+map[bool]string{true: "/"}[tc.path == "/"] {
			t.Errorf("%s og:url %q", tc.path, got)
		}
		img := meta("property", "og:image")
		if !strings.HasPrefix(img, tc.image) || meta("name", "twitter:image") != img || meta("name", "twitter:card") != "summary_large_image" {
			t.Errorf("%s preview picture %q (twitter %q), want %s…", tc.path, img, meta("name", "twitter:image"), tc.image)
		}
		if got := p.get(strings.TrimPrefix(img, p.URL)); got.status != http.StatusOK || !strings.HasPrefix(got.header.Get("Content-Type"), "image/") {
			t.Errorf("%s preview picture answers %d %s", tc.path, got.status, got.header.Get("Content-Type"))
		}
		if w, _ := strconv.Atoi(meta("property", "og:image:width")); w < 600 {
			t.Errorf("%s preview picture width %d", tc.path, w)
		}

		// Plain links, each carrying the page's address.
		pageURL := meta("property", "og:url")
		for class, prefix := range map[string]string{"share-whatsapp": "https://wa.me/?", "share-facebook": "https://www.facebook.com/sharer/sharer.php?",
			"share-x": "https://x.com/intent/post?", "share-email": "mailto:?", "share-copy": pageURL} {
			href := webtest.Attr(t, page.body, ".share a."+class, "href")
			if !strings.HasPrefix(href, prefix) || !strings.Contains(href, strings.ReplaceAll(url.QueryEscape(pageURL), "+", "%20")) && href != pageURL {
				t.Errorf("%s %s link %q, want %s… with %s", tc.path, class, href, prefix, pageURL)
			}
		}
		webtest.None(t, page.body, "script[src^=http]")
		qr := webtest.Attr(t, page.body, ".share img.qr", "src")
		if got := decodeQR(t, p.get(qr)); got != pageURL {
			t.Errorf("%s QR code %s reads %q, want %q", tc.path, qr, got, pageURL)
		}
		png := strings.TrimSuffix(qr, ".svg") + ".png"
		if got := decodeQR(t, p.get(png)); got != pageURL {
			t.Errorf("%s QR code %s reads %q, want %q", tc.path, png, got, pageURL)
		}
	}
	if r := p.get("/f/no-such-page/qr.png"); r.status != http.StatusNotFound {
		t.Errorf("QR code of a page that does not exist: %d", r.status)
	}
}

// decodeQR reads a QR code answer back: a PNG as it is, an SVG by drawing its unit squares.
func decodeQR(t *testing.T, r response) string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("QR code: %d", r.status)
	}
	var img image.Image
	switch ct := r.header.Get("Content-Type"); ct {
	case "image/png":
		var err error
		if img, err = png.Decode(strings.NewReader(r.body)); err != nil {
			t.Fatal(err)
		}
	case "image/svg+xml":
		size := regexp.MustCompile(`viewBox="0 0 (\d+) \d+"`).FindStringSubmatch(r.body)
		if size == nil {
			t.Fatalf("SVG without a viewBox: %.200s", r.body)
		}
		n, _ := strconv.Atoi(size[1])
		const scale = 8
		rgba := image.NewGray(image.Rect(0, 0, n*scale, n*scale))
		for i := range rgba.Pix {
			rgba.Pix[i] = 0xff
		}
		for _, m := range regexp.MustCompile(`M(\d+) (\d+)h1v1h-1z`).FindAllStringSubmatch(r.body, -1) {
			x, _ := strconv.Atoi(m[1])
			y, _ := strconv.Atoi(m[2])
			for dy := range scale {
				for dx := range scale {
					rgba.SetGray(x*scale+dx, y*scale+dy, color.Gray{})
				}
			}
		}
		img = rgba
	default:
		t.Fatalf("QR code served as %q", ct)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode the QR code: %v", err)
	}
	return res.GetText()
}

// TestEveryPublicPageIsDescribedAndHasAnIcon: search engines and link previews read a
// description on every public page, and browsers find the icon they ask for.
func TestEveryPublicPageIsDescribedAndHasAnIcon(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	s.addFundraiser("ruby", "Ruby's Run", "Running.", "approved")
	for _, path := range []string{"/", "/f/ruby", "/signup", "/login", "/reset", "/thanks", "/no-such-page"} {
		r := s.get(path)
		if got := webtest.Attr(t, r.body, `head meta[name=description]`, "content"); len(got) < 40 {
			t.Errorf("%s description %q", path, got)
		}
		for _, icon := range webtest.Find(t, r.body, `head link[rel=icon]`) {
			href, _ := webtest.NodeAttr(icon, "href")
			if got := s.get(href); got.status != http.StatusOK || !strings.HasPrefix(got.header.Get("Content-Type"), "image/") {
				t.Errorf("%s icon %s: %d %s", path, href, got.status, got.header.Get("Content-Type"))
			}
		}
	}
	ico := s.get("/favicon.ico")
	if ico.status != http.StatusOK || ico.header.Get("Content-Type") != "image/x-icon" || !strings.HasPrefix(ico.body, "\x00\x00\x01\x00\x01\x00") {
		t.Errorf("/favicon.ico: %d %s %q", ico.status, ico.header.Get("Content-Type"), ico.body[:min(6, len(ico.body))])
	}
	if _, err := png.Decode(strings.NewReader(ico.body[22:])); err != nil {
		t.Errorf("/favicon.ico does not hold a PNG: %v", err)
	}
}

// TestResponsesAreCompressed: pages, styles, scripts and SVG go gzipped to a browser that
// accepts it; PNG pictures, already compressed, go as they are.
func TestResponsesAreCompressed(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	page := s.get("/")
	css := webtest.Attr(t, page.body, `link[rel=stylesheet]`, "href")
	js := webtest.Attr(t, page.body, `script[src]`, "src")
	share := strings.TrimPrefix(webtest.Attr(t, page.body, `meta[property="og:image"]`, "content"), s.URL)
	for path, gzipped := range map[string]bool{"/": true, css: true, js: true, "/api/campaigns/fundraising-for-freedom": true,
		"/qr.svg": true, "/qr.png": false, share: false} {
		req, err := http.NewRequest(http.MethodGet, s.abs(path), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", "gzip")
		r := s.do(req)
		if r.status != http.StatusOK {
			t.Errorf("%s: %d", path, r.status)
		}
		if got := r.header.Get("Content-Encoding") == "gzip"; got != gzipped {
			t.Errorf("%s (%s) gzipped=%v, want %v", path, r.header.Get("Content-Type"), got, gzipped)
		}
		if gzipped && !bytes.HasPrefix([]byte(r.body), []byte{0x1f, 0x8b}) {
			t.Errorf("%s says gzip but is not", path)
		}
	}
}
