package ledger

import (
	"cmp"
	"context"
	"errors"
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

// record inserts e alone and gathers what it moves; 0 for a duplicate.
func (b *Batch) record(ctx context.Context, tx pgx.Tx, p dbq.RecordEntryParams, e Entry) (int64, error) {
	id, err := dbq.New(tx).InsertEntry(ctx, dbq.InsertEntryParams{
		AppealID: p.AppealID, FundraiserID: p.FundraiserID, DonationID: p.DonationID, Kind: p.Kind,
		Source: p.Source, SourceRef: p.SourceRef, Seq: p.Seq, ChargeID: p.ChargeID, Amount: p.Amount, Fee: p.Fee,
		GiftAidBase: p.GiftAidBase, Frequency: p.Frequency, DonorKey: p.DonorKey, OccurredAt: p.OccurredAt,
		EventID: p.EventID, PaymentIntent: p.PaymentIntent})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	b.entries = append(b.entries, batchEntry{id: id, e: e, shard: p.Shard})
	return id, nil
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
