package pages_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"giving/campaigns/pages"
)

// Metadata a phone or editor leaves in a photo; none of it may reach a public page.
var secrets = []string{"Exif", "GPS-SECRET", "PhoneCo", "xpacket", "8BIM", "a comment", "THUMBNAIL",
	"after the end", "c2pa"}

func assertClean(t *testing.T, name string, data []byte) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("%s: the cleaned photo still contains %q", name, s)
		}
	}
}

// exifTIFF is a little-endian TIFF block as in an EXIF APP1 or eXIf chunk: IFD0 with
// Make, Orientation (when not 0) and a GPS IFD with a latitude ref and a map datum.
func exifTIFF(orientation int) []byte {
	le := binary.LittleEndian
	maker := []byte("PhoneCo\x00")
	datum := []byte("GPS-SECRET-WGS84\x00")
	type entry struct {
		tag, typ uint16
		count    uint32
		value    []byte // 4 bytes: inline value or offset
	}
	u32 := func(v uint32) []byte { return le.AppendUint32(nil, v) }
	n0 := 2
	if orientation != 0 {
		n0 = 3
	}
	ifd0 := 8
	makeAt := ifd0 + 2 + 12*n0 + 4
	gpsAt := makeAt + len(maker)
	datumAt := gpsAt + 2 + 12*2 + 4
	ifd := func(es []entry) []byte {
		b := le.AppendUint16(nil, uint16(len(es)))
		for _, e := range es {
			b = le.AppendUint16(b, e.tag)
			b = le.AppendUint16(b, e.typ)
			b = le.AppendUint32(b, e.count)
			b = append(b, e.value...)
		}
		return le.AppendUint32(b, 0) // no next IFD
	}
	es := []entry{{0x010f, 2, uint32(len(maker)), u32(uint32(makeAt))}}
	if orientation != 0 {
		es = append(es, entry{0x0112, 3, 1, le.AppendUint16(le.AppendUint16(nil, uint16(orientation)), 0)})
	}
	es = append(es, entry{0x8825, 4, 1, u32(uint32(gpsAt))})
	b := []byte("II*\x00")
	b = le.AppendUint32(b, uint32(ifd0))
	b = append(b, ifd(es)...)
	b = append(b, maker...)
	b = append(b, ifd([]entry{
		{0x0001, 2, 2, []byte("N\x00\x00\x00")},
		{0x0012, 2, uint32(len(datum)), u32(uint32(datumAt))},
	})...)
	return append(b, datum...)
}

func jpegSeg(marker byte, payload string) []byte {
	b := []byte{0xff, marker}
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)+2))
	return append(b, payload...)
}

// spliceJPEG puts segments straight after the SOI of an encoded JPEG.
func spliceJPEG(base []byte, segs ...[]byte) []byte {
	b := append([]byte{}, base[:2]...)
	for _, s := range segs {
		b = append(b, s...)
	}
	return append(b, base[2:]...)
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pattern(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x ^ y) * 37), uint8(255 - 9*x)})
		}
	}
	return m
}

func decode(t *testing.T, name string, data []byte) image.Image {
	t.Helper()
	m, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: decode: %v", name, err)
	}
	return m
}

