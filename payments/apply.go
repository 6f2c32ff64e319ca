package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"

	"giving/campaigns"
	"giving/campaigns/appeals"
	"giving/campaigns/dbq"
	"giving/campaigns/donations"
	"giving/campaigns/giftaid"
	"giving/campaigns/ledger"
)

// apply turns one verified event into donation updates and ledger entries, inside tx.
// Every path is idempotent by Stripe object as well as by event id: the ledger's unique
// key makes a second copy of any money fact impossible.
func apply(ctx context.Context, tx pgx.Tx, ev event) (outcome, deferKey string, err error) {
	at := created(ev)
	switch ev.Type {
	case "checkout.session.completed", "checkout.session.async_payment_succeeded",
		"checkout.session.async_payment_failed", "checkout.session.expired":
		var s stripe.CheckoutSession
		if err := decode(ev, &s); err != nil {
			return "", "", err
		}
		if s.Mode == stripe.CheckoutSessionModeSetup { // a donor's new card for a monthly gift (subscriptions.go)
			outcome, err := applyCardSetup(ctx, tx, &s, at)
			return outcome, "", err
		}
		if err := checkAmount(ctx, "amount_total", s.AmountTotal); err != nil {
			return "", "", err
		}
		outcome, err := applySession(ctx, tx, ev, &s, at)
		return outcome, "", err
	case "invoice.paid", "invoice.payment_failed":
		var in stripe.Invoice
		if err := decode(ev, &in); err != nil {
			return "", "", err
		}
		if err := checkAmount(ctx, "amount_paid", in.AmountPaid); err != nil {
			return "", "", err
		}
		outcome, err := applyInvoice(ctx, tx, ev, &in, at)
		return outcome, "", err
	case "customer.subscription.updated", "customer.subscription.deleted":
		var sub stripe.Subscription
		if err := decode(ev, &sub); err != nil {
			return "", "", err
		}
		outcome, err := applySubscription(ctx, tx, ev, &sub, at)
		return outcome, "", err
	case "charge.refunded", "charge.succeeded", "charge.updated":
		var ch stripe.Charge
		if err := decode(ev, &ch); err != nil {
			return "", "", err
		}
		if err := checkAmount(ctx, "the charge's amount", ch.Amount); err != nil {
			return "", "", err
		}
		if ch.AmountRefunded > ch.Amount {
			return "", "", needsReview("charge %s: amount_refunded %s is larger than the charge's %s: not applied",
				ch.ID, formatPence(ch.AmountRefunded), formatPence(ch.Amount))
		}
		return withGift(ctx, tx, ev, idOf(ch.PaymentIntent), ch.ID, func(d donations.Donation, g donations.GiftEntry) error {
			if ev.Type == "charge.refunded" {
				return applyRefund(ctx, tx, ev, &ch, d, g, at)
			}
			return applyFee(ctx, tx, ev, &ch, d, at)
		})
	case "charge.dispute.created", "charge.dispute.closed":
		var dp stripe.Dispute
		if err := decode(ev, &dp); err != nil {
			return "", "", err
		}
		if err := checkAmount(ctx, "the dispute's amount", dp.Amount); err != nil {
			return "", "", err
		}
		return withGift(ctx, tx, ev, idOf(dp.PaymentIntent), idOf(dp.Charge), func(d donations.Donation, g donations.GiftEntry) error {
			return applyDispute(ctx, tx, ev, &dp, d, g, at)
		})
	case "payout.paid":
		outcome, err := applyPayout(ctx, tx, ev)
		return outcome, "", err
	default:
		return "ignored", "", nil
	}
}

// decode reads the event's object into v; an object whose text holds a NUL byte is
// for review (see sanity.go).
func decode(ev event, v any) error {
	if err := json.Unmarshal(ev.Data.Raw, v); err != nil {
		return badEvent("decode %s object: %v", ev.Type, err)
	}
	if field := nulText(ev.Data.Raw); field != "" {
		return needsReview("%s holds a NUL byte, which no real name, email or id has: not applied", field)
	}
	return nil
}

