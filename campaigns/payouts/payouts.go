// Package payouts keeps Stripe's payouts broken into the balance transactions each paid
// out (charges, refunds, disputes, fees), matches every line to the ledger by its charge,
// lists what is not matched, and writes a month's payouts as a Xero precoded bank
// statement for a "Stripe clearing" account in which each payout nets to zero. Payouts
// reach it from Stripe (a job queued by each payout.paid event, or a trustee's catch-up,
// payments.FetchPayouts) or, in the sandbox, from the ledger itself (Sandbox, run daily by
// a River job as Stripe pays out daily, or by a trustee's button). Recording is idempotent
// and audited in the same transaction.
package payouts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/riverqueue/river"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
)

// The kinds of payout line.
const (
	Charge  = "charge"  // a gift paid by card
	Refund  = "refund"  // money given back
	Dispute = "dispute" // money held back for a dispute, or returned when it was won
	Fee     = "fee"     // a Stripe fee charged on its own (most fees come with their charge)
	Other   = "other"   // anything else Stripe moved
)

// Line is one balance transaction a payout paid out. Amount is gross and signed (money
// in positive), Fee what Stripe kept; Net is Amount less Fee.
type Line struct {
	TxnID       string
	Type        string
	SourceRef   string // the ch_, re_, du_ ... it moved money for
	ChargeID    string // the charge behind it, by which it is matched to the ledger
	Description string
	Amount      decimal.Decimal
	Fee         decimal.Decimal
	CreatedAt   time.Time
	// Matched is how many ledger entries the line matches; Fund the appeal they belong to.
	Matched int64
	Fund    string
	// LedgerEntryID is the entry a sandbox line was made from (0 from Stripe).
	LedgerEntryID int64
}

// Net is what the line added to the payout.
func (l Line) Net() decimal.Decimal { return l.Amount.Sub(l.Fee) }

// Unmatched reports a line the ledger has nothing for: a charge, refund or dispute of
// money this service never recorded (fees and other movements are not ledger money).
func (l Line) Unmatched() bool {
	return l.Matched == 0 && (l.Type == Charge || l.Type == Refund || l.Type == Dispute)
}

// Payout is one Stripe payout with its lines.
type Payout struct {
	ID          string
	Amount      decimal.Decimal // what reached the bank
	ArrivalDate time.Time       // a London day
	Status      string
	Sandbox     bool
	Lines       []Line
}

// Breakdown is a payout's lines summed by kind. Charges + Refunds + Disputes + Other -
// Fees is what the lines paid out, Difference what that leaves against the payout's amount
// (zero when Stripe's records are whole).
type Breakdown struct {
	Charges, Refunds, Disputes, Other, Fees decimal.Decimal
	ChargeCount                             int
	Net, Difference                         decimal.Decimal
}

// Breakdown sums the payout's lines.
func (p Payout) Breakdown() Breakdown {
	b := Breakdown{Charges: decimal.Zero, Refunds: decimal.Zero, Disputes: decimal.Zero, Other: decimal.Zero, Fees: decimal.Zero}
	for _, l := range p.Lines {
		switch l.Type {
		case Charge:
			b.Charges = b.Charges.Add(l.Amount)
			b.ChargeCount++
		case Refund:
			b.Refunds = b.Refunds.Add(l.Amount)
		case Dispute:
			b.Disputes = b.Disputes.Add(l.Amount)
		default:
			b.Other = b.Other.Add(l.Amount)
		}
		b.Fees = b.Fees.Add(l.Fee)
	}
	b.Net = b.Charges.Add(b.Refunds).Add(b.Disputes).Add(b.Other).Sub(b.Fees)
	b.Difference = p.Amount.Sub(b.Net)
	return b
}

// Unmatched lists the payout's lines the ledger has nothing for.
func (p Payout) Unmatched() []Line {
	var out []Line
	for _, l := range p.Lines {
		if l.Unmatched() {
			out = append(out, l)
		}
	}
	return out
}