// checkPhoto uploads data and checks every stored copy: it decodes to the size it
// declares, its ETag is of its bytes, and it holds only the parts an encoder writes to
// draw a picture, so nothing of the upload's metadata.
func checkPhoto(t *testing.T, name string, data []byte, w, h int) pages.Photo {
	t.Helper()
	p, err := pages.CheckPhoto(context.Background(), data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if p.Width != w || p.Height != h {
		t.Errorf("%s: %dx%d, want %dx%d", name, p.Width, p.Height, w, h)
	}
	for _, c := range append([]pages.Photo{p}, p.Smaller...) {
		cfg, format, err := image.DecodeConfig(bytes.NewReader(c.Data))
		if err != nil || cfg.Width != c.Width || cfg.Height != c.Height || "image/"+format != c.ContentType {
			t.Errorf("%s: the %d-wide copy decodes as %+v %s %v", name, c.Width, cfg, format, err)
		}
		if sum := sha256.Sum256(c.Data); c.ETag != hex.EncodeToString(sum[:16]) {
			t.Errorf("%s: ETag %s is not of the stored bytes", name, c.ETag)
		}
		assertClean(t, name, c.Data)
		if bad := foreignParts(c.Data); bad != "" {
			t.Errorf("%s: the %d-wide copy holds %s", name, c.Width, bad)
		}
	}
	return p
}

// foreignParts names what in a stored JPEG or PNG is not needed to draw it ("" if nothing):
// a JPEG may hold its tables, frame, scan and the carried-over colour profile; a PNG its
// header, pixels and end; neither anything after its end.
func foreignParts(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		for i := 8; i+12 <= len(data); {
			n := int(binary.BigEndian.Uint32(data[i:]))
			typ := string(data[i+4 : i+8])
			if typ != "IHDR" && typ != "PLTE" && typ != "tRNS" && typ != "IDAT" && typ != "IEND" {
				return "a " + typ + " chunk"
			}
			i += 12 + n
			if typ == "IEND" {
				if i != len(data) {
					return fmt.Sprintf("%d bytes after IEND", len(data)-i)
				}
				return ""
			}
		}
		return "no IEND"
	case bytes.HasPrefix(data, []byte{0xff, 0xd8}):
		for i := 2; i+4 <= len(data); {
			m := data[i+1]
			n := int(binary.BigEndian.Uint16(data[i+2:]))
			switch {
			case m == 0xdb, m == 0xc4, m >= 0xc0 && m <= 0xc2, m == 0xdd:
			case m == 0xe2 && bytes.HasPrefix(data[i+4:], []byte("ICC_PROFILE\x00")):
			case m == 0xda:
				// The encoder writes one scan; EOI ends the file.
				if !bytes.HasSuffix(data, []byte{0xff, 0xd9}) || bytes.Contains(data[i+2+n:len(data)-2], []byte{0xff, 0xd9}) {
					return "bytes after the end of the picture"
				}
				return ""
			default:
				return fmt.Sprintf("a segment 0xFF%02X", m)
			}
			i += 2 + n
		}
		return "no scan"
	}
	return "an unknown format"
}

// near reports whether two pictures of one size are alike to the eye: every pixel within
// tol of 255 per channel, as a JPEG's re-encoding leaves them.
func near(t *testing.T, name string, want, got image.Image, tol int) {
	t.Helper()
	if want.Bounds().Size() != got.Bounds().Size() {
		t.Fatalf("%s: size %v, want %v", name, got.Bounds().Size(), want.Bounds().Size())
	}
	wb, gb := want.Bounds(), got.Bounds()
	for y := 0; y < wb.Dy(); y++ {
		for x := 0; x < wb.Dx(); x++ {
			a := color.NRGBAModel.Convert(want.At(wb.Min.X+x, wb.Min.Y+y)).(color.NRGBA)
			b := color.NRGBAModel.Convert(got.At(gb.Min.X+x, gb.Min.Y+y)).(color.NRGBA)
			for _, d := range []int{int(a.R) - int(b.R), int(a.G) - int(b.G), int(a.B) - int(b.B), int(a.A) - int(b.A)} {
				if d > tol || -d > tol {
					t.Fatalf("%s: pixel (%d,%d) is %v, want about %v", name, x, y, b, a)
				}
			}
		}
	}
}

var (
	iccSeg   = jpegSeg(0xe2, "ICC_PROFILE\x00\x01\x01fake-profile-bytes")
	adobeSeg = jpegSeg(0xee, "Adobe\x00\x64\x00\x00\x00\x00\x01") // transform 1: YCbCr
)

func jfif(thumb string) []byte {
	// version 1.02, no units, density 1x1, then the thumbnail's size and RGB bytes
	w, h := len(thumb)/3, 1
	if w == 0 {
		h = 0
	}
	return jpegSeg(0xe0, "JFIF\x00\x01\x02\x00\x00\x01\x00\x01"+string([]byte{byte(w), byte(h)})+thumb)
}