func idOf[T interface {
	*stripe.PaymentIntent | *stripe.Charge | *stripe.Customer | *stripe.Subscription | *stripe.Invoice
}](v T) string {
	switch o := any(v).(type) {
	case *stripe.PaymentIntent:
		if o != nil {
			return o.ID
		}
	case *stripe.Charge:
		if o != nil {
			return o.ID
		}
	case *stripe.Customer:
		if o != nil {
			return o.ID
		}
	case *stripe.Subscription:
		if o != nil {
			return o.ID
		}
	case *stripe.Invoice:
		if o != nil {
			return o.ID
		}
	}
	return ""
}

// lockPayment serialises every event about one payment intent across transactions and
// instances, so a refund that races its own gift either sees the gift or is seen by it.
func lockPayment(ctx context.Context, tx pgx.Tx, paymentIntent string) error {
	if paymentIntent == "" || ctx.Value(lockedPayment{}) == paymentIntent {
		return nil // receive took it with its first statement
	}
	if batch, ok := ctx.Value(lockedPayment{}).(map[string]bool); ok && batch[paymentIntent] {
		return nil // a batch took it with the others (queue.go)
	}
	return dbq.New(tx).LockPayment(ctx, paymentIntent)
}

// lockedPayment is the context key for the payment intent whose lock a transaction holds
// (a set of them, map[string]bool, in a batch).
type lockedPayment struct{}

// paymentOf peeks at the payment intent an event's object names (sessions, invoices,
// charges and disputes all carry one), so its lock can be taken with the first statement.
func paymentOf(ev event) string { return namesOf(ev).payment }

// names are the ids an event's object names that say what it can meet in a batch: its
// payment intent, and the donation it names by id (a session's client_reference_id, else
// the donation_id in its metadata, lower case).
type names struct{ payment, donation string }

// namesOf peeks at an event's names, with one pass over its object where gjson is sure
// (namesFast), else with encoding/json (namesStd). A field of the wrong type leaves the names
// empty, as reading them into strings fails; a payment intent may be its id or the expanded
// object.
func namesOf(ev event) names {
	if ev.Data == nil {
		return names{}
	}
	if n, ok := namesFast(ev.Data.Raw); ok {
		return n
	}
	return namesStd(ev.Data.Raw)
}

func checkGBP(c stripe.Currency) error {
	if err := CheckCurrency(string(c)); err != nil {
		return badEvent("currency %q: %v", c, err)
	}
	return nil
}

