package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"giving/campaigns"
	"giving/campaigns/dbq"
	"giving/campaigns/ledger"
)

// Reconciler compares what Stripe says happened with what the ledger holds, and with
// recovery on, applies what went missing through the webhook's own idempotent path.
type Reconciler struct {
	API      *client.API
	Store    *campaigns.Store
	Webhooks *Webhooks // applies recovered events and learned fees exactly as a delivery would
}

// The kinds of Difference.
const (
	MissingLocally  = "missing_locally"   // Stripe has money the ledger lacks
	MissingAtStripe = "missing_at_stripe" // the ledger has a gift Stripe did not list
	AmountMismatch  = "amount_mismatch"   // both have it, with different amounts or outcomes
)

// Difference is one disagreement between Stripe and the ledger.
type Difference struct {
	Kind   string // MissingLocally, MissingAtStripe or AmountMismatch
	Object string // the Stripe object it is about (a charge, dispute, payment intent or invoice)
	Stripe string // what Stripe says, for people
	Ledger string // what the ledger says, for people
	Detail string
	// NotMatched marks a Stripe record no ledger entry matches, so no appeal can be named
	// for it: it is listed whichever appeal the report is for.
	NotMatched bool
}

func (d Difference) String() string {
	return fmt.Sprintf("%s %s: Stripe %s; ledger %s (%s)", d.Kind, d.Object, d.Stripe, d.Ledger, d.Detail)
}

// Listed counts what Stripe returned for the period.
type Listed struct {
	Charges     int // charges created in the period (any status or currency)
	Refunds     int
	Disputes    int
	Payouts     int
	Undelivered int // events of the handled types Stripe could not deliver to every endpoint
}

// RecoveredEvent is one undelivered event and what applying it did ("applied",
// "duplicate", "deferred", ...), or "not stored" / "stored" when recovery was off.
type RecoveredEvent struct {
	ID, Type, Outcome string
}

// StripeTotals are Stripe's GBP records of a period: the settled charges created in it,
// and the refunds and disputes created in it that did not fail.
type StripeTotals struct {
	Charges  int
	Charged  decimal.Decimal
	Refunds  int
	Refunded decimal.Decimal
	Disputes int
	Disputed decimal.Decimal
}

func (t StripeTotals) String() string {
	return fmt.Sprintf("%s %s, %s %s, %s %s", count(t.Charges, "charge"), FormatPounds(t.Charged),
		count(t.Refunds, "refund"), FormatPounds(t.Refunded), count(t.Disputes, "dispute"), FormatPounds(t.Disputed))
}

// count is "1 charge", "2 charges".
func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// LedgerTotals are the ledger's gifts from Stripe that occurred in the period.
type LedgerTotals struct {
	Gifts  int
	Amount decimal.Decimal
}

// Report is what one reconciliation found. For one appeal (AppealID not 0) everything
// but the payouts and undelivered events, which are the whole account's, is limited to
// that appeal: the ledger's entries of the appeal, and the Stripe records whose payment
// the ledger matches to one of its gifts. Stripe records the ledger matches to no appeal
// are in every report, counted in NotMatched and marked in Differences.
type Report struct {
	AppealID     int64  // 0: every appeal
	Appeal       string // the appeal's name, for people ("" for every appeal)
	Since, Until time.Time
	Listed       Listed
	NotGBP       int             // charges, refunds and disputes in another currency: never ours to count
	PaidOut      decimal.Decimal // GBP payouts paid in the period, for the trustees' bank check
	Recover      bool
	Events       []RecoveredEvent
	FeesRecorded int
	Stripe       StripeTotals // Stripe's records the ledger matches to the appeal (to any appeal, for every appeal)
	NotMatched   StripeTotals // Stripe's records the ledger matches to no appeal
	Ledger       LedgerTotals
	Differences  []Difference
}

// reconcileMargin widens the charge listing backwards: a gift recorded just after the
// period began may belong to a charge created just before it (a bank payment takes days to
// succeed), and must not be reported missing at Stripe.
const reconcileMargin = 7 * 24 * time.Hour