// dirtyJPEG is base with every kind of metadata spliced in, and what cleaning should leave.
func dirtyJPEG(base []byte, orientation int) (dirty, want []byte) {
	dirty = spliceJPEG(base,
		jfif("THUMBNAILxyz"),
		jpegSeg(0xe1, "Exif\x00\x00"+string(exifTIFF(orientation))),
		jpegSeg(0xe1, "http://ns.adobe.com/xap/1.0/\x00<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta/>"),
		iccSeg,
		jpegSeg(0xe2, "MPF\x00II*\x00"),
		jpegSeg(0xed, "Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x00"),
		append([]byte{0xff}, jpegSeg(0xfe, "a comment: taken at the shelter")...), // with a fill byte
		jpegSeg(0xeb, "JP\x00\x00c2pa manifest"),
		adobeSeg,
	)
	// A comment after the scan, and a second picture after the end (as phones append).
	dirty = append(dirty[:len(dirty)-2:len(dirty)-2], jpegSeg(0xfe, "a comment at the end")...)
	dirty = append(dirty, 0xff, 0xd9)
	dirty = append(dirty, "\xff\xd8after the end Exif GPS-SECRET"...)
	want = spliceJPEG(base, jfif(""), iccSeg, adobeSeg)
	return dirty, want
}

// TestJPEGMetadataIsGone: a JPEG with every kind of metadata is stored as the same picture
// without any of it, its colour profile carried over.
func TestJPEGMetadataIsGone(t *testing.T) {
	t.Parallel()
	img := smooth(24, 16)
	base := encodeJPEG(t, img)
	for _, o := range []int{0, 1, 9} { // missing, upright, and out of range: nothing to turn
		dirty, _ := dirtyJPEG(base, o)
		p := checkPhoto(t, "jpeg", dirty, 24, 16)
		if p.ContentType != "image/jpeg" || !bytes.Contains(p.Data, iccSeg) {
			t.Errorf("orientation %d: stored as %s, colour profile kept: %v", o, p.ContentType, bytes.Contains(p.Data, iccSeg))
		}
		near(t, "jpeg", decode(t, "dirty", dirty), decode(t, "clean", p.Data), 24)
	}
	dirty, _ := dirtyJPEG(base, 1)
	if checkPhoto(t, "dirty", dirty, 24, 16).ETag == checkPhoto(t, "other", encodeJPEG(t, smooth(24, 15)), 24, 15).ETag {
		t.Error("different photos share an ETag")
	}
}

// smooth is a gradient, which survives JPEG encoding nearly unchanged.
func smooth(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	return m
}

// TestCleanJPEGOrientation: a photo the camera tagged as turned comes out turned upright.
func TestCleanJPEGOrientation(t *testing.T) {
	t.Parallel()
	// 32x16, the top-left quadrant white, the rest black.
	gray := image.NewGray(image.Rect(0, 0, 32, 16))
	rgba := image.NewRGBA(gray.Rect)
	for y := 0; y < 8; y++ {
		for x := 0; x < 16; x++ {
			gray.SetGray(x, y, color.Gray{255})
			rgba.Set(x, y, color.White)
		}
	}
	for i := range rgba.Pix {
		if i%4 == 3 {
			rgba.Pix[i] = 255
		}
	}
	// Where the white quadrant must be, as (column, row) of the 2x2 quadrants.
	white := map[int][2]int{1: {0, 0}, 2: {1, 0}, 3: {1, 1}, 4: {0, 1}, 5: {0, 0}, 6: {1, 0}, 7: {1, 1}, 8: {0, 1}}
	for name, img := range map[string]image.Image{"gray": gray, "colour": rgba} {
		base := encodeJPEG(t, img)
		for o := 1; o <= 8; o++ {
			dirty, _ := dirtyJPEG(base, o)
			w, h := 32, 16
			if o >= 5 {
				w, h = 16, 32
			}
			p := checkPhoto(t, name, dirty, w, h)
			if !bytes.Contains(p.Data, iccSeg) {
				t.Errorf("%s orientation %d: the colour profile was lost", name, o)
			}
			m := decode(t, name, p.Data)
			for qy := 0; qy < 2; qy++ {
				for qx := 0; qx < 2; qx++ {
					r, _, _, _ := m.At(qx*w/2+w/4, qy*h/2+h/4).RGBA()
					if isWhite := white[o] == [2]int{qx, qy}; isWhite != (r > 0xc000) || !isWhite && r > 0x4000 {
						t.Errorf("%s orientation %d: quadrant (%d,%d) has level %#x", name, o, qx, qy, r)
					}
				}
			}
		}
	}
}

