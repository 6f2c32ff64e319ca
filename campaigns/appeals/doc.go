// Package appeals is the appeals a donor gives to: the default one at / (Fundraising for
// Freedom, seeded on first run) and any others admins open at /a/{slug}. Each has its
// wording, target, Gift Aid rate and tiers (the amounts a donor picks from, each saying what
// it does, one of them pre-selected), a fund of the charity's books (restricted or not),
// a required "if we raise more than we need" statement, a photo (photo.go: copies made by
// the page photo code, pages.CheckPhoto) and whether it is open. Admins' edits, each audited,
// are in edit.go. Every ledger entry carries its appeal's fund, set by the database when the
// entry is recorded; an appeal's fund is fixed once it has money. An appeal's totals are the
// ledger's (campaigns/ledger); this package only reads them.
package appeals
