package ledger

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns/dbq"
)

// Kind is what a ledger entry records.
type Kind string

// The kinds of money fact. Amounts are signed effects on "raised": a gift adds, a refund
// takes away, a dispute holds money back until it is won (released) or lost.
const (
	KindGift           Kind = "gift"
	KindRefund         Kind = "refund"
	KindDisputeHold    Kind = "dispute_hold"
	KindDisputeRelease Kind = "dispute_release"
	KindDisputeLost    Kind = "dispute_lost"
	KindFee            Kind = "fee" // a Stripe fee learned after the gift was recorded
)

// totalShards must match the CHECK on totals.shard.
const totalShards = 8

// Where a money fact came from: its Source, and that source's SourceRef for it.
const (
	SourceStripe  = "stripe"  // SourceRef: a payment intent, invoice, charge or dispute id
	SourceOffline = "offline" // SourceRef: the offline taking's id
)

// Entry is one immutable money fact, keyed by its source reference (Source, SourceRef),
// Kind and Seq.
type Entry struct {
	AppealID      int64
	FundraiserID  int64  // 0: given to the appeal directly
	DonationID    string // "" when Stripe reported money for no donation we know
	Kind          Kind
	Source        string // SourceStripe or SourceOffline
	SourceRef     string // the source's id for the fact (see Source)
	Seq           string // distinguishes several facts of one kind on one object (cumulative refunds)
	ChargeID      string
	PaymentIntent string          // the payment intent the money moved through, to place later refunds
	Amount        decimal.Decimal // signed effect on raised
	Fee           decimal.Decimal // Stripe's fee, a cost
	GiftAidBase   decimal.Decimal // signed amount on which Gift Aid may be claimed
	Monthly       bool
	DonorKey      string // who gave, for the distinct-donor count (a Stripe customer id or a hash)
	OccurredAt    time.Time
	EventID       string
}

func (e Entry) validate() error {
	if e.AppealID == 0 || e.SourceRef == "" {
		return errors.New("ledger entry needs an appeal and a source reference")
	}
	if e.Source != SourceStripe && e.Source != SourceOffline {
		return fmt.Errorf("ledger entry source %q is neither %q nor %q", e.Source, SourceStripe, SourceOffline)
	}
	if e.OccurredAt.IsZero() {
		// When money moved is a fact of the event (or the taking), never the time it is applied.
		return errors.New("ledger entry needs the time the money moved")
	}
	for _, d := range []decimal.Decimal{e.Amount, e.Fee, e.GiftAidBase} {
		if !d.Equal(d.Round(2)) {
			return fmt.Errorf("ledger entry amount %s has fractions of a penny", d)
		}
	}
	sign := e.Amount.Sign()
	ok := map[Kind]bool{
		KindGift: sign > 0, KindRefund: sign < 0, KindDisputeHold: sign < 0,
		KindDisputeRelease: sign > 0, KindDisputeLost: sign < 0, KindFee: sign == 0,
	}
	if !ok[e.Kind] {
		return fmt.Errorf("ledger entry of kind %q cannot have amount %s", e.Kind, e.Amount)
	}
	return nil
}

// delta is what one entry adds to each total column.
type delta struct {
	gross, refunded, disputed, lost, fees, giftAidBase decimal.Decimal
	gifts                                              int64
}

func (e Entry) delta() delta {
	d := delta{fees: e.Fee, giftAidBase: e.GiftAidBase}
	switch e.Kind {
	case KindGift:
		d.gross, d.gifts = e.Amount, 1
	case KindRefund:
		d.refunded = e.Amount.Neg()
	case KindDisputeHold, KindDisputeRelease:
		d.disputed = e.Amount.Neg()
	case KindDisputeLost:
		d.lost = e.Amount.Neg()
	}
	return d
}

// shard spreads concurrent writers over the totals rows; any stable choice is correct
// because a read sums every shard. Every entry of one donation lands on the same shard, so
// a transaction that records several (a gift and the refund that waited for it; a dispute's
// hold, release and loss) locks rows in the same order as any other: no deadlock.
func (e Entry) shard() int16 {
	h := fnv.New32a()
	if e.DonationID != "" {
		h.Write([]byte(e.DonationID))
	} else {
		h.Write([]byte(e.SourceRef))
	}
	return int16(h.Sum32() % totalShards)
}

// Reverse is the entry that undoes gift in full: a refund of the same source reference,
// told apart from any refund the source itself reports by seq, at the moment at. The gift
// stays in the history, and every total it moved (raised, the Gift Aid base) moves back;
// its fee, a cost already paid, stays. Only a gift can be reversed: Record refuses the
// entry Reverse makes of anything else.
func Reverse(gift Entry, seq string, at time.Time) Entry {
	r := gift
	r.Kind, r.Seq, r.OccurredAt, r.EventID = KindRefund, seq, at, ""
	r.Amount, r.GiftAidBase, r.Fee = gift.Amount.Neg(), gift.GiftAidBase.Neg(), decimal.Zero
	if gift.Kind != KindGift {
		r.Kind = Kind("reversal of " + string(gift.Kind))
	}
	return r
}

// Record writes e to the ledger inside tx and moves every total it touches. It reports
// false, changing nothing, when the same money fact is already recorded: replays and
// duplicate webhook deliveries are harmless.
func Record(ctx context.Context, tx pgx.Tx, e Entry) (bool, error) {
	id, err := RecordID(ctx, tx, e)
	return id != 0, err
}

