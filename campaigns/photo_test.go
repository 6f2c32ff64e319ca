package campaigns_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"giving/campaigns"
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

func samePixels(t *testing.T, name string, a, b image.Image) {
	t.Helper()
	if a.Bounds() != b.Bounds() {
		t.Fatalf("%s: bounds %v, want %v", name, b.Bounds(), a.Bounds())
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.NRGBA64Model.Convert(a.At(x, y)) != color.NRGBA64Model.Convert(b.At(x, y)) {
				t.Fatalf("%s: pixel (%d,%d) is %v, want %v", name, x, y, b.At(x, y), a.At(x, y))
			}
		}
	}
}

// firstDiff describes where got first differs from want.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("%d bytes, want %d; from byte %d got %q, want %q", len(got), len(want), i,
		got[i:min(i+24, len(got))], want[i:min(i+24, len(want))])
}

func checkPhoto(t *testing.T, name string, data []byte, w, h int) campaigns.Photo {
	t.Helper()
	p, err := campaigns.CheckPhoto(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if p.Width != w || p.Height != h {
		t.Errorf("%s: %dx%d, want %dx%d", name, p.Width, p.Height, w, h)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(p.Data))
	if err != nil || cfg.Width != w || cfg.Height != h {
		t.Errorf("%s: cleaned bytes decode as %+v %v", name, cfg, err)
	}
	// The ETag names the cleaned bytes, which are what is stored and served.
	if sum := sha256.Sum256(p.Data); p.ETag != hex.EncodeToString(sum[:16]) {
		t.Errorf("%s: ETag %s is not of the cleaned bytes", name, p.ETag)
	}
	if sum := sha256.Sum256(data); !bytes.Equal(data, p.Data) && p.ETag == hex.EncodeToString(sum[:16]) {
		t.Errorf("%s: ETag is of the upload, not the cleaned bytes", name)
	}
	assertClean(t, name, p.Data)
	return p
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

func TestCleanJPEGKeepsTheImageData(t *testing.T) {
	t.Parallel()
	base := encodeJPEG(t, pattern(24, 16))
	for _, o := range []int{0, 1, 9} { // missing, upright, and out of range: nothing to turn
		dirty, want := dirtyJPEG(base, o)
		p := checkPhoto(t, "jpeg", dirty, 24, 16)
		if !bytes.Equal(p.Data, want) {
			t.Errorf("orientation %d: cleaned JPEG is not the segments kept around the untouched scan: %s", o, firstDiff(p.Data, want))
		}
		samePixels(t, "jpeg", decode(t, "dirty", dirty), decode(t, "clean", p.Data))
	}
	// Already clean: stored as uploaded, same ETag.
	p := checkPhoto(t, "plain jpeg", base, 24, 16)
	if q := checkPhoto(t, "plain jpeg again", base, 24, 16); !bytes.Equal(p.Data, base) || p.ETag != q.ETag {
		t.Error("a JPEG without metadata changed")
	}
	dirty, _ := dirtyJPEG(base, 1)
	if checkPhoto(t, "dirty", dirty, 24, 16).ETag == checkPhoto(t, "other", encodeJPEG(t, pattern(24, 15)), 24, 15).ETag {
		t.Error("different photos share an ETag")
	}
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
			if o > 1 && !bytes.Contains(p.Data, iccSeg) {
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
		_, err := campaigns.CheckPhoto(data)
		if msg := fieldErr(err, "photo"); msg == "" {
			t.Errorf("%s: %v, want a photo error", name, err)
		}
	}
	// A truncated APP1 before the frame.
	data := append(append([]byte{}, base[:2]...), 0xff, 0xe1, 0x10, 0x00, 'E', 'x', 'i', 'f', 0, 0)
	if fieldErr(func() error { _, err := campaigns.CheckPhoto(data); return err }(), "photo") == "" {
		t.Error("a truncated APP1 was accepted")
	}
}

func pngChunk(typ, data string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE([]byte(typ+data)))
}

func TestCleanPNG(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := png.Encode(&buf, pattern(7, 5)); err != nil {
		t.Fatal(err)
	}
	base := buf.Bytes()
	const ihdrEnd = 8 + 25
	gama := pngChunk("gAMA", "\x00\x00\xb1\x8f")
	var dirty []byte
	dirty = append(dirty, base[:ihdrEnd]...)
	dirty = append(dirty, pngChunk("tEXt", "Comment\x00a comment")...)
	dirty = append(dirty, pngChunk("zTXt", "Author\x00\x00PhoneCo")...)
	dirty = append(dirty, pngChunk("iTXt", "XML:com.adobe.xmp\x00\x00\x00\x00\x00<?xpacket begin=''?>")...)
	dirty = append(dirty, pngChunk("tIME", "\x07\xea\x0c\x02\x0c\x00\x00")...)
	dirty = append(dirty, pngChunk("eXIf", string(exifTIFF(1)))...)
	dirty = append(dirty, gama...)
	dirty = append(dirty, base[ihdrEnd:]...)
	dirty = append(dirty, "after the end GPS-SECRET"...)

	p := checkPhoto(t, "png", dirty, 7, 5)
	want := append(append(append([]byte{}, base[:ihdrEnd]...), gama...), base[ihdrEnd:]...)
	if !bytes.Equal(p.Data, want) {
		t.Errorf("cleaned PNG is not the kept chunks copied whole: %s", firstDiff(p.Data, want))
	}
	samePixels(t, "png", decode(t, "dirty", dirty), decode(t, "clean", p.Data))
	if q := checkPhoto(t, "plain png", base, 7, 5); !bytes.Equal(q.Data, base) {
		t.Error("a PNG without metadata changed")
	}

	for name, data := range map[string][]byte{
		"no IEND":          base[:len(base)-12],
		"chunk past end":   base[:len(base)-20],
		"huge chunk after": append(append([]byte{}, base[:ihdrEnd]...), 0x7f, 0xff, 0xff, 0xff, 't', 'E', 'X', 't'),
	} {
		if _, err := campaigns.CheckPhoto(data); fieldErr(err, "photo") == "" {
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

func TestCleanWebP(t *testing.T) {
	t.Parallel()
	const w, h = 9, 6
	img := riffChunk("VP8L", vp8l(w, h))
	exif := riffChunk("EXIF", exifTIFF(6)) // WebP orientation is not applied by browsers
	xmp := riffChunk("XMP ", []byte("<?xpacket begin=''?><x:xmpmeta>PhoneCo</x:xmpmeta>"))
	icc := riffChunk("ICCP", []byte("icc-p")) // odd length: padded
	for _, tc := range []struct {
		name         string
		dirty, clean []byte
	}{
		{"simple", append(riffWebP(img, exif, xmp), "after the end GPS-SECRET"...), riffWebP(img)},
		{"extended", riffWebP(vp8x(0x20|0x08|0x04, w, h), icc, img, exif, xmp), riffWebP(vp8x(0x20, w, h), icc, img)},
		{"metadata first", riffWebP(vp8x(0x08|0x04, w, h), xmp, exif, img), riffWebP(vp8x(0, w, h), img)},
	} {
		p := checkPhoto(t, tc.name, tc.dirty, w, h)
		if !bytes.Equal(p.Data, tc.clean) {
			t.Errorf("%s: cleaned WebP: %s", tc.name, firstDiff(p.Data, tc.clean))
		}
		before, after := decode(t, tc.name, tc.dirty), decode(t, tc.name, p.Data)
		samePixels(t, tc.name, before, after)
		if after.At(0, 0) == after.At(1, 0) {
			t.Fatalf("%s: the test picture is one colour: it proves little", tc.name)
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
		if _, err := campaigns.CheckPhoto(data); fieldErr(err, "photo") == "" {
			t.Errorf("%s: %v, want a photo error", name, err)
		}
	}
}

// FuzzCleanPhoto: whatever is uploaded, CheckPhoto answers without panicking, refuses
// with a photo error, or returns bytes that decode to its dimensions and that a second
// cleaning leaves unchanged (so nothing it drops is left in them).
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
		p, err := campaigns.CheckPhoto(data)
		if err != nil {
			if fieldErr(err, "photo") == "" {
				t.Fatalf("refused without a photo error: %v", err)
			}
			return
		}
		cfg, _, err := image.DecodeConfig(bytes.NewReader(p.Data))
		if err != nil || cfg.Width != p.Width || cfg.Height != p.Height {
			t.Fatalf("cleaned bytes decode as %+v %v, want %dx%d", cfg, err, p.Width, p.Height)
		}
		again, err := campaigns.CheckPhoto(p.Data)
		if err != nil || !bytes.Equal(again.Data, p.Data) {
			t.Fatalf("cleaning the cleaned photo changed it (%v)", err)
		}
	})
}
