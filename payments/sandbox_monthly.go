package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"giving/campaigns"
	"giving/campaigns/dbq"
	"giving/campaigns/donations"
	"giving/campaigns/donors"
)

// The sandbox's monthly page plays the months after a monthly gift is set up, as Stripe
// would: take the next month's payment (invoice.paid for the next period, then its
// charge.succeeded), fail it (invoice.payment_failed: Stripe will try again), or give up
// after failed payments (the last attempt's invoice.payment_failed, then
// customer.subscription.deleted with cancellation_details.reason "payment_failed"). Each
// event is signed and posted to the service's own webhook, like the checkout's.
//
// Ids follow the checkout's: month n's invoice is in_sandbox_<key>_<n> (the first,
// in_sandbox_<key>_1, is paid at checkout), so a month failed and then taken is one
// invoice, as at Stripe, and every email about it is sent once.

// SandboxMonth is one of the sandbox's running monthly gifts and the month it is up to.
type SandboxMonth struct {
	donations.AdminMonthlyGift
	Appeal string
	// Month is the month whose payment is next (2: the first after checkout), due on Due.
	Month int
	Due   time.Time
	// Failed is how many times this month's payment has failed so far.
	Failed int
	first  time.Time // when the first month was paid
}

// DueOn is the day month's payment is due, as "5 January 2027".
func (m SandboxMonth) DueOn() string { return donations.UKDate(m.Due) }

// Paused says the donor has paused the gift: Stripe takes nothing until PausedUntil.
func (m SandboxMonth) Paused() bool { return m.PausedUntil != nil }

// PausedOn is the day a paused gift resumes, as "5 March 2027".
func (m SandboxMonth) PausedOn() string {
	if m.PausedUntil == nil {
		return ""
	}
	return donations.UKDate(*m.PausedUntil)
}

// PastDue says the month's payment has failed and Stripe is still trying.
func (m SandboxMonth) PastDue() bool { return m.Status == donations.StatusPastDue }

// Sandbox month actions, as the monthly page posts them.
const (
	MonthPay    = "pay"
	MonthFail   = "fail"
	MonthGiveUp = "give-up"
)

// MonthlyGifts lists the sandbox's running monthly gifts (those its checkout set up),
// newest first.
func (s *Sandbox) MonthlyGifts(ctx context.Context) ([]SandboxMonth, error) {
	running, err := donations.RunningMonthlyGifts(ctx, s.store, "")
	if err != nil {
		return nil, err
	}
	out := make([]SandboxMonth, 0, len(running))
	for _, g := range running {
		m, _, err := s.month(ctx, g.ID)
		if err != nil {
			return nil, err
		}
		if m.Month > 0 {
			m.AdminMonthlyGift.ID, m.Amount, m.Email, m.Since, m.Waiting = g.ID, g.Amount, g.Email, g.Since, g.Waiting
			out = append(out, m)
		}
	}
	return out, nil
}

// month reads where a gift is up to; Month is 0 for a gift the sandbox did not set up.
func (s *Sandbox) month(ctx context.Context, donationID string) (SandboxMonth, donations.Donation, error) {
	d, err := donations.Lookup(ctx, s.store, donations.DonationLookup{ID: donationID})
	if err != nil {
		return SandboxMonth{}, d, err
	}
	if !d.Monthly || !strings.HasPrefix(d.SubscriptionID, "sub_sandbox_") {
		return SandboxMonth{}, d, nil
	}
	now := s.store.Now()
	paid, err := dbq.New(s.store.Pool()).DonationGifts(ctx, dbq.DonationGiftsParams{DonationID: d.ID, Otherwise: now})
	if err != nil {
		return SandboxMonth{}, d, fmt.Errorf("sandbox: gifts so far: %w", err)
	}
	m := SandboxMonth{Month: int(paid.Gifts) + 1, Due: dueDate(paid.FirstAt, int(paid.Gifts)+1), first: paid.FirstAt}
	m.AdminMonthlyGift.Status = d.Status
	g, err := donations.Managed(ctx, s.store.Pool(), d.ID)
	if err != nil {
		return SandboxMonth{}, d, err
	}
	if g.Paused(now) {
		m.PausedUntil = g.PausedUntil
	}
	if m.Failed, err = s.failures(ctx, invoiceOf(d, m.Month)); err != nil {
		return SandboxMonth{}, d, err
	}
	return m, d, nil
}

// dueDate is when month n of a gift first paid at first is due: the same day of the month
// (the last day of a shorter month), as Stripe bills.
func dueDate(first time.Time, n int) time.Time {
	t := first
	for i := 1; i < n; i++ {
		t = donations.NextMonthlyPayment(first, t)
	}
	return t
}

func sandboxKey(d donations.Donation) string { return strings.ReplaceAll(d.ID, "-", "") }

func invoiceOf(d donations.Donation, month int) string {
	return "in_sandbox_" + sandboxKey(d) + "_" + strconv.Itoa(month)
}

