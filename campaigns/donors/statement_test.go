package donors_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/donors"
	"giving/campaigns/outbox"
	"giving/campaigns/testwait"
)

func TestTaxYearOfAtItsBoundaries(t *testing.T) {
	t.Parallel()
	lon := campaigns.London()
	cases := []struct {
		at   time.Time
		want int
	}{
		{time.Date(2026, 4, 5, 23, 59, 59, 0, lon), 2025},       // the last second of 2025-26
		{time.Date(2026, 4, 6, 0, 0, 0, 0, lon), 2026},          // the first of 2026-27
		{time.Date(2026, 4, 5, 23, 30, 0, 0, time.UTC), 2026},   // 00:30 on 6 April in London (BST)
		{time.Date(2026, 4, 5, 22, 59, 59, 0, time.UTC), 2025},  // 23:59:59 on 5 April in London
		{time.Date(2026, 1, 1, 0, 0, 0, 0, lon), 2025},          // January is the end of the year before
		{time.Date(2025, 12, 31, 23, 59, 0, 0, time.UTC), 2025}, // GMT: London is UTC
		{time.Date(2026, 3, 31, 12, 0, 0, 0, lon), 2025},
		{time.Date(2026, 4, 30, 12, 0, 0, 0, lon), 2026},
	}
	for _, c := range cases {
		if got := donors.TaxYearOf(c.at); got != c.want {
			t.Errorf("TaxYearOf(%s) = %d, want %d", c.at.UTC(), got, c.want)
		}
	}
	from, until := donors.TaxYearBounds(2025)
	if want := time.Date(2025, 4, 5, 23, 0, 0, 0, time.UTC); !from.Equal(want) {
		t.Errorf("2025-26 starts %s, want %s (midnight in London, summer time)", from.UTC(), want)
	}
	if want := time.Date(2026, 4, 5, 23, 0, 0, 0, time.UTC); !until.Equal(want) {
		t.Errorf("2025-26 ends before %s, want %s", until.UTC(), want)
	}
	if got := donors.TaxYearName(2025); got != "2025 to 2026" {
		t.Errorf("TaxYearName(2025) = %q", got)
	}
}

// statementWorld is Ada's year and the gifts around it: a monthly gift with Gift Aid, a
// one-off without, one refunded in part, gifts just outside the tax year on both sides,
// and another donor's gift in the year.
type statementWorld struct {
	*campaignstest.GiftWorld
	monthly, oneOff donations.Donation
}

func newStatementWorld(t *testing.T) statementWorld {
	w := campaignstest.NewGiftWorld(t)
	lon := campaigns.London()
	monthly := w.Donation(donations.NewDonation{Email: "Ada@Example.org", Monthly: true, Amount: d("10.00"),
		Declaration: campaignstest.Declaration("", "Ada", "Lovelace", "12", "SW1A 1AA")})
	if _, err := w.S.Pool().Exec(context.Background(), `UPDATE donations SET subscription_id = 'sub_ada', status = 'active', created_at = '2025-01-01' WHERE id = $1::uuid`, monthly.ID); err != nil {
		t.Fatal(err)
	}
	monthly = w.Reload(monthly.ID)
	// 00:30 on 6 April 2025 in London: the first gift of 2025-26, though 5 April in UTC.
	w.Gift(monthly, "in_1", "ch_1", "pi_1", "10.00", "0.35", time.Date(2025, 4, 5, 23, 30, 0, 0, time.UTC))
	w.Gift(monthly, "in_2", "ch_2", "pi_2", "10.00", "0.35", time.Date(2025, 5, 6, 9, 0, 0, 0, lon))
	w.Gift(monthly, "in_3", "ch_3", "pi_3", "10.00", "0.35", time.Date(2026, 4, 5, 23, 59, 0, 0, lon))      // the last minute
	w.Gift(monthly, "in_0", "ch_0", "pi_0", "10.00", "0.35", time.Date(2025, 4, 5, 22, 59, 0, 0, time.UTC)) // 23:59 on 5 April: 2024-25
	w.Gift(monthly, "in_4", "ch_4", "pi_4", "10.00", "0.35", time.Date(2026, 4, 6, 0, 0, 0, 0, lon))        // 2026-27
	oneOff := w.Donation(donations.NewDonation{Email: " ada@example.org ", Amount: d("25.00"), FundraiserID: w.Ruby})
	w.Gift(oneOff, "pi_5", "ch_5", "pi_5", "25.00", "0.58", time.Date(2025, 12, 1, 12, 0, 0, 0, lon))
	w.Refund(oneOff, "ch_5", "pi_5", "5.00", 500, time.Date(2025, 12, 3, 12, 0, 0, 0, lon))
	grace := w.Donation(donations.NewDonation{Email: "grace@example.org", Amount: d("40.00")})
	w.Gift(grace, "pi_g", "ch_g", "pi_g", "40.00", "0.80", time.Date(2025, 8, 1, 12, 0, 0, 0, lon))
	return statementWorld{GiftWorld: w, monthly: monthly, oneOff: oneOff}
}

