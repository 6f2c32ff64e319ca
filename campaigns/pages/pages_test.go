package pages_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/appeals"
	"giving/campaigns/audit"
	"giving/campaigns/campaignstest"
	"giving/campaigns/ledger"
	"giving/campaigns/pages"
	"giving/campaigns/reports"
)

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, 16, 9)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// webpBytes is a minimal lossless WebP header of a w x h image.
func webpBytes(w, h int) []byte {
	bits := uint32(w-1) | uint32(h-1)<<14
	payload := []byte{0x2f, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(payload[1:5], bits)
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(4+8+len(payload)))
	b.WriteString("WEBPVP8L")
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(payload)))
	b.Write(payload)
	return b.Bytes()
}

func TestCheckPhoto(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		data []byte
		want string // content type, "" when refused
	}{
		// Opaque pictures are stored as JPEG, whatever they came as.
		{"png", pngBytes(t, 40, 30), "image/jpeg"},
		{"jpeg", jpegBytes(t), "image/jpeg"},
		{"webp", riffWebP(riffChunk("VP8L", vp8l(64, 48))), "image/jpeg"},
		{"webp header without a picture", webpBytes(64, 48), ""},
		{"html renamed .png", []byte("<!doctype html><html><script>alert(1)</script></html>"), ""},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>`), ""},
		{"png signature then junk", append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0xff}, 100)...), ""},
		{"too wide", pngBytes(t, 10001, 1), ""},
		{"over 5 MiB", append(pngBytes(t, 2, 2), make([]byte, pages.MaxPhotoBytes)...), ""},
		{"empty", nil, ""},
	} {
		p, err := pages.CheckPhoto(context.Background(), tc.data)
		if tc.want == "" {
			var ve *campaigns.ValidationError
			if !errors.As(err, &ve) || ve.Fields["photo"] == "" {
				t.Errorf("%s: accepted (%v), want a photo error", tc.name, err)
			}
			continue
		}
		if err != nil || p.ContentType != tc.want || p.Width == 0 || p.ETag == "" {
			t.Errorf("%s: %+v %v, want %s", tc.name, p.ContentType, err, tc.want)
		}
	}
}

func TestSlugFromTitle(t *testing.T) {
	t.Parallel()
	for title, want := range map[string]string{
		"Ruby's Run":                    "rubys-run",
		"  Ruby’s 10k — for FREEDOM!  ": "rubys-10k-for-freedom",
		"Zoë & Chloé bake":              "zoe-chloe-bake",
		"<script>alert(1)</script>":     "script-alert-1-script",
		"!!":                            "page",
		strings.Repeat("marathon ", 20): "marathon-marathon-marathon-marathon-marathon-marathon",
	} {
		got := pages.SlugFromTitle(title)
		if got != want || pages.SlugProblem(got) != "" {
			t.Errorf("SlugFromTitle(%q) = %q, want %q (problem %q)", title, got, want, pages.SlugProblem(got))
		}
	}
}

func fieldErr(err error, field string) string {
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		return ve.Fields[field]
	}
	return ""
}

func TestPagesBelongToTheirFundraiser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, a := campaignstest.Seeded(t, 8)
	ruby := campaignstest.AddUser(t, s, "ruby@example.org", accounts.RoleFundraiser)
	sam := campaignstest.AddUser(t, s, "sam@example.org", accounts.RoleFundraiser)
	admin := campaignstest.AddUser(t, s, "admin@example.org", accounts.RoleAdmin)
	d := decimal.RequireFromString

	p, err := pages.CreatePage(ctx, s, ruby, a.ID, pages.PageEdit{Title: "Ruby's Run", Story: "10k", Target: d("750")}, "http://giving.test")
	if err != nil {
		t.Fatal(err)
	}
	if p.Slug != "rubys-run" || p.Status != "pending" || p.OwnerID != ruby.ID {
		t.Fatalf("new page %+v, want pending rubys-run owned by Ruby", p)
	}
	// The same title again gets the next free address; a taken address is refused with one.
	p2, err := pages.CreatePage(ctx, s, ruby, a.ID, pages.PageEdit{Title: "Ruby's Run", Target: d("1")}, "http://giving.test")
	if err != nil || p2.Slug != "rubys-run-2" {
		t.Fatalf("second page: %+v %v, want rubys-run-2", p2, err)
	}
	_, err = pages.CreatePage(ctx, s, sam, a.ID, pages.PageEdit{Title: "Sam", Target: d("10"), Slug: "rubys-run"}, "http://giving.test")
	if msg := fieldErr(err, "slug"); !strings.Contains(msg, "rubys-run-3") {
		t.Errorf("taken slug: %v, want a suggestion of rubys-run-3", err)
	}
	for _, tc := range []struct {
		field string
		edit  pages.PageEdit
	}{
		{"target", pages.PageEdit{Title: "T", Target: d("0.99")}},
		{"target", pages.PageEdit{Title: "T", Target: d("1000000.01")}},
		{"target", pages.PageEdit{Title: "T", Target: d("10.005")}},
		{"title", pages.PageEdit{Title: "  ", Target: d("10")}},
		{"slug", pages.PageEdit{Title: "T", Target: d("10"), Slug: "ab"}},
		{"slug", pages.PageEdit{Title: "T", Target: d("10"), Slug: "ruby run"}},
		{"slug", pages.PageEdit{Title: "T", Target: d("10"), Slug: "-ruby-"}},
		{"slug", pages.PageEdit{Title: "T", Target: d("10"), Slug: strings.Repeat("a", 61)}},
	} {
		if _, err := pages.CreatePage(ctx, s, sam, a.ID, tc.edit, "http://giving.test"); fieldErr(err, tc.field) == "" {
			t.Errorf("%+v: %v, want a problem with %s", tc.edit, err, tc.field)
		}
	}
	for _, target := range []string{"1", "1000000"} {
		if _, err := pages.CreatePage(ctx, s, sam, a.ID, pages.PageEdit{Title: "Sam " + target, Target: d(target)}, "http://giving.test"); err != nil {
			t.Errorf("target %s refused: %v", target, err)
		}
	}
	if _, err := pages.CreatePage(ctx, s, admin, a.ID, pages.PageEdit{Title: "Admin", Target: d("10")}, "http://giving.test"); !errors.Is(err, campaigns.ErrForbidden) {
		t.Errorf("an admin creating a fundraiser page: %v, want forbidden", err)
	}

	// Sam can neither read nor change Ruby's page: it does not exist for him.
	if _, err := pages.OwnPage(ctx, s, sam, p.ID); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("Sam reads Ruby's page: %v", err)
	}
	if _, err := pages.UpdatePage(ctx, s, sam, p.ID, pages.PageEdit{Title: "Mine now", Target: d("5")}); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("Sam edits Ruby's page: %v", err)
	}
	if _, err := pages.SubmitOffline(ctx, s, sam, p.ID, pages.OfflineInput{Amount: d("5"), ReceivedOn: time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1), Kind: "cash"}); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("Sam records offline money on Ruby's page: %v", err)
	}

	// Approved, then edited: it stays approved, and its address no longer changes.
	if err := pages.SetFundraiserStatus(ctx, s, admin, p.ID, "approved", "http://giving.test"); err != nil {
		t.Fatal(err)
	}
	p, err = pages.UpdatePage(ctx, s, ruby, p.ID, pages.PageEdit{Title: "Ruby's Big Run", Story: "20k now", Target: d("1500")})
	if err != nil || p.Status != "approved" || p.Title != "Ruby's Big Run" || p.Slug != "rubys-run" {
		t.Fatalf("edit after approval: %+v %v", p, err)
	}
	if _, err := pages.UpdatePage(ctx, s, ruby, p.ID, pages.PageEdit{Title: "x", Target: d("5"), Slug: "new-address"}); fieldErr(err, "slug") == "" {
		t.Errorf("changing an approved page's address: %v, want refused", err)
	}
	if pub, err := pages.PublicFundraiser(ctx, s, "rubys-run"); err != nil || !pub.Target.Equal(d("1500")) {
		t.Errorf("public page after the edit: %+v %v", pub, err)
	}
}

// offlineWorld is an appeal with Ruby's page, and an admin and a trustee to review her
// offline money.
func offlineWorld(t *testing.T) (s *campaigns.Store, a appeals.Appeal, p pages.Fundraiser, ruby, admin, trustee accounts.User) {
	t.Helper()
	s, a = campaignstest.Seeded(t, 8)
	ruby = campaignstest.AddUser(t, s, "ruby@example.org", accounts.RoleFundraiser)
	admin = campaignstest.AddUser(t, s, "admin@example.org", accounts.RoleAdmin)
	trustee = campaignstest.AddUser(t, s, "trustee@example.org", accounts.RoleTrustee)
	p, err := pages.CreatePage(context.Background(), s, ruby, a.ID, pages.PageEdit{Title: "Ruby's Run", Target: decimal.RequireFromString("500")}, "http://giving.test")
	if err != nil {
		t.Fatal(err)
	}
	return s, a, p, ruby, admin, trustee
}

func TestOfflineMoneyCountsOnlyOnceVerified(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, a, p, ruby, admin, trustee := offlineWorld(t)
	d := decimal.RequireFromString
	yesterday := time.Now().In(campaigns.London()).AddDate(0, 0, -1)
	day := time.Date(yesterday.Year(), yesterday.Month(), yesterday.Day(), 0, 0, 0, 0, time.UTC)

	for _, bad := range []pages.OfflineInput{
		{Amount: d("0"), ReceivedOn: day, Kind: "cash"},
		{Amount: d("5"), ReceivedOn: day.AddDate(0, 0, 3), Kind: "cash"},
		{Amount: d("5"), ReceivedOn: day.AddDate(-2, 0, 0), Kind: "cash"},
		{Amount: d("5"), ReceivedOn: day, Kind: "bitcoin"},
	} {
		if _, err := pages.SubmitOffline(ctx, s, ruby, p.ID, bad); err == nil {
			t.Errorf("offline %+v accepted", bad)
		}
	}
	cash, err := pages.SubmitOffline(ctx, s, ruby, p.ID, pages.OfflineInput{Amount: d("120.50"), ReceivedOn: day, Kind: "cash", Note: "bake sale"})
	if err != nil {
		t.Fatal(err)
	}
	cheque, err := pages.SubmitOffline(ctx, s, ruby, p.ID, pages.OfflineInput{Amount: d("30"), ReceivedOn: day, Kind: "cheque"})
	if err != nil {
		t.Fatal(err)
	}
	raised := func(sc ledger.Scope) ledger.Totals {
		t.Helper()
		tot, err := ledger.ReadTotals(ctx, s.Pool(), sc)
		if err != nil {
			t.Fatal(err)
		}
		return tot
	}
	if got := raised(ledger.FundraiserScope(p.ID)).Raised(); !got.IsZero() {
		t.Fatalf("pending offline money counts: page raised %s", got)
	}
	if pending, _ := pages.PendingOffline(ctx, s, 10); len(pending) != 2 {
		t.Errorf("%d takings waiting for an admin, want 2", len(pending))
	}

	for _, u := range []accounts.User{ruby, trustee} {
		if _, err := pages.VerifyOffline(ctx, s, u, cash); !errors.Is(err, campaigns.ErrForbidden) {
			t.Errorf("%s verifies offline money: %v, want forbidden", u.Role, err)
		}
	}
	for i := 0; i < 2; i++ { // verifying twice adds nothing
		changed, err := pages.VerifyOffline(ctx, s, admin, cash)
		if err != nil || changed != (i == 0) {
			t.Fatalf("verify #%d: changed=%v err=%v", i+1, changed, err)
		}
	}
	if _, err := pages.RejectOffline(ctx, s, admin, cheque); err != nil {
		t.Fatal(err)
	}
	if _, err := pages.VerifyOffline(ctx, s, admin, cheque); !errors.Is(err, campaigns.ErrConflict) {
		t.Errorf("verifying rejected money: %v, want a conflict", err)
	}
	if _, err := pages.RejectOffline(ctx, s, admin, cash); !errors.Is(err, campaigns.ErrConflict) {
		t.Errorf("rejecting verified money: %v, want a conflict", err)
	}

	page, appeal := raised(ledger.FundraiserScope(p.ID)), raised(ledger.AppealScope(a.ID))
	for name, tot := range map[string]ledger.Totals{"page": page, "appeal": appeal} {
		if !tot.Raised().Equal(d("120.50")) || !tot.GiftAid().IsZero() || tot.Gifts != 1 || tot.Donors != 0 {
			t.Errorf("%s totals after verifying £120.50 cash: raised %s, Gift Aid %s, gifts %d, donors %d",
				name, tot.Raised(), tot.GiftAid(), tot.Gifts, tot.Donors)
		}
	}
	var entries int
	var base decimal.Decimal
	if err := s.Pool().QueryRow(ctx, `SELECT count(*), COALESCE(sum(gift_aid_base), 0) FROM ledger_entries WHERE fundraiser_id = $1`, p.ID).Scan(&entries, &base); err != nil {
		t.Fatal(err)
	}
	if entries != 1 || !base.IsZero() {
		t.Errorf("%d ledger entries with Gift Aid base %s, want 1 entry never Gift Aid-able", entries, base)
	}
	if diffs, err := ledger.CompareTotals(ctx, s); err != nil || len(diffs) != 0 {
		t.Errorf("CompareTotals: %v %v", diffs, err)
	}
	if err := reports.CompareDashboardSummary(ctx, s); err != nil {
		t.Errorf("dashboard summary disagrees with the ledger: %v", err)
	}
	now := time.Now().In(campaigns.London())
	dash, err := reports.ReadDashboard(ctx, s, a.ID, reports.MonthPeriod(now.Year(), now.Month()-1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if dash.Unmatched.Count != 0 || !dash.GiftAidBase.IsZero() || !dash.Raised.Equal(d("120.50")) {
		t.Errorf("trustee dashboard: unmatched %d, Gift Aid base %s, raised %s; want 0, 0, 120.50",
			dash.Unmatched.Count, dash.GiftAidBase, dash.Raised)
	}
	log, err := audit.Log(ctx, s.Pool(), 50)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range log {
		seen[e.Action]++
	}
	if seen["offline money verified"] != 1 || seen["offline money rejected"] != 1 || seen["offline money entered"] != 2 {
		t.Errorf("audit log actions %v", seen)
	}
}

// Offline money verified by mistake is reversed, with a reason: the page's and the
// appeal's totals move back at once, the ledger keeps the gift and gains a refund of the
// same amount (so the history stays and replay rebuilds it), and only an admin may do it,
// once, and only to money that was verified.
func TestVerifiedOfflineMoneyCanBeReversed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, a, p, ruby, admin, trustee := offlineWorld(t)
	d := decimal.RequireFromString
	today := time.Now().In(campaigns.London())
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	submit := func(amount string) int64 {
		t.Helper()
		id, err := pages.SubmitOffline(ctx, s, ruby, p.ID, pages.OfflineInput{Amount: d(amount), ReceivedOn: day, Kind: "cheque"})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	bounced, kept, pending := submit("250.00"), submit("40.00"), submit("9.99")
	for _, id := range []int64{bounced, kept} {
		if _, err := pages.VerifyOffline(ctx, s, admin, id); err != nil {
			t.Fatal(err)
		}
	}
	raised := func(sc ledger.Scope) string {
		t.Helper()
		tot, err := ledger.ReadTotals(ctx, s.Pool(), sc)
		if err != nil {
			t.Fatal(err)
		}
		return tot.Raised().StringFixed(2)
	}
	if got := raised(ledger.FundraiserScope(p.ID)); got != "290.00" {
		t.Fatalf("page raised %s before the reversal, want 290.00", got)
	}

	for _, u := range []accounts.User{ruby, trustee} {
		if _, err := pages.ReverseOffline(ctx, s, u, bounced, "cheque bounced"); !errors.Is(err, campaigns.ErrForbidden) {
			t.Errorf("%s reverses offline money: %v, want forbidden", u.Role, err)
		}
	}
	var ve *campaigns.ValidationError
	if _, err := pages.ReverseOffline(ctx, s, admin, bounced, "   "); !errors.As(err, &ve) || ve.Fields["reason"] == "" {
		t.Errorf("a reversal without a reason: %v, want the reason asked for", err)
	}
	if _, err := pages.ReverseOffline(ctx, s, admin, pending, "never arrived"); !errors.Is(err, campaigns.ErrConflict) {
		t.Errorf("reversing money never verified: %v, want a conflict", err)
	}
	if _, err := pages.ReverseOffline(ctx, s, admin, 999999, "typo"); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("reversing nothing: %v, want not found", err)
	}
	for i := 0; i < 2; i++ { // reversing twice takes it back once
		changed, err := pages.ReverseOffline(ctx, s, admin, bounced, "The cheque  bounced\non 3 December")
		if err != nil || changed != (i == 0) {
			t.Fatalf("reverse #%d: changed=%v err=%v", i+1, changed, err)
		}
	}
	if _, err := pages.VerifyOffline(ctx, s, admin, bounced); !errors.Is(err, campaigns.ErrConflict) {
		t.Errorf("verifying reversed money again: %v, want a conflict", err)
	}

	for name, sc := range map[string]ledger.Scope{"page": ledger.FundraiserScope(p.ID), "appeal": ledger.AppealScope(a.ID)} {
		if got := raised(sc); got != "40.00" {
			t.Errorf("%s raised %s after reversing the £250.00 cheque, want 40.00", name, got)
		}
	}
	var kinds []string
	if err := s.Pool().QueryRow(ctx, `SELECT array_agg(kind || ' ' || amount ORDER BY id) FROM ledger_entries WHERE fundraiser_id = $1`, p.ID).Scan(&kinds); err != nil {
		t.Fatal(err)
	}
	if strings.Join(kinds, ", ") != "gift 250.00, gift 40.00, refund -250.00" {
		t.Errorf("ledger %v: want both gifts kept and a refund of the reversed one", kinds)
	}
	if diffs, err := ledger.CompareTotals(ctx, s); err != nil || len(diffs) != 0 {
		t.Errorf("CompareTotals: %v %v", diffs, err)
	}
	if err := reports.CompareDashboardSummary(ctx, s); err != nil {
		t.Errorf("dashboard summary disagrees with the ledger: %v", err)
	}
	entries, err := pages.VerifiedOfflineEntries(ctx, s.Pool())
	if err != nil || len(entries) != 3 {
		t.Fatalf("entries for replay: %d, %v; want the two gifts and the reversal", len(entries), err)
	}

	decided, err := pages.DecidedOffline(ctx, s, 10)
	if err != nil || len(decided) != 2 || decided[0].ID != bounced || decided[0].Status != "reversed" ||
		decided[0].ReversalReason != "The cheque bounced on 3 December" || decided[0].ReversedAt == nil {
		t.Fatalf("decided offline money %+v (%v): want the reversed cheque first, with its reason", decided, err)
	}
	own, err := pages.OwnOffline(ctx, s, ruby)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range own {
		if o.ID == bounced && (o.Status != "reversed" || o.ReversalReason == "") {
			t.Errorf("Ruby sees her reversed cheque as %q with reason %q", o.Status, o.ReversalReason)
		}
	}
	log, err := audit.Log(ctx, s.Pool(), 50)
	if err != nil {
		t.Fatal(err)
	}
	reversals := 0
	for _, e := range log {
		if e.Action == "offline money reversed" {
			reversals++
			if !strings.Contains(e.Detail, "250.00") || !strings.Contains(e.Detail, "The cheque bounced") || e.ActorUserID != admin.ID {
				t.Errorf("audit entry %+v", e)
			}
		}
	}
	if reversals != 1 {
		t.Errorf("%d reversals in the audit log, want 1", reversals)
	}
}
