// Package donors is the donor as a person: her donor record (records.go: one per
// normalised email, linking her donations and, through them, her Gift Aid declarations),
// and her data rights (UK GDPR): everything held about her as JSON (donors.go), and
// erasure of her personal data (erasure.go), keeping what the charity's accounts and HMRC
// require. Export and erasure are audited in the transaction that does them.
//
// The emails a donor is sent about her money (receipts and the rest) are written in
// package donations (receipts.go), beside the donation they are about.
package donors
