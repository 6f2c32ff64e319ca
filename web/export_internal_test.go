package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"giving/campaigns/accounts"
	"giving/campaigns/campaignstest"
	"giving/campaigns/reports"
)

// writeSizes records each Write the handler makes to the response.
type writeSizes struct {
	*httptest.ResponseRecorder
	writes, largest int
}

func (w *writeSizes) Write(p []byte) (int, error) {
	w.writes++
	w.largest = max(w.largest, len(p))
	return w.ResponseRecorder.Write(p)
}

// The gifts CSV streams out as the ledger is read, in pieces no larger than the writer's
// buffer, never the whole file at once; and it is byte for byte the export the golden test
// pins (campaigns.TestGiftsCSV).
func TestGiftsExportIsStreamed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, a := campaignstest.Seeded(t, 4)
	pool := store.Pool()
	// 5,000 gifts in the last day: about half a megabyte of CSV.
	if _, err := pool.Exec(ctx, `INSERT INTO ledger_entries (appeal_id, kind, source, source_ref, amount, occurred_at)
		SELECT $1, 'gift', 'stripe', 'pi_bulk_' || g, 10.00, $2::timestamptz + g * interval '1 second' FROM generate_series(1, 5000) g`,
		a.ID, time.Now().Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	trustee, err := accounts.CreateUser(ctx, store, accounts.CommandLine(), "trustee@example.org", "a long enough passphrase", accounts.RoleTrustee)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("http://127.0.0.1:8080")
	s, err := New(Deps{Store: store, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/trustees/export/gifts.csv", nil)
	req = req.WithContext(context.WithValue(req.Context(), userKey{}, trustee))
	w := &writeSizes{ResponseRecorder: httptest.NewRecorder()}
	if err := s.exportGifts(w, req); err != nil {
		t.Fatal(err)
	}
	body := w.Body.Bytes()
	if w.Code != http.StatusOK || len(body) < 400<<10 {
		t.Fatalf("export: %d, %d bytes", w.Code, len(body))
	}
	if w.writes < 10 || w.largest > 64<<10 {
		t.Errorf("%d bytes written in %d writes, the largest %d bytes: want it streamed in pieces of at most 64 KiB",
			len(body), w.writes, w.largest)
	}
	p, _, err := periodFrom(req, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := reports.WriteGiftsCSV(ctx, pool, &want, p.From, p.To, a.ID); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, want.Bytes()) {
		t.Errorf("the download differs from the export (%d bytes, want %d)", len(body), want.Len())
	}
}
