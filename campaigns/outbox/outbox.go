package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"giving/campaigns"
	"giving/campaigns/dbq"
)

// Mail is one email: Body is its plain text; HTML, if set, is its HTML part, else
// QueueMail renders one from Body (RenderHTML). Every message is sent with both.
type Mail struct{ To, Subject, Body, HTML string }

// QueueMail adds m to the outbox inside the caller's transaction, with the River job that
// sends it: nothing is sent unless tx commits, and then the message is sent once (at least
// once at the SMTP level: a worker that dies after the server accepted a message, before
// recording it, leaves River to try again).
func QueueMail(ctx context.Context, tx pgx.Tx, m Mail) error {
	return QueueMails(ctx, tx, []Mail{m})
}

// QueueMails is QueueMail for many messages, with one statement (the webhook appliers'
// receipts for a batch of gifts). One message that cannot be sent fails them all.
func QueueMails(ctx context.Context, tx pgx.Tx, ms []Mail) error {
	if len(ms) == 0 {
		return nil
	}
	p := dbq.QueueMailsParams{ToAddresses: make([]string, len(ms)), Subjects: make([]string, len(ms)),
		Bodies: make([]string, len(ms)), Htmls: make([]string, len(ms))}
	for i, m := range ms {
		to := strings.TrimSpace(m.To)
		// A line break in an address or subject would let text become a mail header.
		if at := strings.IndexByte(to, '@'); at < 1 || at == len(to)-1 || len(to) > 254 || strings.ContainsAny(to, " \t\r\n,<>") {
			return fmt.Errorf("queue mail: %w", &campaigns.ValidationError{Fields: map[string]string{"to": "The recipient is not a single email address."}})
		}
		if strings.ContainsAny(m.Subject, "\r\n") || strings.TrimSpace(m.Subject) == "" {
			return fmt.Errorf("queue mail: %w", &campaigns.ValidationError{Fields: map[string]string{"subject": "The subject must be one non-empty line."}})
		}
		if m.HTML == "" {
			m.HTML = RenderHTML(m.Subject, m.Body)
		}
		p.ToAddresses[i], p.Subjects[i], p.Bodies[i], p.Htmls[i] = to, m.Subject, m.Body, m.HTML
	}
	ids, err := dbq.New(tx).QueueMails(ctx, p)
	if err != nil {
		return fmt.Errorf("queue mail: %w", err)
	}
	// Each message has its job: which id came back in which place does not matter.
	for _, id := range ids {
		if err := campaigns.InsertJob(ctx, tx, MailJob{MailID: id}); err != nil {
			return err
		}
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

// MailWorker is the River worker that sends the outbox, one MailJob at a time. River gives a
// job to one worker in one instance at a time, retries a failure after NextRetry, and
// rescues the job of a worker that vanished; the worker records each outcome on the
// message's row.
type MailWorker struct {
	river.WorkerDefaults[MailJob]
	Store  *campaigns.Store
	Sender MailSender
	Log    *slog.Logger
	// Local says the sender is LocalOutbox: rows keep their bodies for /dev/outbox, and are
	// recorded as delivered to the local outbox. Otherwise a body is blanked once sent,
	// so reset links do not linger in the database.
	Local bool
	// Observe, if set, counts each send's outcome: "sent", "retry" or "failed".
	Observe func(outcome string)
	// Footer, if set, is the text every message ends with, for its recipient: the
	// charity's legal name, number and address, and for a donor the link to stop emails
	// about the charity's work (cmd/giving). It is added when the message is sent, so it
	// reflects the recipient as she is then; a kept row keeps the message as sent.
	Footer func(ctx context.Context, to string) (string, error)
}

// SentRetention is how long sent rows are kept (for support questions) before pruning.
const SentRetention = 30 * 24 * time.Hour

// Timeout bounds one send; the SMTP sender bounds itself at 30 seconds.
func (w *MailWorker) Timeout(*river.Job[MailJob]) time.Duration { return time.Minute }

// NextRetry is RetryBackoff after the failed attempt, on the store's clock.
func (w *MailWorker) NextRetry(job *river.Job[MailJob]) time.Time {
	return campaigns.RetryAfter(w.Store.Now(), job.Attempt)
}

// Work sends the job's message and records the outcome. A message already sent or refused
// (a duplicate attempt) or pruned is done. A refusal for good cancels the job; any other
// failure is returned for River to retry.
func (w *MailWorker) Work(ctx context.Context, job *river.Job[MailJob]) error {
	q := dbq.New(w.Store.Pool())
	row, err := q.MailToSend(ctx, job.Args.MailID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("read mail %d: %w", job.Args.MailID, err)
	}
	m := Mail{To: row.ToAddress, Subject: row.Subject, Body: row.Body, HTML: row.Html}
	if m.HTML == "" { // queued before the outbox kept an HTML part
		m.HTML = RenderHTML(m.Subject, m.Body)
	}
	if w.Footer != nil {
		foot, err := w.Footer(ctx, m.To)
		if err != nil {
			return fmt.Errorf("mail %d footer: %w", row.ID, err)
		}
		m = WithFooter(m, foot)
	}
	start := w.Store.Now()
	sendErr := w.Sender.SendMail(ctx, m)
	// The outcome is recorded even when shutdown began during the send, so it is not sent twice.
	keep := context.WithoutCancel(ctx)
	now := w.Store.Now()
	log := w.log().With("mail", row.ID, "attempt", job.Attempt, "to", MaskEmail(m.To), "took", now.Sub(start).Round(time.Millisecond))
	var outcome string
	attempt := int32(job.Attempt)
	switch {
	case sendErr == nil:
		via := "smtp"
		if w.Local {
			via = "local outbox"
		}
		outcome = "sent"
		err = q.MailSent(keep, dbq.MailSentParams{Now: now, Via: via, Attempt: attempt, KeepBody: w.Local,
			SentBody: m.Body, SentHtml: m.HTML, ID: row.ID})
		log.Info("mail sent", "via", via)
	case errors.Is(sendErr, ErrPermanent):
		outcome = "failed"
		err = q.MailFailed(keep, dbq.MailFailedParams{Attempt: attempt, LastError: truncate(sendErr.Error(), 1000), ID: row.ID})
		log.Error("mail refused for good", "err", sendErr)
	default:
		outcome = "retry"
		next := campaigns.RetryAfter(now, job.Attempt)
		err = q.MailRetry(keep, dbq.MailRetryParams{Attempt: attempt, LastError: truncate(sendErr.Error(), 1000), NextAttemptAt: next, ID: row.ID})
		log.Warn("mail not sent; will retry", "err", sendErr, "retry_in", next.Sub(now))
	}
	if w.Observe != nil {
		w.Observe(outcome)
	}
	if err != nil {
		return fmt.Errorf("record mail %d %s: %w", row.ID, outcome, err)
	}
	switch outcome {
	case "failed":
		return river.JobCancel(sendErr)
	case "retry":
		return sendErr
	}
	return nil
}

func (w *MailWorker) log() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}

// PruneMailJob deletes sent messages older than a month (hourly, see Prune).
type PruneMailJob struct{}

func (PruneMailJob) Kind() string { return "prune_sent_mail" }

func (PruneMailJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: campaigns.JobQueueMail, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// PruneMailWorker works PruneMailJob.
type PruneMailWorker struct {
	river.WorkerDefaults[PruneMailJob]
	Store *campaigns.Store
}

func (w *PruneMailWorker) Work(ctx context.Context, _ *river.Job[PruneMailJob]) error {
	return dbq.New(w.Store.Pool()).PruneSentMail(ctx, dbq.PruneSentMailParams{Now: w.Store.Now(), KeptFor: SentRetention})
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
	HTML               string
	Status, Via, Error string
	Attempts           int
	CreatedAt          time.Time
	SentAt             *time.Time
}

// Outbox returns the most recent rows of the outbox, newest first (limit 1 to 500).
func Outbox(ctx context.Context, s *campaigns.Store, limit int) ([]OutboxMail, error) {
	rows, err := dbq.New(s.Pool()).Outbox(ctx, int32(min(max(limit, 1), 500)))
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	out := make([]OutboxMail, len(rows))
	for i, r := range rows {
		out[i] = OutboxMail{ID: r.ID, To: r.ToAddress, Subject: r.Subject, Body: r.Body, HTML: r.Html, Status: r.Status, Via: r.DeliveredVia,
			Error: r.LastError, Attempts: int(r.Attempts), CreatedAt: r.CreatedAt, SentAt: r.SentAt}
	}
	return out, nil
}

// MailJob sends one message of the outbox (mail_outbox.id).
type MailJob struct {
	MailID int64 `json:"mail_id"`
}

func (MailJob) Kind() string { return "send_mail" }

// InsertOpts: about two days of retries at RetryBackoff's pace (up to an hour apart)
// before a message is given up; a refusal for good stops at once.
func (MailJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: campaigns.JobQueueMail, MaxAttempts: 60}
}

// Prune registers the worker that deletes old sent mail and returns its hourly schedule,
// for NewJobClient (the service's client prunes; one that only sends need not).
func Prune(workers *river.Workers, s *campaigns.Store) *river.PeriodicJob {
	river.AddWorker(workers, &PruneMailWorker{Store: s})
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return PruneMailJob{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})
}

// OutboxHTML is the HTML part of outbox row id, for /dev/outbox; campaigns.ErrNotFound
// when there is no such row.
func OutboxHTML(ctx context.Context, s *campaigns.Store, id int64) (string, error) {
	row, err := dbq.New(s.Pool()).OutboxHTML(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("outbox mail %d: %w", id, campaigns.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("outbox mail %d: %w", id, err)
	}
	if row.Html == "" { // queued before the outbox kept an HTML part
		return RenderHTML(row.Subject, row.Body), nil
	}
	return row.Html, nil
}