// RecordID is Record returning the new entry's id, 0 for a duplicate.
func RecordID(ctx context.Context, tx pgx.Tx, e Entry) (int64, error) {
	if batchOf(ctx) != nil {
		// In a batch (batch.go): the entry now, what it moves at the batch's end.
		ids, err := RecordIDs(ctx, tx, []Entry{e})
		if err != nil {
			return 0, err
		}
		return ids[0], nil
	}
	p, err := e.params()
	if err != nil {
		return 0, err
	}
	// One statement (queries/ledger.sql): the entry and, only if it is new, every total it moves.
	id, err := dbq.New(tx).RecordEntry(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("record %s %s %s: %w", e.Kind, e.Source, e.SourceRef, err)
	}
	return id, nil
}

// RecordIDs is RecordID for many entries in a batch (BeginBatch), with one statement for
// all of them (a batch's gifts). Of two entries for the same money fact, the first is
// recorded.
func RecordIDs(ctx context.Context, tx pgx.Tx, es []Entry) ([]int64, error) {
	b := batchOf(ctx)
	if b == nil {
		return nil, errors.New("ledger.RecordIDs outside a batch: record each entry with RecordID")
	}
	ps := make([]dbq.RecordEntryParams, len(es))
	for i, e := range es {
		var err error
		if ps[i], err = e.params(); err != nil {
			return nil, err
		}
	}
	ids, err := b.record(ctx, tx, ps, es)
	if err != nil {
		if len(es) == 1 {
			return nil, fmt.Errorf("record %s %s %s: %w", es[0].Kind, es[0].Source, es[0].SourceRef, err)
		}
		return nil, fmt.Errorf("record %d entries: %w", len(es), err)
	}
	return ids, nil
}

// params is what recording e writes: the entry and what it moves.
func (e Entry) params() (dbq.RecordEntryParams, error) {
	if err := e.validate(); err != nil {
		return dbq.RecordEntryParams{}, err
	}
	freq := "one_off"
	if e.Monthly {
		freq = "monthly"
	}
	d := e.delta()
	return dbq.RecordEntryParams{
		AppealID: e.AppealID, FundraiserID: e.FundraiserID, DonationID: e.DonationID, Kind: string(e.Kind),
		Source: e.Source, SourceRef: e.SourceRef, Seq: e.Seq, ChargeID: e.ChargeID, Amount: e.Amount, Fee: e.Fee,
		GiftAidBase: e.GiftAidBase, Frequency: freq, DonorKey: e.DonorKey, OccurredAt: e.OccurredAt,
		EventID: e.EventID, PaymentIntent: e.PaymentIntent,
		Shard: e.shard(), Gross: d.gross, Refunded: d.refunded, Disputed: d.disputed, Lost: d.lost, Fees: d.fees,
		TotalGiftAidBase: d.giftAidBase, Gifts: d.gifts,
	}, nil
}

// Totals are the figures derived from the ledger for one appeal or fundraiser page.
type Totals struct {
	Gross       decimal.Decimal // every gift as paid
	Refunded    decimal.Decimal
	Disputed    decimal.Decimal // held back by open disputes
	Lost        decimal.Decimal // taken back by lost disputes
	Fees        decimal.Decimal
	GiftAidBase decimal.Decimal
	Gifts       int64
	Donors      int64
	// GiftAidRate is the appeal's basic-rate Gift Aid rate (0.25).
	GiftAidRate decimal.Decimal
}

// Raised is what the appeal keeps: gifts less refunds, open disputes and lost disputes.
func (t Totals) Raised() decimal.Decimal {
	return t.Gross.Sub(t.Refunded).Sub(t.Disputed).Sub(t.Lost)
}

// Net is Raised less Stripe's fees.
func (t Totals) Net() decimal.Decimal { return t.Raised().Sub(t.Fees) }

// GiftAid is the tax the charity may reclaim on the eligible total.
func (t Totals) GiftAid() decimal.Decimal { return GiftAidTax(t.GiftAidBase, t.GiftAidRate) }

// GiftAidTax is the Gift Aid on an eligible total at the appeal's rate. HMRC computes a claim
// on the total, so the tax is rounded once, down to the penny, never per gift; this is the
// one place that rule lives for totals, the dashboard and claims.
func GiftAidTax(base, rate decimal.Decimal) decimal.Decimal {
	if base.Sign() <= 0 {
		return decimal.Zero
	}
	return base.Mul(rate).RoundFloor(2)
}

// Scope names the totals of an appeal or of one fundraiser page.
type Scope struct {
	Kind string // "appeal" or "fundraiser"
	ID   int64
}

// AppealScope and FundraiserScope build scopes.
func AppealScope(id int64) Scope     { return Scope{"appeal", id} }
func FundraiserScope(id int64) Scope { return Scope{"fundraiser", id} }

// ReadTotals sums the few shard rows of a scope: the cost does not depend on the size of
// the ledger. The Gift Aid rate is the appeal's (a fundraiser page's appeal's).
func ReadTotals(ctx context.Context, db dbq.DBTX, s Scope) (Totals, error) {
	r, err := dbq.New(db).ReadTotals(ctx, dbq.ReadTotalsParams{Scope: s.Kind, ScopeID: s.ID})
	if err != nil {
		return Totals{}, fmt.Errorf("read totals for %s %d: %w", s.Kind, s.ID, err)
	}
	return Totals(r), nil // the row's columns are Totals' fields, in order
}