// Run lists Stripe's charges, refunds, disputes and payouts created since the given time,
// and its undelivered events, and compares them with the ledger. With recover it first
// applies the undelivered events and records fees the ledger lacks, both as events through
// the webhook's path, so duplicates change nothing and `giving replay` rebuilds them;
// without it, Run writes nothing.
func (r *Reconciler) Run(ctx context.Context, since time.Time, recover bool) (Report, error) {
	return r.RunFor(ctx, since, recover, 0)
}

// RunFor is Run for one appeal (every appeal with appealID 0): recovery, when on, is for
// the whole account as in Run, then the comparison is limited to the appeal's ledger
// entries and the Stripe records that belong to it (see Report).
func (r *Reconciler) RunFor(ctx context.Context, since time.Time, recover bool, appealID int64) (Report, error) {
	if r.API == nil || r.Store == nil || r.Webhooks == nil {
		return Report{}, errors.New("reconcile: needs a Stripe client, a store and the webhook handler")
	}
	rep := Report{AppealID: appealID, Since: since, Recover: recover, PaidOut: decimal.Zero}

	if err := r.events(ctx, &rep); err != nil {
		return rep, err
	}
	rep.Until = r.Store.Now()
	s, err := r.list(ctx, since, &rep)
	if err != nil {
		return rep, err
	}
	l, err := r.readLedger(ctx, s, since, rep.Until)
	if err != nil {
		return rep, err
	}
	if recover {
		n, err := r.recordFees(ctx, s, l)
		if err != nil {
			return rep, err
		}
		if rep.FeesRecorded = n; n > 0 {
			if l, err = r.readLedger(ctx, s, since, rep.Until); err != nil {
				return rep, err
			}
		}
	}
	s, l = forAppeal(s, l, appealID)
	rep.Listed.Charges, rep.Listed.Refunds, rep.Listed.Disputes, rep.NotGBP = s.count(since)
	rep.Stripe, rep.NotMatched, rep.Ledger = totals(s, l, since)
	rep.Differences = compareWithStripe(s, l, since)
	for i, d := range rep.Differences {
		rep.Differences[i].NotMatched = s.notMatched[d.Object]
	}
	return rep, nil
}

// events lists undelivered events of the handled types and, with recovery, applies each.
func (r *Reconciler) events(ctx context.Context, rep *Report) error {
	p := &stripe.EventListParams{DeliverySuccess: stripe.Bool(false), Types: stripe.StringSlice(HandledEvents)}
	p.Context = ctx
	p.Limit = stripe.Int64(100)
	p.CreatedRange = &stripe.RangeQueryParams{GreaterThanOrEqual: rep.Since.Unix()}
	var list []*stripe.Event
	it := r.API.Events.List(p)
	for it.Next() {
		list = append(list, it.Event())
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("reconcile: list undelivered events: %w", err)
	}
	rep.Listed.Undelivered = len(list)
	// Stripe lists newest first; apply oldest first, as they happened.
	sort.SliceStable(list, func(i, j int) bool { return list[i].Created < list[j].Created })
	stored := map[string]bool{}
	if !rep.Recover && len(list) > 0 {
		ids := make([]string, len(list))
		for i, e := range list {
			ids[i] = e.ID
		}
		got, err := dbq.New(r.Store.Pool()).ReconcileStoredEventIDs(ctx, ids)
		if err != nil {
			return fmt.Errorf("reconcile: read stored events: %w", err)
		}
		for _, id := range got {
			stored[id] = true
		}
	}
	for _, e := range list {
		ev := RecoveredEvent{ID: e.ID, Type: string(e.Type)}
		switch {
		case rep.Recover:
			// stripe.Event marshals data.object from its raw bytes: the body is the event as
			// Stripe rendered it, and the same id makes an already-stored event a duplicate.
			body, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("reconcile: encode event %s: %w", e.ID, err)
			}
			if ev.Outcome, err = r.Webhooks.Apply(ctx, body); err != nil {
				return fmt.Errorf("reconcile: apply event %s: %w", e.ID, err)
			}
		case stored[e.ID]:
			ev.Outcome = "stored"
		default:
			ev.Outcome = "not stored"
		}
		rep.Events = append(rep.Events, ev)
	}
	return nil
}

// stripeLists is what Stripe listed.
type stripeLists struct {
	charges  []*stripe.Charge // created since the period began less the margin
	refunds  []*stripe.Refund
	disputes []*stripe.Dispute
	// notMatched names the charges, refunds and disputes (and the charges refunded or
	// disputed) that the ledger matches to no appeal; set by forAppeal.
	notMatched map[string]bool
}

