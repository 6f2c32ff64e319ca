package ledger

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/dbq"
)

// Batch gathers what the entries recorded in one transaction move, so that transaction
// writes every total, distinct donor and dashboard summary row it touches once, at its end,
// each sorted by key (Flush). Webhook events applied many to a transaction (payments) use
// it: two such transactions, or one and a lone event's (whose Record writes the same rows
// in the same order), then never wait for each other's rows in a cycle.
//
// Inside a transaction that began a batch, Record writes the entry alone; the entries
// themselves are visible at once (a refund later in the batch finds its gift), the totals
// only after Flush. A Batch is used by one goroutine.
type Batch struct {
	entries []batchEntry        // in the order recorded
	jobs    *campaigns.JobBatch // the background jobs the batch's changes queue (a receipt's mail)
}

type batchEntry struct {
	id    int64
	e     Entry
	shard int16
}

type totalKey struct {
	scope   string
	scopeID int64
	shard   int16
}

type donorKey struct {
	scope   string
	scopeID int64
	key     string
}

type batchKey struct{}

// BeginBatch starts a batch in tx (telling the summary trigger that Flush writes this
// transaction's summary rows) and returns the context under which Record gathers into it.
func BeginBatch(ctx context.Context, tx pgx.Tx) (context.Context, *Batch, error) {
	if err := dbq.New(tx).SummaryByBatch(ctx); err != nil {
		return ctx, nil, err
	}
	b := &Batch{}
	ctx, b.jobs = campaigns.BeginJobBatch(ctx)
	return context.WithValue(ctx, batchKey{}, b), b, nil
}

func batchOf(ctx context.Context) *Batch {
	b, _ := ctx.Value(batchKey{}).(*Batch)
	return b
}

// record inserts the entries es (ps: their parameters), with one statement, and gathers
// what the new ones move; for each, its id or 0 for a duplicate.
func (b *Batch) record(ctx context.Context, tx pgx.Tx, ps []dbq.RecordEntryParams, es []Entry) ([]int64, error) {
	var a dbq.InsertEntriesParams
	for _, p := range ps {
		a.AppealIds, a.FundraiserIds, a.DonationIds = append(a.AppealIds, p.AppealID), append(a.FundraiserIds, p.FundraiserID), append(a.DonationIds, p.DonationID)
		a.Kinds, a.Sources, a.SourceRefs, a.Seqs = append(a.Kinds, p.Kind), append(a.Sources, p.Source), append(a.SourceRefs, p.SourceRef), append(a.Seqs, p.Seq)
		a.ChargeIds, a.Amounts, a.Fees, a.GiftAidBases = append(a.ChargeIds, p.ChargeID), append(a.Amounts, p.Amount), append(a.Fees, p.Fee), append(a.GiftAidBases, p.GiftAidBase)
		a.Frequencies, a.DonorKeys, a.OccurredAts = append(a.Frequencies, p.Frequency), append(a.DonorKeys, p.DonorKey), append(a.OccurredAts, p.OccurredAt)
		a.EventIds, a.PaymentIntents = append(a.EventIds, p.EventID), append(a.PaymentIntents, p.PaymentIntent)
	}
	rows, err := dbq.New(tx).InsertEntries(ctx, a)
	if err != nil {
		return nil, err
	}
	type key struct{ source, ref, kind, seq string }
	stored := make(map[key]int64, len(rows))
	for _, r := range rows {
		stored[key{r.Source, r.SourceRef, r.Kind, r.Seq}] = r.ID
	}
	ids := make([]int64, len(ps))
	for i, p := range ps {
		k := key{p.Source, p.SourceRef, p.Kind, p.Seq}
		if id := stored[k]; id != 0 {
			delete(stored, k) // a second copy in the same statement is a duplicate
			ids[i] = id
			b.entries = append(b.entries, batchEntry{id: id, e: es[i], shard: p.Shard})
		}
	}
	return ids, nil
}

