// Package donations is a donor's gift before and after payment: the donation created
// before the donor is sent to Stripe (create.go, with any Gift Aid declaration, nothing
// half-written), its status as Stripe reports it, the browser that made it (giver.go),
// money Stripe reported for something this service never created (unmatched.go), and the
// cancellation of a disputed monthly gift's subscription (cancels.go, a River job), and a
// donor's own changes to her monthly gift through an emailed manage link, with no account
// (manage.go: cancel, pause, resume, a new amount, a new card; each a River job done once
// Stripe's event confirms it).
//
// A status tells the donor's and trustees' story; only the ledger says what money counts.
package donations