// ArrivalText is the day the payout reached the bank, as people read it.
func (p Payout) ArrivalText() string { return p.ArrivalDate.Format("2 Jan 2006") }

func day(t time.Time) pgtype.Date {
	l := t.In(campaigns.London())
	return pgtype.Date{Time: time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC), Valid: true}
}

// RecordTx stores a payout and its lines in tx, once: a payout already stored is left as
// it is (false). An audit row names it.
func RecordTx(ctx context.Context, tx pgx.Tx, by audit.Actor, p Payout, now time.Time) (bool, error) {
	q := dbq.New(tx)
	n, err := q.InsertPayout(ctx, dbq.InsertPayoutParams{ID: p.ID, Amount: p.Amount, ArrivalDate: day(p.ArrivalDate), Status: p.Status,
		Sandbox: p.Sandbox, RecordedAt: now})
	if err != nil {
		return false, fmt.Errorf("record payout %s: %w", p.ID, err)
	}
	if n == 0 {
		return false, nil
	}
	for _, l := range p.Lines {
		var entry *int64
		if l.LedgerEntryID != 0 {
			entry = &l.LedgerEntryID
		}
		if err := q.InsertPayoutLine(ctx, dbq.InsertPayoutLineParams{TxnID: l.TxnID, PayoutID: p.ID, Type: l.Type, SourceRef: l.SourceRef,
			ChargeID: l.ChargeID, LedgerEntryID: entry, Description: l.Description, Amount: l.Amount, Fee: l.Fee, CreatedAt: l.CreatedAt}); err != nil {
			return false, fmt.Errorf("record payout %s line %s: %w", p.ID, l.TxnID, err)
		}
	}
	b := p.Breakdown()
	if err := audit.Write(ctx, tx, by, "payout recorded", fmt.Sprintf("%s of %s arriving %s: %d lines, charges %s, refunds %s, disputes %s, fees %s",
		p.ID, p.Amount.StringFixed(2), p.ArrivalText(), len(p.Lines), b.Charges.StringFixed(2), b.Refunds.StringFixed(2),
		b.Disputes.StringFixed(2), b.Fees.StringFixed(2))); err != nil {
		return false, err
	}
	return true, nil
}

// Record is RecordTx in a transaction of its own.
func Record(ctx context.Context, s *campaigns.Store, by audit.Actor, p Payout) (bool, error) {
	return campaigns.InTxValue(ctx, s, func(tx pgx.Tx) (bool, error) { return RecordTx(ctx, tx, by, p, s.Now()) })
}

// Month is the payouts that reached the bank in one London month, with their lines.
func Month(ctx context.Context, s *campaigns.Store, year int, month time.Month) ([]Payout, error) {
	from := time.Date(year, month, 1, 0, 0, 0, 0, campaigns.London())
	return Arriving(ctx, s, from, from.AddDate(0, 1, 0))
}

// Arriving is the payouts that reached the bank on the London days [from, to), oldest
// first, with their lines matched to the ledger.
func Arriving(ctx context.Context, s *campaigns.Store, from, to time.Time) ([]Payout, error) {
	var out []Payout
	err := pgx.BeginTxFunc(ctx, s.Pool(), pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		rows, err := q.PayoutsArriving(ctx, dbq.PayoutsArrivingParams{FromDay: day(from), ToDay: day(to)})
		if err != nil {
			return err
		}
		ids := make([]string, len(rows))
		index := map[string]int{}
		for i, r := range rows {
			a := r.ArrivalDate.Time
			out = append(out, Payout{ID: r.ID, Amount: r.Amount, ArrivalDate: time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, campaigns.London()),
				Status: r.Status, Sandbox: r.Sandbox})
			ids[i], index[r.ID] = r.ID, i
		}
		if len(ids) == 0 {
			return nil
		}
		lines, err := q.PayoutLines(ctx, ids)
		if err != nil {
			return err
		}
		for _, l := range lines {
			p := &out[index[l.PayoutID]]
			p.Lines = append(p.Lines, Line{TxnID: l.TxnID, Type: l.Type, SourceRef: l.SourceRef, ChargeID: l.ChargeID,
				Description: l.Description, Amount: l.Amount, Fee: l.Fee, CreatedAt: l.CreatedAt, Matched: l.MatchedEntries, Fund: l.Appeal})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("payouts arriving %s to %s: %w", from.Format("2006-01-02"), to.Format("2006-01-02"), err)
	}
	return out, nil
}

