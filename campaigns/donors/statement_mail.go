package donors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"giving/campaigns"
	"giving/campaigns/dbq"
	"giving/campaigns/donations"
	"giving/campaigns/outbox"
)

// The yearly statement email. From 6 April to the end of April (London), a periodic River
// job (StatementMails) emails every donor who gave in the tax year just ended that her
// statement is ready, once per donor and tax year: a row of statement_mails is written in
// the transaction that queues her email, so a second run, or a second instance, finds her
// done. A donor with a running monthly gift gets a fresh link to download the PDF from the
// page where she manages it; a one-off donor has no such page, so her email lists her gifts
// and totals and is the statement itself. Outside April nothing is sent: a service first
// started in the autumn does not write about a year long gone.

// statementBatch is how many donors one query finds; the job loops until none is left.
const statementBatch = 100

// StatementMailJob sends the statement emails that are due (hourly, see StatementMails).
type StatementMailJob struct{}

func (StatementMailJob) Kind() string { return "statement_mails" }

func (StatementMailJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: campaigns.JobQueueMail, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// StatementMailWorker works StatementMailJob.
type StatementMailWorker struct {
	river.WorkerDefaults[StatementMailJob]
	Store *campaigns.Store
	Mail  *donations.DonorMail
}

func (w *StatementMailWorker) Work(ctx context.Context, _ *river.Job[StatementMailJob]) error {
	_, err := SendStatementMails(ctx, w.Store, w.Mail)
	return err
}

// StatementMails registers the worker that emails the yearly statements from m (the
// charity and the site's address) and returns its hourly schedule, for the job client.
func StatementMails(workers *river.Workers, s *campaigns.Store, m *donations.DonorMail) *river.PeriodicJob {
	river.AddWorker(workers, &StatementMailWorker{Store: s, Mail: m})
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return StatementMailJob{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})
}

// SendStatementMails queues, at the store's time, the statement email of every donor who
// gave in the tax year just ended and has not had it, if it is April (from the 6th) in
// London; it returns how many it queued. A nil m sends nothing.
func SendStatementMails(ctx context.Context, s *campaigns.Store, m *donations.DonorMail) (int, error) {
	now := s.Now()
	current := TaxYearOf(now)
	started, _ := TaxYearBounds(current)
	if m == nil || !now.Before(started.AddDate(0, 1, -5)) { // 6 April to 30 April
		return 0, nil
	}
	year := current - 1
	from, until := TaxYearBounds(year)
	sent := 0
	for {
		due, err := dbq.New(s.Pool()).StatementMailsDue(ctx, dbq.StatementMailsDueParams{FromAt: from, UntilAt: until, TaxYear: int32(year), Batch: statementBatch})
		if err != nil {
			return sent, fmt.Errorf("statement emails: %w", err)
		}
		if len(due) == 0 {
			return sent, nil
		}
		for _, id := range due {
			queued, err := campaigns.InTxValue(ctx, s, func(tx pgx.Tx) (bool, error) {
				return sendStatementMail(ctx, tx, m, s.Now(), id, year)
			})
			if err != nil {
				return sent, err
			}
			if queued {
				sent++
			}
		}
	}
}

// sendStatementMail claims donorID's statement email for the year and queues it, in tx.
func sendStatementMail(ctx context.Context, tx pgx.Tx, m *donations.DonorMail, now time.Time, donorID string, year int) (bool, error) {
	q := dbq.New(tx)
	n, err := q.ClaimStatementMail(ctx, dbq.ClaimStatementMailParams{DonorID: donorID, TaxYear: int32(year), Now: now})
	if err != nil || n == 0 {
		return false, err // already sent (another run got there first), or an error
	}
	st, err := statementIn(ctx, tx, donorID, year)
	if errors.Is(err, campaigns.ErrNotFound) {
		return false, nil // erased since: nobody to write to
	}
	if err != nil {
		return false, err
	}
	link := ""
	if gifts, err := q.StatementMonthlyGift(ctx, donorID); err != nil {
		return false, fmt.Errorf("statement email: %w", err)
	} else if len(gifts) > 0 && m.ManageLink != nil {
		if link, err = m.ManageLink(ctx, tx, gifts[0]); err != nil {
			return false, fmt.Errorf("statement email: %w", err)
		}
	}
	err = outbox.QueueMail(ctx, tx, outbox.Mail{To: st.Email, Subject: "Your statement of gifts for the tax year " + TaxYearName(year),
		Body: statementMailText(m, st, link)})
	var ve *campaigns.ValidationError
	if errors.As(err, &ve) {
		return false, nil // an address no email can go to: the claim stays, so it is not tried every hour
	}
	return err == nil, err
}

