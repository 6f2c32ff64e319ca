package appeals

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/dbq"
)

// PhotoCopy is one stored copy of an appeal's photo. The copies are made from the upload's
// pixels by the page photo code (pages.CheckPhoto: cleaned of metadata, turned upright and
// drawn at the widths pages show); this package only stores and reads them.
type PhotoCopy struct {
	ContentType   string
	Data          []byte
	Width, Height int
	ETag          string
	UpdatedAt     time.Time
}

// SavePhoto replaces the appeal's photo with copies (at least one), audited.
func SavePhoto(ctx context.Context, s *campaigns.Store, by accounts.User, appealID int64, copies []PhotoCopy) error {
	if len(copies) == 0 {
		return &campaigns.ValidationError{Fields: map[string]string{"photo": "Choose a photo to upload"}}
	}
	return accounts.AdminTx(ctx, s, by, func(tx pgx.Tx) (string, string, error) {
		q := dbq.New(tx)
		old, err := lockAppeal(ctx, q, appealID)
		if err != nil {
			return "", "", err
		}
		if err := q.DeleteAppealPhotos(ctx, appealID); err != nil {
			return "", "", err
		}
		now := s.Now()
		for _, c := range copies {
			if err := q.SaveAppealPhoto(ctx, dbq.SaveAppealPhotoParams{AppealID: appealID, Width: int32(c.Width), Height: int32(c.Height),
				ContentType: c.ContentType, Data: c.Data, Sha256: c.ETag, UpdatedAt: now}); err != nil {
				return "", "", fmt.Errorf("save appeal photo: %w", err)
			}
		}
		return "appeal photo saved", fmt.Sprintf("appeal %s: %d copies", old.Slug, len(copies)), nil
	})
}

// PhotoSizes lists the copies of an appeal's photo, narrowest first (none without a photo).
func PhotoSizes(ctx context.Context, s *campaigns.Store, appealID int64) ([]PhotoCopy, error) {
	rows, err := dbq.New(s.Pool()).AppealPhotoWidths(ctx, appealID)
	if err != nil {
		return nil, fmt.Errorf("list appeal photo sizes: %w", err)
	}
	out := make([]PhotoCopy, 0, len(rows))
	for _, r := range rows {
		out = append(out, PhotoCopy{Width: int(r.Width), Height: int(r.Height)})
	}
	return out, nil
}

// Photo returns the copy of the appeal's photo that is width wide, or the widest for 0;
// ErrNotFound when there is no such copy. Appeal photos are public, as appeals are.
func Photo(ctx context.Context, s *campaigns.Store, slug string, width int) (PhotoCopy, error) {
	r, err := dbq.New(s.Pool()).AppealPhoto(ctx, dbq.AppealPhotoParams{Slug: slug, Width: int32(width)})
	if errors.Is(err, pgx.ErrNoRows) {
		return PhotoCopy{}, fmt.Errorf("photo of appeal %q at width %d: %w", slug, width, campaigns.ErrNotFound)
	}
	if err != nil {
		return PhotoCopy{}, fmt.Errorf("read appeal photo: %w", err)
	}
	return PhotoCopy{ContentType: r.ContentType, Data: r.Data, Width: int(r.Width), Height: int(r.Height), ETag: r.Sha256,
		UpdatedAt: r.UpdatedAt}, nil
}
