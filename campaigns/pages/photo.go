package pages

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"giving/campaigns/dbq"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"sync/atomic"
	"time"

	"giving/campaigns"
	"giving/campaigns/accounts"

	"github.com/jackc/pgx/v5"
	"golang.org/x/image/webp"
)

// Page photos are published on public pages, and a phone photo's metadata can say where
// it was taken (GPS), on which device and when. For survivors of trafficking and those
// around them that is a safety problem, so every upload is cleaned before it is stored:
// only what is needed to show the picture as it was taken is kept.

// errPhotoDamaged is a photo whose file structure (segments, chunks) does not hold
// together, so it cannot be cleaned safely.
var errPhotoDamaged = errors.New("photo file structure is damaged")

// What is stored is never the upload. Its header is read first (dimensions, without
// decoding: a photo over maxPhotoPixels is refused there), then its metadata is cut away
// by an allow-list of the segments and chunks a decoder needs, and only then, with at most
// photoWorkers others at once, is it decoded and drawn at the widths pages show
// (photoWidths), turned upright, and encoded afresh: JPEG, or PNG when it has transparency.
// A copy made from decoded pixels holds nothing of the upload but its picture.

// photoWorkers bounds how many photos are decoded and resized at once. The work is CPU
// bound (the service is sized for two cores) and memory heavy (a 24-megapixel JPEG
// decodes to 36-72 MB of pixels, a progressive one to twice that), so more at once would
// only queue for the CPU while holding memory.
const photoWorkers = 2

// photoWidths are the widths, in pixels, of the copies stored: the page shows a photo at
// most 40rem wide, 1440 pixels on a high-density screen; the srcset lets a phone take 480
// or 960. A photo narrower than 1440 is stored at its own width and the narrower sizes.
var photoWidths = []int{480, 960, 1440}

// photoQuality is the JPEG quality of the stored copies.
const photoQuality = 85

// photoLimiter is the semaphore on photo work; waiting for it ends with the request.
type photoLimiter struct {
	slots   chan struct{}
	waiting atomic.Int64 // uploads waiting for a slot (tests watch it)
}

func newPhotoLimiter(n int) *photoLimiter { return &photoLimiter{slots: make(chan struct{}, n)} }

// photoWork is the service's one limiter.
var photoWork = newPhotoLimiter(photoWorkers)

func (l *photoLimiter) acquire(ctx context.Context) error {
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	l.waiting.Add(1)
	defer l.waiting.Add(-1)
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *photoLimiter) release() { <-l.slots }

// ctxReader stops a decoder reading once the request is gone, so a cancelled upload does
// not run on for seconds: the decoders read their input in small pieces as they go.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// stripPhoto returns the photo's bytes cut down to what a decoder needs, by format (image.
// DecodeConfig's name), with a JPEG's EXIF orientation (0 if none) and colour profile
// segments, which the stored copies carry over.
func stripPhoto(data []byte, format string) (clean []byte, orientation int, icc []byte, err error) {
	switch format {
	case "jpeg":
		return stripJPEG(data)
	case "png":
		clean, err = cleanPNG(data)
	case "webp":
		clean, err = cleanWebP(data)
	default:
		err = errPhotoDamaged
	}
	return clean, 0, nil, err
}

// photoCopy is one stored copy of a photo.
type photoCopy struct {
	contentType   string
	data          []byte
	width, height int
}

