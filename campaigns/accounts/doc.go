// Package accounts is who may act: trustees, admins and fundraisers, their passwords
// (Argon2id, checked against a list of common ones), sessions, email confirmation and
// password reset, log-in limits and device cookies (lockout.go), two-factor sign-in
// (twofactor.go), and AdminTx, the one way an admin's change is made: the role checked,
// the change and its audit row in one transaction.
//
// Trustees read everything; admins also change the appeal, approve pages and decide
// offline money; fundraisers see and change only their own pages. Every change an account
// makes is written to the audit log (campaigns/audit) by the operation itself.
package accounts