func TestCleanJPEGRefusesBrokenSegments(t *testing.T) {
	t.Parallel()
	// With JFIF, image.DecodeConfig stops at the frame header, so breakages after it
	// (before the scan, in it, at the end) are for the walk over the segments to find.
	base := spliceJPEG(encodeJPEG(t, pattern(24, 16)), jfif(""))
	sos := bytes.Index(base, []byte{0xff, 0xda})
	for name, data := range map[string][]byte{
		"cut in the scan":        base[:len(base)-40],
		"no EOI":                 base[:len(base)-2],
		"segment runs past end":  append(append([]byte{}, base[:sos]...), 0xff, 0xe1, 0x40, 0x00, 'E', 'x', 'i', 'f'),
		"segment length 1":       append(append([]byte{}, base[:sos]...), append([]byte{0xff, 0xfe, 0x00, 0x01}, base[sos:]...)...),
		"junk instead of marker": append(append([]byte{}, base[:sos]...), append([]byte{0x42}, base[sos:]...)...),
		"EOI before any scan":    append(append([]byte{}, base[:sos]...), 0xff, 0xd9),
		"second SOI":             append(append([]byte{}, base[:sos]...), append([]byte{0xff, 0xd8}, base[sos:]...)...),
	} {
		if _, _, err := image.DecodeConfig(bytes.NewReader(data)); err != nil {
			t.Fatalf("%s: the header should still decode: %v", name, err)
		}
		_, err := pages.CheckPhoto(context.Background(), data)
		if msg := fieldErr(err, "photo"); msg == "" {
			t.Errorf("%s: %v, want a photo error", name, err)
		}
	}
	// A truncated APP1 before the frame.
	data := append(append([]byte{}, base[:2]...), 0xff, 0xe1, 0x10, 0x00, 'E', 'x', 'i', 'f', 0, 0)
	if fieldErr(func() error { _, err := pages.CheckPhoto(context.Background(), data); return err }(), "photo") == "" {
		t.Error("a truncated APP1 was accepted")
	}
}

func pngChunk(typ, data string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE([]byte(typ+data)))
}