// makeCopies decodes the stripped photo and returns its copies, widest first. It waits
// for a slot on l, and stops with ctx's error between (and within) its stages once the
// request is gone.
func (l *photoLimiter) makeCopies(ctx context.Context, clean []byte, format string, orientation int, icc []byte) ([]photoCopy, error) {
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	defer l.release()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := ctxReader{ctx, bytes.NewReader(clean)}
	var img image.Image
	var err error
	switch format {
	case "jpeg":
		img, err = jpeg.Decode(r)
	case "png":
		img, err = png.Decode(r)
	case "webp":
		img, err = webp.Decode(r)
	}
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, errPhotoDamaged
	}
	if orientation < 2 || orientation > 8 {
		orientation = 1
	}
	// A CMYK JPEG's profile describes CMYK; the copies are encoded as YCbCr.
	if _, cmyk := img.(*image.CMYK); cmyk {
		icc = nil
	}
	b := img.Bounds()
	ow, oh := b.Dx(), b.Dy() // upright
	if orientation >= 5 {
		ow, oh = oh, ow
	}
	widths := copyWidths(ow)
	// The widest copy is drawn from the decoded photo before turning it, so the turn
	// handles a few megapixels rather than dozens; the narrower ones from the widest.
	w := widths[len(widths)-1]
	h := max(1, (oh*w+ow/2)/ow)
	sw, sh := w, h
	if orientation >= 5 {
		sw, sh = h, w
	}
	widest, err := resample(ctx, img, sw, sh)
	if err != nil {
		return nil, err
	}
	// The decoded photo is not used again, so the collector may take it while encoding.
	upright := orient(widest, orientation).(*image.RGBA)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opaque := upright.Opaque()
	copies := make([]photoCopy, 0, len(widths))
	for i := len(widths) - 1; i >= 0; i-- {
		m := upright
		if widths[i] != w {
			if m, err = resample(ctx, upright, widths[i], max(1, (oh*widths[i]+ow/2)/ow)); err != nil {
				return nil, err
			}
		}
		c, err := encodeCopy(m, opaque, icc)
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		copies = append(copies, c)
	}
	return copies, nil
}

// copyWidths are the widths stored for a photo ow pixels wide (upright), narrowest first.
func copyWidths(ow int) []int {
	widest := min(ow, photoWidths[len(photoWidths)-1])
	var ws []int
	for _, w := range photoWidths {
		if w < widest {
			ws = append(ws, w)
		}
	}
	return append(ws, widest)
}

// encodeCopy writes a copy as JPEG (with the upload's colour profile, if it was a JPEG
// with one) or, when it has transparency, as PNG. Neither encoder writes metadata.
func encodeCopy(m *image.RGBA, opaque bool, icc []byte) (photoCopy, error) {
	var b bytes.Buffer
	c := photoCopy{width: m.Rect.Dx(), height: m.Rect.Dy()}
	if opaque {
		c.contentType = "image/jpeg"
		if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: photoQuality}); err != nil {
			return c, fmt.Errorf("encode photo: %w", err)
		}
		enc := b.Bytes()
		out := make([]byte, 0, len(enc)+len(icc))
		out = append(out, enc[:2]...) // SOI
		out = append(out, icc...)
		c.data = append(out, enc[2:]...)
		return c, nil
	}
	c.contentType = "image/png"
	if err := png.Encode(&b, m); err != nil {
		return c, fmt.Errorf("encode photo: %w", err)
	}
	c.data = b.Bytes()
	return c, nil
}

// resample draws src at dw x dh (never larger than src) by area averaging: each pixel of
// the copy is the mean of the source pixels it covers, weighted by how much of each it
// covers. It reads the source a row at a time, so besides the copy it needs memory for one
// source row and one row of sums, whatever the size of the source (x/image/draw's kernel
// scalers keep a float64 copy of dw x sh pixels: 180 MB for a 1440-wide copy of a tall
// photo). The copy holds premultiplied colour, as image.RGBA does.
func resample(ctx context.Context, src image.Image, dw, dh int) (*image.RGBA, error) {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	if sw == dw && sh == dh {
		line := make([]uint8, 4*sw)
		for y := 0; y < sh; y++ {
			if y%64 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			readRow(src, b.Min.Y+y, line)
			copy(dst.Pix[y*dst.Stride:], line)
		}
		return dst, nil
	}
	xs, ys := areaWeights(sw, dw), areaWeights(sh, dh)
	line := make([]uint8, 4*sw)
	sums := make([]float32, 4*dw)
	for y := 0; y < dh; y++ {
		if y%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		clear(sums)
		for _, ry := range ys.of(y) {
			readRow(src, b.Min.Y+ry.i, line)
			for x := 0; x < dw; x++ {
				var r, g, bl, a float32
				for _, rx := range xs.of(x) {
					p := line[4*rx.i : 4*rx.i+4 : 4*rx.i+4]
					r += rx.w * float32(p[0])
					g += rx.w * float32(p[1])
					bl += rx.w * float32(p[2])
					a += rx.w * float32(p[3])
				}
				s := sums[4*x : 4*x+4 : 4*x+4]
				s[0] += ry.w * r
				s[1] += ry.w * g
				s[2] += ry.w * bl
				s[3] += ry.w * a
			}
		}
		row := dst.Pix[y*dst.Stride : y*dst.Stride+4*dw]
		for i, v := range sums {
			row[i] = uint8(min(255, v+0.5))
		}
	}
	return dst, nil
}

