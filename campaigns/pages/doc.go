// Package pages is fundraisers' own pages: the page and its address (pages.go), its photo
// (photo.go: checked, stripped and resized copies), the public page and its wall of gifts
// (fundraisers.go), offline money a fundraiser collected and an admin verifies, rejects or
// reverses (offline.go), her thank-you notes to donors (thanks.go), and the admins' approval
// queue with its preview and emails (queue.go), and hiding a supporter's message from the
// public walls (messages.go: by the page's owner, a trustee or an admin; the message is
// kept for the records and can be shown again; each change audited in its transaction),
// a page's lifecycle (lifecycle.go: an end date, after which it is completed and takes no
// more gifts, or the person a memorial page remembers), her short updates on it (updates.go),
// teams (teams.go: a captain's join link, and a team total that is the sum of its live
// pages' ledger totals, each page in one team so no gift counts twice), and sponsored events
// (sponsored.go: marked by the fundraiser, checked by an admin).
//
// A fundraiser reads and changes only her own pages; another's page looks exactly like one
// that does not exist. A new page is pending until an admin approves it: every admin is
// emailed when it starts waiting, and its fundraiser when it goes live, each in the
// transaction of the change. Trustees and admins may preview a page that is not public.
package pages
