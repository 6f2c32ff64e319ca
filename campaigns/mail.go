package campaigns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"giving/campaigns/dbq"
)

// Mail is one plain-text email.
type Mail struct{ To, Subject, Body string }

// QueueMail adds m to the outbox inside the caller's transaction (or the pool): it is sent
// after the transaction commits, at most once per row, by the mail worker. A rolled-back
// transaction sends nothing.
func QueueMail(ctx context.Context, db DB, m Mail) error {
	to := strings.TrimSpace(m.To)
	// A line break in an address or subject would let text become a mail header.
	if at := strings.IndexByte(to, '@'); at < 1 || at == len(to)-1 || len(to) > 254 || strings.ContainsAny(to, " \t\r\n,<>") {
		return fmt.Errorf("queue mail: %w", &ValidationError{Fields: map[string]string{"to": "The recipient is not a single email address."}})
	}
	if strings.ContainsAny(m.Subject, "\r\n") || strings.TrimSpace(m.Subject) == "" {
		return fmt.Errorf("queue mail: %w", &ValidationError{Fields: map[string]string{"subject": "The subject must be one non-empty line."}})
	}
	if err := dbq.New(db).QueueMail(ctx, dbq.QueueMailParams{ToAddress: to, Subject: m.Subject, Body: m.Body}); err != nil {
		return fmt.Errorf("queue mail: %w", err)
	}
	return nil
}

// MailSender delivers one email. An error wrapping ErrPermanent (the server refused the
// address for good) stops retries; any other error is retried with backoff.
type MailSender interface {
	SendMail(ctx context.Context, m Mail) error
}

// ErrPermanent marks a send failure that retrying cannot fix.
var ErrPermanent = errors.New("permanent mail failure")

// LocalOutbox is the sender when no SMTP server is configured (the embedded default and
// tests): it writes a log line and nothing leaves the machine; the message stays readable
// in the outbox (/dev/outbox).
type LocalOutbox struct{ Log *slog.Logger }

func (o LocalOutbox) SendMail(ctx context.Context, m Mail) error {
	if o.Log != nil {
		o.Log.Info("mail delivered to the local outbox (no SMTP_URL)", "to", MaskEmail(m.To), "subject", m.Subject)
	}
	return nil
}

// MaskEmail keeps enough of an address to recognise it in a log without recording it:
// "ruby@example.org" becomes "r***@example.org".
func MaskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 1 {
		return "***"
	}
	return addr[:1] + "***" + addr[at:]
}

// MailWorker sends the outbox. Any number of workers, in any number of instances, may run
// at once: a row is claimed with FOR UPDATE SKIP LOCKED and a lease, so it is handed to one
// worker at a time. Delivery is at least once at the SMTP level: a worker that crashes (or
// loses the database) after the server accepted a message but before marking it sent
// leaves it to be sent again when the lease ends. A row is never dropped before it is sent
// or refused for good.
type MailWorker struct {
	Store  *Store
	Sender MailSender
	Log    *slog.Logger
	// Local says the sender is LocalOutbox: rows keep their bodies for /dev/outbox, and are
	// recorded as delivered to the local outbox. Otherwise a body is blanked once sent,
	// so reset links do not linger in the database.
	Local bool
	// Lease is how long a claimed row is left to its worker (default 2 minutes); it must
	// outlast one send, which the SMTP sender bounds at 30 seconds.
	Lease time.Duration
	// Interval is how often the outbox is polled (default 1 second).
	Interval time.Duration
	// Batch is how many rows one claim takes (default 10).
	Batch int
	// Backoff is the wait before retry n (1 after the first failure); default 30s doubling
	// up to an hour.
	Backoff func(attempt int) time.Duration
	// Observe, if set, counts each send's outcome: "sent", "retry" or "failed".
	Observe func(outcome string)
}