func TestStatementTotalsEqualTheLedgerForHerAndTheYear(t *testing.T) {
	t.Parallel()
	w := newStatementWorld(t)
	ctx := context.Background()
	st, err := donors.StatementByEmail(ctx, w.S, "ADA@example.org", 2025)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range st.Lines {
		got = append(got, l.At.In(campaigns.London()).Format("2006-01-02 15:04")+" "+l.What()+" "+l.To()+" "+l.Amount.StringFixed(2)+" "+map[bool]string{true: "GA", false: "-"}[l.GiftAid])
	}
	want := []string{
		"2025-04-06 00:30 Monthly gift " + w.Appeal.Name + " 10.00 GA",
		"2025-05-06 09:00 Monthly gift " + w.Appeal.Name + " 10.00 GA",
		"2025-12-01 12:00 Gift " + w.Appeal.Name + " (" + rubyTitle(t, w) + ") 25.00 -",
		"2025-12-03 12:00 Refund " + w.Appeal.Name + " (" + rubyTitle(t, w) + ") -5.00 -",
		"2026-04-05 23:59 Monthly gift " + w.Appeal.Name + " 10.00 GA",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("statement lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for name, c := range map[string]struct{ got, want string }{
		"given": {st.Given.StringFixed(2), "55.00"}, "refunded": {st.Refunded.StringFixed(2), "5.00"},
		"disputed": {st.Disputed.StringFixed(2), "0.00"}, "net": {st.Net.StringFixed(2), "50.00"},
		"gift aid": {st.GiftAidable.StringFixed(2), "30.00"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", name, c.got, c.want)
		}
	}
	// The same sums straight from the ledger: every entry of her donations in the year.
	from, until := donors.TaxYearBounds(2025)
	var net, gross, base decimal.Decimal
	if err := w.S.Pool().QueryRow(ctx, `SELECT COALESCE(sum(e.amount), 0), COALESCE(sum(e.amount) FILTER (WHERE e.kind = 'gift'), 0), COALESCE(sum(e.gift_aid_base), 0)
		FROM ledger_entries e JOIN donations d ON d.id = e.donation_id JOIN donors r ON r.id = d.donor_id
		WHERE r.email = 'ada@example.org' AND e.occurred_at >= $1 AND e.occurred_at < $2`, from, until).Scan(&net, &gross, &base); err != nil {
		t.Fatal(err)
	}
	if !net.Equal(st.Net) || !gross.Equal(st.Given) || !base.Equal(st.GiftAidable) {
		t.Errorf("ledger: net %s given %s Gift Aid-able %s; statement: %s %s %s", net, gross, base, st.Net, st.Given, st.GiftAidable)
	}
	years, err := donors.StatementYears(ctx, w.S, st.DonorID)
	if err != nil {
		t.Fatal(err)
	}
	if len(years) != 3 || years[0] != 2026 || years[1] != 2025 || years[2] != 2024 {
		t.Errorf("years with gifts %v, want [2026 2025 2024]", years)
	}

	pdf, err := st.PDF(donations.Charity{Name: "Fundraising for Freedom", Number: "1234567", Address: "1 High Street, London, N1 1AA", Email: "hello@example.org"},
		time.Date(2026, 4, 6, 9, 0, 0, 0, campaigns.London()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf[len(pdf)-32:], []byte("%%EOF")) {
		t.Fatalf("not a PDF: %q...", pdf[:min(len(pdf), 16)])
	}
	checkPDFText(t, pdf, "Fundraising for Freedom", "Registered charity number 1234567", "Your gifts in the tax year 2025 to 2026",
		"ada@example.org", "Given (4 gifts)£55.00", "Refunded to you-£5.00", "Total given£50.00", "claimed on£30.00", "6 April 2025", "5 April 2026",
		"Gift Aid we can claim on it£7.50", "HMRC 25p")

	if _, err := donors.BuildStatement(ctx, w.S, "not-a-donor", 2025); err == nil {
		t.Error("a statement for a donor that does not exist")
	}
}

func rubyTitle(t *testing.T, w statementWorld) string {
	t.Helper()
	var title string
	if err := w.S.Pool().QueryRow(context.Background(), `SELECT title FROM fundraisers WHERE id = $1`, w.Ruby).Scan(&title); err != nil {
		t.Fatal(err)
	}
	return title
}

// outboxMail is every queued email, oldest first: to, subject and body.
func outboxMail(t *testing.T, s *campaigns.Store) [][3]string {
	t.Helper()
	rows, err := s.Pool().Query(context.Background(), `SELECT to_address, subject, body FROM mail_outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][3]string
	for rows.Next() {
		var m [3]string
		if err := rows.Scan(&m[0], &m[1], &m[2]); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// The statement's Gift Aid is at the appeal's rate, not a fixed 25p: at 28p in the pound
// (the old 22% basic rate) her £30.00 with Gift Aid is worth £8.40, and the PDF says 28p.
func TestStatementGiftAidAtTheAppealsRate(t *testing.T) {
	t.Parallel()
	w := newStatementWorld(t)
	ctx := context.Background()
	if _, err := w.S.Pool().Exec(ctx, `UPDATE appeals SET gift_aid_rate = 0.28 WHERE id = $1`, w.Appeal.ID); err != nil {
		t.Fatal(err)
	}
	st, err := donors.StatementByEmail(ctx, w.S, "ada@example.org", 2025)
	if err != nil {
		t.Fatal(err)
	}
	if st.GiftAid.StringFixed(2) != "8.40" || st.GiftAidPerPound() != "28p" {
		t.Errorf("Gift Aid %s at %q, want 8.40 at 28p", st.GiftAid.StringFixed(2), st.GiftAidPerPound())
	}
	pdf, err := st.PDF(donations.Charity{Name: "Fundraising for Freedom", Number: "1234567"}, time.Date(2026, 4, 6, 9, 0, 0, 0, campaigns.London()))
	if err != nil {
		t.Fatal(err)
	}
	checkPDFText(t, pdf, "Gift Aid we can claim on it£8.40", "HMRC 28p")
}

func TestStatementEmailsGoOutOnceFromSixthApril(t *testing.T) {
	t.Parallel()
	w := newStatementWorld(t)
	ctx := context.Background()
	lon := campaigns.London()
	clock := campaignstest.NewClock(time.Date(2026, 4, 5, 23, 30, 0, 0, lon))
	s := w.S.WithClock(clock.Now)
	m := &donations.DonorMail{Charity: donations.Charity{Name: "Fundraising for Freedom", Number: "1234567", Address: "1 High Street, London, N1 1AA", Email: "hello@example.org"},
		BaseURL: "https://give.example.org/",
		ManageLink: func(ctx context.Context, tx pgx.Tx, donationID string) (string, error) {
			return donations.NewManageLink(ctx, tx, s.Now(), "https://give.example.org/", donationID)
		}}

	// 5 April: the tax year has not ended.
	if n, err := donors.SendStatementMails(ctx, s, m); err != nil || n != 0 {
		t.Fatalf("on 5 April: %d emails, %v; want none", n, err)
	}
	if got := outboxMail(t, s); len(got) != 0 {
		t.Fatalf("on 5 April the outbox holds %v", got)
	}

	// 6 April: one email to each donor who gave in 2025-26.
	clock.Advance(time.Hour)
	if n, err := donors.SendStatementMails(ctx, s, m); err != nil || n != 2 {
		t.Fatalf("on 6 April: %d emails, %v; want 2", n, err)
	}
	mails := outboxMail(t, s)
	if len(mails) != 2 {
		t.Fatalf("outbox: %v", mails)
	}
	byTo := map[string][3]string{}
	for _, mail := range mails {
		byTo[mail[0]] = mail
	}
	ada, grace := byTo["ada@example.org"], byTo["grace@example.org"]
	for _, mail := range [][3]string{ada, grace} {
		if mail[1] != "Your statement of gifts for the tax year 2025 to 2026" {
			t.Errorf("subject to %s: %q", mail[0], mail[1])
		}
	}
	for _, want := range []string{"6 April 2025 to 5 April 2026", "Given:                   £55.00 (4 gifts)", "Refunded to you:         -£5.00",
		"Total given:             £50.00", "With Gift Aid:           £30.00", "https://give.example.org/manage/", "/statement/2025.pdf\n",
		"registered charity number 1234567"} {
		if !strings.Contains(ada[2], want) {
			t.Errorf("Ada's email does not say %q:\n%s", want, ada[2])
		}
	}
	for _, want := range []string{"This email is your statement", "Given:                   £40.00 (1 gift)", "Total given:             £40.00",
		"  1 August 2025: Gift of £40.00 to " + w.Appeal.Name + " (no Gift Aid)\n"} {
		if !strings.Contains(grace[2], want) {
			t.Errorf("Grace's email does not say %q:\n%s", want, grace[2])
		}
	}
	if strings.Contains(grace[2], "/manage/") || strings.Contains(grace[2], "Gift Aid,") {
		t.Errorf("a one-off donor without Gift Aid was sent a manage link, or told about Gift Aid:\n%s", grace[2])
	}

	// Again that day, and later in April: nothing more.
	for _, later := range []time.Duration{time.Minute, 10 * 24 * time.Hour} {
		clock.Advance(later)
		if n, err := donors.SendStatementMails(ctx, s, m); err != nil || n != 0 {
			t.Fatalf("%s later: %d emails, %v; want none", later, n, err)
		}
	}
	if got := outboxMail(t, s); len(got) != 2 {
		t.Fatalf("the outbox holds %d emails, want 2", len(got))
	}
}

func TestStatementEmailsWaitForAprilNotAutumn(t *testing.T) {
	t.Parallel()
	w := newStatementWorld(t)
	ctx := context.Background()
	// A service first started in May 2026 does not write about 2025-26, nor in the next
	// March about anything.
	for _, at := range []time.Time{time.Date(2026, 5, 1, 0, 0, 0, 0, campaigns.London()), time.Date(2027, 3, 20, 12, 0, 0, 0, campaigns.London())} {
		s := w.S.WithClock(func() time.Time { return at })
		if n, err := donors.SendStatementMails(ctx, s, &donations.DonorMail{}); err != nil || n != 0 {
			t.Fatalf("at %s: %d emails, %v; want none", at, n, err)
		}
	}
}

// The service's job client runs the statement job on start (and hourly): on 6 April it
// queues the emails, each with its send job, as SendStatementMails does when called.
func TestStatementMailsRunAsAPeriodicJob(t *testing.T) {
	t.Parallel()
	w := newStatementWorld(t)
	at := time.Date(2026, 4, 6, 9, 0, 0, 0, campaigns.London())
	s := w.S.WithClock(func() time.Time { return at })
	workers := river.NewWorkers()
	periodic := donors.StatementMails(workers, s, &donations.DonorMail{Charity: donations.Charity{Name: "Fundraising for Freedom"}})
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[outbox.MailJob]) error { return nil })) // mail is not sent here
	jobs, err := s.NewJobClient(s.Pool(), nil, workers, periodic)
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = jobs.Stop(context.Background()) })
	testwait.Eventually(t, "a statement email to each of the two donors", func() bool { return len(outboxMail(t, s)) == 2 })
}
