package donations

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
	"giving/campaigns/outbox"
)

// Direct Debit (Bacs) beside card. The donor chooses how to pay on the donate form; the
// donation keeps the choice (PaymentMethod) so that its thank-you page, its emails, the
// sandbox and the "cover the fee" offer know it before Stripe says anything. A Direct Debit
// takes three working days or more to collect: until Stripe says the money has arrived the
// donation is processing, which counts for nothing raised; trustees see it as processing.

// The ways to pay, as Stripe's payment_method_types name them.
const (
	MethodCard = "card"
	MethodBacs = "bacs_debit"
)

// PaymentSettings is what admins offer donors in /admin: card always, and Direct Debit for
// monthly gifts and for one-off gifts, each switched on or off.
type PaymentSettings struct {
	DirectDebitMonthly bool
	DirectDebitOneOff  bool
}

// Offers reports whether a gift (monthly or not) may be paid by method.
func (p PaymentSettings) Offers(method string, monthly bool) bool {
	switch method {
	case MethodCard:
		return true
	case MethodBacs:
		if monthly {
			return p.DirectDebitMonthly
		}
		return p.DirectDebitOneOff
	}
	return false
}

// OffersDirectDebit reports whether any gift may be paid by Direct Debit.
func (p PaymentSettings) OffersDirectDebit() bool { return p.DirectDebitMonthly || p.DirectDebitOneOff }

// PaymentSettingsNow reads the ways donors may pay.
func PaymentSettingsNow(ctx context.Context, db dbq.DBTX) (PaymentSettings, error) {
	r, err := dbq.New(db).PaymentSettings(ctx)
	if err != nil {
		return PaymentSettings{}, fmt.Errorf("payment settings: %w", err)
	}
	return PaymentSettings{DirectDebitMonthly: r.DirectDebitMonthly, DirectDebitOneOff: r.DirectDebitOneOff}, nil
}

// SetPaymentSettings changes the ways donors may pay, audited in the same transaction; the
// same settings sent again change nothing and write nothing.
func SetPaymentSettings(ctx context.Context, s *campaigns.Store, by audit.Actor, p PaymentSettings) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		n, err := dbq.New(tx).SetPaymentSettings(ctx, dbq.SetPaymentSettingsParams{
			DirectDebitMonthly: p.DirectDebitMonthly, DirectDebitOneOff: p.DirectDebitOneOff})
		if err != nil || n == 0 {
			return err
		}
		onOff := func(b bool) string {
			if b {
				return "on"
			}
			return "off"
		}
		return audit.Write(ctx, tx, by, "payment_methods.set", fmt.Sprintf("Direct Debit for monthly gifts %s, for one-off gifts %s",
			onOff(p.DirectDebitMonthly), onOff(p.DirectDebitOneOff)))
	})
}

// PaymentMethodOf is the way the donor chose to pay donationID ("" when not known).
func PaymentMethodOf(ctx context.Context, db dbq.DBTX, donationID string) (string, error) {
	id := uuidOrEmpty(donationID)
	if id == "" {
		return "", campaigns.ErrNotFound
	}
	m, err := dbq.New(db).DonationPaymentMethod(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", campaigns.ErrNotFound
	}
	return m, err
}

// Processing is an appeal's money on its way: donations whose Direct Debit is set up and
// not yet collected, in number and as the donors will pay them. None of it counts as raised.
func Processing(ctx context.Context, db dbq.DBTX, appealID int64) (gifts int64, amount decimal.Decimal, err error) {
	r, err := dbq.New(db).DashboardProcessing(ctx, appealID)
	if err != nil {
		return 0, decimal.Zero, fmt.Errorf("processing gifts: %w", err)
	}
	return r.Gifts, r.Amount, nil
}

// WaitingDirectDebit is a Direct Debit set up and not yet collected.
type WaitingDirectDebit struct {
	ID      string
	Total   decimal.Decimal // what the donor pays, any fee she covered included
	Monthly bool
	Email   string
	Since   time.Time // when it was set up
}

// SetUpOn is the day it was set up, as "5 January 2027".
func (w WaitingDirectDebit) SetUpOn() string { return UKDate(w.Since) }

// WaitingDirectDebits lists up to 50 Direct Debits waiting to be collected, newest first,
// among the checkout sessions whose ids start with sessionPrefix (the sandbox's own).
func WaitingDirectDebits(ctx context.Context, db dbq.DBTX, sessionPrefix string) ([]WaitingDirectDebit, error) {
	rows, err := dbq.New(db).WaitingDirectDebits(ctx, sessionPrefix)
	if err != nil {
		return nil, fmt.Errorf("waiting direct debits: %w", err)
	}
	out := make([]WaitingDirectDebit, len(rows))
	for i, r := range rows {
		out[i] = WaitingDirectDebit{ID: r.ID, Total: r.Total, Monthly: r.Monthly, Email: r.Email, Since: r.Since}
	}
	return out, nil
}

