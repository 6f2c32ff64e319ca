// Package appeals is the appeal a donor gives to: its wording, target, Gift Aid rate and
// tiers (the amounts a donor picks from, each saying what it does), the first-run seed,
// and the admin's edits of them (edit.go). An appeal's totals are the ledger's
// (campaigns/ledger); this package only reads them.
package appeals
