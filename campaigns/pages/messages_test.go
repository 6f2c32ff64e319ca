package pages_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/appeals"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/pages"
)

// TestHiddenMessagesLeaveTheWallsOnly: the page's owner hides a message from both public
// walls, another fundraiser cannot (not found), a trustee shows it again; the message stays
// in the data and each change writes one audit row.
func TestHiddenMessagesLeaveTheWallsOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := campaignstest.NewGiftWorld(t)
	s := w.S
	ruby := campaignstest.AddUser(t, s, "ruby@example.org", accounts.RoleFundraiser)
	sam := campaignstest.AddUser(t, s, "sam@example.org", accounts.RoleFundraiser)
	trustee := campaignstest.AddUser(t, s, "trustee@example.org", accounts.RoleTrustee)
	if _, err := s.Pool().Exec(ctx, `UPDATE fundraisers SET owner_id = $1 WHERE id = $2`, ruby.ID, w.Ruby); err != nil {
		t.Fatal(err)
	}
	d := w.Donation(donations.NewDonation{AppealID: w.Appeal.ID, FundraiserID: w.Ruby, Amount: decimal.RequireFromString("10"),
		DisplayName: "Alice", Message: "Rude words", Email: "alice@example.org"})
	w.Gift(d, "cs_hide_1", "ch_hide_1", "pi_hide_1", "10.00", "0.35", campaignstest.EntryTime)

	walls := func() (page, appeal string) {
		t.Helper()
		pw, err := pages.Wall(ctx, s, w.Ruby, 50)
		if err != nil || len(pw) != 1 {
			t.Fatalf("page wall: %v %v", pw, err)
		}
		aw, err := appeals.RecentSupporters(ctx, s, w.Appeal.ID, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range aw {
			if e.Name == "Alice" {
				appeal = e.Message
			}
		}
		return pw[0].Message, appeal
	}
	if p, a := walls(); p != "Rude words" || a != "Rude words" {
		t.Fatalf("before: %q %q", p, a)
	}
	if err := pages.SetMessageHidden(ctx, s, sam, d.ID, true); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("Sam hides Ruby's supporter's message: %v, want not found", err)
	}
	if err := pages.SetMessageHidden(ctx, s, ruby, d.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := pages.SetMessageHidden(ctx, s, ruby, d.ID, true); err != nil {
		t.Fatal(err)
	}
	if p, a := walls(); p != "" || a != "" {
		t.Errorf("hidden, walls still show %q %q", p, a)
	}
	msgs, err := pages.PageMessages(ctx, s, trustee, w.Ruby, 10)
	if err != nil || len(msgs) != 1 || !msgs[0].Hidden || msgs[0].Text != "Rude words" {
		t.Fatalf("trustee's list: %+v %v", msgs, err)
	}
	if _, err := pages.PageMessages(ctx, s, ruby, w.Ruby, 10); !errors.Is(err, campaigns.ErrForbidden) {
		t.Errorf("a fundraiser reads the moderation list: %v", err)
	}
	if err := pages.SetMessageHidden(ctx, s, trustee, d.ID, false); err != nil {
		t.Fatal(err)
	}
	if p, a := walls(); p != "Rude words" || a != "Rude words" {
		t.Errorf("shown again: %q %q", p, a)
	}
	var hidden, shown int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE action = 'message hidden' AND actor_user_id = $1),
		count(*) FILTER (WHERE action = 'message shown' AND actor_user_id = $2) FROM audit_log`, ruby.ID, trustee.ID).Scan(&hidden, &shown); err != nil {
		t.Fatal(err)
	}
	if hidden != 1 || shown != 1 {
		t.Errorf("audit rows: %d hidden by Ruby, %d shown by the trustee; want 1 and 1 (hiding twice changes nothing)", hidden, shown)
	}
}
