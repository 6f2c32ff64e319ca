package audit_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/campaigns/reports"

	"github.com/shopspring/decimal"
)

var d = decimal.RequireFromString

// failAuditOf makes the audit log refuse rows with this action in this test's database, as
// a full disk or a broken constraint would: the change the row records must not commit
// without it.
func failAuditOf(t *testing.T, s *campaigns.Store, action string) {
	t.Helper()
	_, err := s.Pool().Exec(context.Background(), `
		CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.action = '`+action+`' THEN RAISE EXCEPTION 'audit refused by the test'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_refuse_audit();`)
	if err != nil {
		t.Fatal(err)
	}
}

func auditCount(t *testing.T, s *campaigns.Store, action string) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = $1`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestClaimAndItsAuditRowCommitTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := campaignstest.NewGiftWorld(t)
	ada := w.Donation(donations.NewDonation{Amount: d("40.00"), Declaration: campaignstest.Declaration("Ms", "Ada", "Lovelace", "12", "N1 9GU")})
	w.Gift(ada, "pi_ada", "", "pi_ada", "40.00", "0.80", campaignstest.UTC(2026, 5, 1, 10, 0))
	trustee := accounts.User{Email: "trustee@example.org"}

	// The audit row cannot be written: the claim is not made and no gift is locked.
	failAuditOf(t, w.S, "export gift aid claim")
	if _, err := giftaid.MakeClaim(ctx, w.S, giftaid.ClaimOptions{Actor: trustee}); err == nil || !strings.Contains(err.Error(), "audit refused") {
		t.Fatalf("MakeClaim with the audit log refusing: %v, want the audit's error", err)
	}
	var claims, locked int
	if err := w.S.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM gift_aid_claims), (SELECT count(*) FROM gift_aid_claim_items)`).Scan(&claims, &locked); err != nil {
		t.Fatal(err)
	}
	if claims != 0 || locked != 0 {
		t.Errorf("after a refused audit row: %d claims and %d locked gifts, want none", claims, locked)
	}

	// Once the audit log accepts it, the same claim commits with exactly one audit row
	// naming the trustee and the claim.
	if _, err := w.S.Pool().Exec(ctx, `DROP TRIGGER test_refuse_audit ON audit_log`); err != nil {
		t.Fatal(err)
	}
	c, err := giftaid.MakeClaim(ctx, w.S, giftaid.ClaimOptions{Actor: trustee})
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Log(ctx, w.S.Pool(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].ActorEmail != trustee.Email || log[0].Action != "export gift aid claim" ||
		!strings.HasPrefix(log[0].Detail, "claim ") || !strings.Contains(log[0].Detail, "total 40.00, tax 10.00") {
		t.Errorf("audit log after claim %d: %+v", c.ID, log)
	}
}

type failingWriter struct{ after int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.after -= len(p); f.after < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestGiftsExportIsAuditedOnlyWhenItIsWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := campaignstest.NewGiftWorld(t)
	ada := w.Donation(donations.NewDonation{Amount: d("40.00")})
	w.Gift(ada, "pi_ada", "", "pi_ada", "40.00", "0.80", campaignstest.UTC(2026, 5, 1, 10, 0))
	from, to := campaignstest.UTC(2026, 1, 1, 0, 0), campaignstest.UTC(2027, 1, 1, 0, 0)
	trustee := accounts.User{Email: "trustee@example.org"}

	if err := reports.ExportGifts(ctx, w.S, trustee, &failingWriter{after: 10}, from, to, 0); err == nil {
		t.Fatal("an export whose writer fails reported success")
	}
	if n := auditCount(t, w.S, "export gifts"); n != 0 {
		t.Errorf("a failed export left %d audit rows, want 0", n)
	}

	var buf bytes.Buffer
	if err := reports.ExportGifts(ctx, w.S, trustee, &buf, from, to, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"40.00"`) {
		t.Errorf("the export lacks the gift:\n%s", buf.String())
	}
	log, err := audit.Log(ctx, w.S.Pool(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].ActorEmail != trustee.Email || log[0].Detail != "2026-01-01 to 2026-12-31" {
		t.Errorf("audit log after one export: %+v", log)
	}

	// And an export is refused whole when its audit row cannot be written.
	failAuditOf(t, w.S, "export gifts")
	buf.Reset()
	if err := reports.ExportGifts(ctx, w.S, trustee, &buf, from, to, 0); err == nil || buf.Len() != 0 {
		t.Errorf("export with the audit log refusing: %v, %d bytes written", err, buf.Len())
	}
}

// A log-out ends the session and records it together: with the audit log refusing, the
// session is still there; once it accepts, the session is gone and the log-out recorded.
func TestLogOutAndItsAuditRowCommitTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := campaignstest.Store(t, 8)
	u := campaignstest.AddUser(t, s, "trustee@example.org", accounts.RoleTrustee)
	if _, err := s.Pool().Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ('tok_1', '', now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	sessions := func() int {
		t.Helper()
		var n int
		if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM sessions WHERE token = 'tok_1'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	failAuditOf(t, s, "logout")
	if err := accounts.LogOut(ctx, s, u, "tok_1"); err == nil || sessions() != 1 {
		t.Fatalf("log-out with the audit log refusing: %v, %d sessions left; want an error and the session kept", err, sessions())
	}
	if _, err := s.Pool().Exec(ctx, `DROP TRIGGER test_refuse_audit ON audit_log`); err != nil {
		t.Fatal(err)
	}
	if err := accounts.LogOut(ctx, s, u, "tok_1"); err != nil || sessions() != 0 || auditCount(t, s, "logout") != 1 {
		t.Fatalf("log-out: %v, %d sessions, %d audit rows; want none left and one row", err, sessions(), auditCount(t, s, "logout"))
	}
}
