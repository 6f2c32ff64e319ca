// Package outbox is the mail the service sends: a message is queued in the transaction of
// the change that causes it (a sign-up, a reset, a thank-you), together with the River job
// that sends it, so a message exists exactly when its change commits. MailWorker sends
// with River's retries and backoff; a refusal for good stops at once. Sent messages are
// pruned after a month (Prune).
//
// Every message has a plain-text part (Mail.Body) and an HTML part: the caller's Mail.HTML,
// or, when it sets none, one QueueMail renders from the text (RenderHTML: escaped,
// paragraphs at blank lines, line breaks kept, addresses as links, the charity's name at the
// foot, inline styles only, nothing remote, the reader's colours). A caller writes text that
// reads well on its own; it gets the HTML part for free.
//
// MailWorker.Footer, when set, ends every message as it is sent (WithFooter): the
// charity's legal name, number and address, and a donor's link to stop emails about its
// work (campaigns/donors.MailFooter, wired by cmd/giving).
package outbox
