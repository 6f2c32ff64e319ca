package pages

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"sync/atomic"
	"testing"

	"giving/campaigns/testwait"
)

func testJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestPhotoWorkWaitsForASlotAndGivesUpWithTheRequest: with every slot taken, an upload
// waits without decoding anything, and stops waiting when its request is cancelled; once
// a slot is free, an upload goes through.
func TestPhotoWorkWaitsForASlotAndGivesUpWithTheRequest(t *testing.T) {
	t.Parallel()
	l := newPhotoLimiter(2)
	data := testJPEG(t, 64, 48)
	l.slots <- struct{}{} // two photos being processed
	l.slots <- struct{}{}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := l.check(ctx, data)
		done <- err
	}()
	testwait.Eventually(t, "the third upload waiting for a slot", func() bool { return l.waiting.Load() == 1 })
	select {
	case err := <-done:
		t.Fatalf("the third upload finished while both slots were taken: %v", err)
	default:
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled upload waiting for a slot: %v, want context.Canceled", err)
	}
	if n := l.waiting.Load(); n != 0 {
		t.Errorf("%d still waiting", n)
	}

	<-l.slots // one photo done
	if p, err := l.check(context.Background(), data); err != nil || p.Width != 64 {
		t.Errorf("with a slot free: %+v %v", p.Width, err)
	}
	if len(l.slots) != 1 {
		t.Errorf("%d slots taken after the upload, want the 1 still held", len(l.slots))
	}
}

// cancelAfter is a context that reports itself cancelled from its n-th check of Err on,
// so a test can cancel an upload at every point where the work looks.
type cancelAfter struct {
	context.Context
	left atomic.Int64
}

func (c *cancelAfter) Err() error {
	if c.left.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestPhotoWorkStopsWhenTheRequestIsCancelled: cancelled at any point (waiting, decoding,
// resizing, turning, encoding each copy), an upload stops with the request's error and
// returns nothing; it looks often enough that the work in between is small.
func TestPhotoWorkStopsWhenTheRequestIsCancelled(t *testing.T) {
	t.Parallel()
	l := newPhotoLimiter(2)
	// Sideways and wide enough for two copies.
	base := testJPEG(t, 500, 800)
	exif := []byte("Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00\x00")
	seg := append([]byte{0xff, 0xe1, 0, byte(len(exif) + 2)}, exif...)
	data := append(append(append([]byte{}, base[:2]...), seg...), base[2:]...)

	checks := 0
	for n := int64(0); ; n++ {
		if n > 10000 {
			t.Fatal("never finished")
		}
		ctx := &cancelAfter{Context: context.Background()}
		ctx.left.Store(n)
		p, err := l.check(ctx, data)
		if err == nil {
			if p.Width != 800 || p.Height != 500 || len(p.Smaller) != 1 {
				t.Errorf("uncancelled: %dx%d with %d narrower copies, want 800x500 with 1", p.Width, p.Height, len(p.Smaller))
			}
			break
		}
		if !errors.Is(err, context.Canceled) || p.Data != nil || p.Smaller != nil {
			t.Fatalf("cancelled after %d checks: %v with %d bytes, want context.Canceled and nothing", n, err, len(p.Data))
		}
		checks++
	}
	// After the slot, in the decoder's reads, each 64 rows of resizing (13 for the
	// widest copy), after turning, after each encoding.
	if checks < 18 {
		t.Errorf("the work looks at the request only %d times", checks)
	}
	if len(l.slots) != 0 {
		t.Errorf("%d slots still taken after cancelled uploads", len(l.slots))
	}
}

// TestPhotoResampleAveragesArea: a copy's pixel is the mean of what it covers, so fine
// detail becomes its average grey rather than aliasing into stripes.
func TestPhotoResampleAveragesArea(t *testing.T) {
	t.Parallel()
	src := image.NewGray(image.Rect(0, 0, 300, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 300; x++ {
			if (x+y)%2 == 0 {
				src.SetGray(x, y, color.Gray{255})
			}
		}
	}
	m, err := resample(context.Background(), src, 70, 40) // a ratio that is not whole
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range m.Pix {
		if i%4 != 3 && (v < 120 || v > 135) {
			t.Fatalf("pixel %d channel %d is %d, want about 128", i/4, i%4, v)
		}
	}
}