// ErrNothingToPayOut is the sandbox's answer when no money waits to be paid out.
var ErrNothingToPayOut = errors.New("nothing to pay out")

// Sandbox pays out, as Stripe would, the ledger's Stripe money that no sandbox payout has
// paid yet: each gift a charge (with its fee), each refund, dispute hold or release, and
// each fee learned later, one line per ledger entry, arriving today. Nothing waiting, or
// a total that is not positive, is ErrNothingToPayOut (Stripe would not pay out either).
func Sandbox(ctx context.Context, s *campaigns.Store, by audit.Actor) (Payout, error) {
	return campaigns.InTxValue(ctx, s, func(tx pgx.Tx) (Payout, error) {
		// One sandbox payout at a time: the daily one and a trustee's may meet.
		if err := dbq.New(tx).LockSandboxPayouts(ctx); err != nil {
			return Payout{}, err
		}
		now := s.Now()
		rows, err := dbq.New(tx).SandboxUnpaid(ctx)
		if err != nil {
			return Payout{}, err
		}
		p := Payout{ID: fmt.Sprintf("po_sandbox_%d", now.UnixNano()), Status: "paid", Sandbox: true, ArrivalDate: now.In(campaigns.London()), Amount: decimal.Zero}
		for _, r := range rows {
			l := Line{TxnID: fmt.Sprintf("txn_sandbox_%d", r.ID), SourceRef: r.SourceRef, ChargeID: r.ChargeID, Amount: r.Amount, Fee: r.Fee,
				CreatedAt: r.OccurredAt, LedgerEntryID: r.ID}
			switch r.Kind {
			case "gift":
				l.Type, l.Description = Charge, "Gift"
			case "refund":
				l.Type, l.Description = Refund, "Refund"
			case "fee":
				l.Type, l.Description = Fee, "Stripe fee"
			default:
				l.Type, l.Description = Dispute, "Dispute"
			}
			p.Lines = append(p.Lines, l)
			p.Amount = p.Amount.Add(l.Net())
		}
		if len(p.Lines) == 0 || p.Amount.Sign() <= 0 {
			return Payout{}, ErrNothingToPayOut
		}
		if _, err := RecordTx(ctx, tx, by, p, now); err != nil {
			return Payout{}, err
		}
		return p, nil
	})
}

// automatic is who records a payout nobody pressed a button for.
type automatic string

func (a automatic) AuditActor() (int64, string) { return 0, string(a) }

// The audit log's names for payouts recorded on their own: as Stripe announced them
// (payout.paid), and as the sandbox paid them out on its daily round.
var (
	StripeActor  audit.Actor = automatic("stripe (payout.paid)")
	SandboxActor audit.Actor = automatic("sandbox (daily payout)")
)

// SandboxPayoutJob pays out the sandbox's ledger, as Stripe pays out on its own each day
// (see SandboxPayouts). Its runs are unique by day, so restarting the service does not pay
// out again the same day.
type SandboxPayoutJob struct{}

func (SandboxPayoutJob) Kind() string { return "sandbox_payout" }

func (SandboxPayoutJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: campaigns.JobQueueStripe, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: SandboxPayoutEvery}}
}

// SandboxPayoutEvery is how often the sandbox pays out: daily, like Stripe's automatic payouts.
const SandboxPayoutEvery = 24 * time.Hour