func applySession(ctx context.Context, tx pgx.Tx, ev event, s *stripe.CheckoutSession, at time.Time) (string, error) {
	pi := idOf(s.PaymentIntent)
	if err := lockPayment(ctx, tx, pi); err != nil {
		return "", err
	}
	meta := s.Metadata
	d, err := donations.FindDonation(ctx, tx, donations.DonationLookup{
		ID: firstNonEmpty(s.ClientReferenceID, meta["donation_id"]), SessionID: s.ID,
		PaymentIntent: pi, SubscriptionID: idOf(s.Subscription)})
	unmatched := false
	if errors.Is(err, campaigns.ErrNotFound) {
		if ev.Type == "checkout.session.expired" {
			return "ignored", nil // nothing was promised and no money moved
		}
		if pi == "" && s.Mode != stripe.CheckoutSessionModeSubscription {
			// Money is matched by its payment intent; a session with none moved no money
			// (a 100%-discount session: amount_total 0, payment_status
			// no_payment_required) or is not what it claims to be.
			if s.AmountTotal == 0 || s.PaymentStatus == stripe.CheckoutSessionPaymentStatusNoPaymentRequired {
				return "ignored", nil
			}
			return "", badEvent("session %s was not created here and names no payment intent, so its %s cannot be matched to any money",
				s.ID, formatPence(s.AmountTotal))
		}
		if err := checkGBP(s.Currency); err != nil {
			return "", err
		}
		email := ""
		if s.CustomerDetails != nil {
			email = s.CustomerDetails.Email
		}
		d, err = donations.UpsertUnmatched(ctx, tx, donations.Unmatched{
			AppealSlug: meta["campaign"], FundraiserSlug: meta["fundraiser"], Amount: FromPence(s.AmountTotal),
			Monthly: s.Mode == stripe.CheckoutSessionModeSubscription, PaymentIntent: pi,
			SubscriptionID: idOf(s.Subscription), SessionID: s.ID, CustomerID: idOf(s.Customer), Email: email})
		unmatched = true
	}
	if err != nil {
		return "", err
	}
	link := sessionLink(s)
	adopt(&d, link)
	outcome := "applied"
	if unmatched || d.Unmatched {
		outcome = "unmatched"
	}

	// Link the ids and move the status in one statement.
	update := func(status string, from ...string) (string, error) {
		_, err := donations.UpdateDonation(ctx, tx, d.ID, link, status, at, from...)
		if err == nil && s.CustomerDetails != nil {
			err = donations.NoteCardName(ctx, tx, d.ID, s.CustomerDetails.Name) // greets her in her emails
		}
		return outcome, err
	}
	switch {
	case ev.Type == "checkout.session.expired":
		return update(donations.StatusExpired, donations.StatusPending)
	case s.Mode == stripe.CheckoutSessionModeSubscription:
		// The money arrives with each invoice.paid; here only the link and the status.
		if ev.Type == "checkout.session.completed" {
			// A Direct Debit's first payment is still on its way (unpaid): processing
			// until invoice.paid, and never back from a later state.
			status, from := donations.StatusActive, []string{donations.StatusPending, donations.StatusProcessing}
			if asyncUnpaid(s) {
				status, from = donations.StatusProcessing, []string{donations.StatusPending}
			}
			if _, err := update(status, from...); err != nil {
				return "", err
			}
			// Once per subscription, however often the event comes.
			return outcome, donorMail(ctx).MonthlySetUp(ctx, tx, d.ID, idOf(s.Subscription), at)
		}
		if ev.Type == "checkout.session.async_payment_failed" {
			// The bank refused the first Direct Debit: nothing was given, nothing set up.
			return update(donations.StatusFailed, donations.StatusPending, donations.StatusProcessing, donations.StatusPastDue)
		}
		return update("")
	case ev.Type == "checkout.session.async_payment_failed":
		return update(donations.StatusFailed, donations.StatusPending, donations.StatusProcessing)
	case s.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid:
		// An async method (Bacs, a bank transfer): no money yet. The donor is told, once,
		// that her Direct Debit is set up and when it is collected.
		changed, err := donations.UpdateDonation(ctx, tx, d.ID, link, donations.StatusProcessing, at, donations.StatusPending)
		if err == nil && changed && ev.Type == "checkout.session.completed" {
			err = donorMail(ctx).DirectDebitSetUp(ctx, tx, d.ID, firstNonEmpty(pi, s.ID), at)
		}
		return outcome, err
	}
	if err := checkGBP(s.Currency); err != nil {
		return "", err
	}
	if s.AmountTotal <= 0 {
		return "", badEvent("paid session %s has amount_total %d", s.ID, s.AmountTotal)
	}
	if _, err := update(donations.StatusPaid, paidFrom...); err != nil {
		return "", err
	}
	if err := recordGift(ctx, tx, ev, d, firstNonEmpty(pi, s.ID), "", pi, FromPence(s.AmountTotal), false, at); err != nil {
		return "", err
	}
	return outcome, nil
}

// paidFrom are the statuses a one-off donation becomes paid from.
var paidFrom = []string{donations.StatusPending, donations.StatusProcessing, donations.StatusExpired, donations.StatusFailed}

// sessionLink is what a checkout session tells of its donation: its ids and the address
// the donor gave.
func sessionLink(s *stripe.CheckoutSession) donations.Link {
	link := donations.Link{SessionID: s.ID, PaymentIntent: idOf(s.PaymentIntent), SubscriptionID: idOf(s.Subscription), CustomerID: idOf(s.Customer)}
	if s.CustomerDetails != nil {
		link.Email = s.CustomerDetails.Email
	}
	return link
}

