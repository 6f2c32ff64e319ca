package web

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	qrcode "github.com/skip2/go-qrcode"

	"giving/campaigns/appeals"
	"giving/campaigns/pages"
	"giving/payments"
)

// shareView is what a page needs to be shared: its tags for link previews (Open Graph and
// Twitter cards) and plain share links. No third-party script or tracker is loaded: each
// link is an ordinary address the donor's browser opens.
type shareView struct {
	URL         string // the page's public address
	Title       string
	Description string
	Image       string // absolute address of the preview picture
	ImageWidth  int
	ImageHeight int
	ImageAlt    string
	WhatsApp    string
	Facebook    string
	X           string
	Email       string
	QRSVG       string // this site's paths of the page's QR code
	QRPNG       string
}

// shareCardWidth and shareCardHeight are the size of static/share.png, the preview
// picture of a page without a photo of its own.
const shareCardWidth, shareCardHeight = 1200, 630

// share builds the share links of the page at path (a path of this site), with the words
// a donor sends to a friend.
func (s *Server) share(path, title, description, invite string) shareView {
	page := s.baseURL.JoinPath(path).String()
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		// mailto: and WhatsApp read %20 for a space, not '+'.
		return strings.ReplaceAll(v.Encode(), "+", "%20")
	}
	qr := strings.TrimSuffix(path, "/") + "/qr"
	return shareView{
		URL: page, Title: title, Description: description,
		Image:      s.baseURL.JoinPath("/static/", s.views.hashed["share.png"]).String(),
		ImageWidth: shareCardWidth, ImageHeight: shareCardHeight, ImageAlt: "Fundraising for Freedom",
		WhatsApp: "https://wa.me/?" + q("text", invite+" "+page),
		Facebook: "https://www.facebook.com/sharer/sharer.php?" + q("u", page),
		X:        "https://x.com/intent/post?" + q("text", invite, "url", page),
		Email:    "mailto:?" + q("subject", title, "body", invite+"\n\n"+page),
		QRSVG:    qr + ".svg", QRPNG: qr + ".png",
	}
}

// withPhoto makes a page's own photo its preview picture.
func (v shareView) withPhoto(s *Server, p *photoView, alt string) shareView {
	if p != nil {
		v.Image = s.baseURL.JoinPath(p.Src).String()
		v.ImageWidth, v.ImageHeight, v.ImageAlt = p.Width, p.Height, alt
	}
	return v
}

// supporterView is one recent gift as a page lists it.
type supporterView struct {
	Name    string
	Amount  string // "" when the donor hid it
	Message string
	Ago     string // "3 hours ago"
	When    string // the machine-readable time, for <time datetime>
}

// supportersView words recent gifts for a page, their age told from now (the store's clock).
func supportersView(now time.Time, list []appeals.Supporter) []supporterView {
	out := make([]supporterView, 0, len(list))
	for _, e := range list {
		v := supporterView{Name: e.Name, Message: e.Message, Ago: ago(now, e.GivenAt), When: e.GivenAt.UTC().Format(time.RFC3339)}
		if e.Shown {
			v.Amount = payments.FormatPounds(e.Amount)
			if e.Monthly {
				v.Amount += " a month"
			}
		}
		out = append(out, v)
	}
	return out
}

// ago says how long before now t was, as a person would: "just now", "5 minutes ago",
// "yesterday", "3 weeks ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit + " ago"
		}
		return fmt.Sprintf("%d %ss ago", n, unit)
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour")
	case d < 48*time.Hour:
		return "yesterday"
	case d < 14*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day")
	case d < 60*24*time.Hour:
		return plural(int(d/(7*24*time.Hour)), "week")
	case d < 365*24*time.Hour:
		return plural(int(d/(30*24*time.Hour)), "month")
	default:
		return plural(int(d/(365*24*time.Hour)), "year")
	}
}

// qrCode encodes a page's address. Medium error correction survives a smudged print.
func qrCode(address string) (*qrcode.QRCode, error) {
	q, err := qrcode.New(address, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr code for %s: %w", address, err)
	}
	return q, nil
}

// qrSVG draws the code as one path of unit squares, with its quiet zone on white: sharp at
// any size and small (a few kilobytes, compressed on the way).
func qrSVG(q *qrcode.QRCode) []byte {
	bits := q.Bitmap() // includes the four-module quiet zone
	n := len(bits)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" shape-rendering="crispEdges">`, n, n, n*8, n*8)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bits {
		for x, dark := range row {
			if dark {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes()
}

// qrPNGSize is the PNG's width in pixels: sharp when printed on a poster.
const qrPNGSize = 512

// writeQR answers a QR code of address, as SVG or PNG by the path's extension.
func writeQR(w http.ResponseWriter, address, format string) error {
	q, err := qrCode(address)
	if err != nil {
		return err
	}
	var body []byte
	switch format {
	case "svg":
		w.Header().Set("Content-Type", "image/svg+xml")
		body = qrSVG(q)
	default:
		w.Header().Set("Content-Type", "image/png")
		if body, err = q.PNG(qrPNGSize); err != nil {
			return fmt.Errorf("qr png: %w", err)
		}
	}
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, err = w.Write(body)
	return err
}

// appealQR is GET /qr.svg and /qr.png: the appeal page's QR code.
func (s *Server) appealQR(format string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		return writeQR(w, s.baseURL.JoinPath("/").String(), format)
	}
}

// pageQR is GET /f/{slug}/qr.svg and .png: a public fundraiser page's QR code.
func (s *Server) pageQR(format string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		fr, err := pages.PublicFundraiser(r.Context(), s.store, chi.URLParam(r, "slug"))
		if err != nil {
			return err
		}
		return writeQR(w, s.baseURL.JoinPath("/f/", fr.Slug).String(), format)
	}
}

// favicon is GET /favicon.ico, which browsers ask for whatever the page links: the 32-pixel
// PNG icon wrapped in an ICO header (an ICO may hold a PNG since Windows Vista).
func (s *Server) favicon(w http.ResponseWriter, r *http.Request) error {
	png := s.views.files[s.views.hashed["favicon-32.png"]]
	var b bytes.Buffer
	// ICONDIR (reserved, type 1 = icon, one image), then one ICONDIRENTRY pointing past both.
	for _, v := range []any{uint16(0), uint16(1), uint16(1),
		uint8(32), uint8(32), uint8(0), uint8(0), uint16(1), uint16(32), uint32(len(png)), uint32(6 + 16)} {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	b.Write(png)
	w.Header().Set("Content-Type", "image/x-icon")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, err := w.Write(b.Bytes())
	return err
}