// count is what the lists hold: charges created since the period began, refunds and
// disputes, and of those how many are not in GBP.
func (s stripeLists) count(since time.Time) (charges, refunds, disputes, notGBP int) {
	for _, ch := range s.charges {
		if ch.Created >= since.Unix() {
			charges++
			if CheckCurrency(string(ch.Currency)) != nil {
				notGBP++
			}
		}
	}
	for _, rf := range s.refunds {
		if CheckCurrency(string(rf.Currency)) != nil {
			notGBP++
		}
	}
	for _, d := range s.disputes {
		if CheckCurrency(string(d.Currency)) != nil {
			notGBP++
		}
	}
	return charges, len(s.refunds), len(s.disputes), notGBP
}

// appealOf is the appeal of the ledger's entries for a Stripe record: those of its payment
// intent, its charge or invoice, or the record itself; 0 when the ledger has none. Every
// entry of one payment belongs to the appeal of its donation.
func (l recLedger) appealOf(pi, charge, invoice, object string) int64 {
	e, _ := l.first(anyEntry, at(l.byPI, pi), at(l.byCharge, charge), at(l.byObject, charge),
		at(l.byObject, invoice), at(l.byObject, object))
	return e.appeal
}

// forAppeal limits the lists and the ledger to one appeal (none for appealID 0): its
// ledger gifts, and the Stripe records whose payment the ledger matches to it. Records
// the ledger matches to no appeal are kept whatever the appeal, and named in notMatched.
func forAppeal(s stripeLists, l recLedger, appealID int64) (stripeLists, recLedger) {
	out := stripeLists{notMatched: map[string]bool{}}
	keep := func(appeal int64, ids ...string) bool {
		if appeal == 0 {
			for _, id := range ids {
				if id != "" {
					out.notMatched[id] = true
				}
			}
		}
		return appealID == 0 || appeal == 0 || appeal == appealID
	}
	for _, ch := range s.charges {
		if keep(l.appealOf(idOf(ch.PaymentIntent), ch.ID, idOf(ch.Invoice), ""), ch.ID) {
			out.charges = append(out.charges, ch)
		}
	}
	for _, rf := range s.refunds {
		pi, charge, invoice := idOf(rf.PaymentIntent), idOf(rf.Charge), ""
		if ch := rf.Charge; ch != nil {
			invoice = idOf(ch.Invoice)
			if pi == "" {
				pi = idOf(ch.PaymentIntent)
			}
		}
		if keep(l.appealOf(pi, charge, invoice, ""), rf.ID, charge) {
			out.refunds = append(out.refunds, rf)
		}
	}
	for _, d := range s.disputes {
		if keep(l.appealOf(idOf(d.PaymentIntent), idOf(d.Charge), "", d.ID), d.ID) {
			out.disputes = append(out.disputes, d)
		}
	}
	if appealID == 0 {
		return out, l
	}
	mine := l
	mine.gifts = nil
	for _, g := range l.gifts {
		if g.appeal == appealID {
			mine.gifts = append(mine.gifts, g)
		}
	}
	return out, mine
}

// totals adds up Stripe's GBP records of the period, matched to an appeal and not, and
// the ledger's gifts.
func totals(s stripeLists, l recLedger, since time.Time) (matched, notMatched StripeTotals, ledgerSide LedgerTotals) {
	matched = StripeTotals{Charged: decimal.Zero, Refunded: decimal.Zero, Disputed: decimal.Zero}
	notMatched = matched
	side := func(id string) *StripeTotals {
		if s.notMatched[id] {
			return &notMatched
		}
		return &matched
	}
	for _, ch := range s.charges {
		if ch.Created < since.Unix() || !chargeSettled(ch) || CheckCurrency(string(ch.Currency)) != nil {
			continue
		}
		t := side(ch.ID)
		t.Charges++
		t.Charged = t.Charged.Add(FromPence(ch.Amount))
	}
	for _, rf := range s.refunds {
		if CheckCurrency(string(rf.Currency)) != nil || rf.Status == stripe.RefundStatusFailed || rf.Status == stripe.RefundStatusCanceled {
			continue
		}
		t := side(rf.ID)
		t.Refunds++
		t.Refunded = t.Refunded.Add(FromPence(rf.Amount))
	}
	for _, d := range s.disputes {
		if CheckCurrency(string(d.Currency)) != nil {
			continue
		}
		t := side(d.ID)
		t.Disputes++
		t.Disputed = t.Disputed.Add(FromPence(d.Amount))
	}
	ledgerSide.Amount = decimal.Zero
	for _, g := range l.gifts {
		ledgerSide.Gifts++
		ledgerSide.Amount = ledgerSide.Amount.Add(g.amount)
	}
	return matched, notMatched, ledgerSide
}