// FirstCollection is about when a Direct Debit set up at t is first collected: three
// working days later, London days, skipping Saturdays and Sundays. Bank holidays are not
// skipped (the date is "around", and Stripe's own advance notice gives the exact one).
func FirstCollection(t time.Time) time.Time {
	d := t.In(campaigns.London())
	d = time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, campaigns.London())
	for n := 0; n < 3; {
		d = d.AddDate(0, 0, 1)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return d
}

// DirectDebitSetUp queues, once per payment, the note that a one-off gift's Direct Debit
// is set up and when the money is collected; its receipt follows when the money arrives.
func (m *DonorMail) DirectDebitSetUp(ctx context.Context, tx pgx.Tx, donationID, object string, at time.Time) error {
	return m.send(ctx, tx, donationID, mailDirectDebitSetUp, object, at, func(v view) (string, string, error) {
		amount := v.Amount.Add(v.CoverFee)
		var b strings.Builder
		b.WriteString(greeting(v))
		fmt.Fprintf(&b, "Thank you for your gift of %s to %s. Your Direct Debit is set up; the payment is collected from your bank account around %s.\n\n",
			pounds(amount), v.AppealName, UKDate(FirstCollection(at)))
		b.WriteString("We will send your receipt as soon as the money reaches us. Your bank statement will show the payment; nothing more is taken.\n\n")
		b.WriteString(directDebitGuarantee)
		b.WriteString(m.signOff())
		return fmt.Sprintf("Your Direct Debit of %s to %s is set up", pounds(amount), v.AppealName), b.String(), nil
	})
}

// directDebitGuarantee is what every Direct Debit email says about the donor's protection.
const directDebitGuarantee = "Your payment is protected by the Direct Debit Guarantee (https://www.directdebit.co.uk/direct-debit-explained/direct-debit-guarantee/): " +
	"if an error is made in the amount or date of a payment, you are entitled to a full and immediate refund from your bank. " +
	"Stripe, who collects the payment for us, has emailed you the details of your Direct Debit instruction.\n"

const mailDirectDebitSetUp = "direct_debit_set_up"

// IndemnityClaim is a donor's bank taking back a Direct Debit payment (a Bacs dispute):
// final, with no time limit, recorded as a loss at once.
type IndemnityClaim struct {
	DonationID string
	Dispute    string          // Stripe's dispute id
	Amount     decimal.Decimal // what the bank took back
	GiftAt     time.Time       // when the gift had arrived
	At         time.Time
}

// TellTrusteesOfIndemnityClaim emails every trustee and admin which donor's bank reclaimed
// what, in the transaction that records the loss (call it once, for a new loss).
func TellTrusteesOfIndemnityClaim(ctx context.Context, tx pgx.Tx, c IndemnityClaim) error {
	q := dbq.New(tx)
	vs, err := details(ctx, tx, "indemnity claim", []string{c.DonationID}, []time.Time{c.At})
	if err != nil {
		return err
	}
	v := vs[0]
	to, err := q.TrusteeAddresses(ctx)
	if err != nil {
		return fmt.Errorf("indemnity claim: trustee addresses: %w", err)
	}
	who := strings.TrimSpace(v.DonorName)
	switch {
	case who != "" && v.Email != "":
		who += " (" + v.Email + ")"
	case v.Email != "":
		who = v.Email
	case who == "":
		who = "a donor whose details were erased"
	}
	what := "one-off gift"
	if v.Monthly {
		what = "monthly gift"
	}
	body := fmt.Sprintf(`The bank of %s has reclaimed %s under the Direct Debit Guarantee (an indemnity claim).

It was a payment of their %s to %s, received on %s. An indemnity claim is final and cannot be challenged, so it is recorded as a loss today, %s, and taken off the appeal's total.`,
		who, pounds(c.Amount), what, v.AppealName, UKDate(c.GiftAt), UKDate(c.At))
	if v.Monthly {
		body += " The monthly gift has been cancelled, so nothing more is collected."
	}
	body += fmt.Sprintf("\n\nStripe's reference for the claim: %s. Donation: %s.\n", c.Dispute, c.DonationID)
	for _, addr := range to {
		if err := outbox.QueueMail(ctx, tx, outbox.Mail{To: addr, Subject: fmt.Sprintf("A donor's bank reclaimed %s (Direct Debit indemnity claim)", pounds(c.Amount)), Body: body}); err != nil {
			return err
		}
	}
	return nil
}
