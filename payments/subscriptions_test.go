package payments_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/shopspring/decimal"

	"giving/campaigns/accounts"
	"giving/campaigns/campaignstest"
	"giving/campaigns/donations"
	"giving/campaigns/reports"
	"giving/payments"
)

// Every call a change makes passes stripe-mock's check of Stripe's request shapes
// (parameters, enums, types) for the 2023-10-16 API.
func TestManageCallsStripeMock(t *testing.T) {
	s := payments.StripeSubscriptions{API: stripeMock(t)}
	ctx := context.Background()
	if err := s.PauseSubscription(ctx, "sub_123", time.Now().AddDate(0, 2, 0), 1); err != nil {
		t.Errorf("pause: %v", err)
	}
	if err := s.ResumeSubscription(ctx, "sub_123", 2); err != nil {
		t.Errorf("resume: %v", err)
	}
	if err := s.ChangeAmount(ctx, "sub_123", 1500, 3); err != nil {
		t.Errorf("change amount: %v", err)
	}
	if err := s.EndSubscription(ctx, "sub_123", "Giving: cancelled at the donor's request", 4); err != nil {
		t.Errorf("cancel: %v", err)
	}
	sess, err := s.CardSession(ctx, "cus_123", "sub_123", 5, "https://give.example.org/manage/abc")
	if err != nil || !strings.HasPrefix(sess.ID, "cs_") {
		t.Errorf("card session: %+v %v", sess, err)
	}
	if err := s.UseCard(ctx, "sub_123", "pm_123", 5); err != nil {
		t.Errorf("use card: %v", err)
	}
}