// adopt gives d, as read before the update that links it, what link brings that the
// ledger entry names: the donor's Stripe customer, and her address if it had none.
func adopt(d *donations.Donation, link donations.Link) {
	if link.CustomerID != "" {
		d.CustomerID = link.CustomerID
	}
	if d.Email == "" {
		d.Email = link.Email
	}
}

// recordGift writes the gift and then applies any refund, dispute or fee event that
// arrived before it and has been waiting on its payment intent.
func recordGift(ctx context.Context, tx pgx.Tx, ev event, d donations.Donation, object, chargeID, pi string, amount decimal.Decimal, monthly bool, at time.Time) error {
	e := giftEntry(ev, d, object, chargeID, pi, amount, monthly, at)
	// Read what waits for this gift before recording it, so the totals' rows are locked
	// for as short a time as possible (we hold the payment's lock: nothing new can wait).
	waiting, err := deferredFor(ctx, tx, pi)
	if err != nil {
		return err
	}
	id, err := ledger.RecordID(ctx, tx, e)
	if err != nil {
		return err
	}
	if id != 0 { // a new gift: its receipt, once (a duplicate or a replay records nothing)
		if err := donorMail(ctx).Receipt(ctx, tx, d.ID, object, amount, at); err != nil {
			return err
		}
	}
	return applyDeferred(ctx, tx, waiting)
}

// giftEntry is the ledger entry of a gift of amount on d at at, moved through object.
func giftEntry(ev event, d donations.Donation, object, chargeID, pi string, amount decimal.Decimal, monthly bool, at time.Time) ledger.Entry {
	e := ledger.Entry{AppealID: d.AppealID, FundraiserID: d.FundraiserID, DonationID: d.ID,
		Kind: ledger.KindGift, Source: ledger.SourceStripe, SourceRef: object, ChargeID: chargeID, PaymentIntent: pi,
		Amount: amount, Monthly: monthly, DonorKey: d.DonorKey(), OccurredAt: at, EventID: ev.ID}
	if d.GiftAidCovers(at) {
		e.GiftAidBase = amount
	}
	return e
}

func applyInvoice(ctx context.Context, tx pgx.Tx, ev event, in *stripe.Invoice, at time.Time) (string, error) {
	pi, charge, sub := idOf(in.PaymentIntent), idOf(in.Charge), idOf(in.Subscription)
	if err := lockPayment(ctx, tx, pi); err != nil {
		return "", err
	}
	var meta map[string]string
	if in.SubscriptionDetails != nil {
		meta = in.SubscriptionDetails.Metadata
	}
	// invoice.paid may arrive before the checkout.session.completed that created the
	// subscription: the metadata copied onto the subscription still places it.
	d, err := donations.FindDonation(ctx, tx, donations.DonationLookup{SubscriptionID: sub, ID: meta["donation_id"]})
	unmatched := false
	if errors.Is(err, campaigns.ErrNotFound) {
		if ev.Type == "invoice.payment_failed" {
			return "ignored", nil
		}
		if err := checkGBP(in.Currency); err != nil {
			return "", err
		}
		if sub == "" {
			return "ignored", nil // not a monthly gift: one-off money is recorded from its session
		}
		d, err = donations.UpsertUnmatched(ctx, tx, donations.Unmatched{AppealSlug: meta["campaign"],
			FundraiserSlug: meta["fundraiser"], Amount: FromPence(in.AmountPaid), Monthly: true,
			SubscriptionID: sub, CustomerID: idOf(in.Customer), Email: in.CustomerEmail})
		unmatched = true
	}
	if err != nil {
		return "", err
	}
	link := donations.Link{SubscriptionID: sub, CustomerID: idOf(in.Customer), Email: in.CustomerEmail}
	if c := idOf(in.Customer); c != "" {
		d.CustomerID = c
	}
	outcome := "applied"
	if unmatched || d.Unmatched {
		outcome = "unmatched"
	}
	if ev.Type == "invoice.payment_failed" {
		// Stripe retries the card; the gift is past due, not cancelled.
		if _, err := donations.UpdateDonation(ctx, tx, d.ID, link, donations.StatusPastDue, at, donations.StatusActive, donations.StatusPending, donations.StatusProcessing); err != nil {
			return "", err
		}
		if err := donations.NoteCardName(ctx, tx, d.ID, in.CustomerName); err != nil {
			return "", err
		}
		if d.Status != donations.StatusActive && d.Status != donations.StatusPending && d.Status != donations.StatusPastDue ||
			in.BillingReason == stripe.InvoiceBillingReasonSubscriptionCreate {
			// A gift already ended hears nothing more about its payments; a first payment
			// refused at checkout was told to the donor there, and set nothing up.
			return outcome, nil
		}
		var next *time.Time
		if in.NextPaymentAttempt > 0 {
			t := time.Unix(in.NextPaymentAttempt, 0)
			next = &t
		}
		// Once per invoice, however many times Stripe retries it.
		return outcome, donorMail(ctx).PaymentFailed(ctx, tx, d.ID, in.ID, FromPence(in.AmountDue), at, next)
	}
	if in.AmountPaid <= 0 {
		return "ignored", donations.LinkDonation(ctx, tx, d.ID, link) // a free trial or a fully discounted invoice moves no money
	}
	if err := checkGBP(in.Currency); err != nil {
		return "", err
	}
	if _, err := donations.UpdateDonation(ctx, tx, d.ID, link, donations.StatusActive, at, donations.StatusPending, donations.StatusProcessing, donations.StatusPastDue); err != nil {
		return "", err
	}
	if err := donations.NoteCardName(ctx, tx, d.ID, in.CustomerName); err != nil { // greets her in her emails
		return "", err
	}
	if err := recordGift(ctx, tx, ev, d, in.ID, charge, pi, FromPence(in.AmountPaid), true, at); err != nil {
		return "", err
	}
	return outcome, nil
}

