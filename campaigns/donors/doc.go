// Package donors carries out a donor's data rights (UK GDPR): everything held about a
// donor as JSON (donors.go), and erasure of her personal data (erasure.go), keeping what
// the charity's accounts and HMRC require. Both are audited in the transaction that does
// them.
package donors