// Savepoint runs fn under a savepoint of tx: when fn fails, the rows it wrote are undone and
// so is what it gathered into the context's batch, if any.
func Savepoint(ctx context.Context, tx pgx.Tx, fn func(pgx.Tx) error) error {
	b, jobs := batchOf(ctx), campaigns.JobBatchOf(ctx)
	n, j := 0, jobs.Len()
	if b != nil {
		n = len(b.entries)
	}
	err := pgx.BeginFunc(ctx, tx, fn)
	if err != nil {
		if b != nil {
			b.entries = b.entries[:n]
		}
		jobs.Truncate(j)
	}
	return err
}

func (d delta) add(o delta) delta {
	return delta{gross: d.gross.Add(o.gross), refunded: d.refunded.Add(o.refunded), disputed: d.disputed.Add(o.disputed),
		lost: d.lost.Add(o.lost), fees: d.fees.Add(o.fees), giftAidBase: d.giftAidBase.Add(o.giftAidBase), gifts: d.gifts + o.gifts}
}

// Flush writes what the batch's entries move: the new distinct donors, then the totals
// rows, then the dashboard summary rows, each in key order. Call it once, last.
func (b *Batch) Flush(ctx context.Context, tx pgx.Tx) error {
	if err := b.jobs.Flush(ctx, tx); err != nil {
		return err
	}
	if len(b.entries) == 0 {
		return nil
	}
	totals := map[totalKey]delta{}
	seen := map[donorKey]bool{}
	var donors []donorKey
	ids := make([]int64, len(b.entries))
	for i, be := range b.entries {
		ids[i] = be.id
		scopes := []totalKey{{"appeal", be.e.AppealID, be.shard}}
		if be.e.FundraiserID != 0 {
			scopes = append(scopes, totalKey{"fundraiser", be.e.FundraiserID, be.shard})
		}
		d := be.e.delta()
		for _, k := range scopes {
			totals[k] = totals[k].add(d)
			dk := donorKey{k.scope, k.scopeID, be.e.DonorKey}
			if be.e.Kind == KindGift && be.e.DonorKey != "" && !seen[dk] {
				seen[dk] = true
				donors = append(donors, dk)
			}
		}
	}
	keys := make([]totalKey, 0, len(totals))
	for k := range totals {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y totalKey) int {
		return cmp.Or(cmp.Compare(x.scope, y.scope), cmp.Compare(x.scopeID, y.scopeID), cmp.Compare(x.shard, y.shard))
	})
	slices.SortFunc(donors, func(x, y donorKey) int {
		return cmp.Or(cmp.Compare(x.scope, y.scope), cmp.Compare(x.scopeID, y.scopeID), cmp.Compare(x.key, y.key))
	})
	var p dbq.AddTotalsParams
	for i, k := range keys {
		d := totals[k]
		p.Scopes, p.ScopeIds, p.Shards = append(p.Scopes, k.scope), append(p.ScopeIds, k.scopeID), append(p.Shards, k.shard)
		p.Gross, p.Refunded, p.Disputed = append(p.Gross, d.gross), append(p.Refunded, d.refunded), append(p.Disputed, d.disputed)
		p.Lost, p.Fees, p.GiftAidBases = append(p.Lost, d.lost), append(p.Fees, d.fees), append(p.GiftAidBases, d.giftAidBase)
		p.Gifts = append(p.Gifts, d.gifts)
		// A scope's new donors are counted on its first row.
		p.DonorsHere = append(p.DonorsHere, i == 0 || keys[i-1].scope != k.scope || keys[i-1].scopeID != k.scopeID)
	}
	for _, k := range donors {
		p.DonorScopes, p.DonorScopeIds, p.DonorKeys = append(p.DonorScopes, k.scope), append(p.DonorScopeIds, k.scopeID), append(p.DonorKeys, k.key)
	}
	q := dbq.New(tx)
	if err := q.AddTotals(ctx, p); err != nil {
		return fmt.Errorf("add a batch's totals: %w", err)
	}
	if err := q.AddSummary(ctx, ids); err != nil {
		return fmt.Errorf("add a batch's summary: %w", err)
	}
	b.entries = nil
	return nil
}