// statementMailText is the email: the totals, and either the link to the PDF (manage is her
// manage link) or, for a donor with no manage page, every line of the statement.
func statementMailText(m *donations.DonorMail, st Statement, manage string) string {
	var b strings.Builder
	if name := strings.TrimSpace(st.Name); name != "" {
		fmt.Fprintf(&b, "Dear %s,\n\n", name)
	} else {
		b.WriteString("Hello,\n\n")
	}
	charity := m.Charity.Name
	if charity == "" {
		charity = campaigns.CharityName
	}
	period := fmt.Sprintf("6 April %d to 5 April %d", st.TaxYear, st.TaxYear+1)
	if manage != "" {
		fmt.Fprintf(&b, "Thank you for everything you gave to %s in the tax year %s. Your statement for the year is ready.\n\n", charity, period)
	} else {
		fmt.Fprintf(&b, "Thank you for everything you gave to %s in the tax year %s. This email is your statement for the year: please keep it with your records.\n\n", charity, period)
	}
	b.WriteString(statementTotals(st))
	if manage != "" {
		fmt.Fprintf(&b, "\nDownload your statement, with every gift and its Gift Aid, as a PDF (the link is for you alone, so please do not forward this email):\n%s/statement/%d.pdf\n", manage, st.TaxYear)
		fmt.Fprintf(&b, "\nIt is also on the page where you manage your monthly gift:\n%s\n", manage)
	} else {
		b.WriteString("\nYour gifts:\n")
		for _, l := range st.Lines {
			ga := "no Gift Aid"
			if l.GiftAid {
				ga = "Gift Aid"
			}
			if l.Kind == LineGift {
				fmt.Fprintf(&b, "  %s: %s of %s to %s (%s)\n", donations.UKDate(l.At), l.What(), donations.Pounds(l.Amount), l.To(), ga)
			} else { // a refund, or money her bank took back or returned
				fmt.Fprintf(&b, "  %s: %s, %s (your gift to %s; %s)\n", donations.UKDate(l.At), l.What(), donations.Pounds(l.Amount), l.To(), ga)
			}
		}
	}
	if !st.GiftAidable.IsZero() {
		fmt.Fprintf(&b, "\nWhere a gift has Gift Aid, you made a declaration that covers it, so we can claim %s from HMRC for every £1 you gave. ", st.GiftAidPerPound())
		b.WriteString(
			"You must pay at least as much Income Tax or Capital Gains Tax in the tax year as all the charities you support claim on your gifts. " +
				"If you pay tax at a higher rate, you can claim back the difference on your Self Assessment tax return.\n")
	}
	if m.Charity.Email != "" {
		fmt.Fprintf(&b, "\nIf anything here looks wrong, write to us at %s.\n", m.Charity.Email)
	}
	b.WriteString(m.SignOff())
	return b.String()
}

// statementTotals lays out the totals as label: value rows, the values in one column.
func statementTotals(st Statement) string {
	rows := [][2]string{{"Given", donations.Pounds(st.Given) + " (" + plural(st.Gifts(), "gift", "gifts") + ")"}}
	if !st.Refunded.IsZero() {
		rows = append(rows, [2]string{"Refunded to you", "-" + donations.Pounds(st.Refunded)})
	}
	if !st.Disputed.IsZero() {
		rows = append(rows, [2]string{"Taken back by your bank", "-" + donations.Pounds(st.Disputed)})
	}
	rows = append(rows, [2]string{"Total given", donations.Pounds(st.Net)})
	if !st.GiftAidable.IsZero() {
		rows = append(rows, [2]string{"With Gift Aid", donations.Pounds(st.GiftAidable)},
			[2]string{"Gift Aid we can claim", donations.Pounds(st.GiftAid)})
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-24s %s\n", r[0]+":", r[1])
	}
	return b.String()
}
