// Package donors is the donor as a person: her donor record (records.go: one per
// normalised email, linking her donations and, through them, her Gift Aid declarations),
// and her data rights (UK GDPR): everything held about her as JSON (donors.go), and
// erasure of her personal data (erasure.go), keeping what the charity's accounts and HMRC
// require. Export and erasure are audited in the transaction that does them.
//
// Her annual statement per UK tax year (statement.go: every gift, refund and its Gift Aid,
// totals from the ledger; statement_pdf.go the PDF) is downloaded from her manage link, and
// emailed each April by a periodic job, once per donor and year (statement_mail.go).
//
// Her marketing consent (consent.go): each answer of the donate form's consent fieldset
// with its exact words, version and time, withdrawals through the signed link at the foot
// of every email (MailFooter), and the consented-contacts list trustees download.
//
// The emails a donor is sent about her money (receipts and the rest) are written in
// package donations (receipts.go), beside the donation they are about.
package donors