// subscriptionEvent is customer.subscription.updated for sub at pence a month, with
// pause_collection until resumes (zero: not paused).
func subscriptionEvent(t *testing.T, sub string, pence int64, resumes time.Time, m payments.Meta) []byte {
	t.Helper()
	raw := b.SubscriptionUpdated(sub, "cus_m", pence, "active", false, m)
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	obj := ev["data"].(map[string]any)["object"].(map[string]any)
	if !resumes.IsZero() {
		obj["pause_collection"] = map[string]any{"behavior": "void", "resumes_at": resumes.Unix()}
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type manageWorld struct {
	*world
	d     donations.Donation
	m     payments.Meta
	token string
}

func newManageWorld(t *testing.T) *manageWorld {
	return newManageWorldWith(t, payments.StripeSubscriptions{API: stripeMock(t)})
}

// savedCard is Stripe (stripe-mock) whose setup intents hold a card: stripe-mock's fixture
// has none, so the card is the one a real setup intent would name, once the request for
// it has passed stripe-mock's check.
type savedCard struct{ payments.StripeSubscriptions }

func (c savedCard) CardOf(ctx context.Context, setupIntent string) (string, error) {
	if _, err := c.StripeSubscriptions.CardOf(ctx, setupIntent); err != nil && !strings.Contains(err.Error(), "has no payment method") {
		return "", err
	}
	return "pm_card_visa", nil
}

func newManageWorldWith(t *testing.T, provider interface {
	payments.SubscriptionManager
	payments.SubscriptionCanceller
}) *manageWorld {
	w := newWorld(t, 1, func(h *payments.Webhooks) { h.Subscriptions = provider })
	d := w.donation("10.00", true, false, 0)
	m := meta(w, d)
	w.send(b.CheckoutSubscriptionCompleted("cs_m", "sub_m", "cus_m", 1000, m))
	w.send(b.InvoicePaid("in_m1", "sub_m", "cus_m", "ch_m1", "pi_m1", 1000, "subscription_create", m))
	mw := &manageWorld{world: w, d: d, m: m}
	mw.token = mw.newLink()
	return mw
}

func (w *manageWorld) newLink() string {
	w.t.Helper()
	var link string
	err := w.store().InTx(context.Background(), func(tx pgx.Tx) error {
		var err error
		link, err = donations.NewManageLink(context.Background(), tx, w.store().Now(), "https://give.example.org", w.d.ID)
		return err
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return link[strings.LastIndexByte(link, '/')+1:]
}

func (w *manageWorld) gift() donations.ManagedGift {
	w.t.Helper()
	g, err := donations.Managed(context.Background(), w.pool(), w.d.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return g
}

// ask requests a change through the link and works its job once against stripe-mock.
func (w *manageWorld) ask(c donations.ChangeRequest) {
	w.t.Helper()
	c.After, c.Site = w.gift().Latest, "https://give.example.org"
	id, err := donations.RequestChangeByLink(context.Background(), w.store(), w.token, c)
	if err != nil {
		w.t.Fatalf("request %s: %v", c.Kind, err)
	}
	w.work(id)
}

func (w *manageWorld) work(id int64) {
	w.t.Helper()
	job := &river.Job[donations.ManageJob]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 30}, Args: donations.ManageJob{RequestID: id}}
	if err := w.insts[0].hooks.ManageWorker().Work(context.Background(), job); err != nil {
		w.t.Fatalf("stripe-mock refused change %d: %v", id, err)
	}
	if g := w.gift(); g.Waiting() == nil || g.Waiting().SentAt == nil || g.Waiting().ConfirmedAt != nil {
		w.t.Fatalf("after Stripe's answer, before its event, the change must be waiting: %+v", g.Changes[0])
	}
}

func (w *manageWorld) dashboard() reports.Dashboard {
	w.t.Helper()
	now := time.Now()
	d, err := reports.ReadDashboard(context.Background(), w.store(), w.appeal.ID, reports.MonthPeriod(now.Year(), now.Month(), 1))
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

func (w *manageWorld) mails() (subjects []string, bodies []string) {
	w.t.Helper()
	rows, err := w.pool().Query(context.Background(), `SELECT subject, body FROM mail_outbox ORDER BY id`)
	if err != nil {
		w.t.Fatal(err)
	}
	for rows.Next() {
		var s, b string
		if err := rows.Scan(&s, &b); err != nil {
			w.t.Fatal(err)
		}
		subjects, bodies = append(subjects, s), append(bodies, b)
	}
	return subjects, bodies
}

// A donor changes the amount, pauses, resumes and cancels: each reaches Stripe
// (stripe-mock), waits until Stripe's event confirms it, then shows done, emails the
// donor once, and moves the dashboard.
func TestDonorChangesAreDoneOnlyWhenStripeConfirms(t *testing.T) {
	t.Parallel()
	w := newManageWorld(t)
	if d := w.dashboard(); d.MonthlyRecurringIncome.StringFixed(2) != "10.00" {
		t.Fatalf("income before: %s", d.MonthlyRecurringIncome)
	}

	w.ask(donations.ChangeRequest{Kind: donations.ChangeAmount, NewAmount: decimal.RequireFromString("15")})
	if g := w.gift(); !g.Amount.Equal(decimal.NewFromInt(10)) {
		t.Fatalf("amount changed before Stripe confirmed: %s", g.Amount)
	}
	ev := subscriptionEvent(t, "sub_m", 1500, time.Time{}, w.m)
	w.send(ev)
	w.send(ev) // delivered twice: one confirmation
	g := w.gift()
	if g.Waiting() != nil || g.Changes[0].ConfirmedAt == nil || !g.Amount.Equal(decimal.NewFromInt(15)) {
		t.Fatalf("after Stripe's event the new amount must be done: %+v", g)
	}
	if d := w.dashboard(); d.MonthlyRecurringIncome.StringFixed(2) != "15.00" || d.AmountsRaised != 1 || d.AmountsLowered != 0 {
		t.Fatalf("dashboard after £10 -> £15: income %s, raised %d lowered %d", d.MonthlyRecurringIncome, d.AmountsRaised, d.AmountsLowered)
	}

	w.ask(donations.ChangeRequest{Kind: donations.ChangePause, PauseMonths: 2})
	resumes := *w.gift().Waiting().ResumesAt
	w.send(subscriptionEvent(t, "sub_m", 1500, resumes, w.m))
	if g := w.gift(); g.Waiting() != nil || !g.Paused(time.Now()) {
		t.Fatalf("pause not done after Stripe's event: %+v", g)
	}
	if d := w.dashboard(); d.PausedMonthly != 1 || !d.MonthlyRecurringIncome.IsZero() || d.ActiveMonthlyDonors != 1 {
		t.Fatalf("dashboard while paused: paused %d income %s active %d", d.PausedMonthly, d.MonthlyRecurringIncome, d.ActiveMonthlyDonors)
	}

	w.ask(donations.ChangeRequest{Kind: donations.ChangeResume})
	w.send(subscriptionEvent(t, "sub_m", 1500, time.Time{}, w.m))
	if d := w.dashboard(); d.PausedMonthly != 0 || d.MonthlyRecurringIncome.StringFixed(2) != "15.00" {
		t.Fatalf("dashboard after resuming: paused %d income %s", d.PausedMonthly, d.MonthlyRecurringIncome)
	}

	w.ask(donations.ChangeRequest{Kind: donations.ChangeCancel})
	if st := w.status(w.d.ID); st != donations.StatusActive {
		t.Fatalf("cancelled before Stripe confirmed: %s", st)
	}
	w.send(b.SubscriptionDeleted("sub_m", "cus_m", 1500, w.m))
	if st := w.status(w.d.ID); st != donations.StatusCancelled {
		t.Fatalf("after subscription.deleted: %s", st)
	}
	d := w.dashboard()
	if d.CancelledByDonor != 1 || d.CancelledByAdmin != 0 || !d.MonthlyRecurringIncome.IsZero() || d.ActiveMonthlyDonors != 0 {
		t.Fatalf("dashboard after cancelling: by donor %d, by admin %d, income %s, active %d", d.CancelledByDonor, d.CancelledByAdmin, d.MonthlyRecurringIncome, d.ActiveMonthlyDonors)
	}
	// The link ends with the gift: reusing it changes nothing.
	if _, err := donations.ManageLinkGift(context.Background(), w.store(), w.token); !errors.Is(err, donations.ErrGiftEnded) {
		t.Fatalf("link after cancelling: %v, want expired", err)
	}
	if _, err := donations.RequestChangeByLink(context.Background(), w.store(), w.token, donations.ChangeRequest{Kind: donations.ChangeResume, After: w.gift().Latest}); !errors.Is(err, donations.ErrLinkExpired) {
		t.Fatalf("reused link: %v", err)
	}

	subjects, bodies := w.mails()
	want := []string{"Your monthly gift is now £15.00", "Your monthly gift is paused until ", "Your monthly gift has restarted", "Your monthly gift is cancelled"}
	if len(subjects) != len(want) {
		t.Fatalf("emails %q, want one per change: %q", subjects, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(subjects[i], w) {
			t.Errorf("email %d: %q, want %q", i, subjects[i], w)
		}
		if goodbye := strings.Contains(bodies[i], "Thank you for every month you gave"); goodbye != (i == 3) {
			t.Errorf("email %q says goodbye: %v", subjects[i], goodbye)
		}
	}
	if !strings.Contains(bodies[0], "now £15.00 a month (it was £10.00)") || !strings.Contains(bodies[0], "https://give.example.org/manage/") {
		t.Errorf("amount email:\n%s", bodies[0])
	}
}

// A form sent again (or from an old tab) changes nothing; a second change waits for the
// first to be confirmed.
func TestStaleOrSecondChangeChangesNothing(t *testing.T) {
	t.Parallel()
	w := newManageWorld(t)
	latest := w.gift().Latest
	c := donations.ChangeRequest{Kind: donations.ChangeAmount, After: latest, NewAmount: decimal.NewFromInt(5)}
	if _, err := donations.RequestChangeByLink(context.Background(), w.store(), w.token, c); err != nil {
		t.Fatal(err)
	}
	if _, err := donations.RequestChangeByLink(context.Background(), w.store(), w.token, c); !errors.Is(err, donations.ErrStale) {
		t.Fatalf("the same form again: %v, want stale", err)
	}
	c.After, c.Site = w.gift().Latest, "https://give.example.org"
	if _, err := donations.RequestChangeByLink(context.Background(), w.store(), w.token, c); !errors.Is(err, donations.ErrChangeWaiting) {
		t.Fatalf("second change while one waits: %v", err)
	}
	if n := len(w.gift().Changes); n != 1 {
		t.Fatalf("%d changes recorded, want 1", n)
	}
}

// An admin cancels for a donor who telephoned: audited with the admin, through the same
// path, counted apart on the dashboard.
func TestAdminCancelsWithAReason(t *testing.T) {
	t.Parallel()
	w := newManageWorld(t)
	admin := campaignstest.AddUser(t, w.store(), "office@example.org", accounts.RoleAdmin)
	if err := donations.AdminCancel(context.Background(), w.store(), admin, w.d.ID, " ", "https://give.example.org"); err == nil {
		t.Fatal("a cancellation without a reason was accepted")
	}
	if err := donations.AdminCancel(context.Background(), w.store(), admin, w.d.ID, "Donor telephoned on 3 May", "https://give.example.org"); err != nil {
		t.Fatal(err)
	}
	w.work(w.gift().Latest)
	w.send(b.SubscriptionDeleted("sub_m", "cus_m", 1000, w.m))
	if d := w.dashboard(); d.CancelledByAdmin != 1 || d.CancelledByDonor != 0 {
		t.Fatalf("by admin %d, by donor %d", d.CancelledByAdmin, d.CancelledByDonor)
	}
	var n int
	if err := w.pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE actor_email = 'office@example.org'
		AND action = 'monthly gift change requested' AND detail LIKE '%Donor telephoned on 3 May%'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("admin's audit rows: %d %v", n, err)
	}
}

// A gift Stripe ends after failed payments, and one a dispute ends, are counted apart
// from the donors' own cancellations.
func TestCancelledAfterFailedPaymentsIsCountedApart(t *testing.T) {
	t.Parallel()
	w := newManageWorld(t)
	w.send(b.InvoicePaymentFailed("in_m2", "sub_m", "cus_m", 1000, w.m))
	w.send(payments.EventBuilder{Now: func() time.Time { return time.Now().Add(time.Second) }}.SubscriptionDeleted("sub_m", "cus_m", 1000, w.m))
	if d := w.dashboard(); d.CancelledByPaymentFailure != 1 || d.CancelledByDonor != 0 {
		t.Fatalf("after failed payments: by failure %d, by donor %d", d.CancelledByPaymentFailure, d.CancelledByDonor)
	}
}

// A new card: Checkout in setup mode, then its checkout.session.completed queues the job
// that reads the saved card (stripe-mock) and puts it on the subscription; the change is
// done once the subscription event shows that card.
func TestCardUpdateIsDoneWhenTheSubscriptionShowsTheCard(t *testing.T) {
	t.Parallel()
	w := newManageWorldWith(t, savedCard{payments.StripeSubscriptions{API: stripeMock(t)}})
	id, err := donations.RequestChangeByLink(context.Background(), w.store(), w.token,
		donations.ChangeRequest{Kind: donations.ChangeCard, After: w.gift().Latest, Site: "https://give.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if err := donations.SetupSession(context.Background(), w.store(), id, "cs_setup_1"); err != nil {
		t.Fatal(err)
	}
	raw := b.CheckoutSessionCompleted("cs_setup_1", "", "cus_m", 0, "no_payment_required", payments.Meta{})
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	obj := ev["data"].(map[string]any)["object"].(map[string]any)
	obj["mode"], obj["setup_intent"], obj["payment_intent"] = "setup", "seti_123", nil
	raw, _ = json.Marshal(ev)
	w.send(raw)
	var pm string
	job := &river.Job[donations.ManageJob]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 30}, Args: donations.ManageJob{RequestID: id}}
	if err := w.insts[0].hooks.ManageWorker().Work(context.Background(), job); err != nil {
		t.Fatalf("stripe-mock refused the card update: %v", err)
	}
	if err := w.pool().QueryRow(context.Background(), `SELECT payment_method_id FROM manage_requests WHERE id = $1`, id).Scan(&pm); err != nil || pm != "pm_card_visa" {
		t.Fatalf("card read from the setup intent: %q %v", pm, err)
	}
	if g := w.gift(); g.Changes[0].ConfirmedAt != nil {
		t.Fatal("card shown updated before Stripe's event")
	}
	upd := b.SubscriptionUpdated("sub_m", "cus_m", 1000, "active", false, w.m)
	if err := json.Unmarshal(upd, &ev); err != nil {
		t.Fatal(err)
	}
	ev["data"].(map[string]any)["object"].(map[string]any)["default_payment_method"] = pm
	upd, _ = json.Marshal(ev)
	w.send(upd)
	if g := w.gift(); g.Changes[0].ConfirmedAt == nil {
		t.Fatal("card update not done after the subscription event showing the new card")
	}
	if subjects, _ := w.mails(); len(subjects) != 1 || subjects[0] != "Your card for your monthly gift is updated" {
		t.Fatalf("emails %q", subjects)
	}
}
