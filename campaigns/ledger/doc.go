// Package ledger is the truth about money: one immutable entry per money fact, and the
// totals derived from the entries in the same statement that records them. Every other part
// of the domain (webhooks, offline money, reversals) records money through Record.
//
// # Money
//
// Amounts are shopspring/decimal in Go and numeric(12,2) in PostgreSQL, never float64, not
// even in templates or JSON. GBP only. An amount always comes from the server: a tier, or a
// custom amount checked against the appeal's limits; the browser never sets a price.
//
// # The ledger is the truth
//
// Every money fact (a gift, a refund, a dispute opened, won or lost, a fee) is an immutable
// row of ledger_entries, keyed by a neutral source reference: its Source (SourceStripe, or
// SourceOffline for money a fundraiser collected and an admin verified) and that source's
// own id for it (a Stripe payment intent, invoice, charge or dispute id; the offline
// taking's id), with its kind and a seq. A unique constraint on that key makes a second
// copy impossible, so a webhook delivered twice, or to two instances at once, records one
// gift. Money that should not have counted is never edited away: Reverse makes the entry
// that undoes it.
//
// The totals (raised, refunded, disputed, lost, fees, net, the Gift Aid base, gifts and
// donors) of an appeal and of each fundraiser page are kept in the same transaction as the
// entry that moves them (Record: one statement writes the entry and every total), so
// reading a total costs the same at a hundred gifts or ten million. A transaction that
// records many entries (a batch of webhook events) begins a Batch instead: each entry is
// written at once, and Flush moves the totals, distinct donors and dashboard summary rows
// they touch once, sorted by key, so concurrent batches never deadlock. `giving replay` rebuilds
// every total from the entries and the stored Stripe events into a scratch schema and
// reports any difference; a difference is a bug.
//
// Pending, failed, expired, refunded and disputed money never counts as raised. A dispute
// takes its money out of raised while it is open; won, it counts again; lost, it stays out
// and its fee is a cost. A refund is its own entry; the gift it returns is never edited.
//
// # Gift Aid on the totals
//
// Gift Aid is claimed on an eligible total at the appeal's rate (25p on every £1), rounded
// down to the penny once, never per gift: GiftAidTax is that one rule, used by the totals,
// the dashboard and the claims.
package ledger
