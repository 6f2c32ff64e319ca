package donations

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"giving/campaigns/dbq"
)

// MailBatch gathers what one transaction that applies many payments writes for its
// donors' emails (the webhook appliers' batches): the names on the cards and the receipts,
// written with one statement each for all of them when it is flushed, instead of a few for
// every gift. The names are written before any email reads them, so a donor is greeted by
// the name she gave in the same transaction. Mark and Reset undo what a savepoint rolled
// back gathered.
type MailBatch struct {
	names    []cardName
	written  int // names[:written] are in the transaction already
	receipts []receiptOf
}

// cardName is a name on a card to keep on the donor record of a donation.
type cardName struct{ donationID, name string }

type mailBatchKey struct{}

// BeginMailBatch returns the context under which NoteCardName and Receipt gather into a new
// batch.
func BeginMailBatch(ctx context.Context) (context.Context, *MailBatch) {
	b := &MailBatch{}
	return context.WithValue(ctx, mailBatchKey{}, b), b
}

// MailBatchOf is the batch ctx gathers into, or nil.
func MailBatchOf(ctx context.Context) *MailBatch {
	b, _ := ctx.Value(mailBatchKey{}).(*MailBatch)
	return b
}

// MailMark is how much a batch held at one moment (Mark).
type MailMark struct{ names, written, receipts int }

// Mark is what the batch holds now; safe on a nil batch.
func (b *MailBatch) Mark() MailMark {
	if b == nil {
		return MailMark{}
	}
	return MailMark{names: len(b.names), written: b.written, receipts: len(b.receipts)}
}

// Reset forgets what was gathered after Mark returned m (the work of a savepoint rolled
// back), and writes again at the next flush any name written since (the savepoint's
// rollback undid it). Safe on a nil batch.
func (b *MailBatch) Reset(m MailMark) {
	if b == nil {
		return
	}
	b.names, b.receipts = b.names[:min(m.names, len(b.names))], b.receipts[:min(m.receipts, len(b.receipts))]
	b.written = min(b.written, m.written, len(b.names))
}

// Flush writes the gathered names, then the receipts, into tx; call it after the batch's
// last payment, before the batch's jobs are written (each message has a job).
func (b *MailBatch) Flush(ctx context.Context, tx pgx.Tx) error {
	if err := b.writeNames(ctx, tx); err != nil {
		return err
	}
	rs := b.receipts
	b.receipts = nil
	return writeReceipts(ctx, tx, rs)
}

// writeNames writes the names gathered and not yet written; safe on a nil batch.
func (b *MailBatch) writeNames(ctx context.Context, tx pgx.Tx) error {
	if b == nil || b.written == len(b.names) {
		return nil
	}
	if err := setCardNames(ctx, tx, b.names[b.written:]); err != nil {
		return err
	}
	b.written = len(b.names)
	return nil
}

// NoteCardName keeps the name on the card from a checkout of donationID on its donor's
// record, in tx (under a MailBatch's context, when the batch writes its names). An empty
// name, or a donation with no record (no email yet), changes nothing.
func NoteCardName(ctx context.Context, tx pgx.Tx, donationID, name string) error {
	name = strings.Join(strings.Fields(name), " ") // one line, single spaces
	if name == "" || donationID == "" {
		return nil
	}
	if r := []rune(name); len(r) > 200 {
		name = string(r[:200])
	}
	n := cardName{donationID: UUIDOrNil(donationID), name: name}
	if b := MailBatchOf(ctx); b != nil {
		b.names = append(b.names, n)
		return nil
	}
	return setCardNames(ctx, tx, []cardName{n})
}

// setCardNames writes names with one statement; of two for one donor, the later is kept.
func setCardNames(ctx context.Context, tx pgx.Tx, names []cardName) error {
	p := dbq.SetDonorNamesParams{DonationIds: make([]string, len(names)), Names: make([]string, len(names))}
	for i, n := range names {
		p.DonationIds[i], p.Names[i] = n.donationID, n.name
	}
	if err := dbq.New(tx).SetDonorNames(ctx, p); err != nil {
		return fmt.Errorf("note the name on the card: %w", err)
	}
	return nil
}
