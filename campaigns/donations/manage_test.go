package donations_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
)

// monthlyGift is a running £10 monthly gift from email, linked to subscription sub.
func monthlyGift(t *testing.T, s *campaigns.Store, appealID int64, email, sub string, monthly bool) donations.Donation {
	t.Helper()
	ctx := context.Background()
	d, err := donations.Create(ctx, s, donations.NewDonation{AppealID: appealID, Amount: decimal.RequireFromString("10.00"), Monthly: monthly})
	if err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		_, err := donations.UpdateDonation(ctx, tx, d.ID, donations.Link{SubscriptionID: sub, CustomerID: "cus_" + sub, Email: email},
			donations.StatusActive, s.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newLink(t *testing.T, s *campaigns.Store, id string) (string, error) {
	t.Helper()
	var link string
	err := s.InTx(context.Background(), func(tx pgx.Tx) error {
		var err error
		link, err = donations.NewManageLink(context.Background(), tx, s.Now(), "https://give.example.org/", id)
		return err
	})
	return link, err
}

func requestCount(t *testing.T, s *campaigns.Store) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM manage_requests`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A manage link works for one monthly gift for ManageLinkLifetime; a forged link is not
// found, an expired one says so, and neither changes anything.
func TestManageLinkForgedExpiredChangesNothing(t *testing.T) {
	t.Parallel()
	clock := campaignstest.NewClock(time.Date(2026, 5, 3, 10, 0, 0, 0, time.UTC))
	s, appeal := campaignstest.Seeded(t, 8)
	s = s.WithClock(clock.Now)
	ctx := context.Background()
	d := monthlyGift(t, s, appeal.ID, "ada@example.org", "sub_link", true)
	link, err := newLink(t, s, d.ID)
	if err != nil || !strings.HasPrefix(link, "https://give.example.org/manage/") {
		t.Fatalf("link %q: %v", link, err)
	}
	token := strings.TrimPrefix(link, "https://give.example.org/manage/")
	g, err := donations.ManageLinkGift(ctx, s, token)
	if err != nil || g.ID != d.ID || !g.Amount.Equal(decimal.NewFromInt(10)) {
		t.Fatalf("gift %+v: %v", g, err)
	}
	one := monthlyGift(t, s, appeal.ID, "ada@example.org", "", false)
	if _, err := newLink(t, s, one.ID); !errors.Is(err, campaigns.ErrNotFound) {
		t.Fatalf("a link for a one-off gift: %v", err)
	}

	// One character changed in the middle, where every base64 character carries six bits of
	// the token (the last one carries only four, so some changes there decode the same).
	other := "A"
	if token[20] == 'A' {
		other = "B"
	}
	forged := []string{"", "short", strings.Repeat("A", 43), token[:20] + other + token[21:], token + "A"}
	for _, f := range forged {
		if _, err := donations.ManageLinkGift(ctx, s, f); !errors.Is(err, campaigns.ErrNotFound) {
			t.Errorf("forged %q: %v, want not found", f, err)
		}
		_, err := donations.RequestChangeByLink(ctx, s, f, donations.ChangeRequest{Kind: donations.ChangeCancel})
		if !errors.Is(err, campaigns.ErrNotFound) {
			t.Errorf("cancel with forged %q: %v", f, err)
		}
	}
	clock.Advance(donations.ManageLinkLifetime - time.Second)
	if _, err := donations.ManageLinkGift(ctx, s, token); err != nil {
		t.Fatalf("a second before it expires: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := donations.ManageLinkGift(ctx, s, token); !errors.Is(err, donations.ErrLinkExpired) {
		t.Fatalf("expired link: %v", err)
	}
	if _, err := donations.RequestChangeByLink(ctx, s, token, donations.ChangeRequest{Kind: donations.ChangeCancel}); !errors.Is(err, donations.ErrLinkExpired) {
		t.Fatalf("cancel with an expired link: %v", err)
	}
	if n := requestCount(t, s); n != 0 {
		t.Fatalf("%d changes recorded through forged or expired links", n)
	}
}

// Asking for links by email: a known address gets one email with a link per running
// monthly gift, an unknown address gets nothing, and both answer the same; a second ask
// within the window sends nothing more; the client's limit is the reset request's.
func TestManageLinksByEmail(t *testing.T) {
	t.Parallel()
	s, appeal := campaignstest.Seeded(t, 8)
	ctx := context.Background()
	monthlyGift(t, s, appeal.ID, "Ada@Example.org", "sub_a1", true)
	monthlyGift(t, s, appeal.ID, "ada@example.org", "sub_a2", true)
	monthlyGift(t, s, appeal.ID, "ada@example.org", "", false) // one-off: no link
	ask := func(email, client string) error {
		err := donations.RequestManageLinks(ctx, s, email, client, "https://give.example.org")
		if err != nil {
			return err
		}
		var id int64
		if err := s.Pool().QueryRow(ctx, `SELECT max(id) FROM login_attempts WHERE kind = 'manage'`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return donations.SendManageLinks(ctx, s, id, "https://give.example.org")
	}
	if err := ask("nobody@example.org", "1.2.3.4"); err != nil {
		t.Fatalf("unknown address: %v", err)
	}
	if err := ask(" ADA@example.org ", "1.2.3.4"); err != nil {
		t.Fatalf("known address: %v", err)
	}
	if err := ask("ada@example.org", "1.2.3.4"); err != nil { // again, within the window
		t.Fatal(err)
	}
	rows, err := s.Pool().Query(ctx, `SELECT to_address, subject, body FROM mail_outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type mail struct{ to, subject, body string }
	mails, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mail, error) {
		var m mail
		return m, r.Scan(&m.to, &m.subject, &m.body)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(mails) != 1 || mails[0].to != "ada@example.org" || mails[0].subject != "Your link to manage your monthly gift" {
		t.Fatalf("mails %+v, want one to ada", mails)
	}
	if n := strings.Count(mails[0].body, "https://give.example.org/manage/"); n != 2 {
		t.Fatalf("%d links, want one per monthly gift:\n%s", n, mails[0].body)
	}
	if err := ask("not an email", "1.2.3.4"); err == nil {
		t.Fatal("a malformed address was accepted")
	}
	for range 2 { // the fourth and fifth requests from this client in the window
		if err := ask("someone@example.org", "1.2.3.4"); err != nil {
			t.Fatal(err)
		}
	}
	var tm *accounts.TooManyAttemptsError
	if err := ask("someone@example.org", "1.2.3.4"); !errors.As(err, &tm) {
		t.Fatalf("sixth request from one client in the window: %v, want too many", err)
	}
	if err := ask("someone@example.org", "5.6.7.8"); err != nil {
		t.Fatalf("another client: %v", err)
	}
}