// failures counts the invoice.payment_failed events stored for an invoice: Stripe's
// attempt_count, less the one about to be made.
func (s *Sandbox) failures(ctx context.Context, invoice string) (int, error) {
	evs, err := donors.EventsMentioning(ctx, s.store.Pool(), []string{invoice}, false)
	if err != nil {
		return 0, fmt.Errorf("sandbox: events of %s: %w", invoice, err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == "invoice.payment_failed" {
			n++
		}
	}
	return n, nil
}

// PlayMonth sends what Stripe would send when it takes (MonthPay), fails to take
// (MonthFail) or gives up taking (MonthGiveUp) month's payment of a sandbox monthly gift.
// month is the month the page showed: a stale page (the month already paid) or an action
// the gift's state does not allow is a ValidationError on "form", and nothing is sent.
func (s *Sandbox) PlayMonth(ctx context.Context, donationID, action string, month int) error {
	m, d, err := s.month(ctx, donationID)
	if err != nil {
		return err
	}
	if m.Month == 0 {
		return fmt.Errorf("sandbox: %s is not a sandbox monthly gift: %w", donationID, campaigns.ErrNotFound)
	}
	refuse := func(msg string) error { return &campaigns.ValidationError{Fields: map[string]string{"form": msg}} }
	switch {
	case d.Status == donations.StatusCancelled || d.Status == donations.StatusExpired:
		return refuse("This monthly gift has ended: Stripe takes no more payments for it.")
	case d.Status != donations.StatusActive && d.Status != donations.StatusPastDue:
		return refuse(fmt.Sprintf("This monthly gift is %s, not running: Stripe takes no payment for it.", strings.ReplaceAll(d.Status, "_", " ")))
	case m.PausedUntil != nil:
		return refuse("This monthly gift is paused until " + m.PausedOn() + ": Stripe takes no payment while it is paused.")
	case month < m.Month:
		return refuse(fmt.Sprintf("This page was out of date: month %d’s payment has been taken already, and month %d’s is next.", month, m.Month))
	case month > m.Month:
		return refuse(fmt.Sprintf("Month %d’s payment is next: take it, or fail it, before month %d’s.", m.Month, month))
	case action == MonthGiveUp && !m.PastDue():
		return refuse("Stripe gives up only after a payment has failed: fail this month's payment first.")
	}
	meta, pence, fee, err := s.money(ctx, d)
	if err != nil {
		return err
	}
	name := ""
	if r, err := donors.RecordOfDonation(ctx, s.store.Pool(), d.ID); err == nil {
		name = r.Name
	}
	key, in := sandboxKey(d), invoiceOf(d, month)
	b := EventBuilder{Now: s.store.Now, DonorEmail: d.Email, DonorName: name}
	at := s.store.Now()
	bill := func(inv obj) {
		// The invoice bills month n (its line's period) at the end of month n-1 (its own),
		// on the attempt after the failures so far.
		inv["period_start"], inv["period_end"] = dueDate(m.first, month-1).Unix(), m.Due.Unix()
		inv["lines"].(obj)["data"].([]any)[0].(obj)["period"] = obj{"start": m.Due.Unix(), "end": dueDate(m.first, month+1).Unix()}
		inv["attempt_count"] = m.Failed + 1
		if name == "" {
			inv["customer_name"] = nil
		}
	}
	customer := firstNonEmpty(d.CustomerID, "cus_sandbox_"+key)
	var events [][]byte
	switch action {
	case MonthPay:
		ch, pi := "ch_sandbox_"+key+"_"+strconv.Itoa(month), "pi_sandbox_"+key+"_"+strconv.Itoa(month)
		paid := b.reshape(b.WithEventID("evt_sandbox_"+key+"_invoice_"+strconv.Itoa(month)).
			InvoicePaid(in, d.SubscriptionID, customer, ch, pi, pence, "subscription_cycle", meta), bill)
		events = [][]byte{paid,
			b.WithEventID("evt_sandbox_"+key+"_charge_"+strconv.Itoa(month)).ChargeSucceeded(ch, pi, customer, pence, fee, in, meta)}
	case MonthFail, MonthGiveUp:
		attempt := strconv.Itoa(m.Failed + 1)
		failed := b.reshape(b.WithEventID("evt_sandbox_"+key+"_invoice_"+strconv.Itoa(month)+"_failed_"+attempt).
			InvoicePaymentFailed(in, d.SubscriptionID, customer, pence, meta), func(inv obj) {
			bill(inv)
			if action == MonthGiveUp {
				inv["next_payment_attempt"] = nil // the last attempt: Stripe will not try again
			}
		})
		events = [][]byte{failed}
		if action == MonthGiveUp {
			ended := b.WithEventID("evt_sandbox_" + key + "_gave_up")
			sub := ended.subscription(d.SubscriptionID, customer, pence, "canceled", meta)
			sub["canceled_at"], sub["ended_at"], sub["latest_invoice"] = at.Unix(), at.Unix(), in
			sub["cancellation_details"] = obj{"comment": nil, "feedback": nil, "reason": "payment_failed"}
			events = append(events, ended.event("customer.subscription.deleted", sub))
		}
	default:
		return fmt.Errorf("sandbox: no month action %q: %w", action, campaigns.ErrNotFound)
	}
	for _, e := range events {
		if err := s.deliver(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// reshape returns event with its data.object changed by change, as the builder encodes it.
func (b EventBuilder) reshape(event []byte, change func(obj)) []byte {
	var env struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			Object obj `json:"object"`
		} `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		panic(fmt.Sprintf("payments: decoding a built %s event: %v", env.Type, err)) // the builder's own output: cannot happen
	}
	change(env.Data.Object)
	return b.WithEventID(env.ID).event(env.Type, env.Data.Object)
}
