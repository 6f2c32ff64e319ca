// Package reports is what trustees and operators read: the dashboard of an appeal for a
// period (dashboard.go) with its running total and monthly giving health: churn and the
// income forecast (health.go), the period's money by fund across every appeal (funds.go), the
// gifts export as CSV with each row's fund (export.go, audited), and the backlogs the
// service still owes, for metrics and alerts (backlogs.go). Reports only read; every
// figure comes from the ledger and its summaries.
package reports