// weight is a source pixel (row or column) and its share of a copy's pixel.
type weight struct {
	i int
	w float32
}

// weights lists, for each pixel of the copy along one axis, the source pixels it covers.
type weights struct {
	all   []weight
	start []int // the copy's pixel d has all[start[d]:start[d+1]]
}

func (ws weights) of(d int) []weight { return ws.all[ws.start[d]:ws.start[d+1]] }

// areaWeights maps n source pixels onto m <= n: pixel d covers [d*n/m, (d+1)*n/m).
func areaWeights(n, m int) weights {
	scale := float64(n) / float64(m)
	ws := weights{start: make([]int, 0, m+1)}
	for d := 0; d < m; d++ {
		ws.start = append(ws.start, len(ws.all))
		lo, hi := float64(d)*scale, float64(d+1)*scale
		for i := int(lo); i < n && float64(i) < hi; i++ {
			cover := min(hi, float64(i+1)) - max(lo, float64(i))
			if cover > 0 {
				ws.all = append(ws.all, weight{i, float32(cover / scale)})
			}
		}
	}
	ws.start = append(ws.start, len(ws.all))
	return ws
}

// readRow writes row y of src into line as premultiplied 8-bit RGBA, reading the pixel
// planes of the types the decoders return directly.
func readRow(src image.Image, y int, line []uint8) {
	b := src.Bounds()
	switch m := src.(type) {
	case *image.YCbCr:
		for x := b.Min.X; x < b.Max.X; x++ {
			ci := m.COffset(x, y)
			r, g, bl := color.YCbCrToRGB(m.Y[m.YOffset(x, y)], m.Cb[ci], m.Cr[ci])
			i := 4 * (x - b.Min.X)
			line[i], line[i+1], line[i+2], line[i+3] = r, g, bl, 0xff
		}
	case *image.RGBA:
		copy(line, m.Pix[m.PixOffset(b.Min.X, y):])
	case *image.Gray:
		for x := b.Min.X; x < b.Max.X; x++ {
			v := m.Pix[m.PixOffset(x, y)]
			i := 4 * (x - b.Min.X)
			line[i], line[i+1], line[i+2], line[i+3] = v, v, v, 0xff
		}
	case *image.NRGBA:
		for x := b.Min.X; x < b.Max.X; x++ {
			p := m.Pix[m.PixOffset(x, y):]
			a := uint32(p[3])
			i := 4 * (x - b.Min.X)
			line[i], line[i+1], line[i+2], line[i+3] = uint8(uint32(p[0])*a/255), uint8(uint32(p[1])*a/255), uint8(uint32(p[2])*a/255), p[3]
		}
	default:
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := m.At(x, y).RGBA()
			i := 4 * (x - b.Min.X)
			line[i], line[i+1], line[i+2], line[i+3] = uint8(r>>8), uint8(g>>8), uint8(bl>>8), uint8(a>>8)
		}
	}
}

// JPEG marker codes (ITU T.81 table B.1).
const (
	jpegTEM   = 0x01
	jpegSOF0  = 0xc0
	jpegDHT   = 0xc4
	jpegJPG   = 0xc8
	jpegDAC   = 0xcc
	jpegRST0  = 0xd0
	jpegRST7  = 0xd7
	jpegSOI   = 0xd8
	jpegEOI   = 0xd9
	jpegSOS   = 0xda
	jpegAPP0  = 0xe0
	jpegAPP1  = 0xe1
	jpegAPP2  = 0xe2
	jpegAPP14 = 0xee
	jpegAPP15 = 0xef
	jpegJPG0  = 0xf0
	jpegJPG13 = 0xfd
	jpegCOM   = 0xfe
)

