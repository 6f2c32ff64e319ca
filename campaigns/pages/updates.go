package pages

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
)

// Updates are short posts a fundraiser writes on her own page ("Ran 8k today!"), shown
// newest first. Only the page's owner posts or deletes them; each change is audited in its
// transaction. They are plain text, escaped by the templates like everything she writes.

const maxUpdateLen = 1000

// Update is one post on a page.
type Update struct {
	ID       int64
	Body     string
	PostedAt time.Time
}

// PostUpdate adds an update to the fundraiser's own page (ErrNotFound for anyone else's).
func PostUpdate(ctx context.Context, s *campaigns.Store, by accounts.User, pageID int64, body string) error {
	if err := mayRunPages(by); err != nil {
		return err
	}
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	if n := utf8.RuneCountInString(body); n == 0 || n > maxUpdateLen || !utf8.ValidString(body) {
		return &campaigns.ValidationError{Fields: map[string]string{"update": fmt.Sprintf(
			"Write your update in up to %d characters.", maxUpdateLen)}}
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		f, err := fundraiserOrNotFound(dbq.New(tx).LockOwnPage(ctx, dbq.LockOwnPageParams{ID: pageID, OwnerID: by.ID}))
		if err != nil {
			return err
		}
		id, err := dbq.New(tx).InsertPageUpdate(ctx, dbq.InsertPageUpdateParams{FundraiserID: pageID, AuthorID: by.ID, Body: body, At: s.Now()})
		if err != nil {
			return fmt.Errorf("post update: %w", err)
		}
		return audit.Write(ctx, tx, by, "page update posted", fmt.Sprintf("update %d on fundraiser %d /f/%s", id, pageID, f.Slug))
	})
}

// DeleteUpdate takes an update off the fundraiser's own page (ErrNotFound for anyone
// else's, or one already gone). The text is kept in the database for the audit trail.
func DeleteUpdate(ctx context.Context, s *campaigns.Store, by accounts.User, updateID int64) error {
	if err := mayRunPages(by); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		page, err := dbq.New(tx).DeleteOwnUpdate(ctx, dbq.DeleteOwnUpdateParams{ID: updateID, OwnerID: by.ID, At: s.Now()})
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("update %d: %w", updateID, campaigns.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("delete update: %w", err)
		}
		return audit.Write(ctx, tx, by, "page update deleted", fmt.Sprintf("update %d on fundraiser %d", updateID, page))
	})
}

// Updates lists a page's updates, newest first.
func Updates(ctx context.Context, s *campaigns.Store, pageID int64, limit int) ([]Update, error) {
	rows, err := dbq.New(s.Pool()).PageUpdates(ctx, dbq.PageUpdatesParams{FundraiserID: pageID, MaxRows: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("list page updates: %w", err)
	}
	out := make([]Update, 0, len(rows))
	for _, r := range rows {
		out = append(out, Update{ID: r.ID, Body: r.Body, PostedAt: r.PostedAt})
	}
	return out, nil
}
