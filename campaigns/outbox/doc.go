// Package outbox is the mail the service sends: a message is queued in the transaction of
// the change that causes it (a sign-up, a reset, a thank-you), together with the River job
// that sends it, so a message exists exactly when its change commits. MailWorker sends
// with River's retries and backoff; a refusal for good stops at once. Sent messages are
// pruned after a month (Prune).
package outbox
