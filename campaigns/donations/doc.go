// Package donations is a donor's gift before and after payment: the donation created
// before the donor is sent to Stripe (create.go, with any Gift Aid declaration, nothing
// half-written), its status as Stripe reports it, the browser that made it (giver.go),
// money Stripe reported for something this service never created (unmatched.go), the
// cancellation of a disputed monthly gift's subscription (cancels.go, a River job), the
// emails the donor is sent about her money (receipts.go: a receipt for every paid gift, a
// monthly gift's set-up confirmation, a failed monthly payment, and the end of a gift
// Stripe could no longer charge), each queued once per money fact in the transaction that
// records it, and a donor's own changes to her monthly gift through an emailed manage link,
// with no account (manage.go: cancel, pause, resume, a new amount, a new card; each a
// River job done once Stripe's event confirms it). Who the donor is, as a person, is
// package donors' donor record. Direct Debit (directdebit.go): the ways to pay admins
// offer, the way each donation is paid, money processing (set up, not yet collected), when
// a Direct Debit is first collected, its set-up email, and the email telling trustees of an
// indemnity claim.
//
// A status tells the donor's and trustees' story; only the ledger says what money counts.
package donations