func createdFrom(since time.Time) *stripe.RangeQueryParams {
	return &stripe.RangeQueryParams{GreaterThanOrEqual: since.Unix()}
}

func (r *Reconciler) list(ctx context.Context, since time.Time, rep *Report) (stripeLists, error) {
	var s stripeLists
	cp := &stripe.ChargeListParams{CreatedRange: createdFrom(since.Add(-reconcileMargin))}
	cp.Context, cp.Limit = ctx, stripe.Int64(100)
	// The fee lives on the balance transaction, which Stripe names by id unless expanded.
	cp.AddExpand("data.balance_transaction")
	ci := r.API.Charges.List(cp)
	for ci.Next() {
		s.charges = append(s.charges, ci.Charge())
	}
	if err := ci.Err(); err != nil {
		return s, fmt.Errorf("reconcile: list charges: %w", err)
	}

	rp := &stripe.RefundListParams{CreatedRange: createdFrom(since)}
	rp.Context, rp.Limit = ctx, stripe.Int64(100)
	// A refund in the period may be of a charge from before it: its cumulative
	// amount_refunded comes with the expanded charge.
	rp.AddExpand("data.charge")
	ri := r.API.Refunds.List(rp)
	for ri.Next() {
		s.refunds = append(s.refunds, ri.Refund())
	}
	if err := ri.Err(); err != nil {
		return s, fmt.Errorf("reconcile: list refunds: %w", err)
	}

	dp := &stripe.DisputeListParams{CreatedRange: createdFrom(since)}
	dp.Context, dp.Limit = ctx, stripe.Int64(100)
	di := r.API.Disputes.List(dp)
	for di.Next() {
		s.disputes = append(s.disputes, di.Dispute())
	}
	if err := di.Err(); err != nil {
		return s, fmt.Errorf("reconcile: list disputes: %w", err)
	}

	pp := &stripe.PayoutListParams{CreatedRange: createdFrom(since)}
	pp.Context, pp.Limit = ctx, stripe.Int64(100)
	poi := r.API.Payouts.List(pp)
	for poi.Next() {
		po := poi.Payout()
		rep.Listed.Payouts++
		if po.Status == stripe.PayoutStatusPaid && CheckCurrency(string(po.Currency)) == nil {
			rep.PaidOut = rep.PaidOut.Add(FromPence(po.Amount))
		}
	}
	if err := poi.Err(); err != nil {
		return s, fmt.Errorf("reconcile: list payouts: %w", err)
	}

	return s, nil
}

// recEntry is the part of a ledger entry reconciliation compares.
type recEntry struct {
	kind               ledger.Kind
	object, charge, pi string
	amount, fee        decimal.Decimal
	occurredAt         time.Time
	appeal             int64
}

// recLedger is the ledger's side: every entry touching a listed object, and the gifts
// recorded in the period. The entries are found by payment intent, charge and object
// through maps of their positions (each list in the entries' order), so comparing a
// period's Stripe records costs one lookup each, not a pass over every entry.
type recLedger struct {
	entries                  []recEntry
	gifts                    []recEntry // gifts that occurred in [since, until)
	byPI, byCharge, byObject map[string][]int
}

func newRecLedger(entries, gifts []recEntry) recLedger {
	l := recLedger{entries: entries, gifts: gifts,
		byPI: map[string][]int{}, byCharge: map[string][]int{}, byObject: map[string][]int{}}
	for i, e := range entries {
		for _, k := range []struct {
			m   map[string][]int
			key string
		}{{l.byPI, e.pi}, {l.byCharge, e.charge}, {l.byObject, e.object}} {
			if k.key != "" {
				k.m[k.key] = append(k.m[k.key], i)
			}
		}
	}
	return l
}