// stripJPEG walks the marker segments. It also returns the first EXIF orientation seen
// (0 if none) and the ICC_PROFILE segments, to carry over should the photo be re-encoded.
func stripJPEG(data []byte) (out []byte, orientation int, icc []byte, err error) {
	if len(data) < 2 || data[0] != 0xff || data[1] != jpegSOI {
		return nil, 0, nil, errPhotoDamaged
	}
	out = make([]byte, 0, len(data))
	out = append(out, 0xff, jpegSOI)
	var sawFrame, sawScan bool
	for i := 2; ; {
		// A marker is 0xFF, optional 0xFF fill bytes, then the code.
		if i >= len(data) || data[i] != 0xff {
			return nil, 0, nil, errPhotoDamaged
		}
		for i < len(data) && data[i] == 0xff {
			i++
		}
		if i >= len(data) {
			return nil, 0, nil, errPhotoDamaged
		}
		m := data[i]
		i++
		switch {
		case m == jpegEOI:
			if !sawScan {
				return nil, 0, nil, errPhotoDamaged
			}
			// Whatever follows EOI is dropped: phones put further images there (MPF
			// previews, HDR gain maps), each with its own metadata.
			return append(out, 0xff, jpegEOI), orientation, icc, nil
		case m == jpegTEM || (m >= jpegRST0 && m <= jpegRST7):
			continue // standalone markers outside a scan carry nothing
		case m < jpegSOF0 || m == jpegSOI:
			return nil, 0, nil, errPhotoDamaged
		}
		if i+2 > len(data) {
			return nil, 0, nil, errPhotoDamaged
		}
		n := int(data[i])<<8 | int(data[i+1])
		if n < 2 || n > len(data)-i {
			return nil, 0, nil, errPhotoDamaged
		}
		payload := data[i+2 : i+n]
		seg := data[i-2 : i+n] // 0xFF, the code, the length, the payload
		i += n

		switch {
		case m == jpegAPP0:
			// JFIF tells decoders the colours are YCbCr, but it may carry a thumbnail,
			// which could show what a crop removed: keep the 14-byte header, thumbnail
			// size zeroed.
			if len(payload) >= 14 && bytes.HasPrefix(payload, []byte("JFIF\x00")) {
				out = append(out, 0xff, jpegAPP0, 0, 16)
				out = append(out, payload[:12]...)
				out = append(out, 0, 0)
			}
		case m == jpegAPP1:
			if orientation == 0 && bytes.HasPrefix(payload, []byte("Exif\x00\x00")) {
				orientation = exifOrientation(payload[6:])
			}
		case m == jpegAPP2:
			if bytes.HasPrefix(payload, []byte("ICC_PROFILE\x00")) {
				out = append(out, seg...)
				icc = append(icc, seg...)
			}
		case m == jpegAPP14:
			// Adobe says how the colour channels are transformed (RGB, YCbCr, YCCK).
			if bytes.HasPrefix(payload, []byte("Adobe")) {
				out = append(out, seg...)
			}
		case m >= jpegAPP0 && m <= jpegAPP15, m == jpegCOM:
			// EXIF/XMP (APP1), IPTC (APP13), C2PA (APP11), MPF (APP2), comments.
		case m == jpegJPG || (m >= jpegJPG0 && m <= jpegJPG13):
			// Reserved extensions: no decoder we serve to needs them.
		default:
			// Tables, frame and scan headers, restart interval.
			out = append(out, seg...)
			if m >= jpegSOF0 && m <= 0xcf && m != jpegDHT && m != jpegJPG && m != jpegDAC {
				sawFrame = true
			}
		}
		if m != jpegSOS {
			continue
		}
		if !sawFrame {
			return nil, 0, nil, errPhotoDamaged
		}
		sawScan = true
		// The entropy-coded data runs to the next marker: 0xFF not followed by a
		// stuffed zero or a restart marker.
		j := i
		for {
			k := bytes.IndexByte(data[j:], 0xff)
			if k < 0 || j+k+1 >= len(data) {
				return nil, 0, nil, errPhotoDamaged // cut short: no EOI
			}
			j += k
			if next := data[j+1]; next == 0 || (next >= jpegRST0 && next <= jpegRST7) {
				j += 2
				continue
			}
			break
		}
		out = append(out, data[i:j]...)
		i = j
	}
}

