package giftaid

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
	"giving/campaigns/outbox"
)

// InForce is a declaration of a donor that covers gifts now.
type InForce struct {
	ID            string
	Scope         string
	DeclaredAt    time.Time
	EffectiveFrom time.Time
}

// DeclarationsInForce lists the declarations of the donor with this email in force at
// the store's clock, oldest first.
func DeclarationsInForce(ctx context.Context, s *campaigns.Store, email string) ([]InForce, error) {
	rows, err := dbq.New(s.Pool()).DonorDeclarationsInForce(ctx, dbq.DonorDeclarationsInForceParams{Email: email, At: s.Now()})
	if err != nil {
		return nil, fmt.Errorf("gift aid declarations in force: %w", err)
	}
	out := make([]InForce, len(rows))
	for i, r := range rows {
		out[i] = InForce(r)
	}
	return out, nil
}

// Cancellation asks for a donor's declarations to stop covering her gifts.
type Cancellation struct {
	Email  string    // the donor's email (her donor record)
	From   time.Time // gifts on or after it are no longer claimed; zero: now
	Reason string    // at most 500 characters; an admin must give one
	Actor  audit.Actor
	// ByDonor: the donor asked herself (the manage page); else an admin did.
	ByDonor bool
	// Charity names the charity in the email (campaigns.CharityName when blank), and
	// SignOff ends it (the sign-off every donor email shares; a plain one when blank).
	Charity, SignOff string
}

// DonorActor is the donor, acting through her manage link, in the audit log.
type DonorActor struct{}

// AuditActor names no account: the donor has none.
func (DonorActor) AuditActor() (int64, string) { return 0, "donor (manage link)" }

// CancelDeclarations cancels from c.From every declaration of the donor in force then, in
// one transaction with its audit row and the confirmation email to her. Cancelled
// declarations are kept with their dates (HMRC's records); gifts already claimed stay
// claimed. It returns how many it cancelled; none is campaigns.ErrNotFound.
func CancelDeclarations(ctx context.Context, s *campaigns.Store, c Cancellation) (int, error) {
	if c.From.IsZero() {
		c.From = s.Now()
	}
	c.Reason = strings.TrimSpace(c.Reason)
	if c.ByDonor && c.Reason == "" {
		c.Reason = "asked by the donor"
	}
	if c.Reason == "" || utf8.RuneCountInString(c.Reason) > 500 {
		return 0, fmt.Errorf("cancel gift aid declaration: %w", &campaigns.ValidationError{Fields: map[string]string{"reason": "Give the reason, in at most 500 characters"}})
	}
	if c.Actor == nil {
		c.Actor = DonorActor{}
	}
	_, by := c.Actor.AuditActor()
	var n int
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		rows, err := dbq.New(tx).CancelDonorDeclarations(ctx, dbq.CancelDonorDeclarationsParams{CancelFrom: c.From, CancelledBy: by, Reason: c.Reason, Email: c.Email})
		if err != nil {
			return fmt.Errorf("cancel gift aid declaration: %w", err)
		}
		if len(rows) == 0 {
			return fmt.Errorf("gift aid declaration in force for this email: %w", campaigns.ErrNotFound)
		}
		n = len(rows)
		ids := make([]string, n)
		for i, r := range rows {
			ids[i] = r.ID
		}
		if err := audit.Write(ctx, tx, c.Actor, "gift aid declaration cancelled", fmt.Sprintf("declarations %s of %s from %s: %s",
			strings.Join(ids, ", "), outbox.MaskEmail(rows[0].Email), c.From.In(campaigns.London()).Format("2 January 2006"), c.Reason)); err != nil {
			return err
		}
		return outbox.QueueMail(ctx, tx, outbox.Mail{To: rows[0].Email, Subject: "Your Gift Aid declaration is cancelled",
			Body: cancellationBody(rows[0].Name, c)})
	})
	return n, err
}

// cancellationBody is the confirmation the donor reads.
func cancellationBody(name string, c Cancellation) string {
	charity := c.Charity
	if charity == "" {
		charity = campaigns.CharityName
	}
	var b strings.Builder
	if name = strings.TrimSpace(name); name != "" {
		fmt.Fprintf(&b, "Dear %s,\n\n", name)
	} else {
		b.WriteString("Hello,\n\n")
	}
	asked := "As you asked, we"
	if !c.ByDonor {
		asked = "We"
	}
	fmt.Fprintf(&b, "%s have cancelled your Gift Aid declaration to %s from %s. We will not claim Gift Aid on any gift you make from that date.\n\n",
		asked, charity, c.From.In(campaigns.London()).Format("2 January 2006"))
	b.WriteString("Gift Aid already claimed on your earlier gifts is not affected. We keep a record of your declaration and of its cancellation, as HMRC requires.\n\n")
	b.WriteString("If you did not ask for this, or you would like to Gift Aid your gifts again, reply to this email, or tick the Gift Aid box the next time you give.\n")
	if c.SignOff != "" {
		b.WriteString(c.SignOff)
	} else {
		fmt.Fprintf(&b, "\nWith our thanks,\n%s\n", charity)
	}
	return b.String()
}