var subscriptionStatus = map[stripe.SubscriptionStatus]string{
	stripe.SubscriptionStatusActive:            donations.StatusActive,
	stripe.SubscriptionStatusTrialing:          donations.StatusActive,
	stripe.SubscriptionStatusPastDue:           donations.StatusPastDue,
	stripe.SubscriptionStatusUnpaid:            donations.StatusPastDue,
	stripe.SubscriptionStatusCanceled:          donations.StatusCancelled,
	stripe.SubscriptionStatusIncompleteExpired: donations.StatusExpired,
	stripe.SubscriptionStatusIncomplete:        donations.StatusPending,
	stripe.SubscriptionStatusPaused:            donations.StatusPastDue,
}

func applySubscription(ctx context.Context, tx pgx.Tx, ev event, sub *stripe.Subscription, at time.Time) (string, error) {
	d, err := donations.FindDonation(ctx, tx, donations.DonationLookup{SubscriptionID: sub.ID, ID: sub.Metadata["donation_id"]})
	if errors.Is(err, campaigns.ErrNotFound) {
		return "ignored", nil // no money moves here; the invoice will place it
	}
	if err != nil {
		return "", err
	}
	if err := donations.LinkDonation(ctx, tx, d.ID, donations.Link{SubscriptionID: sub.ID, CustomerID: idOf(sub.Customer)}); err != nil {
		return "", err
	}
	status, ok := subscriptionStatus[sub.Status]
	if ev.Type == "customer.subscription.deleted" {
		status, ok = donations.StatusCancelled, true
	}
	if !ok {
		return "ignored", nil
	}
	// The event's own time guards against an older event overwriting a newer state.
	changed, err := donations.SetStatus(ctx, tx, d.ID, status, at)
	if err != nil {
		return "", err
	}
	if changed {
		if err := donations.SetCancelAtPeriodEnd(ctx, tx, d.ID, sub.CancelAtPeriodEnd); err != nil {
			return "", err
		}
		// A donor's or an admin's change is done once Stripe's event shows it (subscriptions.go).
		if err := confirmSubscription(ctx, tx, ev, d, sub, at); err != nil {
			return "", err
		}
	}
	if ev.Type == "customer.subscription.deleted" && sub.CancellationDetails != nil &&
		sub.CancellationDetails.Reason == stripe.SubscriptionCancellationDetailsReasonPaymentFailed {
		// Stripe gave up charging the card: the donor is told, once, that the gift has ended.
		if err := donorMail(ctx).MonthlyEnded(ctx, tx, d.ID, sub.ID, at); err != nil {
			return "", err
		}
	}
	return "applied", nil
}

