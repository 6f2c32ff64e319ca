package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"giving/campaigns"
	"giving/campaigns/campaignstest"
	"giving/campaigns/outbox"
	"giving/campaigns/outbox/mailpittest"
)

// recorder is a mail sender that remembers every message it was handed.
type recorder struct {
	mu   sync.Mutex
	sent []outbox.Mail
	// fail, if set, decides the outcome of each send.
	fail func(m outbox.Mail, try int) error
	// tries counts sends per recipient.
	tries map[string]int
	delay time.Duration
}

func (r *recorder) SendMail(ctx context.Context, m outbox.Mail) error {
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tries == nil {
		r.tries = map[string]int{}
	}
	r.tries[m.To]++
	if r.fail != nil {
		if err := r.fail(m, r.tries[m.To]); err != nil {
			return err
		}
	}
	r.sent = append(r.sent, m)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

type outboxRow struct {
	status, via, lastError, body, html string
	attempts                           int
	due                                time.Time
}

func outboxRowFor(t *testing.T, s *campaigns.Store, to string) outboxRow {
	t.Helper()
	var r outboxRow
	err := s.Pool().QueryRow(context.Background(), `SELECT status, delivered_via, last_error, body, html, attempts, next_attempt_at
		FROM mail_outbox WHERE to_address = $1`, to).Scan(&r.status, &r.via, &r.lastError, &r.body, &r.html, &r.attempts, &r.due)
	if err != nil {
		t.Fatalf("outbox row for %s: %v", to, err)
	}
	return r
}

func queue(t *testing.T, s *campaigns.Store, to string) {
	t.Helper()
	err := s.InTx(context.Background(), func(tx pgx.Tx) error {
		return outbox.QueueMail(context.Background(), tx, outbox.Mail{To: to, Subject: "Hello " + to, Body: "Dear supporter,\n\nThank you."})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// mailJobs are the River jobs waiting to send mail, oldest first.
func mailJobs(t *testing.T, s *campaigns.Store) []outbox.MailJob {
	t.Helper()
	rows, err := s.Pool().Query(context.Background(), `SELECT args FROM river_job WHERE kind = $1 ORDER BY id`, outbox.MailJob{}.Kind())
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := pgx.CollectRows(rows, pgx.RowTo[outbox.MailJob])
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

// attempt works a job the way River does: attempt counts from 1.
func attempt(w *outbox.MailWorker, job outbox.MailJob, n int) error {
	return w.Work(context.Background(), &river.Job[outbox.MailJob]{JobRow: &rivertype.JobRow{Attempt: n}, Args: job})
}

// Mail queued in a transaction exists, with the job that sends it, only once the
// transaction commits; the job sends it once.
func TestQueuedMailWaitsForCommit(t *testing.T) {
	t.Parallel()
	s := campaignstest.Store(t, 8)
	ctx := context.Background()
	rec := &recorder{}
	w := &outbox.MailWorker{Store: s, Sender: rec}

	rolledBack := errors.New("the change failed")
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if err := outbox.QueueMail(ctx, tx, outbox.Mail{To: "never@example.org", Subject: "Not sent", Body: "x"}); err != nil {
			return err
		}
		return rolledBack
	})
	if !errors.Is(err, rolledBack) {
		t.Fatal(err)
	}
	if jobs := mailJobs(t, s); len(jobs) != 0 {
		t.Fatalf("a rolled-back change left mail jobs %+v", jobs)
	}

	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := outbox.QueueMail(ctx, tx, outbox.Mail{To: "ruby@example.org", Subject: "Welcome", Body: "Hello Ruby"}); err != nil {
		t.Fatal(err)
	}
	if jobs := mailJobs(t, s); len(jobs) != 0 {
		t.Fatalf("before commit, other connections see mail jobs %+v", jobs)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	jobs := mailJobs(t, s)
	if len(jobs) != 1 {
		t.Fatalf("after commit: mail jobs %+v, want one", jobs)
	}
	if err := attempt(w, jobs[0], 1); err != nil {
		t.Fatal(err)
	}
	if err := attempt(w, jobs[0], 2); err != nil { // a duplicate attempt (River rescued the job)
		t.Fatal(err)
	}
	want := outbox.Mail{To: "ruby@example.org", Subject: "Welcome", Body: "Hello Ruby", HTML: outbox.RenderHTML("Welcome", "Hello Ruby")}
	if len(rec.sent) != 1 || rec.sent[0] != want {
		t.Fatalf("sent %+v, want only Ruby's welcome, once", rec.sent)
	}
	// Over SMTP, both parts are dropped once sent (reset links must not linger).
	if r := outboxRowFor(t, s, "ruby@example.org"); r.status != "sent" || r.via != "smtp" || r.body != "" || r.html != "" || r.attempts != 1 {
		t.Errorf("row after sending: %+v", r)
	}
}

// Two River clients (as in two instances) work one outbox together, and every message goes
// out exactly once.
func TestTwoInstancesSendEachMailOnce(t *testing.T) {
	t.Parallel()
	s := campaignstest.Store(t, 8)
	const n = 40
	for i := range n {
		queue(t, s, fmt.Sprintf("supporter%d@example.org", i))
	}
	rec := &recorder{delay: 2 * time.Millisecond}
	mailpittest.SendWithInstances(t, s, 2, rec)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.sent) != n {
		t.Errorf("%d messages sent, want %d", len(rec.sent), n)
	}
	for to, tries := range rec.tries {
		if tries != 1 {
			t.Errorf("%s was sent %d times", to, tries)
		}
	}
	if len(rec.tries) != n {
		t.Errorf("%d recipients reached, want %d", len(rec.tries), n)
	}
}

// A failed send is kept, with its error and when it is due again (RetryBackoff on the
// store's clock, which is also when River retries it), and sent on a later attempt.
func TestFailedMailIsRetried(t *testing.T) {
	t.Parallel()
	clock := campaignstest.NewClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	s := campaignstest.Store(t, 8).WithClock(clock.Now)
	queue(t, s, "ruby@example.org")
	rec := &recorder{fail: func(m outbox.Mail, try int) error {
		if try <= 2 {
			return fmt.Errorf("421 mail server busy (try %d)", try)
		}
		return nil
	}}
	w := &outbox.MailWorker{Store: s, Sender: rec}
	job := mailJobs(t, s)[0]

	if err := attempt(w, job, 1); err == nil || !strings.Contains(err.Error(), "421") {
		t.Fatalf("first attempt: %v, want the server's error for River to retry", err)
	}
	r := outboxRowFor(t, s, "ruby@example.org")
	if r.status != "queued" || r.attempts != 1 || !strings.Contains(r.lastError, "421 mail server busy (try 1)") {
		t.Fatalf("after a failure: %+v, want queued with the error", r)
	}
	if want := clock.Now().Add(30 * time.Second); !r.due.Equal(want) {
		t.Errorf("first retry due at %s, want %s", r.due, want)
	}
	if next := w.NextRetry(&river.Job[outbox.MailJob]{JobRow: &rivertype.JobRow{Attempt: 1}, Args: job}); !next.Equal(r.due) {
		t.Errorf("River retries at %s, the outbox says %s", next, r.due)
	}

	clock.Advance(30 * time.Second)
	if err := attempt(w, job, 2); err == nil {
		t.Fatal("second attempt succeeded; the server was still busy")
	}
	clock.Advance(time.Minute)
	if err := attempt(w, job, 3); err != nil {
		t.Fatal(err)
	}
	r = outboxRowFor(t, s, "ruby@example.org")
	if r.status != "sent" || r.attempts != 3 || r.lastError != "" || rec.count() != 1 {
		t.Fatalf("after the third attempt: %+v, %d sent; want sent once on attempt 3", r, rec.count())
	}
}

// An address the mail server refuses for good is marked failed, with the reason, and its
// job is cancelled rather than retried; the row stays.
func TestPermanentlyRefusedMailIsKept(t *testing.T) {
	t.Parallel()
	s := campaignstest.Store(t, 8)
	queue(t, s, "gone@example.org")
	rec := &recorder{fail: func(outbox.Mail, int) error {
		return fmt.Errorf("%w: 550 no such user", outbox.ErrPermanent)
	}}
	w := &outbox.MailWorker{Store: s, Sender: rec}
	job := mailJobs(t, s)[0]
	var cancelled *river.JobCancelError
	if err := attempt(w, job, 1); !errors.As(err, &cancelled) {
		t.Fatalf("refused for good: %v, want the job cancelled", err)
	}
	if err := attempt(w, job, 2); err != nil { // had River tried again, nothing is sent
		t.Fatal(err)
	}
	r := outboxRowFor(t, s, "gone@example.org")
	if r.status != "failed" || r.attempts != 1 || !strings.Contains(r.lastError, "550 no such user") || r.body == "" || rec.count() != 0 {
		t.Fatalf("refused mail: %+v, want failed after one attempt with its reason and body kept", r)
	}
	if n := len(rec.tries); n != 1 {
		t.Errorf("%d sends, want 1", n)
	}
}

// blocker is a sender that hangs, like a worker stuck mid-send, until released, then fails.
type blocker struct {
	started chan struct{}
	release chan struct{}
}

func (b *blocker) SendMail(ctx context.Context, m outbox.Mail) error {
	close(b.started)
	<-b.release
	return errors.New("connection reset")
}

// When River rescues the job of a worker stuck mid-send, the next attempt sends the message,
// and the stuck attempt's late failure cannot mark it unsent again.
func TestALateFailureCannotUndoASend(t *testing.T) {
	t.Parallel()
	s := campaignstest.Store(t, 8)
	queue(t, s, "ruby@example.org")
	job := mailJobs(t, s)[0]

	hung := &blocker{started: make(chan struct{}), release: make(chan struct{})}
	stuck := make(chan error, 1)
	go func() { stuck <- attempt(&outbox.MailWorker{Store: s, Sender: hung}, job, 1) }()
	<-hung.started

	rec := &recorder{}
	if err := attempt(&outbox.MailWorker{Store: s, Sender: rec}, job, 2); err != nil || rec.count() != 1 {
		t.Fatalf("the rescued attempt: %v, %d sent", err, rec.count())
	}
	close(hung.release)
	<-stuck // its error is River's to log; what matters is the row
	if r := outboxRowFor(t, s, "ruby@example.org"); r.status != "sent" || r.attempts != 2 || r.lastError != "" {
		t.Fatalf("row: %+v, want sent on the second attempt", r)
	}
}

// Without SMTP the local outbox keeps every message whole, newest first, for /dev/outbox.
func TestLocalOutboxKeepsMessages(t *testing.T) {
	t.Parallel()
	s := campaignstest.Store(t, 8)
	ctx := context.Background()
	queue(t, s, "first@example.org")
	queue(t, s, "second@example.org")
	w := &outbox.MailWorker{Store: s, Sender: outbox.LocalOutbox{}, Local: true}
	for _, job := range mailJobs(t, s) {
		if err := attempt(w, job, 1); err != nil {
			t.Fatal(err)
		}
	}
	mails, err := outbox.Outbox(ctx, s, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(mails) != 2 || mails[0].To != "second@example.org" || mails[1].To != "first@example.org" {
		t.Fatalf("outbox %+v, want second then first", mails)
	}
	for _, m := range mails {
		if m.Status != "sent" || m.Via != "local outbox" || m.Body != "Dear supporter,\n\nThank you." || m.SentAt == nil ||
			m.HTML != outbox.RenderHTML("Hello "+m.To, m.Body) {
			t.Errorf("outbox row %+v", m)
		}
	}
}

// Nothing that could turn into an extra mail header is queued.
func TestQueueMailRefusesHeaderInjection(t *testing.T) {
	t.Parallel()
	s := campaignstest.Store(t, 8)
	ctx := context.Background()
	for _, m := range []outbox.Mail{
		{To: "ruby@example.org\r\nBcc: everyone@example.org", Subject: "Hi", Body: "x"},
		{To: "ruby@example.org", Subject: "Hi\r\nBcc: everyone@example.org", Body: "x"},
		{To: "ruby@example.org, other@example.org", Subject: "Hi", Body: "x"},
		{To: "not an address", Subject: "Hi", Body: "x"},
		{To: "ruby@example.org", Subject: "", Body: "x"},
	} {
		var ve *campaigns.ValidationError
		if err := s.InTx(ctx, func(tx pgx.Tx) error { return outbox.QueueMail(ctx, tx, m) }); !errors.As(err, &ve) {
			t.Errorf("%q / %q: %v, want refused", m.To, m.Subject, err)
		}
	}
	var n int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM mail_outbox`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows queued (%v), want none", n, err)
	}
}

func TestMailBackoffGrowsToAnHour(t *testing.T) {
	t.Parallel()
	for attempt, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 7: 32 * time.Minute, 8: time.Hour, 30: time.Hour} {
		if got := campaigns.RetryBackoff(attempt); got != want {
			t.Errorf("attempt %d: %s, want %s", attempt, got, want)
		}
	}
}