// RetryBackoff is the wait before retry n of work that calls another server (sending mail,
// cancelling at Stripe): 30 s, 1 min, 2 min, ... up to an hour between attempts.
func RetryBackoff(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// sentRetention is how long sent rows are kept (for support questions) before pruning.
const sentRetention = 30 * 24 * time.Hour

func (w *MailWorker) defaults() {
	if w.Lease <= 0 {
		w.Lease = 2 * time.Minute
	}
	if w.Interval <= 0 {
		w.Interval = time.Second
	}
	if w.Batch <= 0 {
		w.Batch = 10
	}
	if w.Backoff == nil {
		w.Backoff = RetryBackoff
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
}

// Run sends due mail until ctx ends, polling every Interval. A send in progress when ctx
// ends is finished, not abandoned, so shutdown does not cause a duplicate.
func (w *MailWorker) Run(ctx context.Context) {
	w.defaults()
	tick := time.NewTicker(w.Interval)
	defer tick.Stop()
	lastPrune := time.Time{}
	for {
		for {
			n, err := w.SendDue(ctx)
			if err != nil && ctx.Err() == nil {
				w.Log.Warn("mail worker", "err", err)
			}
			if n < w.Batch || err != nil || ctx.Err() != nil {
				break // the outbox is drained for now
			}
		}
		if w.Store.Now().Sub(lastPrune) > time.Hour {
			if err := w.prune(ctx); err != nil {
				w.Log.Warn("mail worker: prune sent mail", "err", err)
			}
			lastPrune = w.Store.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

type claimedMail struct {
	id       int64
	attempts int
	mail     Mail
}

// SendDue claims up to Batch due rows, sends each and records the outcome; it returns how
// many rows it claimed. A send under way when ctx ends is finished and recorded (so it is
// not sent twice); rows of the batch not yet begun are handed back at once.
func (w *MailWorker) SendDue(ctx context.Context) (int, error) {
	w.defaults()
	claim, batch, err := w.claim(ctx)
	if err != nil {
		return 0, err
	}
	keep := context.WithoutCancel(ctx)
	for i, c := range batch {
		if ctx.Err() != nil {
			return len(batch), w.release(keep, claim, batch[i:])
		}
		sendCtx, cancel := context.WithTimeout(keep, w.Lease)
		start := w.Store.Now()
		sendErr := w.Sender.SendMail(sendCtx, c.mail)
		cancel()
		if err := w.record(keep, claim, c, sendErr, w.Store.Now().Sub(start)); err != nil {
			// The lease runs out and another worker sends it again: at least once.
			return len(batch), err
		}
	}
	return len(batch), nil
}

// release hands back claimed rows that were never attempted.
func (w *MailWorker) release(ctx context.Context, claim string, rest []claimedMail) error {
	ids := make([]int64, len(rest))
	for i, c := range rest {
		ids[i] = c.id
	}
	if err := dbq.New(w.Store.pool).ReleaseMail(ctx, dbq.ReleaseMailParams{Ids: ids, Claim: claim}); err != nil {
		return fmt.Errorf("release unsent mail: %w", err)
	}
	return nil
}

// claim takes due rows for this worker under a fresh claim id. SKIP LOCKED lets concurrent
// workers take different rows without waiting; the lease keeps a row from being taken
// again while its worker is sending, and lets it be taken once that worker has vanished.
func (w *MailWorker) claim(ctx context.Context) (string, []claimedMail, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("mail claim id: %w", err)
	}
	claim := hex.EncodeToString(b)
	rows, err := dbq.New(w.Store.pool).ClaimMail(ctx, dbq.ClaimMailParams{Now: w.Store.Now(), Lease: w.Lease, Claim: claim, MaxRows: int32(w.Batch)})
	if err != nil {
		return "", nil, fmt.Errorf("claim mail: %w", err)
	}
	batch := make([]claimedMail, len(rows))
	for i, r := range rows {
		batch[i] = claimedMail{id: r.ID, attempts: int(r.Attempts), mail: Mail{To: r.ToAddress, Subject: r.Subject, Body: r.Body}}
	}
	return claim, batch, nil
}

// record marks a claimed row sent, failed for good, or due again after a backoff. It only
// touches the row while this worker's claim holds, so a worker whose lease ran out cannot
// overwrite what the next one recorded.
func (w *MailWorker) record(ctx context.Context, claim string, c claimedMail, sendErr error, took time.Duration) error {
	log := w.Log.With("mail", c.id, "attempt", c.attempts, "to", MaskEmail(c.mail.To), "took", took.Round(time.Millisecond))
	var outcome string
	var err error
	q := dbq.New(w.Store.pool)
	switch {
	case sendErr == nil:
		via := "smtp"
		if w.Local {
			via = "local outbox"
		}
		outcome = "sent"
		err = q.MailSent(ctx, dbq.MailSentParams{Now: w.Store.Now(), ID: c.id, Claim: claim, Via: via, KeepBody: w.Local})
		log.Info("mail sent", "via", via)
	case errors.Is(sendErr, ErrPermanent):
		outcome = "failed"
		err = q.MailFailed(ctx, dbq.MailFailedParams{ID: c.id, Claim: claim, LastError: truncate(sendErr.Error(), 1000)})
		log.Error("mail refused for good", "err", sendErr)
	default:
		outcome = "retry"
		wait := w.Backoff(c.attempts)
		err = q.MailRetry(ctx, dbq.MailRetryParams{Now: w.Store.Now(), ID: c.id, Claim: claim, LastError: truncate(sendErr.Error(), 1000), Backoff: wait})
		log.Warn("mail not sent; will retry", "err", sendErr, "retry_in", wait)
	}
	if w.Observe != nil {
		w.Observe(outcome)
	}
	if err != nil {
		return fmt.Errorf("record mail %d %s: %w", c.id, outcome, err)
	}
	return nil
}

func (w *MailWorker) prune(ctx context.Context) error {
	return dbq.New(w.Store.pool).PruneSentMail(ctx, dbq.PruneSentMailParams{Now: w.Store.Now(), KeptFor: sentRetention})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// OutboxMail is a row of the outbox as the developer's /dev/outbox page shows it.
type OutboxMail struct {
	ID                 int64
	To, Subject, Body  string
	Status, Via, Error string
	Attempts           int
	CreatedAt          time.Time
	SentAt             *time.Time
}

// Outbox returns the most recent rows of the outbox, newest first (limit 1 to 500).
func (s *Store) Outbox(ctx context.Context, limit int) ([]OutboxMail, error) {
	rows, err := dbq.New(s.pool).Outbox(ctx, int32(min(max(limit, 1), 500)))
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	out := make([]OutboxMail, len(rows))
	for i, r := range rows {
		out[i] = OutboxMail{ID: r.ID, To: r.ToAddress, Subject: r.Subject, Body: r.Body, Status: r.Status, Via: r.DeliveredVia,
			Error: r.LastError, Attempts: int(r.Attempts), CreatedAt: r.CreatedAt, SentAt: r.SentAt}
	}
	return out, nil
}
