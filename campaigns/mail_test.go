package campaigns_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
)

// recorder is a mail sender that remembers every message it was handed.
type recorder struct {
	mu   sync.Mutex
	sent []campaigns.Mail
	// fail, if set, decides the outcome of each send.
	fail func(m campaigns.Mail, try int) error
	// tries counts sends per recipient.
	tries map[string]int
	delay time.Duration
}

func (r *recorder) SendMail(ctx context.Context, m campaigns.Mail) error {
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
	status, via, lastError, body string
	attempts                     int
	due                          time.Time
}

func outboxRowFor(t *testing.T, s *campaigns.Store, to string) outboxRow {
	t.Helper()
	var r outboxRow
	err := s.Pool().QueryRow(context.Background(), `SELECT status, delivered_via, last_error, body, attempts, next_attempt_at
		FROM mail_outbox WHERE to_address = $1`, to).Scan(&r.status, &r.via, &r.lastError, &r.body, &r.attempts, &r.due)
	if err != nil {
		t.Fatalf("outbox row for %s: %v", to, err)
	}
	return r
}

func queue(t *testing.T, s *campaigns.Store, to string) {
	t.Helper()
	if err := campaigns.QueueMail(context.Background(), s.Pool(), campaigns.Mail{To: to, Subject: "Hello " + to, Body: "Dear supporter,\n\nThank you."}); err != nil {
		t.Fatal(err)
	}
}