// TestPNGMetadataIsGone: only what draws the picture is kept from a PNG: its text, EXIF,
// times, C2PA manifest (caBX), a private chunk with a location, and bytes after IEND are
// gone from every stored copy.
func TestPNGMetadataIsGone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		img    image.Image
		ct     string
		widths []int // the narrower copies
		tol    int
	}{
		{"transparent", pattern(7, 5), "image/png", nil, 3},
		{"opaque, wider than the narrowest copy", smooth(1000, 500), "image/jpeg", []int{480, 960}, 24},
	} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, tc.img); err != nil {
			t.Fatal(err)
		}
		base := buf.Bytes()
		const ihdrEnd = 8 + 25
		var dirty []byte
		dirty = append(dirty, base[:ihdrEnd]...)
		for _, c := range [][2]string{
			{"tEXt", "Comment\x00a comment"},
			{"zTXt", "Author\x00\x00PhoneCo"},
			{"iTXt", "XML:com.adobe.xmp\x00\x00\x00\x00\x00<?xpacket begin=''?>"},
			{"tIME", "\x07\xea\x0c\x02\x0c\x00\x00"},
			{"eXIf", string(exifTIFF(1))},
			{"caBX", "jumb c2pa manifest: taken by PhoneCo"},
			{"gpSt", "lat=51.5072 lon=-0.1276 GPS-SECRET"}, // a private chunk, unknown to any list
			{"gAMA", "\x00\x00\xb1\x8f"},
		} {
			dirty = append(dirty, pngChunk(c[0], c[1])...)
		}
		dirty = append(dirty, base[ihdrEnd:]...)
		dirty = append(dirty, "after the end GPS-SECRET <script>alert(1)</script>"...)

		b := tc.img.Bounds()
		p := checkPhoto(t, tc.name, dirty, b.Dx(), b.Dy())
		if p.ContentType != tc.ct {
			t.Errorf("%s: stored as %s, want %s", tc.name, p.ContentType, tc.ct)
		}
		for _, s := range []string{"caBX", "gpSt", "51.5072", "script"} {
			for _, c := range append([]pages.Photo{p}, p.Smaller...) {
				if bytes.Contains(c.Data, []byte(s)) {
					t.Errorf("%s: the %d-wide copy still contains %q", tc.name, c.Width, s)
				}
			}
		}
		var widths []int
		for _, c := range p.Smaller {
			widths = append(widths, c.Width)
		}
		if fmt.Sprint(widths) != fmt.Sprint(tc.widths) {
			t.Errorf("%s: narrower copies %v, want %v", tc.name, widths, tc.widths)
		}
		near(t, tc.name, decode(t, "dirty", dirty), decode(t, "clean", p.Data), tc.tol)
	}

	var buf bytes.Buffer
	if err := png.Encode(&buf, pattern(7, 5)); err != nil {
		t.Fatal(err)
	}
	base := buf.Bytes()
	for name, data := range map[string][]byte{
		"no IEND":          base[:len(base)-12],
		"chunk past end":   base[:len(base)-20],
		"huge chunk after": append(append([]byte{}, base[:33]...), 0x7f, 0xff, 0xff, 0xff, 't', 'E', 'X', 't'),
		"IHDR not first":   append(append(append([]byte{}, base[:8]...), pngChunk("tEXt", "a\x00b")...), base[8:]...),
	} {
		if _, err := pages.CheckPhoto(context.Background(), data); fieldErr(err, "photo") == "" {
			t.Errorf("%s: %v, want a photo error", name, err)
		}
	}
}

// vp8l is a real lossless WebP bitstream of a w x h picture in two colours, written by
// hand: no transforms, no colour cache, simple prefix codes (two green values, one
// each of red, blue and alpha), then one bit a pixel.
func vp8l(w, h int) []byte {
	var out []byte
	var acc uint64
	var n uint
	put := func(v uint64, bits uint) {
		acc |= v << n
		n += bits
		for n >= 8 {
			out = append(out, byte(acc))
			acc >>= 8
			n -= 8
		}
	}
	out = append(out, 0x2f)
	put(uint64(w-1), 14)
	put(uint64(h-1), 14)
	put(0, 1) // alpha unused
	put(0, 3) // version
	put(0, 1) // no transform
	put(0, 1) // no colour cache
	put(0, 1) // no meta prefix codes
	// green: simple code, two 8-bit symbols
	put(1, 1)
	put(1, 1)
	put(1, 1)
	put(0x20, 8)
	put(0xd0, 8)
	for _, v := range []uint64{0x40, 0x90, 0xff} { // red, blue, alpha: one 8-bit symbol
		put(1, 1)
		put(0, 1)
		put(1, 1)
		put(v, 8)
	}
	put(1, 1) // distance: one 1-bit symbol
	put(0, 1)
	put(0, 1)
	put(0, 1)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			put(uint64((x*x+y)%3&1), 1)
		}
	}
	put(0, 7)
	return out
}