// exifOrientation reads the Orientation tag (0x0112) from IFD0 of an EXIF TIFF block; 1
// when it is missing or unreadable (dropping it then changes nothing a viewer shows).
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := uint64(bo.Uint32(t[4:8]))
	if off+2 > uint64(len(t)) {
		return 1
	}
	entries := uint64(bo.Uint16(t[off:]))
	for e := uint64(0); e < entries; e++ {
		p := off + 2 + 12*e
		if p+12 > uint64(len(t)) {
			break
		}
		if bo.Uint16(t[p:]) != 0x0112 {
			continue
		}
		if bo.Uint16(t[p+2:]) != 3 { // SHORT
			return 1
		}
		return int(bo.Uint16(t[p+8:]))
	}
	return 1
}

// orient turns img as EXIF orientation o (2..8) says, so it shows upright without the tag.
func orient(img image.Image, o int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	// The source pixel of destination (dx, dy) is
	// (ax*dx + bx*dy + cx, ay*dx + by*dy + cy), from the tag's definition.
	var ax, bx, cx, ay, by, cy int
	switch o {
	case 2: // mirrored left-right
		ax, cx, by = -1, w-1, 1
	case 3: // turned 180°
		ax, cx, by, cy = -1, w-1, -1, h-1
	case 4: // mirrored top-bottom
		ax, by, cy = 1, -1, h-1
	case 5: // transposed
		bx, ay = 1, 1
	case 6: // needs turning 90° clockwise
		bx, ay, cy = 1, -1, h-1
	case 7: // transversed
		bx, cx, ay, cy = -1, w-1, -1, h-1
	case 8: // needs turning 90° anticlockwise
		bx, cx, ay = -1, w-1, 1
	default:
		return img
	}
	at := func(dx, dy int) (int, int) {
		return b.Min.X + ax*dx + bx*dy + cx, b.Min.Y + ay*dx + by*dy + cy
	}
	r := image.Rect(0, 0, dw, dh)
	switch src := img.(type) {
	case *image.Gray:
		dst := image.NewGray(r)
		for dy := 0; dy < dh; dy++ {
			row := dst.Pix[dy*dst.Stride:]
			for dx := 0; dx < dw; dx++ {
				row[dx] = src.Pix[src.PixOffset(at(dx, dy))]
			}
		}
		return dst
	case *image.RGBA:
		dst := image.NewRGBA(r)
		for dy := 0; dy < dh; dy++ {
			row := dst.Pix[dy*dst.Stride:]
			for dx := 0; dx < dw; dx++ {
				i := src.PixOffset(at(dx, dy))
				copy(row[4*dx:4*dx+4], src.Pix[i:i+4])
			}
		}
		return dst
	case *image.YCbCr:
		// Direct plane reads: a 40-megapixel photo through At() would be slow.
		dst := image.NewRGBA(r)
		for dy := 0; dy < dh; dy++ {
			row := dst.Pix[dy*dst.Stride:]
			for dx := 0; dx < dw; dx++ {
				sx, sy := at(dx, dy)
				ci := src.COffset(sx, sy)
				cr, cg, cb := color.YCbCrToRGB(src.Y[src.YOffset(sx, sy)], src.Cb[ci], src.Cr[ci])
				row[4*dx], row[4*dx+1], row[4*dx+2], row[4*dx+3] = cr, cg, cb, 0xff
			}
		}
		return dst
	default:
		dst := image.NewRGBA(r)
		for dy := 0; dy < dh; dy++ {
			for dx := 0; dx < dw; dx++ {
				dst.Set(dx, dy, img.At(at(dx, dy)))
			}
		}
		return dst
	}
}

