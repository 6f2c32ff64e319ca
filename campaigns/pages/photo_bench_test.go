package pages_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"giving/campaigns/pages"
)

// gradient is a picture computed where it is read, so making a 40-megapixel test photo
// costs no memory of its own (which would count in the peak).
type gradient struct{ w, h int }

func (g gradient) ColorModel() color.Model { return color.RGBAModel }
func (g gradient) Bounds() image.Rectangle { return image.Rect(0, 0, g.w, g.h) }
func (g gradient) At(x, y int) color.Color {
	return color.RGBA{uint8(x * 255 / g.w), uint8(y * 255 / g.h), uint8((x + y) / 64), 255}
}

// largeJPEG is a w x h JPEG from a phone held sideways: EXIF orientation 6.
func largeJPEG(b *testing.B, w, h int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, gradient{w, h}, &jpeg.Options{Quality: 75}); err != nil {
		b.Fatal(err)
	}
	return spliceJPEG(buf.Bytes(), jpegSeg(0xe1, "Exif\x00\x00"+string(exifTIFF(6))))
}

// statusKiB reads a field of /proc/self/status (Linux), in KiB.
func statusKiB(b *testing.B, field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return n
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// BenchmarkEightLargePhotosAtOnce is the attack: eight large JPEGs with EXIF
// orientation 6 uploaded at once. It reports the process's peak resident memory while
// they are checked (VmHWM, reset first through /proc/self/clear_refs), for running by hand:
//
//	go test -run '^$' -bench EightLargePhotos -benchtime 1x ./campaigns
func BenchmarkEightLargePhotosAtOnce(b *testing.B) {
	for _, size := range [][2]int{{10000, 4000}, {6000, 4000}} {
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			data := largeJPEG(b, size[0], size[1])
			runtime.GC()
			debug.FreeOSMemory()
			if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
				b.Skipf("cannot reset the peak RSS: %v", err)
			}
			start := statusKiB(b, "VmHWM")
			refused := 0
			var mu sync.Mutex
			b.ResetTimer()
			for range b.N {
				var wg sync.WaitGroup
				for range 8 {
					wg.Go(func() {
						if _, err := pages.CheckPhoto(context.Background(), data); err != nil {
							mu.Lock()
							refused++
							mu.Unlock()
						}
					})
				}
				wg.Wait()
			}
			b.StopTimer()
			b.ReportMetric(statusKiB(b, "VmHWM")/1024, "peak-RSS-MiB")
			b.ReportMetric(start/1024, "start-RSS-MiB")
			b.ReportMetric(float64(refused)/float64(b.N), "refused/op")
			b.ReportMetric(float64(len(data))/1024, "upload-KiB")
		})
	}
}
