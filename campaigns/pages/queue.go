package pages

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/dbq"
	"giving/campaigns/outbox"
)

// The admins' approval queue: pages waiting for approval, the email to every admin when a
// page starts waiting (CreatePage), and the email to the fundraiser when her page goes live
// (SetFundraiserStatus). Each is queued in the transaction of its change, so it is sent
// once, and only if the change is kept.

// WaitingPage is a page waiting for an admin's approval, with who wrote it.
type WaitingPage struct {
	ID          int64
	Slug        string
	Title       string
	Submitted   time.Time
	AuthorName  string // '' for a page made without an owner
	AuthorEmail string
}

// StatusLabel is how a page's status reads to a person ("pending" never shows as such).
func StatusLabel(status string) string {
	switch status {
	case "pending":
		return "Waiting for approval"
	case "approved":
		return "Live"
	case "hidden":
		return "Hidden"
	}
	return status
}

// StatusLabel is how the page's status reads to a person.
func (f Fundraiser) StatusLabel() string { return StatusLabel(f.Status) }

// PagesWaiting lists the appeal's pages waiting for approval, the longest waiting first.
func PagesWaiting(ctx context.Context, s *campaigns.Store, appealID int64, limit int) ([]WaitingPage, error) {
	rows, err := dbq.New(s.Pool()).PagesWaiting(ctx, dbq.PagesWaitingParams{AppealID: appealID, MaxRows: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("read pages waiting: %w", err)
	}
	out := make([]WaitingPage, 0, len(rows))
	for _, r := range rows {
		out = append(out, WaitingPage{ID: r.ID, Slug: r.Slug, Title: r.Title, Submitted: r.CreatedAt,
			AuthorName: r.AuthorName, AuthorEmail: r.AuthorEmail})
	}
	return out, nil
}

// mailAdminsWaiting queues, to every enabled admin, the news that a page is waiting.
func mailAdminsWaiting(ctx context.Context, tx pgx.Tx, site, author, authorEmail, title, slug string) error {
	admins, err := dbq.New(tx).AdminAddresses(ctx)
	if err != nil {
		return fmt.Errorf("read admin addresses: %w", err)
	}
	who := authorEmail
	if author != "" {
		who = author + " (" + authorEmail + ")"
	}
	body := fmt.Sprintf(`%s has written a fundraiser page, "%s", and it is waiting for your approval.

It is not public until an admin approves it. Preview it exactly as supporters will see it (only admins and trustees can, while it waits):
%s/f/%s

Approve or hide it at the top of Manage the appeal:
%s/admin#queue-h

The fundraiser is emailed when you approve it.
`, who, title, site, slug, site)
	for _, to := range admins {
		if err := outbox.QueueMail(ctx, tx, outbox.Mail{To: to, Subject: oneLine("A fundraiser page is waiting for approval: " + title), Body: body}); err != nil {
			return err
		}
	}
	return nil
}

// mailOwnerLive queues the fundraiser's news that her page is public.
func mailOwnerLive(ctx context.Context, tx pgx.Tx, site string, p dbq.LockPageStatusRow) error {
	if p.OwnerEmail == "" || p.OwnerDisabled {
		return nil // a page made by an admin has nobody to tell
	}
	hello := "Hello,"
	if p.OwnerName != "" {
		hello = "Hello " + p.OwnerName + ","
	}
	body := fmt.Sprintf(`%[1]s

Your page is live: %[3]s/f/%[4]s

"%[2]s" is approved: anyone can now see it and give on it. Share that link with friends, family and colleagues: every gift made there counts toward your target. You can follow your gifts, thank your supporters and edit your story at:
%[3]s/fundraise

Thank you for raising money for %[5]s.
`, hello, p.Title, site, p.Slug, campaigns.CharityName)
	return outbox.QueueMail(ctx, tx, outbox.Mail{To: p.OwnerEmail, Subject: oneLine("Your page is live: " + p.Title), Body: body})
}

// oneLine keeps a subject on one line, whatever a title holds.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// PreviewFundraiser returns a page whatever its status, for a trustee or admin to see it
// exactly as supporters will before it is approved; anyone else is told it does not
// exist, as with PublicFundraiser.
func PreviewFundraiser(ctx context.Context, s *campaigns.Store, by accounts.User, slug string) (Fundraiser, error) {
	if !by.CanRead() {
		return Fundraiser{}, fmt.Errorf("fundraiser: %w", campaigns.ErrNotFound)
	}
	return fundraiserOrNotFound(dbq.New(s.Pool()).PageBySlug(ctx, slug))
}