// pngKeep are the PNG chunks needed to draw the picture (the header, palette and its
// transparency, the pixels, the end); every other chunk, known or not, is dropped: text
// (tEXt, zTXt, iTXt), EXIF, times, C2PA manifests (caBX) and private chunks alike.
var pngKeep = map[string]bool{"IHDR": true, "PLTE": true, "tRNS": true, "IDAT": true, "IEND": true}

// cleanPNG copies the chunks in pngKeep whole (so their CRCs stay right) and nothing after
// IEND.
func cleanPNG(data []byte) ([]byte, error) {
	const sig = 8
	if len(data) < sig {
		return nil, errPhotoDamaged
	}
	out := make([]byte, 0, len(data))
	out = append(out, data[:sig]...)
	for i := sig; ; {
		if len(data)-i < 12 {
			return nil, errPhotoDamaged // cut short: no IEND
		}
		n := binary.BigEndian.Uint32(data[i:])
		if n > 1<<31-1 || uint64(n) > uint64(len(data)-i-12) {
			return nil, errPhotoDamaged
		}
		end := i + 12 + int(n) // length, type, data, CRC
		typ := string(data[i+4 : i+8])
		if (i == sig) != (typ == "IHDR") {
			return nil, errPhotoDamaged
		}
		if pngKeep[typ] {
			out = append(out, data[i:end]...)
		}
		i = end
		if typ == "IEND" {
			return out, nil // anything after IEND is dropped
		}
	}
}

// webpKeep are the WebP chunks needed to draw a still picture: the extended header, the
// lossy or lossless bitstream and the alpha plane. EXIF, XMP, colour profiles, C2PA and
// unknown chunks are dropped, and the VP8X flags announcing them cleared.
var webpKeep = map[string]bool{"VP8X": true, "VP8 ": true, "VP8L": true, "ALPH": true}

// webpAlphaFlag is the VP8X flag announcing transparency: the one flag kept.
const webpAlphaFlag = 1 << 4

// cleanWebP copies the RIFF chunks in webpKeep, clears VP8X's flags for what is gone, and
// writes the RIFF size of what is left.
func cleanWebP(data []byte) ([]byte, error) {
	if len(data) < 12 {
		return nil, errPhotoDamaged
	}
	size := uint64(binary.LittleEndian.Uint32(data[4:8]))
	if size < 4 || size+8 > uint64(len(data)) {
		return nil, errPhotoDamaged
	}
	body := data[12 : 8+size] // bytes past the RIFF size are dropped
	out := make([]byte, 12, len(data))
	copy(out, data[:12])
	for i := 0; i < len(body); {
		if len(body)-i < 8 {
			return nil, errPhotoDamaged
		}
		n := uint64(binary.LittleEndian.Uint32(body[i+4:]))
		if n > uint64(len(body)-i-8) {
			return nil, errPhotoDamaged
		}
		chunk := body[i : i+8+int(n)]
		// Chunks are padded to even length; a missing last pad byte is forgiven.
		i = min(i+8+int(n)+int(n&1), len(body))
		id := string(chunk[:4])
		if !webpKeep[id] {
			continue
		}
		at := len(out)
		out = append(out, chunk...)
		if id == "VP8X" {
			if n < 10 {
				return nil, errPhotoDamaged
			}
			out[at+8] &= webpAlphaFlag
		}
		if n&1 == 1 {
			out = append(out, 0)
		}
	}
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
	return out, nil
}

// Photo is a stored copy of a page photo, made from the upload's pixels.
type Photo struct {
	ContentType string // image/jpeg, or image/png for a picture with transparency
	Data        []byte
	Width       int
	Height      int
	ETag        string
	UpdatedAt   time.Time
	// Smaller are the narrower copies made with it on upload, narrowest first.
	Smaller []Photo
}

// Bytes is what the photo and its narrower copies take.
func (p Photo) Bytes() int64 {
	n := int64(len(p.Data))
	for _, s := range p.Smaller {
		n += int64(len(s.Data))
	}
	return n
}