// first is the earliest entry, among those at the positions listed, that want accepts.
func (l recLedger) first(want func(recEntry) bool, lists ...[]int) (recEntry, bool) {
	best := -1
	for _, list := range lists {
		for _, i := range list {
			if best >= 0 && i >= best {
				break
			}
			if want(l.entries[i]) {
				best = i
				break
			}
		}
	}
	if best < 0 {
		return recEntry{}, false
	}
	return l.entries[best], true
}

// at is m's positions for key; none for an empty key.
func at(m map[string][]int, key string) []int {
	if key == "" {
		return nil
	}
	return m[key]
}

func anyEntry(recEntry) bool { return true }

func (r *Reconciler) readLedger(ctx context.Context, s stripeLists, since, until time.Time) (recLedger, error) {
	var entries, giftsIn []recEntry
	var pis, charges, objects []string
	add := func(list *[]string, v string) {
		if v != "" {
			*list = append(*list, v)
		}
	}
	for _, ch := range s.charges {
		add(&pis, idOf(ch.PaymentIntent))
		add(&charges, ch.ID)
		add(&objects, idOf(ch.Invoice))
	}
	// A refund or dispute may be of a charge from before the period: its payment's
	// entries name the appeal it belongs to.
	for _, rf := range s.refunds {
		add(&charges, idOf(rf.Charge))
		add(&pis, idOf(rf.PaymentIntent))
		if ch := rf.Charge; ch != nil {
			add(&pis, idOf(ch.PaymentIntent))
			add(&objects, idOf(ch.Invoice))
		}
	}
	for _, d := range s.disputes {
		add(&objects, d.ID)
		add(&charges, idOf(d.Charge))
		add(&pis, idOf(d.PaymentIntent))
	}
	toEntry := func(e ledger.Entry) recEntry {
		return recEntry{kind: e.Kind, object: e.SourceRef, charge: e.ChargeID, pi: e.PaymentIntent,
			amount: e.Amount, fee: e.Fee, occurredAt: e.OccurredAt, appeal: e.AppealID}
	}
	// One snapshot, so an event applied meanwhile cannot make the two reads disagree.
	err := pgx.BeginTxFunc(ctx, r.Store.Pool(), pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		touching, err := ledger.StripeEntriesTouching(ctx, tx, pis, charges, objects)
		if err != nil {
			return err
		}
		for _, e := range touching {
			entries = append(entries, toEntry(e))
		}
		gifts, err := ledger.StripeGiftsBetween(ctx, tx, since, until)
		if err != nil {
			return err
		}
		for _, e := range gifts {
			giftsIn = append(giftsIn, toEntry(e))
		}
		return nil
	})
	if err != nil {
		return recLedger{}, fmt.Errorf("reconcile: read the ledger: %w", err)
	}
	return newRecLedger(entries, giftsIn), nil
}

// gift is the ledger's gift for a charge: a one-off gift is keyed by its payment intent, a
// monthly one by its invoice and carries the charge.
func (l recLedger) gift(ch *stripe.Charge) (recEntry, bool) {
	return l.first(func(e recEntry) bool { return e.kind == ledger.KindGift },
		at(l.byPI, idOf(ch.PaymentIntent)), at(l.byCharge, ch.ID), at(l.byObject, idOf(ch.Invoice)))
}

func (l recLedger) refunded(chargeID string) (decimal.Decimal, bool) {
	sum, found := decimal.Zero, false
	for _, i := range at(l.byCharge, chargeID) {
		if e := l.entries[i]; e.kind == ledger.KindRefund {
			sum, found = sum.Sub(e.amount), true
		}
	}
	return sum, found
}

func (l recLedger) entry(object string, kind ledger.Kind) (recEntry, bool) {
	return l.first(func(e recEntry) bool { return e.kind == kind }, at(l.byObject, object))
}

// settled is a charge that moved money: paid, captured and succeeded.
func chargeSettled(ch *stripe.Charge) bool {
	return ch.Status == stripe.ChargeStatusSucceeded && ch.Paid && ch.Captured
}

func describeCharge(ch *stripe.Charge) string {
	s := FormatPounds(FromPence(ch.Amount)) + " charge"
	if pi := idOf(ch.PaymentIntent); pi != "" {
		s += " of " + pi
	}
	if in := idOf(ch.Invoice); in != "" {
		s += " for invoice " + in
	}
	return s
}

