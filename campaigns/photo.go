package campaigns

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
)

// Page photos are published on public pages, and a phone photo's metadata can say where
// it was taken (GPS), on which device and when. For survivors of trafficking and those
// around them that is a safety problem, so every upload is cleaned before it is stored:
// only what is needed to show the picture as it was taken is kept.

// errPhotoDamaged is a photo whose file structure (segments, chunks) does not hold
// together, so it cannot be cleaned safely.
var errPhotoDamaged = errors.New("photo file structure is damaged")

// cleanPhoto returns the photo's bytes without metadata. format is image.DecodeConfig's
// name for the sniffed type. swapped says the width and height changed places, as when
// a JPEG is turned to its EXIF orientation.
func cleanPhoto(data []byte, format string) (clean []byte, swapped bool, err error) {
	switch format {
	case "jpeg":
		return cleanJPEG(data)
	case "png":
		clean, err = cleanPNG(data)
	case "webp":
		clean, err = cleanWebP(data)
	default:
		err = errPhotoDamaged
	}
	return clean, false, err
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

// cleanJPEG copies the segments a decoder needs and the entropy-coded data untouched
// (no re-encoding, no quality loss), dropping EXIF, XMP, IPTC, comments, thumbnails and
// every other APPn but JFIF, ICC_PROFILE and Adobe. Only when the EXIF orientation turns
// the picture is it decoded, turned and re-encoded, since dropping the tag alone would
// show it sideways.
func cleanJPEG(data []byte) ([]byte, bool, error) {
	out, orientation, icc, err := stripJPEG(data)
	if err != nil {
		return nil, false, err
	}
	if orientation < 2 || orientation > 8 {
		return out, false, nil
	}
	img, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		return nil, false, errPhotoDamaged
	}
	var b bytes.Buffer
	b.Write([]byte{0xff, jpegSOI})
	// The colour profile still describes the turned pixels, except for CMYK, which the
	// encoder writes as YCbCr, so a CMYK profile no longer applies.
	if _, cmyk := img.(*image.CMYK); !cmyk {
		b.Write(icc)
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, orient(img, orientation), &jpeg.Options{Quality: 90}); err != nil {
		return nil, false, err
	}
	b.Write(enc.Bytes()[2:]) // after the encoder's own SOI
	return b.Bytes(), orientation >= 5, nil
}

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

// cleanPNG copies whole chunks (so their CRCs stay right), dropping the ones that hold
// metadata: EXIF, text (which tools fill with camera, author, location) and time.
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
		switch typ {
		case "eXIf", "tEXt", "zTXt", "iTXt", "tIME":
		default:
			out = append(out, data[i:end]...)
		}
		i = end
		if typ == "IEND" {
			return out, nil // anything after IEND is dropped
		}
	}
}

// VP8X flag bits announcing EXIF and XMP chunks.
const (
	webpXMPFlag  = 1 << 2
	webpEXIFFlag = 1 << 3
)

// cleanWebP copies the RIFF chunks but EXIF and XMP, clears their flags in VP8X, and
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
		switch string(chunk[:4]) {
		case "EXIF", "XMP ":
			continue
		case "VP8X":
			if n < 10 {
				return nil, errPhotoDamaged
			}
			at := len(out)
			out = append(out, chunk...)
			out[at+8] &^= webpEXIFFlag | webpXMPFlag
		default:
			out = append(out, chunk...)
		}
		if n&1 == 1 {
			out = append(out, 0)
		}
	}
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
	return out, nil
}