// CheckPhoto accepts JPEG, PNG or WebP of at most MaxPhotoBytes and MaxPhotoMegapixels,
// whatever the file was called: the type is sniffed from the bytes, and the header must
// decode as that type with sane dimensions before anything else is done. Anything else (an
// HTML file renamed .png, an SVG) is refused. The Photo returned is not the upload but
// copies drawn from its pixels at the widths pages show, turned upright, without a byte
// of its metadata. It waits its turn behind the photos being processed, and
// returns ctx's error once the request is gone.
func CheckPhoto(ctx context.Context, data []byte) (Photo, error) {
	return photoWork.check(ctx, data)
}

func (l *photoLimiter) check(ctx context.Context, data []byte) (Photo, error) {
	bad := func(msg string) (Photo, error) {
		return Photo{}, &campaigns.ValidationError{Fields: map[string]string{"photo": msg}}
	}
	if len(data) == 0 {
		return bad("The photo is empty. Choose a JPEG, PNG or WebP image.")
	}
	if len(data) > MaxPhotoBytes {
		return bad("The photo must be 5 MB or smaller.")
	}
	ct, want := sniffImage(data)
	if ct == "" {
		return bad("The photo must be a JPEG, PNG or WebP image.")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || format != want {
		return bad("The photo could not be read as an image. Choose a JPEG, PNG or WebP image.")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxPhotoSide || cfg.Height > maxPhotoSide {
		return bad(fmt.Sprintf("The photo must be at most %d pixels on each side.", maxPhotoSide))
	}
	if px := cfg.Width * cfg.Height; px > MaxPhotoMegapixels*1_000_000 {
		return bad(fmt.Sprintf("The photo is %.1f megapixels (%d × %d pixels); the most we can take is %d megapixels. "+
			"Choose a smaller photo, or save a smaller copy of it first.", float64(px)/1e6, cfg.Width, cfg.Height, MaxPhotoMegapixels))
	}
	// Only the segments and chunks that draw the picture reach the decoder.
	clean, orientation, icc, err := stripPhoto(data, want)
	if err != nil {
		return bad("The photo file is damaged or incomplete. Choose a JPEG, PNG or WebP image.")
	}
	// The stripped bytes must still be the same picture to a decoder.
	got, format, err := image.DecodeConfig(bytes.NewReader(clean))
	if err != nil || format != want || got.Width != cfg.Width || got.Height != cfg.Height {
		return bad("The photo could not be read as an image. Choose a JPEG, PNG or WebP image.")
	}
	copies, err := l.makeCopies(ctx, clean, want, orientation, icc)
	if errors.Is(err, errPhotoDamaged) {
		return bad("The photo file is damaged or incomplete. Choose a JPEG, PNG or WebP image.")
	}
	if err != nil {
		return Photo{}, err
	}
	var p Photo
	for i, c := range copies { // widest first
		if len(c.data) > MaxPhotoBytes { // a very detailed picture with transparency, as PNG
			return bad("The photo is too detailed to store. Choose a JPEG, or a photo without transparency.")
		}
		sum := sha256.Sum256(c.data)
		cp := Photo{ContentType: c.contentType, Data: c.data, Width: c.width, Height: c.height, ETag: hex.EncodeToString(sum[:16])}
		if i == 0 {
			p = cp
		} else {
			p.Smaller = append([]Photo{cp}, p.Smaller...)
		}
	}
	return p, nil
}

// sniffImage names the image type from the file's first bytes (the signatures net/http's
// DetectContentType uses for these three), whatever the file was called: the content type
// and image.DecodeConfig's format name, or "" for anything else.
func sniffImage(b []byte) (contentType, format string) {
	switch {
	case bytes.HasPrefix(b, []byte("\xFF\xD8\xFF")):
		return "image/jpeg", "jpeg"
	case bytes.HasPrefix(b, []byte("\x89PNG\x0D\x0A\x1A\x0A")):
		return "image/png", "png"
	case len(b) >= 14 && string(b[:4]) == "RIFF" && string(b[8:14]) == "WEBPVP":
		return "image/webp", "webp"
	}
	return "", ""
}

// savePhoto stores a page's photo copies in place of any before, within the owner's quota.
func savePhoto(ctx context.Context, tx pgx.Tx, by accounts.User, fundraiserID int64, p Photo, q campaigns.PageQuota) error {
	db := dbq.New(tx)
	if err := db.LockAccount(ctx, by.ID); err != nil {
		return fmt.Errorf("lock account %d: %w", by.ID, err)
	}
	used, err := db.OwnPhotoBytes(ctx, dbq.OwnPhotoBytesParams{OwnerID: by.ID, ExceptPage: fundraiserID})
	if err != nil {
		return fmt.Errorf("count own photo bytes: %w", err)
	}
	if need := p.Bytes(); used+need > q.PhotoBytes {
		return &campaigns.ValidationError{Fields: map[string]string{"photo": fmt.Sprintf(
			"Your pages' photos may take %s in all. Your other photos take %s and this one needs %s: choose a smaller or simpler photo.",
			megabytes(q.PhotoBytes), megabytes(used), megabytes(need))}}
	}
	if err := db.SavePagePhoto(ctx, dbq.SavePagePhotoParams{FundraiserID: fundraiserID, ContentType: p.ContentType,
		Data: p.Data, Width: int32(p.Width), Height: int32(p.Height), Sha256: p.ETag}); err != nil {
		return fmt.Errorf("save page photo: %w", err)
	}
	if err := db.DeletePhotoSizes(ctx, fundraiserID); err != nil {
		return fmt.Errorf("save page photo: %w", err)
	}
	for _, c := range p.Smaller {
		if err := db.SavePhotoSize(ctx, dbq.SavePhotoSizeParams{FundraiserID: fundraiserID, Width: int32(c.Width),
			Height: int32(c.Height), ContentType: c.ContentType, Data: c.Data, Sha256: c.ETag}); err != nil {
			return fmt.Errorf("save page photo copy: %w", err)
		}
	}
	return nil
}

// PagePhoto returns a copy of a page's photo with the page, so the caller can decide who
// may see it: the widest copy for width 0, else the copy that wide (ErrNotFound if there
// is none).
func PagePhoto(ctx context.Context, s *campaigns.Store, slug string, width int) (Fundraiser, Photo, error) {
	f, err := fundraiserOrNotFound(dbq.New(s.Pool()).PageBySlug(ctx, slug))
	if err != nil {
		return f, Photo{}, err
	}
	var p Photo
	if width > 0 && width <= maxPhotoSide {
		c, err := dbq.New(s.Pool()).PhotoSize(ctx, dbq.PhotoSizeParams{FundraiserID: f.ID, Width: int32(width)})
		if err == nil {
			return f, Photo{ContentType: c.ContentType, Data: c.Data, Width: int(c.Width), Height: int(c.Height),
				ETag: c.Sha256, UpdatedAt: c.UpdatedAt}, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return f, p, fmt.Errorf("read page photo copy: %w", err)
		}
	}
	widest, err := dbq.New(s.Pool()).PageMainPhoto(ctx, f.ID)
	if err == nil {
		p = Photo{ContentType: widest.ContentType, Data: widest.Data, Width: int(widest.Width), Height: int(widest.Height),
			ETag: widest.Sha256, UpdatedAt: widest.UpdatedAt}
	}
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && width != 0 && width != p.Width) {
		return f, Photo{}, fmt.Errorf("photo of fundraiser %d at width %d: %w", f.ID, width, campaigns.ErrNotFound)
	}
	if err != nil {
		return f, p, fmt.Errorf("read page photo: %w", err)
	}
	return f, p, nil
}

// PhotoSize is the size of one stored copy of a page's photo.
type PhotoSize struct{ Width, Height int }

// PhotoSizes lists the copies of a page's photo, narrowest first; the last is the one
// PagePhoto returns for width 0. A page without a photo has none.
func PhotoSizes(ctx context.Context, s *campaigns.Store, fundraiserID int64) ([]PhotoSize, error) {
	rows, err := dbq.New(s.Pool()).PhotoWidths(ctx, fundraiserID)
	if err != nil {
		return nil, fmt.Errorf("list page photo sizes: %w", err)
	}
	sizes := make([]PhotoSize, 0, len(rows))
	for _, r := range rows {
		sizes = append(sizes, PhotoSize{Width: int(r.Width), Height: int(r.Height)})
	}
	return sizes, nil
}