func riffChunk(id string, data []byte) []byte {
	b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func riffWebP(chunks ...[]byte) []byte {
	body := []byte("WEBP")
	for _, c := range chunks {
		body = append(body, c...)
	}
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

func vp8x(flags byte, w, h int) []byte {
	b := []byte{flags, 0, 0, 0}
	b = append(b, byte(w-1), byte((w-1)>>8), byte((w-1)>>16))
	b = append(b, byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	return riffChunk("VP8X", b)
}

// TestWebPMetadataIsGone: from a WebP only the picture is kept: EXIF, XMP, its colour
// profile, a C2PA manifest, unknown chunks and bytes after the RIFF are gone.
func TestWebPMetadataIsGone(t *testing.T) {
	t.Parallel()
	const w, h = 9, 6
	img := riffChunk("VP8L", vp8l(w, h))
	exif := riffChunk("EXIF", exifTIFF(6)) // WebP orientation is not applied by browsers
	xmp := riffChunk("XMP ", []byte("<?xpacket begin=''?><x:xmpmeta>PhoneCo</x:xmpmeta>"))
	icc := riffChunk("ICCP", []byte("icc-p")) // odd length: padded
	c2pa := riffChunk("C2PA", []byte("c2pa manifest"))
	private := riffChunk("gpsx", []byte("lat=51.5072 GPS-SECRET"))
	for _, tc := range []struct {
		name  string
		dirty []byte
	}{
		{"simple", append(riffWebP(img, exif, xmp, c2pa, private), "after the end GPS-SECRET"...)},
		{"extended", riffWebP(vp8x(0x20|0x08|0x04, w, h), icc, img, exif, xmp, private)},
		{"metadata first", riffWebP(vp8x(0x08|0x04, w, h), xmp, exif, c2pa, img)},
	} {
		p := checkPhoto(t, tc.name, tc.dirty, w, h)
		if p.ContentType != "image/jpeg" {
			t.Errorf("%s: an opaque WebP stored as %s, want image/jpeg", tc.name, p.ContentType)
		}
		for _, s := range []string{"icc-p", "gpsx", "51.5072", "PhoneCo"} {
			if bytes.Contains(p.Data, []byte(s)) {
				t.Errorf("%s: the stored photo still contains %q", tc.name, s)
			}
		}
		before, after := decode(t, tc.name, tc.dirty), decode(t, tc.name, p.Data)
		if before.Bounds().Size() != after.Bounds().Size() {
			t.Errorf("%s: stored %v, want %v", tc.name, after.Bounds(), before.Bounds())
		}
	}
	for name, data := range map[string][]byte{
		"RIFF size past end": riffWebP(img)[:len(riffWebP(img))-3],
		"chunk past end":     append(riffWebP(img), riffChunk("EXIF", []byte("Exif"))[:6]...),
		"short VP8X":         riffWebP(riffChunk("VP8X", []byte{0, 0, 0, 0, 8, 0, 0}), img),
	} {
		if name == "chunk past end" {
			// Make the RIFF size cover the broken chunk.
			binary.LittleEndian.PutUint32(data[4:], uint32(len(data)-8))
		}
		if _, err := pages.CheckPhoto(context.Background(), data); fieldErr(err, "photo") == "" {
			t.Errorf("%s: %v, want a photo error", name, err)
		}
	}
}

// FuzzCleanPhoto: whatever is uploaded, CheckPhoto answers without panicking, refuses
// with a photo error, or returns copies that decode to their dimensions and hold nothing
// but what draws them.
func FuzzCleanPhoto(f *testing.F) {
	base := encodeJPEG(f, pattern(24, 16))
	for _, o := range []int{1, 3, 6} {
		dirty, _ := dirtyJPEG(base, o)
		f.Add(dirty)
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, pattern(7, 5))
	f.Add(buf.Bytes())
	f.Add(append(append(append([]byte{}, buf.Bytes()[:33]...), pngChunk("tEXt", "a\x00b")...), buf.Bytes()[33:]...))
	img := riffChunk("VP8L", vp8l(9, 6))
	f.Add(riffWebP(img, riffChunk("EXIF", exifTIFF(1))))
	f.Add(riffWebP(vp8x(0x2c, 9, 6), riffChunk("ICCP", []byte("icc")), img, riffChunk("XMP ", []byte("x"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := pages.CheckPhoto(context.Background(), data)
		if err != nil {
			if fieldErr(err, "photo") == "" {
				t.Fatalf("refused without a photo error: %v", err)
			}
			return
		}
		for _, c := range append([]pages.Photo{p}, p.Smaller...) {
			cfg, _, err := image.DecodeConfig(bytes.NewReader(c.Data))
			if err != nil || cfg.Width != c.Width || cfg.Height != c.Height {
				t.Fatalf("a stored copy decodes as %+v %v, want %dx%d", cfg, err, c.Width, c.Height)
			}
			if bad := foreignParts(c.Data); bad != "" {
				t.Fatalf("a stored copy holds %s", bad)
			}
		}
	})
}

// pngHeaderOnly is a PNG whose header declares w x h but whose pixel data is junk: only a
// check that reads the header and stops there refuses it for its size.
func pngHeaderOnly(w, h int) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, pngChunk("IHDR", string(ihdr))...)
	b = append(b, pngChunk("IDAT", "not a zlib stream")...)
	return append(b, pngChunk("IEND", "")...)
}

// jpegHeaderOnly is a baseline JPEG frame header declaring w x h, and nothing to decode.
func jpegHeaderOnly(w, h int) []byte {
	sof := string([]byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 1, 1, 0x11, 0})
	b := append([]byte{0xff, 0xd8}, jfif("")...) // with JFIF, the header ends at the frame
	b = append(b, jpegSeg(0xe1, "Exif\x00\x00"+string(exifTIFF(6)))...)
	b = append(b, jpegSeg(0xc0, sof)...)
	return append(b, 0xff, 0xd9)
}

// TestPhotoOverThePixelLimitIsRefusedFromItsHeader: the pixel count is read from the
// header and a photo over MaxPhotoMegapixels is refused, saying the limit, before anything
// is decoded: the 10000x4000 JPEG among them.
func TestPhotoOverThePixelLimitIsRefusedFromItsHeader(t *testing.T) {
	t.Parallel()
	for name, data := range map[string][]byte{
		"7000x5000 png":   pngHeaderOnly(7000, 5000),
		"10000x4000 jpeg": jpegHeaderOnly(10000, 4000),
		"4000x6001 png":   pngHeaderOnly(4000, 6001),
	} {
		_, err := pages.CheckPhoto(context.Background(), data)
		if msg := fieldErr(err, "photo"); !strings.Contains(msg, "megapixels") || !strings.Contains(msg, fmt.Sprint(pages.MaxPhotoMegapixels)) {
			t.Errorf("%s: %v, want a photo error stating the %d-megapixel limit", name, err, pages.MaxPhotoMegapixels)
		}
	}
	// At the limit, the header passes and the junk is found when decoding.
	_, err := pages.CheckPhoto(context.Background(), pngHeaderOnly(6000, 4000))
	if msg := fieldErr(err, "photo"); msg == "" || strings.Contains(msg, "megapixels") {
		t.Errorf("6000x4000 of junk: %v, want refused as unreadable, not for its size", err)
	}
}

// TestPhotoIsStoredAtThePagesWidths: the copies are 480, 960 and 1440 pixels wide, never
// wider than the upload, turned upright, each the upload's shape.
func TestPhotoIsStoredAtThePagesWidths(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		w, h, orientation int
		want              string // the copies, narrowest first
	}{
		{2000, 1000, 1, "480x240 960x480 1440x720"},
		{2000, 1000, 6, "480x960 960x1920 1000x2000"},
		{1200, 900, 1, "480x360 960x720 1200x900"},
		{600, 400, 8, "400x600"},
		{300, 200, 1, "300x200"},
	} {
		data := encodeJPEG(t, smooth(tc.w, tc.h))
		if tc.orientation != 1 {
			data = spliceJPEG(data, jpegSeg(0xe1, "Exif\x00\x00"+string(exifTIFF(tc.orientation))))
		}
		w, h := tc.w, tc.h
		if tc.orientation >= 5 {
			w, h = h, w
		}
		last := strings.Fields(tc.want)[len(strings.Fields(tc.want))-1]
		fmt.Sscanf(last, "%dx%d", &w, &h)
		p := checkPhoto(t, fmt.Sprintf("%dx%d o%d", tc.w, tc.h, tc.orientation), data, w, h)
		var got []string
		for _, c := range append(p.Smaller, p) {
			got = append(got, fmt.Sprintf("%dx%d", c.Width, c.Height))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%dx%d orientation %d: copies %v, want %s", tc.w, tc.h, tc.orientation, got, tc.want)
		}
	}
}
