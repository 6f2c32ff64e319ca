// Package giftaid is Gift Aid: the declaration a donor makes (declarations.go), its
// cancellation (cancel.go), how long it is kept (retention.go), claims to HMRC with their
// schedule (claims.go), HMRC's repayments of them (repayments.go), and the adjustments a
// refund of a claimed gift queues for the next claim (adjustments.go).
//
// # HMRC's rules, as this package applies them
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
//     cover (retention.go; campaigns/donors erases them afterwards).
//   - The wording stored is the wording shown, byte for byte, with its version
//     (declarations.go): the donate form renders the chosen scope's sentence (Scopes) and
//     the terms (DeclarationTerms) from the functions whose join (Wording) is stored. It
//     names the charity (CHARITY_NAME), never the appeal.
//   - A donor living outside the UK has the postcode "X" (OverseasPostcode) and her whole
//     address in the house field, as HMRC's schedule takes it.
//   - Sponsorship (campaigns/pages/sponsored.go): gifts on a page an admin checked as a
//     sponsored event say "Yes" in the schedule's "Sponsored event" column and are never
//     aggregated. If the charity pays the participant's costs, she and people connected with
//     her cannot Gift Aid their sponsorship of her.
//   - A declaration belongs to its donor (the donor record, one per email), with its scope
//     and effective dates. "This gift" covers only the donation it was made with. "This and
//     future gifts" covers every gift of hers from the declaration's date, whatever donation
//     carried it (monthly payments too). "This, future and the past four years" also covers
//     her gifts in the four years before that date. A donation with no email has no donor:
//     its declaration covers its own gifts only.
//   - A declaration is cancelled from a date (cancel.go), by the donor on her manage page or
//     by an admin with a reason, audited, and the donor is sent a confirmation; gifts on or
//     after the date are not claimed, gifts already claimed stay claimed, and the cancelled
//     declaration is kept with its dates. The donor is sent a confirmation of each
//     declaration she makes when its donation is paid.
//   - A claim decides cover from the declarations as they stand when it is made, not from
//     the ledger's gift_aid_base: that records whether the donation's own declaration covered
//     the gift when it was recorded, so a gift recorded without Gift Aid becomes claimable
//     when a later declaration reaches back to it. The dashboard's "Gift Aid claimable" is
//     the gift_aid_base figure (Gift Aid as recorded), so it can be below what the next claim
//     takes; the claim preview is the figure to rely on. A gift two declarations cover is
//     claimed once, under one of them (its own donation's first, else the latest made). A
//     refund of any claimed gift queues an adjustment.
//   - The tax is computed on a total and rounded down to the penny once, never per gift
//     (ledger.GiftAidTax). A claim may include gifts of the last four years.
//   - The claim schedule (claims.go) is HMRC's Charities Online spreadsheet: Title (at most 4
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
package giftaid