// SandboxPayoutWorker works SandboxPayoutJob: nothing waiting to be paid out is not an error.
type SandboxPayoutWorker struct {
	river.WorkerDefaults[SandboxPayoutJob]
	Store *campaigns.Store
}

func (w *SandboxPayoutWorker) Work(ctx context.Context, _ *river.Job[SandboxPayoutJob]) error {
	_, err := Sandbox(ctx, w.Store, SandboxActor)
	if errors.Is(err, ErrNothingToPayOut) {
		return nil
	}
	return err
}

// SandboxPayouts registers the worker that pays out the sandbox's ledger and returns its
// daily schedule (first run at start), for the sandbox's job client only: with a Stripe
// key, payouts come from Stripe.
func SandboxPayouts(workers *river.Workers, s *campaigns.Store) *river.PeriodicJob {
	river.AddWorker(workers, &SandboxPayoutWorker{Store: s})
	return river.NewPeriodicJob(river.PeriodicInterval(SandboxPayoutEvery),
		func() (river.JobArgs, *river.InsertOpts) { return SandboxPayoutJob{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})
}

// ClearingAccount names the Xero bank account the export is for.
const ClearingAccount = "Stripe clearing"

// WriteXero writes payouts as a Xero precoded bank statement for the Stripe clearing
// account: Date (DD/MM/YYYY), Amount (money into the clearing account positive), Payee,
// Description, Reference, and Fund (the appeal the money belongs to, where the ledger
// knows it, for a tracking category). Each charge, refund and dispute is a line on the
// day Stripe moved it; the payout's fees are one line; anything Stripe's list did not
// itemise is one line; the payout itself leaves the clearing account for the bank on its
// arrival day. So each payout nets to zero.
func WriteXero(w io.Writer, payouts []Payout) error {
	c := campaigns.NewCSVWriter(w)
	c.Header("Date", "Amount", "Payee", "Description", "Reference", "Fund")
	date := func(t time.Time) string { return t.In(campaigns.London()).Format("02/01/2006") }
	for _, p := range payouts {
		fees := decimal.Zero
		for _, l := range p.Lines {
			fees = fees.Add(l.Fee)
			if l.Amount.IsZero() {
				continue
			}
			payee := "Donor"
			switch l.Type {
			case Dispute:
				payee = "Card dispute"
			case Fee, Other:
				payee = "Stripe"
			}
			desc := l.Description
			if desc == "" {
				desc = l.Type
			}
			c.Row(campaigns.CSVText(date(l.CreatedAt)), campaigns.CSVAmount(l.Amount), campaigns.CSVText(payee),
				campaigns.CSVText(desc+" (payout "+p.ID+")"), campaigns.CSVText(l.SourceRef), campaigns.CSVText(l.Fund))
		}
		if diff := p.Breakdown().Difference; !diff.IsZero() {
			// Stripe's list did not explain the whole payout: the rest shows as itself.
			c.Row(campaigns.CSVText(date(p.ArrivalDate)), campaigns.CSVAmount(diff), campaigns.CSVText("Stripe"),
				campaigns.CSVText("Not itemised by Stripe in payout "+p.ID), campaigns.CSVText(p.ID), campaigns.CSVText(""))
		}
		if !fees.IsZero() {
			c.Row(campaigns.CSVText(date(p.ArrivalDate)), campaigns.CSVAmount(fees.Neg()), campaigns.CSVText("Stripe"),
				campaigns.CSVText("Stripe fees in payout "+p.ID), campaigns.CSVText(p.ID), campaigns.CSVText(""))
		}
		c.Row(campaigns.CSVText(date(p.ArrivalDate)), campaigns.CSVAmount(p.Amount.Neg()), campaigns.CSVText("Bank account"),
			campaigns.CSVText("Payout to the bank"), campaigns.CSVText(p.ID), campaigns.CSVText(""))
	}
	return c.Flush()
}