func compareWithStripe(s stripeLists, l recLedger, since time.Time) []Difference {
	var diffs []Difference
	checked := map[string]bool{} // charges whose refunds were compared
	for _, ch := range s.charges {
		if ch.Created < since.Unix() || !chargeSettled(ch) || CheckCurrency(string(ch.Currency)) != nil {
			continue
		}
		g, ok := l.gift(ch)
		if !ok {
			diffs = append(diffs, Difference{Kind: MissingLocally, Object: ch.ID, Stripe: describeCharge(ch),
				Ledger: "no gift", Detail: "a paid charge the ledger has no gift for"})
			continue
		}
		if want := FromPence(ch.Amount); !g.amount.Equal(want) {
			diffs = append(diffs, Difference{Kind: AmountMismatch, Object: ch.ID, Stripe: describeCharge(ch),
				Ledger: FormatPounds(g.amount) + " gift " + g.object, Detail: "gift amount"})
		}
		checked[ch.ID] = true
		diffs = append(diffs, compareRefunds(ch, l)...)
		if bt := ch.BalanceTransaction; bt != nil && bt.Fee != 0 {
			fee, ok := l.entry(ch.ID, ledger.KindFee)
			switch {
			case !ok:
				diffs = append(diffs, Difference{Kind: MissingLocally, Object: ch.ID, Stripe: FormatPounds(FromPence(bt.Fee)) + " fee",
					Ledger: "no fee", Detail: "fee; --recover records it"})
			case !fee.fee.Equal(FromPence(bt.Fee)):
				diffs = append(diffs, Difference{Kind: AmountMismatch, Object: ch.ID, Stripe: FormatPounds(FromPence(bt.Fee)) + " fee",
					Ledger: FormatPounds(fee.fee) + " fee", Detail: "fee"})
			}
		}
	}
	for _, rf := range s.refunds {
		ch := rf.Charge
		if ch == nil || checked[ch.ID] || CheckCurrency(string(rf.Currency)) != nil ||
			rf.Status == stripe.RefundStatusFailed || rf.Status == stripe.RefundStatusCanceled {
			continue
		}
		checked[ch.ID] = true
		if ch.Amount == 0 && ch.AmountRefunded == 0 {
			// The charge came back as an id only: all that can be said is whether the
			// ledger holds any refund of it.
			if _, ok := l.refunded(ch.ID); !ok {
				diffs = append(diffs, Difference{Kind: MissingLocally, Object: ch.ID, Stripe: FormatPounds(FromPence(rf.Amount)) + " refunded by " + rf.ID,
					Ledger: "no refund", Detail: "refund"})
			}
			continue
		}
		diffs = append(diffs, compareRefunds(ch, l)...)
	}
	for _, d := range s.disputes {
		if CheckCurrency(string(d.Currency)) != nil {
			continue
		}
		diffs = append(diffs, compareDispute(d, l)...)
	}
	diffs = append(diffs, missingAtStripe(s, l)...)
	return diffs
}

// compareRefunds checks the charge's cumulative amount_refunded against the ledger.
func compareRefunds(ch *stripe.Charge, l recLedger) []Difference {
	stripeSide := FromPence(ch.AmountRefunded)
	ours, found := l.refunded(ch.ID)
	switch {
	case stripeSide.Equal(ours):
		return nil
	case !found:
		return []Difference{{Kind: MissingLocally, Object: ch.ID, Stripe: FormatPounds(stripeSide) + " refunded",
			Ledger: "no refund", Detail: "refund"}}
	default:
		return []Difference{{Kind: AmountMismatch, Object: ch.ID, Stripe: FormatPounds(stripeSide) + " refunded",
			Ledger: FormatPounds(ours) + " refunded", Detail: "refunded amount"}}
	}
}

