package web_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"giving/campaigns"
	"giving/campaigns/pages"
)

func webPNGChunk(typ, data string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE([]byte(typ+data)))
}

// gradientJPEG is a w x h photo with a JPEG comment and, when gps is set, an APP1 segment
// carrying a location in clear text.
func gradientJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetRGBA(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 100, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, nil); err != nil {
		t.Fatal(err)
	}
	seg := func(marker byte, payload string) []byte {
		return append([]byte{0xff, marker, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
	}
	out := append([]byte{0xff, 0xd8}, seg(0xe1, "Exif\x00\x00GPS 51.5072N 0.1276W")...)
	out = append(out, seg(0xfe, "taken at the shelter")...)
	return append(out, b.Bytes()[2:]...)
}

// pngChunks lists a PNG's chunk types, and what follows IEND.
func pngChunks(data []byte) (types []string, after int) {
	for i := 8; i+12 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		types = append(types, string(data[i+4:i+8]))
		i += 12 + n
		if types[len(types)-1] == "IEND" {
			return types, len(data) - i
		}
	}
	return types, -1
}

// TestPagePhotoIsServedAtThePagesWidths: the public page shows its photo with a srcset of
// the stored copies, sizes, and the widest copy's width and height; each copy is served at
// its width, the address pages have always used serves the widest, and a photo stored
// before the copies existed is still served and shown.
func TestPagePhotoIsServedAtThePagesWidths(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby := p.as("ruby@example.org")
	r := p.upload(ruby, "/fundraise/new", map[string]string{"title": "Ruby's Run", "target": "500"}, "me.jpg", gradientJPEG(t, 2400, 1600))
	if r.status != http.StatusSeeOther {
		t.Fatalf("create page: %d %s", r.status, text(r.doc))
	}
	var id int64
	if err := p.store.Pool().QueryRow(context.Background(), `SELECT id FROM fundraisers WHERE slug = 'rubys-run'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	p.approve(id)
	page := p.get("/f/rubys-run")
	imgs := findAll(page.doc, func(n *html.Node) bool { return isElem("img")(n) && attrVal(n, "class") == "page-photo" })
	if len(imgs) != 1 {
		t.Fatalf("%d page photos on the page", len(imgs))
	}
	img := imgs[0]
	want := map[string]string{"src": "/f/rubys-run/photo", "width": "1440", "height": "960",
		"srcset": "/f/rubys-run/photo?w=480 480w, /f/rubys-run/photo?w=960 960w, /f/rubys-run/photo 1440w"}
	for k, v := range want {
		if got := attrVal(img, k); got != v {
			t.Errorf("<img %s=%q>, want %q", k, got, v)
		}
	}
	if attrVal(img, "sizes") == "" {
		t.Error("the photo has a srcset but no sizes")
	}
	for _, c := range strings.Split(attrVal(img, "srcset"), ", ") {
		url, wdesc, _ := strings.Cut(c, " ")
		w, _ := strconv.Atoi(strings.TrimSuffix(wdesc, "w"))
		ph := p.get(url)
		cfg, format, err := image.DecodeConfig(strings.NewReader(ph.body))
		if ph.status != http.StatusOK || err != nil || format != "jpeg" || cfg.Width != w || cfg.Height != w*2/3 {
			t.Errorf("GET %s: %d, %s %dx%d %v; want a %dx%d JPEG", url, ph.status, format, cfg.Width, cfg.Height, err, w, w*2/3)
		}
		if ph.header.Get("ETag") == "" || ph.header.Get("Content-Type") != "image/jpeg" || ph.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", url, ph.header)
		}
		if strings.Contains(ph.body, "51.5072") || strings.Contains(ph.body, "shelter") || strings.Contains(ph.body, "Exif") {
			t.Errorf("GET %s: the upload's metadata is served", url)
		}
	}
	for _, bad := range []string{"?w=1", "?w=500", "?w=x", "?w=-480"} {
		if r := p.get("/f/rubys-run/photo" + bad); r.status != http.StatusNotFound {
			t.Errorf("GET /f/rubys-run/photo%s: %d, want 404", bad, r.status)
		}
	}
	if n := p.count(`SELECT max(octet_length(data)) FROM fundraiser_photos`); n > 400_000 {
		t.Errorf("the widest copy takes %d bytes", n)
	}

	// A photo stored before copies were made: one size, still served and shown.
	var old bytes.Buffer
	if err := png.Encode(&old, image.NewGray(image.Rect(0, 0, 3000, 2000))); err != nil {
		t.Fatal(err)
	}
	sam := p.as("sam@example.org")
	samID, _ := p.newPage(sam, map[string]string{"title": "Sam's Swim", "target": "100", "slug": "sams-swim"})
	if _, err := p.store.Pool().Exec(context.Background(), `INSERT INTO fundraiser_photos (fundraiser_id, content_type, data, width, height, sha256)
		VALUES ($1, 'image/png', $2, 3000, 2000, 'legacy')`, samID, old.Bytes()); err != nil {
		t.Fatal(err)
	}
	p.approve(samID)
	if ph := p.get("/f/sams-swim/photo"); ph.status != http.StatusOK || ph.body != old.String() {
		t.Errorf("the photo stored before: %d, %d bytes", ph.status, len(ph.body))
	}
	legacy := findAll(p.get("/f/sams-swim").doc, func(n *html.Node) bool { return attrVal(n, "class") == "page-photo" })
	if len(legacy) != 1 || attrVal(legacy[0], "srcset") != "/f/sams-swim/photo 3000w" || attrVal(legacy[0], "width") != "3000" {
		t.Errorf("the page of a photo stored before: %v", legacy)
	}
}

// TestServedPhotoKeepsOnlyWhatDrawsIt: a PNG carrying a C2PA manifest, a private chunk
// with a location, text, EXIF and bytes after its end is served (every copy) as PNG chunks
// that draw the picture and nothing else.
func TestServedPhotoKeepsOnlyWhatDrawsIt(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby := p.as("ruby@example.org")
	m := image.NewNRGBA(image.Rect(0, 0, 1000, 600))
	for i := range m.Pix {
		m.Pix[i] = uint8(i / 4000)
		if i%4 == 3 {
			m.Pix[i] = 200 // transparency: stored as PNG
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	base := b.Bytes()
	dirty := append([]byte{}, base[:33]...)
	for _, c := range [][2]string{{"caBX", "c2pa manifest"}, {"gpSt", "GPS-SECRET 51.5072N"}, {"tEXt", "Comment\x00shelter"},
		{"iTXt", "XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta/>"}, {"zTXt", "Author\x00\x00x"}, {"eXIf", "MM\x00*GPS-SECRET"}} {
		dirty = append(dirty, webPNGChunk(c[0], c[1])...)
	}
	dirty = append(dirty, base[33:]...)
	dirty = append(dirty, "<html><script>alert(1)</script>"...)
	r := p.upload(ruby, "/fundraise/new", map[string]string{"title": "Ruby's Run", "target": "500"}, "me.png", dirty)
	if r.status != http.StatusSeeOther {
		t.Fatalf("create page: %d %s", r.status, text(r.doc))
	}
	for _, w := range []string{"", "?w=480", "?w=960"} {
		ph := p.send(ruby, http.MethodGet, "/f/rubys-run/photo"+w, nil)
		types, after := pngChunks([]byte(ph.body))
		if ph.status != http.StatusOK || ph.header.Get("Content-Type") != "image/png" {
			t.Fatalf("GET photo%s: %d %s", w, ph.status, ph.header.Get("Content-Type"))
		}
		for _, typ := range types {
			if typ != "IHDR" && typ != "IDAT" && typ != "IEND" {
				t.Errorf("GET photo%s: a %s chunk is served", w, typ)
			}
		}
		if after != 0 {
			t.Errorf("GET photo%s: %d bytes after IEND", w, after)
		}
		for _, s := range []string{"c2pa", "GPS-SECRET", "shelter", "xmpmeta", "script"} {
			if strings.Contains(ph.body, s) {
				t.Errorf("GET photo%s: %q is served", w, s)
			}
		}
	}
}

// TestPhotoOverThePixelLimitIsRefusedBesideTheField: a photo declaring more pixels than
// the limit is refused with 422 and the limit beside the photo field, and nothing is saved.
func TestPhotoOverThePixelLimitIsRefusedBesideTheField(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	ruby := p.as("ruby@example.org")
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 7000), 5000)
	bomb := append([]byte("\x89PNG\r\n\x1a\n"), webPNGChunk("IHDR", string(append(ihdr, 8, 2, 0, 0, 0)))...)
	bomb = append(bomb, webPNGChunk("IDAT", "junk")...)
	bomb = append(bomb, webPNGChunk("IEND", "")...)
	r := p.upload(ruby, "/fundraise/new", map[string]string{"title": "Ruby's Run", "target": "500"}, "huge.png", bomb)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("a 35-megapixel photo: %d, want 422", r.status)
	}
	if e := byID(r.doc, "photo-error"); e == nil || !strings.Contains(text(e), "35.0 megapixels") || !strings.Contains(text(e), "24 megapixels") {
		t.Errorf("#photo-error = %q, want the photo's size and the limit", text(e))
	}
	if n := p.count(`SELECT count(*) FROM fundraisers`) + p.count(`SELECT count(*) FROM fundraiser_photos`); n != 0 {
		t.Errorf("%d rows saved from a refused form", n)
	}
}

// TestFundraiserQuota: a fundraiser may have so many pages and so many bytes of photos;
// beyond either, the form says so beside the field and saves nothing.
func TestFundraiserQuota(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	photo := gradientJPEG(t, 1600, 1000)
	one, err := pages.CheckPhoto(context.Background(), photo)
	if err != nil {
		t.Fatal(err)
	}
	p.store.Quota = campaigns.PageQuota{Pages: 2, PhotoBytes: one.Bytes()*2 - 1}
	ruby := p.as("ruby@example.org")
	first, _ := p.newPage(ruby, map[string]string{"title": "One", "target": "10"})
	if r := p.upload(ruby, fmt.Sprintf("/fundraise/%d/edit", first), map[string]string{"title": "One", "target": "10"}, "a.jpg", photo); r.status != http.StatusSeeOther {
		t.Fatalf("the first photo: %d %s", r.status, text(r.doc))
	}
	// Replacing her one photo is within the quota: the old one's bytes are freed.
	if r := p.upload(ruby, fmt.Sprintf("/fundraise/%d/edit", first), map[string]string{"title": "One", "target": "10"}, "a.jpg", photo); r.status != http.StatusSeeOther {
		t.Fatalf("replacing the photo: %d %s", r.status, text(r.doc))
	}
	r := p.upload(ruby, "/fundraise/new", map[string]string{"title": "Two", "target": "10"}, "b.jpg", photo)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("a second photo beyond the bytes: %d, want 422", r.status)
	}
	if e := byID(r.doc, "photo-error"); e == nil || !regexp.MustCompile(`may take \d+\.\d MB in all`).MatchString(text(e)) {
		t.Errorf("#photo-error = %q", text(e))
	}
	p.newPage(ruby, map[string]string{"title": "Two", "target": "10"})
	r = p.upload(ruby, "/fundraise/new", map[string]string{"title": "Three", "target": "10"}, "", nil)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("a third page: %d, want 422", r.status)
	}
	if e := byID(r.doc, "title-error"); e == nil || !strings.Contains(text(e), "You already have 2 pages") {
		t.Errorf("#title-error = %q", text(e))
	}
	// Another fundraiser has her own quota.
	p.newPage(p.as("sam@example.org"), map[string]string{"title": "Sam's", "target": "10"})
	if n := p.count(`SELECT count(*) FROM fundraisers WHERE owner_id IS NOT NULL`); n != 3 {
		t.Errorf("%d pages, want Ruby's 2 and Sam's 1", n)
	}
	if n := p.count(`SELECT count(*) FROM fundraiser_photos`); n != 1 {
		t.Errorf("%d photos stored, want 1", n)
	}
}

// TestAdminListsPagesFiftyAtATime: /admin shows 50 fundraiser pages at a time, pending
// first, with previous and next links that are plain links.
func TestAdminListsPagesFiftyAtATime(t *testing.T) {
	t.Parallel()
	p := newPagesSite(t)
	before := p.count(`SELECT count(*) FROM fundraisers`)
	if _, err := p.store.Pool().Exec(context.Background(), `INSERT INTO fundraisers (appeal_id, slug, title, target, status, created_at)
		SELECT (SELECT min(id) FROM appeals), 'page-' || n, 'Page ' || n, 100, CASE WHEN n % 10 = 0 THEN 'pending' ELSE 'approved' END,
			now() - n * interval '1 minute'
		FROM generate_series(1, 120) n`); err != nil {
		t.Fatal(err)
	}
	total := before + 120
	admin := p.as("admin@example.org")
	rows := func(doc *html.Node) []string {
		var out []string
		for _, th := range findAll(doc, func(n *html.Node) bool { return isElem("th")(n) && attrVal(n, "scope") == "row" }) {
			if s := text(th); strings.Contains(s, "/f/") {
				out = append(out, s)
			}
		}
		return out
	}
	seen := map[string]bool{}
	url := "/admin"
	for n := 1; url != ""; n++ {
		if n > 5 {
			t.Fatal("the links never end")
		}
		r := p.send(admin, http.MethodGet, url, nil)
		got := rows(r.doc)
		wantRows := min(50, total-(n-1)*50)
		if len(got) != wantRows {
			t.Errorf("%s lists %d pages, want %d", url, len(got), wantRows)
		}
		if c := byID(r.doc, "pages-count"); c == nil || !strings.Contains(text(c), fmt.Sprintf("Pages %d to %d of %d", (n-1)*50+1, (n-1)*50+wantRows, total)) {
			t.Errorf("%s: %q", url, text(c))
		}
		if n == 1 && (len(got) < 13 || !strings.Contains(got[0], "Page 10 ") || !strings.Contains(got[11], "Page 120 ") || !strings.Contains(got[12], "Page 1 ")) {
			t.Errorf("the first stretch does not start with the 12 pending pages, newest first: %v", got[:min(len(got), 13)])
		}
		for _, g := range got {
			if seen[g] {
				t.Errorf("%s lists %s again", url, g)
			}
			seen[g] = true
		}
		links := findAll(r.doc, func(n *html.Node) bool { return isElem("a")(n) && attrVal(n, "rel") != "" })
		url = ""
		for _, a := range links {
			switch attrVal(a, "rel") {
			case "next":
				url = attrVal(a, "href")
			case "prev":
				if want := fmt.Sprintf("/admin?pages=%d#pages-h", n-1); attrVal(a, "href") != want {
					t.Errorf("previous link %q, want %q", attrVal(a, "href"), want)
				}
			}
		}
		if (n > 1) != (len(links) > 0 && (attrVal(links[0], "rel") == "prev")) {
			t.Errorf("%s: previous link present: %v", url, n > 1)
		}
		url, _, _ = strings.Cut(url, "#")
	}
	if len(seen) != total {
		t.Errorf("following the links shows %d pages, want all %d", len(seen), total)
	}
}