// withGift runs fn with the donation a charge event belongs to. If its gift has not been
// recorded yet (events arrive in any order), the event waits, stored as "deferred", and is
// applied by the transaction that records the gift.
func withGift(ctx context.Context, tx pgx.Tx, ev event, pi, charge string, fn func(donations.Donation, donations.GiftEntry) error) (string, string, error) {
	if err := lockPayment(ctx, tx, pi); err != nil {
		return "", "", err
	}
	gift, err := donations.FindGift(ctx, tx, pi, charge)
	if errors.Is(err, campaigns.ErrNotFound) {
		if pi == "" {
			return "", "", badEvent("charge event %s names no payment intent and no known charge", ev.ID)
		}
		return "deferred", pi, nil
	}
	if err != nil {
		return "", "", err
	}
	d, err := donations.FindDonation(ctx, tx, donations.DonationLookup{PaymentIntent: pi, ChargeID: charge})
	if err != nil {
		return "", "", err
	}
	if err := fn(d, gift); err != nil {
		return "", "", err
	}
	if d.Unmatched {
		return "unmatched", "", nil
	}
	return "applied", "", nil
}

// deferredFor reads, in Stripe's order, the events waiting for the gift on pi. In a batch
// that has already asked which of its payments have events waiting (waitingPayments), a
// payment it asked about with none waiting is answered without a statement.
func deferredFor(ctx context.Context, tx pgx.Tx, pi string) ([][]byte, error) {
	if pi == "" {
		return nil, nil
	}
	if w, ok := ctx.Value(waitingKey{}).(*waitingPayments); ok && w.asked[pi] && !w.waiting[pi] {
		return nil, nil
	}
	return dbq.New(tx).DeferredEvents(ctx, pi)
}

// waitingPayments is what a batch knows of the events waiting for their gifts, for the
// payment intents whose locks it holds: none can start waiting on those but by the batch's
// own events, which it marks as they are deferred.
type waitingPayments struct {
	asked, waiting map[string]bool
}

type waitingKey struct{}

// askWaiting reads which of the locked payment intents pis have events waiting.
func askWaiting(ctx context.Context, tx pgx.Tx, pis []string) (context.Context, *waitingPayments, error) {
	w := &waitingPayments{asked: make(map[string]bool, len(pis)), waiting: map[string]bool{}}
	keys, err := dbq.New(tx).WaitingPayments(ctx, pis)
	if err != nil {
		return ctx, nil, err
	}
	for _, pi := range pis {
		w.asked[pi] = true
	}
	for _, k := range keys {
		if k != nil {
			w.waiting[*k] = true
		}
	}
	return context.WithValue(ctx, waitingKey{}, w), w, nil
}

// applyDeferred applies the events that were waiting for a gift just recorded. Each is
// applied under a savepoint of its own: one that cannot be applied (for review, or failing
// for a reason that is not transient) is set aside with its reason, and the gift and the
// other waiting events are recorded all the same.
func applyDeferred(ctx context.Context, tx pgx.Tx, payloads [][]byte) error {
	for _, p := range payloads {
		ev, err := parseEvent(p)
		if err != nil {
			continue // cannot happen: only parsed events are deferred
		}
		var outcome string
		mails := donations.MailBatchOf(ctx)
		mark := mails.Mark()
		err = ledger.Savepoint(ctx, tx, func(sp pgx.Tx) error {
			var err error
			outcome, _, err = apply(ctx, sp, ev)
			return err
		})
		detail := ""
		if err != nil {
			mails.Reset(mark) // what the savepoint gathered was rolled back with it
			if transient(ctx, err) {
				return fmt.Errorf("apply deferred event %s: %w", ev.ID, err)
			}
			outcome, detail = setAsideOutcome(err), err.Error()
		}
		if err := dbq.New(tx).MarkDeferredEventDone(ctx, dbq.MarkDeferredEventDoneParams{ID: ev.ID, Outcome: outcome, Detail: detail}); err != nil {
			return err
		}
	}
	return nil
}