// compareDispute checks that the ledger holds the dispute back, and releases or loses it
// as Stripe closed it.
func compareDispute(d *stripe.Dispute, l recLedger) []Difference {
	amount := FromPence(d.Amount)
	stripeSide := FormatPounds(amount) + " dispute, " + string(d.Status)
	var diffs []Difference
	hold, ok := l.entry(d.ID, ledger.KindDisputeHold)
	if !ok {
		return []Difference{{Kind: MissingLocally, Object: d.ID, Stripe: stripeSide, Ledger: "no dispute hold",
			Detail: "dispute on " + idOf(d.Charge)}}
	}
	if !hold.amount.Neg().Equal(amount) {
		diffs = append(diffs, Difference{Kind: AmountMismatch, Object: d.ID, Stripe: stripeSide,
			Ledger: FormatPounds(hold.amount.Neg()) + " held", Detail: "disputed amount"})
	}
	_, released := l.entry(d.ID, ledger.KindDisputeRelease)
	_, lost := l.entry(d.ID, ledger.KindDisputeLost)
	ledgerSide := "held, open"
	switch {
	case lost:
		ledgerSide = "held, lost"
	case released:
		ledgerSide = "held, released (won)"
	}
	var wantReleased, wantLost bool
	switch d.Status {
	case stripe.DisputeStatusWon, stripe.DisputeStatusWarningClosed:
		wantReleased = true
	case stripe.DisputeStatusLost:
		wantReleased, wantLost = true, true
	}
	switch {
	case released == wantReleased && lost == wantLost:
	case !released && !lost:
		diffs = append(diffs, Difference{Kind: MissingLocally, Object: d.ID, Stripe: stripeSide, Ledger: ledgerSide,
			Detail: "the dispute's close"})
	default:
		diffs = append(diffs, Difference{Kind: AmountMismatch, Object: d.ID, Stripe: stripeSide, Ledger: ledgerSide,
			Detail: "dispute outcome"})
	}
	return diffs
}

// missingAtStripe lists the period's ledger gifts no settled charge accounts for. The
// sandbox's gifts never reached Stripe and are left out.
func missingAtStripe(s stripeLists, l recLedger) []Difference {
	known := map[string]bool{}
	for _, ch := range s.charges {
		if !chargeSettled(ch) {
			continue
		}
		for _, id := range []string{ch.ID, idOf(ch.PaymentIntent), idOf(ch.Invoice)} {
			if id != "" {
				known[id] = true
			}
		}
	}
	var diffs []Difference
	for _, g := range l.gifts {
		if strings.Contains(g.object, "_sandbox_") || strings.Contains(g.pi, "_sandbox_") || strings.Contains(g.charge, "_sandbox_") {
			continue
		}
		if known[g.object] || known[g.pi] || known[g.charge] {
			continue
		}
		diffs = append(diffs, Difference{Kind: MissingAtStripe, Object: g.object, Stripe: "no settled charge",
			Ledger: FormatPounds(g.amount) + " gift on " + g.occurredAt.UTC().Format("2006-01-02 15:04"),
			Detail: "Stripe listed no paid charge for this gift"})
	}
	return diffs
}

// recordFees records the fee of each listed charge whose gift the ledger holds without
// one.
func (r *Reconciler) recordFees(ctx context.Context, s stripeLists, l recLedger) (int, error) {
	n := 0
	for _, ch := range s.charges {
		bt := ch.BalanceTransaction
		if !chargeSettled(ch) || bt == nil || bt.Fee == 0 || CheckCurrency(string(ch.Currency)) != nil {
			continue
		}
		if _, ok := l.gift(ch); !ok {
			continue // reported missing; its fee waits for it
		}
		if _, ok := l.entry(ch.ID, ledger.KindFee); ok {
			continue
		}
		outcome, err := r.Webhooks.RecordFee(ctx, ch)
		if err != nil {
			return n, fmt.Errorf("reconcile: record the fee of %s: %w", ch.ID, err)
		}
		if outcome == "applied" || outcome == "unmatched" {
			n++
		}
	}
	return n, nil
}

