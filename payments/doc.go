// Package payments is Giving's side of Stripe: Checkout Session creation, webhook
// verification and the stored event log, translating Stripe's objects into the ledger
// entries of package campaigns, the one conversion between pounds and pence,
// reconciliation against Stripe, and the offline sandbox gateway. It may import campaigns,
// never web.
//
// # Versions
//
// stripe-go v76 pins API version 2023-10-16, and rejects any event whose api_version differs
// (a plain error, counted as a configuration problem and logged loudly). Webhook endpoints
// must be created pinned to that version. Tests check request shapes against stripe-mock
// v0.183.0, which embeds the same version's spec; it keeps no state and sends no webhooks,
// so business logic is tested with the service's own signed events.
//
// # Checkout
//
// One-off gifts are Mode=payment with SubmitType=donate and CustomerCreation=always; monthly
// gifts are Mode=subscription with a monthly recurring price (submit_type and
// customer_creation are payment-mode only). Every session carries client_reference_id = the
// donation id and the metadata donation_id, campaign (the appeal's slug) and fundraiser (the
// page's slug, possibly empty), copied to payment_intent_data or subscription_data so that
// invoices and charges can be placed. The idempotency key is checkout:<donation id>, so a
// double click creates one session. payment_method_types is the one method the donor chose
// on the donate form among those admins offer: card, or bacs_debit (Direct Debit), so the
// fee she may have covered is that method's (FeeSchedule: card's, or Bacs's with its cap).
//
// # Webhooks
//
// The signature is verified on the raw body (capped in size), the event is stored once by id
// and answered 2xx only once it is durable, 5xx when the database is unavailable so that
// Stripe retries (for up to three days), and 400 for a bad signature. Deliveries repeat and
// arrive out of order (an invoice.paid can come before the checkout.session.completed that
// created its subscription); applying is idempotent and places money by object ids and
// metadata. An event about an object the service never saw (a session created before a
// crash, a Payment Link) is still recorded, against metadata.campaign or the default appeal,
// and flagged for review, never refused forever.
//
// What each event does:
//
//   - checkout.session.completed (payment): paid only when payment_status is "paid"; "unpaid"
//     means an asynchronous method and the donation is processing.
//   - checkout.session.async_payment_succeeded / _failed: processing becomes paid or failed.
//   - checkout.session.completed (subscription): links the donation to its subscription and
//     customer; no money is recorded here. With payment_status "unpaid" (a Direct Debit
//     whose first payment is on its way) the donation is processing until invoice.paid;
//     async_payment_failed, or invoice.payment_failed while it is processing, leaves it
//     failed or past due, never raised (directdebit.go).
//   - invoice.paid: one gift per invoice id, placed by subscription id or
//     subscription_details.metadata (invoice.payment_succeeded is ignored: it would double).
//   - invoice.payment_failed: the monthly gift is past due; Stripe, not Giving, cancels it.
//   - customer.subscription.updated / .deleted: status and cancel_at_period_end, guarded
//     against older events; deleted means cancelled. They also carry pause_collection, the
//     item's price and default_payment_method, which confirm a donor's waiting change
//     (subscriptions.go) and record who ended a gift.
//   - checkout.session.completed (setup): a donor's new card for a monthly gift; a River job
//     makes it the subscription's default.
//   - charge.refunded: amount_refunded is cumulative; refunded is true only when full.
//   - charge.dispute.created / .closed: disputed money stops counting; lost, it stays out and
//     the dispute fee is a cost; won, it counts again. A dispute cancels the monthly gift.
//     A Bacs dispute (an indemnity claim) arrives already lost: a loss at once, and every
//     trustee is told which donor's bank reclaimed what.
//   - checkout.session.expired: a pending donation expires.
//   - payout.paid: no money moves in the ledger; a River job (payout_job.go) is queued to
//     read the payout and its balance transactions back from Stripe and record them.
//
// The donor hears about her money by email, queued in the transaction of the fact (package
// donations, receipts.go; Webhooks.DonorMail, nil in replay): a receipt for each new gift in
// the ledger (one-off or each invoice.paid), a set-up confirmation with a monthly gift's
// checkout.session.completed, a note with the first invoice.payment_failed of an invoice,
// and one when customer.subscription.deleted says Stripe gave up (cancellation_details.reason
// payment_failed). Each is written once per fact, however often the event is delivered.
//
// Under load the deliveries that arrive while the instance is storing others are stored
// together, with one INSERT and one commit for up to BatchSize of them (gather.go), each
// still answered only once it is durable; one the database refuses is then stored on its
// own, so it never costs the others theirs. The appliers (queue.go) apply the queued events
// in batches of up to BatchSize,
// one transaction each: every payment lock the batch needs is taken first, in sorted order,
// and the totals and dashboard summary rows once at the end, sorted (ledger.Batch), so two
// appliers, on one instance or several, never deadlock. A batch's plain paid checkouts (a
// one-off gift for a donation made here, meeting no other event of the batch and no refund
// waiting for it) are applied together, a statement for all their donations' locks, one
// for their updates and one for their ledger entries (batch_paid.go); its other events one
// by one, beside them. The receipts and card names of the whole batch are written at its
// end, a statement each for all of them (donations.MailBatch). A batch one event spoils is
// rolled back and its events applied one at a time, so that event alone is set aside.
//
// livemode is checked against the key's mode. Fees and net come from the charge's balance
// transaction. Reconciliation lists Stripe's recent undelivered events (30 days), sessions,
// invoices and charges, and applies them through the same idempotent path.
//
// # Sandbox
//
// With no Stripe key the sandbox gateway stands in for Stripe: a local checkout page that,
// when paid, sends Stripe-shaped, correctly signed events (events_build.go) to the service's
// own webhook endpoint, so the same code path runs as in production. It is plainly marked as
// a sandbox and refuses to run when a live key is set. It also makes a monthly gift's
// changes (subscriptions_sandbox.go), answering each with the subscription event Stripe
// would send, and stands in for Checkout in setup mode at /sandbox/setup/{session}. Its
// monthly page (/sandbox/monthly, sandbox_monthly.go) plays a gift's later months: the next
// payment taken (invoice.paid, charge.succeeded), failed (invoice.payment_failed with
// attempt_count and next_payment_attempt) or given up on (the last failure, then
// customer.subscription.deleted for payment_failed). A Direct Debit is only set up at its
// checkout (payment_status "unpaid"); its page (/sandbox/directdebit,
// sandbox_directdebit.go) collects it or has the bank refuse it, with Stripe's events.
//
// # Changes to a monthly gift
//
// A donor's (or an admin's) change is a River job (ManageWorker) queued with the request:
// cancel (DELETE /v1/subscriptions/{id}, no proration, no final invoice), pause
// (pause_collection {behavior: void, resumes_at}: the pause's invoices are voided, never
// charged later), resume (pause_collection=""), a new amount (the item's price replaced by
// an inline monthly price_data for the same product, proration_behavior=none, so the next
// payment is the new amount). A new card is Checkout in setup mode, opened at once (the
// donor is waiting); its completion queues the job that sets default_payment_method. Each
// is shown done only once a subscription event shows it made.
//
// Payouts (payouts.go): each payout.paid queues a RecordPayoutJob (one per payout), whose
// worker, with the Reconciler's client, reads the payout (GET /v1/payouts/{id}) and the
// balance transactions it paid out (payout=po_..., sources expanded), and records them
// through campaigns/payouts, which matches each line to the ledger by its charge; a
// payout already recorded records nothing, and Stripe's error is retried by River. The
// Reconciler's FetchPayouts does the same for every paid payout since a time: a trustee's
// catch-up for an event that never came.
package payments
