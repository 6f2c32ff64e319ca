// Package campaigns is the domain's foundation: the Store (the database pool and the one
// clock every operation reads), the errors callers tell apart, the River job inserter and
// client, and the CSV every export writes. The domain itself lives in one package per part,
// each in a directory below this one:
//
//	ledger     entries, totals, the one Gift Aid rounding rule, replay's comparison
//	audit      the append-only audit log, written in the transaction of each change
//	outbox     mail, queued with the change that causes it and sent by a River job
//	accounts   trustees, admins and fundraisers: passwords, sessions, lockout, two-factor
//	giftaid    declarations, retention, HMRC claims and their adjustments
//	appeals    the appeal, its tiers and target, the first-run seed
//	donations  a donor's gift: created before payment, its status, unmatched money
//	pages      fundraiser pages, photos, offline money, thank-you notes
//	donors     a donor's data: export and erasure, marketing consent and its withdrawal
//	charity    the charity's privacy, contact and complaints pages; the consent mode
//	reports    the dashboard, the gifts export, the consented-contacts list, backlogs
//
// A package depends only on packages above it in this list (and on this one, and dbq,
// the queries sqlc generates from queries/*.sql). payments translates Stripe's events
// into calls on these packages; web and cmd drive them.
//
// Operations take the Store (or, inside a transaction, a pgx.Tx): an operation that
// changes something opens the transaction, writes its audit row and queues its jobs in
// it, so the change, its record and its consequences commit together or not at all.
package campaigns