func applyRefund(ctx context.Context, tx pgx.Tx, ev event, ch *stripe.Charge, d donations.Donation, gift donations.GiftEntry, at time.Time) error {
	if err := checkGBP(ch.Currency); err != nil {
		return err
	}
	// Whether the gift is claimed must not change between reading it and recording the
	// refund: a claim being made waits for us, or we for it.
	if err := giftaid.BlockClaims(ctx, tx); err != nil {
		return err
	}
	// amount_refunded is cumulative: record only what this event adds to what the ledger
	// already holds for the charge. An older event (a smaller cumulative) adds nothing.
	cumulative := FromPence(ch.AmountRefunded)
	if cumulative.GreaterThan(gift.Amount) {
		return needsReview("charge %s: %s refunded is more than the %s gift recorded for it: not applied",
			ch.ID, FormatPounds(cumulative), FormatPounds(gift.Amount))
	}
	so, err := donations.RefundedSoFar(ctx, tx, ch.ID)
	if err != nil {
		return err
	}
	delta := cumulative.Sub(so)
	if delta.Sign() <= 0 {
		return nil
	}
	e := ledger.Entry{AppealID: d.AppealID, FundraiserID: d.FundraiserID, DonationID: d.ID,
		Kind: ledger.KindRefund, Source: ledger.SourceStripe, SourceRef: ch.ID, Seq: fmt.Sprint(ch.AmountRefunded), ChargeID: ch.ID,
		PaymentIntent: idOf(ch.PaymentIntent), Amount: delta.Neg(), Monthly: d.Monthly, OccurredAt: at, EventID: ev.ID}
	eligible := gift.GiftAidEligible()
	if eligible {
		e.GiftAidBase = delta.Neg()
	}
	id, err := ledger.RecordID(ctx, tx, e)
	if err != nil {
		return err
	}
	if ch.Refunded && !d.Monthly {
		if _, err := donations.SetStatus(ctx, tx, d.ID, donations.StatusRefunded, at, donations.StatusPaid, donations.StatusDisputed); err != nil {
			return err
		}
	}
	if id != 0 && gift.Claimed { // a claimed gift was Gift Aid-able, whatever its gift_aid_base
		return queueAdjustment(ctx, tx, d, id, gift, delta, fmt.Sprintf("Refund of £%s on %s of a gift already claimed", FormatAmount(delta), at.Format("02/01/06")))
	}
	return nil
}

// queueAdjustment queues the Gift Aid correction for money taken back from a claimed gift.
func queueAdjustment(ctx context.Context, tx pgx.Tx, d donations.Donation, entryID int64, gift donations.GiftEntry, amount decimal.Decimal, note string) error {
	rate, err := appeals.GiftAidRate(ctx, tx, d.AppealID)
	if err != nil {
		return err
	}
	return giftaid.QueueGiftAidAdjustment(ctx, tx, entryID, gift.ID, amount, rate, note)
}