// RecordFee records the Stripe fee of a charge whose balance transaction is expanded. The
// fee becomes the same local event learnFee stores ("evt_local_fee_<charge>", a charge
// event carrying the balance transaction) and is applied by applyFee through Apply: once
// per charge whichever of the two learns it first, and rebuilt by `giving replay` like
// every other ledger entry. A fee written straight to the ledger would have no event, and
// replay would report it as a difference.
func (h *Webhooks) RecordFee(ctx context.Context, ch *stripe.Charge) (string, error) {
	bt := ch.BalanceTransaction
	if bt == nil || bt.ID == "" {
		return "", fmt.Errorf("charge %s: balance transaction not expanded", ch.ID)
	}
	if err := CheckCurrency(string(ch.Currency)); err != nil {
		return "", fmt.Errorf("charge %s: %w", ch.ID, err)
	}
	var pi, in any
	if id := idOf(ch.PaymentIntent); id != "" {
		pi = id
	}
	if id := idOf(ch.Invoice); id != "" {
		in = id
	}
	raw, err := json.Marshal(map[string]any{"id": ch.ID, "object": "charge", "amount": ch.Amount,
		"currency": ch.Currency, "created": ch.Created, "livemode": ch.Livemode, "paid": ch.Paid,
		"status": ch.Status, "payment_intent": pi, "invoice": in, "balance_transaction": bt.ID})
	if err != nil {
		return "", err
	}
	ev := event{Event: stripe.Event{Type: "charge.succeeded", Created: ch.Created, Livemode: ch.Livemode,
		APIVersion: stripe.APIVersion, Data: &stripe.EventData{Raw: raw}}}
	body, err := feeEvent(ev, ch.ID, bt.ID, bt.Fee)
	if err != nil {
		return "", err
	}
	return h.Apply(ctx, body)
}

// WriteText writes the report for people.
func (rep Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Reconciliation with Stripe from %s to %s (UTC)\n", rep.Since.UTC().Format("2006-01-02 15:04"), rep.Until.UTC().Format("2006-01-02 15:04"))
	if rep.AppealID != 0 {
		name := rep.Appeal
		if name == "" {
			name = fmt.Sprintf("appeal %d", rep.AppealID)
		}
		fmt.Fprintf(&b, "For %s only: its ledger entries, and the Stripe records whose payment the ledger matches to its gifts.\n", name)
		fmt.Fprintf(&b, "Stripe records the ledger matches to no appeal are listed for every appeal, marked \"not matched\".\n")
		fmt.Fprintf(&b, "Listed at Stripe: %d charges, %d refunds, %d disputes; for the whole account, %d payouts (%s paid out), %d undelivered events\n",
			rep.Listed.Charges, rep.Listed.Refunds, rep.Listed.Disputes, rep.Listed.Payouts, FormatPounds(rep.PaidOut), rep.Listed.Undelivered)
	} else {
		fmt.Fprintf(&b, "Listed at Stripe: %d charges, %d refunds, %d disputes, %d payouts (%s paid out), %d undelivered events\n",
			rep.Listed.Charges, rep.Listed.Refunds, rep.Listed.Disputes, rep.Listed.Payouts, FormatPounds(rep.PaidOut), rep.Listed.Undelivered)
	}
	fmt.Fprintf(&b, "Stripe, matched to the ledger's gifts: %s\n", rep.Stripe)
	if rep.NotMatched.Charges+rep.NotMatched.Refunds+rep.NotMatched.Disputes > 0 {
		fmt.Fprintf(&b, "Stripe, not matched to any appeal: %s\n", rep.NotMatched)
	}
	fmt.Fprintf(&b, "Ledger: %s from Stripe, %s\n", count(rep.Ledger.Gifts, "gift"), FormatPounds(rep.Ledger.Amount))
	if rep.NotGBP > 0 {
		fmt.Fprintf(&b, "Not in GBP, so not compared: %d\n", rep.NotGBP)
	}
	if len(rep.Events) > 0 {
		verb := "Undelivered events (run with --recover to apply those not stored):"
		if rep.Recover {
			verb = "Undelivered events applied:"
		}
		fmt.Fprintln(&b, verb)
		for _, e := range rep.Events {
			fmt.Fprintf(&b, "  %s %s: %s\n", e.ID, e.Type, e.Outcome)
		}
	}
	if rep.FeesRecorded > 0 {
		fmt.Fprintf(&b, "Fees recorded from balance transactions: %d\n", rep.FeesRecorded)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if len(rep.Differences) == 0 {
		_, err := io.WriteString(w, "No differences: the ledger agrees with Stripe.\n")
		return err
	}
	fmt.Fprintf(w, "Differences: %d\n", len(rep.Differences))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  KIND\tOBJECT\tSTRIPE\tLEDGER\tDETAIL")
	for _, d := range rep.Differences {
		detail := d.Detail
		if d.NotMatched {
			detail += "; not matched to any appeal"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", d.Kind, d.Object, d.Stripe, d.Ledger, detail)
	}
	return tw.Flush()
}
