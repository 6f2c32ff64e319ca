// Package campaigns is the domain: appeals, tiers, targets, fundraiser pages, donations,
// Gift Aid declarations, the gift ledger and the totals derived from it. It knows nothing of
// HTTP or Stripe; payments translates Stripe's events into calls here.
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
// row of ledger_entries, keyed by the object it came from: a Stripe payment intent, invoice,
// charge, refund or dispute, or an offline taking a fundraiser recorded. A unique constraint
// on that key makes a second copy impossible, so a webhook delivered twice, or to two
// instances at once, records one gift.
//
// The totals (raised, refunded, disputed, lost, fees, net, the Gift Aid base, gifts and
// donors) of an appeal and of each fundraiser page are kept in the same transaction as the
// entry that moves them (see ledger.go: one statement writes the entry and every total), so
// reading a total costs the same at a hundred gifts or ten million. `giving replay` rebuilds
// every total from the entries and the stored Stripe events into a scratch schema and
// reports any difference; a difference is a bug.
//
// Pending, failed, expired, refunded and disputed money never counts as raised. A dispute
// takes its money out of raised while it is open; won, it counts again; lost, it stays out
// and its fee is a cost. A refund is its own entry; the gift it returns is never edited.
//
// # Gift Aid (HMRC's rules, as this package applies them)
//
// Gift Aid lets the charity reclaim basic-rate tax on a UK taxpayer's own gift: 20/80, so 25p
// on every £1. The rate is data on the appeal (it was 28p under the old 22% basic rate).
//
//   - Eligible: an individual UK taxpayer's own money with no significant benefit in return.
//     Money a fundraiser collected from others and recorded as offline takings on her page is
//     not her gift, so offline takings are never Gift Aid-able.
//   - A declaration records the charity's name, the donor's name and home address (at least the
//     house name or number and the postcode), which gifts it covers, and that the donor must
//     have paid enough Income Tax or Capital Gains Tax to cover it. Declarations, cancelled ones
//     too, are kept for six years after the end of the accounting period of the last gift they
//     cover (donors.go's erasure rules keep them).
//   - The tax is computed on a total and rounded down to the penny once, never per gift
//     (GiftAidTax). A claim may include gifts of the last four years.
//   - The claim schedule (claim.go) is HMRC's Charities Online spreadsheet: Title (at most 4
//     characters), First name (an initial will do; at most 35), Last name (at most 35; a
//     double-barrelled name uses a space), House name or number (required), Postcode (capitals
//     with a space), Aggregated donations (a description of at most 35 characters, for gifts
//     at or under the aggregation limit, at most £1,000 a row, name and address blank),
//     Sponsored event ("Yes" or blank), Donation date (DD/MM/YY, the latest date of a series or
//     aggregate) and Amount (no £ sign, two decimals). Cells that do not apply are blank, never
//     0.00. Regular gifts of one donor may share a row with the latest date. The aggregation
//     limit is configuration.
//   - Claimed rows are locked. A refund of a claimed gift queues an adjustment for the next
//     claim: the tax on the refunded amount, with a note of at most 100 characters, never more
//     than that claim.
package campaigns