// Mail queued in a transaction is sent only once the transaction commits, and never when
// it rolls back.
func TestQueuedMailWaitsForCommit(t *testing.T) {
	t.Parallel()
	s := accountStore(t)
	ctx := context.Background()
	rec := &recorder{}
	w := &campaigns.MailWorker{Store: s, Sender: rec}

	rolledBack := errors.New("the change failed")
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if err := campaigns.QueueMail(ctx, tx, campaigns.Mail{To: "never@example.org", Subject: "Not sent", Body: "x"}); err != nil {
			return err
		}
		return rolledBack
	})
	if !errors.Is(err, rolledBack) {
		t.Fatal(err)
	}

	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := campaigns.QueueMail(ctx, tx, campaigns.Mail{To: "ruby@example.org", Subject: "Welcome", Body: "Hello Ruby"}); err != nil {
		t.Fatal(err)
	}
	if n, err := w.SendDue(ctx); err != nil || n != 0 || rec.count() != 0 {
		t.Fatalf("before commit: claimed %d, sent %d (%v); want nothing", n, rec.count(), err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := w.SendDue(ctx); err != nil || n != 1 {
		t.Fatalf("after commit: claimed %d (%v), want 1", n, err)
	}
	if n, err := w.SendDue(ctx); err != nil || n != 0 {
		t.Fatalf("second pass: claimed %d (%v), want 0", n, err)
	}
	if len(rec.sent) != 1 || rec.sent[0] != (campaigns.Mail{To: "ruby@example.org", Subject: "Welcome", Body: "Hello Ruby"}) {
		t.Fatalf("sent %+v, want only Ruby's welcome", rec.sent)
	}
	// Over SMTP, the body is dropped once sent (reset links must not linger).
	if r := outboxRowFor(t, s, "ruby@example.org"); r.status != "sent" || r.via != "smtp" || r.body != "" || r.attempts != 1 {
		t.Errorf("row after sending: %+v", r)
	}
}

// Two workers (as in two instances) drain one outbox together, and every message goes
// out exactly once.
func TestTwoMailWorkersSendEachMailOnce(t *testing.T) {
	t.Parallel()
	s := accountStore(t)
	const n = 60
	for i := range n {
		queue(t, s, fmt.Sprintf("supporter%d@example.org", i))
	}
	rec := &recorder{delay: 2 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		w := &campaigns.MailWorker{Store: s, Sender: rec, Batch: 3, Interval: 10 * time.Millisecond}
		wg.Go(func() { w.Run(ctx) })
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var unsent int
		if err := s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM mail_outbox WHERE status <> 'sent'`).Scan(&unsent); err != nil {
			t.Fatal(err)
		}
		if unsent == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still unsent after 30 s", unsent)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
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

// A failed send is kept, with its error, and sent on a later attempt after a backoff.
func TestFailedMailIsRetried(t *testing.T) {
	t.Parallel()
	s := accountStore(t)
	ctx := context.Background()
	queue(t, s, "ruby@example.org")
	rec := &recorder{fail: func(m campaigns.Mail, try int) error {
		if try <= 2 {
			return fmt.Errorf("421 mail server busy (try %d)", try)
		}
		return nil
	}}
	w := &campaigns.MailWorker{Store: s, Sender: rec}

	if n, err := w.SendDue(ctx); err != nil || n != 1 {
		t.Fatalf("first attempt: claimed %d (%v)", n, err)
	}
	r := outboxRowFor(t, s, "ruby@example.org")
	if r.status != "queued" || r.attempts != 1 || !strings.Contains(r.lastError, "421 mail server busy (try 1)") {
		t.Fatalf("after a failure: %+v, want queued with the error", r)
	}
	if wait := time.Until(r.due); wait < 20*time.Second || wait > 40*time.Second {
		t.Errorf("first retry due in %s, want about 30 s", wait)
	}
	if n, _ := w.SendDue(ctx); n != 0 {
		t.Fatalf("retried before the backoff ended")
	}

	// Later: the backoff has passed (here: no backoff at all).
	w.Backoff = func(int) time.Duration { return 0 }
	if _, err := s.Pool().Exec(ctx, `UPDATE mail_outbox SET next_attempt_at = now()`); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := w.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r = outboxRowFor(t, s, "ruby@example.org")
	if r.status != "sent" || r.attempts != 3 || r.lastError != "" || rec.count() != 1 {
		t.Fatalf("after the third attempt: %+v, %d sent; want sent once on attempt 3", r, rec.count())
	}
}

// An address the mail server refuses for good is marked failed, with the reason, and not
// tried again; the row stays.
func TestPermanentlyRefusedMailIsKept(t *testing.T) {
	t.Parallel()
	s := accountStore(t)
	ctx := context.Background()
	queue(t, s, "gone@example.org")
	rec := &recorder{fail: func(campaigns.Mail, int) error {
		return fmt.Errorf("%w: 550 no such user", campaigns.ErrPermanent)
	}}
	w := &campaigns.MailWorker{Store: s, Sender: rec, Backoff: func(int) time.Duration { return 0 }}
	for range 3 {
		if _, err := w.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r := outboxRowFor(t, s, "gone@example.org")
	if r.status != "failed" || r.attempts != 1 || !strings.Contains(r.lastError, "550 no such user") || r.body == "" {
		t.Fatalf("refused mail: %+v, want failed after one attempt with its reason and body kept", r)
	}
}

// blocker is a sender that hangs, like a worker that has died mid-send, until released.
type blocker struct {
	started chan struct{}
	release chan struct{}
}

func (b *blocker) SendMail(ctx context.Context, m campaigns.Mail) error {
	close(b.started)
	<-b.release
	return nil
}

// A worker that vanishes after claiming a message does not lose it: once its lease runs
// out another worker sends it, and the vanished worker cannot overwrite the outcome.
func TestMailOfAVanishedWorkerIsSentByAnother(t *testing.T) {
	t.Parallel()
	s := accountStore(t)
	ctx := context.Background()
	queue(t, s, "ruby@example.org")
	// The workers read the time from a clock the test moves: the lease runs out when the
	// test says so, not after a sleep.
	var queuedAt time.Time
	if err := s.Pool().QueryRow(ctx, `SELECT max(next_attempt_at) FROM mail_outbox`).Scan(&queuedAt); err != nil {
		t.Fatal(err)
	}
	clock := newTestClock(queuedAt)
	s = s.WithClock(clock.Now)

	hung := &blocker{started: make(chan struct{}), release: make(chan struct{})}
	first := &campaigns.MailWorker{Store: s, Sender: hung, Lease: time.Minute}
	firstDone := make(chan error, 1)
	go func() { _, err := first.SendDue(ctx); firstDone <- err }()
	<-hung.started

	rec := &recorder{}
	second := &campaigns.MailWorker{Store: s, Sender: rec}
	if n, err := second.SendDue(ctx); err != nil || n != 0 {
		t.Fatalf("while the first worker holds the lease: claimed %d (%v), want 0", n, err)
	}
	clock.Advance(59 * time.Second)
	if n, err := second.SendDue(ctx); err != nil || n != 0 {
		t.Fatalf("a second before the lease ends: claimed %d (%v), want 0", n, err)
	}
	clock.Advance(2 * time.Second)
	if n, err := second.SendDue(ctx); err != nil || n != 1 || rec.count() != 1 {
		t.Fatalf("after the lease: claimed %d, sent %d (%v); want the message sent", n, rec.count(), err)
	}
	close(hung.release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if r := outboxRowFor(t, s, "ruby@example.org"); r.status != "sent" || r.attempts != 2 {
		t.Fatalf("row: %+v, want sent on the second attempt", r)
	}
}

// Without SMTP the local outbox keeps every message whole, newest first, for /dev/outbox.
func TestLocalOutboxKeepsMessages(t *testing.T) {
	t.Parallel()
	s := accountStore(t)
	ctx := context.Background()
	queue(t, s, "first@example.org")
	queue(t, s, "second@example.org")
	w := &campaigns.MailWorker{Store: s, Sender: campaigns.LocalOutbox{}, Local: true}
	if n, err := w.SendDue(ctx); err != nil || n != 2 {
		t.Fatalf("claimed %d (%v)", n, err)
	}
	mails, err := s.Outbox(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(mails) != 2 || mails[0].To != "second@example.org" || mails[1].To != "first@example.org" {
		t.Fatalf("outbox %+v, want second then first", mails)
	}
	for _, m := range mails {
		if m.Status != "sent" || m.Via != "local outbox" || m.Body != "Dear supporter,\n\nThank you." || m.SentAt == nil {
			t.Errorf("outbox row %+v", m)
		}
	}
}

// Nothing that could turn into an extra mail header is queued.
func TestQueueMailRefusesHeaderInjection(t *testing.T) {
	t.Parallel()
	s := accountStore(t)
	ctx := context.Background()
	for _, m := range []campaigns.Mail{
		{To: "ruby@example.org\r\nBcc: everyone@example.org", Subject: "Hi", Body: "x"},
		{To: "ruby@example.org", Subject: "Hi\r\nBcc: everyone@example.org", Body: "x"},
		{To: "ruby@example.org, other@example.org", Subject: "Hi", Body: "x"},
		{To: "not an address", Subject: "Hi", Body: "x"},
		{To: "ruby@example.org", Subject: "", Body: "x"},
	} {
		var ve *campaigns.ValidationError
		if err := campaigns.QueueMail(ctx, s.Pool(), m); !errors.As(err, &ve) {
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