func applyDispute(ctx context.Context, tx pgx.Tx, ev event, dp *stripe.Dispute, d donations.Donation, gift donations.GiftEntry, at time.Time) error {
	if err := checkGBP(dp.Currency); err != nil {
		return err
	}
	if err := giftaid.BlockClaims(ctx, tx); err != nil {
		return err
	}
	amount := FromPence(dp.Amount)
	if amount.Sign() <= 0 {
		return badEvent("dispute %s has amount %d", dp.ID, dp.Amount)
	}
	if amount.GreaterThan(gift.Amount) {
		return needsReview("dispute %s: %s disputed is more than the %s gift recorded for it: not applied",
			dp.ID, FormatPounds(amount), FormatPounds(gift.Amount))
	}
	base := func(v decimal.Decimal) decimal.Decimal {
		if gift.GiftAidEligible() {
			return v
		}
		return decimal.Zero
	}
	entry := func(kind ledger.Kind, amt, fee decimal.Decimal) ledger.Entry {
		return ledger.Entry{AppealID: d.AppealID, FundraiserID: d.FundraiserID, DonationID: d.ID, Kind: kind,
			Source: ledger.SourceStripe, SourceRef: dp.ID, ChargeID: idOf(dp.Charge), PaymentIntent: idOf(dp.PaymentIntent),
			Amount: amt, Fee: fee, GiftAidBase: base(amt), Monthly: d.Monthly, OccurredAt: at, EventID: ev.ID}
	}
	// Disputed money stops counting at once. The hold is recorded by whichever of
	// created/closed comes first, so the order of delivery does not matter.
	if _, err := ledger.Record(ctx, tx, entry(ledger.KindDisputeHold, amount.Neg(), decimal.Zero)); err != nil {
		return err
	}
	if d.Monthly {
		// A disputed monthly gift must not keep charging the card: it ends here, and its
		// subscription is queued, in this transaction, for the worker to cancel at Stripe.
		if _, err := donations.SetStatus(ctx, tx, d.ID, donations.StatusCancelled, at); err != nil {
			return err
		}
		if err := donations.QueueSubscriptionCancel(ctx, tx, d.ID, d.SubscriptionID,
			fmt.Sprintf("Giving: a payment of this monthly gift was disputed (%s)", dp.ID)); err != nil {
			return err
		}
	} else if _, err := donations.SetStatus(ctx, tx, d.ID, donations.StatusDisputed, at, donations.StatusPaid, donations.StatusRefunded); err != nil {
		return err
	}
	// A Bacs dispute (an indemnity claim) is final from the start: Stripe opens it lost.
	if ev.Type != "charge.dispute.closed" && dp.Status != stripe.DisputeStatusLost {
		return nil
	}
	switch dp.Status {
	case stripe.DisputeStatusWon, stripe.DisputeStatusWarningClosed:
		_, err := ledger.Record(ctx, tx, entry(ledger.KindDisputeRelease, amount, decimal.Zero))
		return err
	case stripe.DisputeStatusLost:
		// Lost: the held money becomes a permanent loss, and Stripe's dispute fee a cost.
		var fee int64
		for _, bt := range dp.BalanceTransactions {
			if bt != nil {
				fee += bt.Fee
			}
		}
		if _, err := ledger.Record(ctx, tx, entry(ledger.KindDisputeRelease, amount, decimal.Zero)); err != nil {
			return err
		}
		id, err := ledger.RecordID(ctx, tx, entry(ledger.KindDisputeLost, amount.Neg(), FromPence(fee)))
		if err != nil || id == 0 {
			return err
		}
		if err := tellIndemnityClaim(ctx, tx, ev, dp, d, gift, amount, at); err != nil {
			return err
		}
		if !gift.Claimed {
			return nil
		}
		return queueAdjustment(ctx, tx, d, id, gift, amount, fmt.Sprintf("Dispute lost on %s: £%s of a gift already claimed", at.Format("02/01/06"), FormatAmount(amount)))
	}
	return nil
}

func applyFee(ctx context.Context, tx pgx.Tx, ev event, ch *stripe.Charge, d donations.Donation, at time.Time) error {
	bt := ch.BalanceTransaction
	if bt == nil || bt.Fee == 0 {
		// Real Stripe sends only the balance transaction's id; reconciliation fetches it.
		return nil
	}
	_, err := ledger.Record(ctx, tx, ledger.Entry{AppealID: d.AppealID, FundraiserID: d.FundraiserID, DonationID: d.ID,
		Kind: ledger.KindFee, Source: ledger.SourceStripe, SourceRef: ch.ID, ChargeID: ch.ID, PaymentIntent: idOf(ch.PaymentIntent),
		Amount: decimal.Zero, Fee: FromPence(bt.Fee), Monthly: d.Monthly, OccurredAt: at, EventID: ev.ID})
	return err
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
