package campaigns

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // registers JPEG with image.DecodeConfig
	_ "image/png"  // registers PNG with image.DecodeConfig
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"
	_ "golang.org/x/image/webp" // registers WebP with image.DecodeConfig

	"giving/campaigns/audit"
	"giving/campaigns/dbq"
	"giving/campaigns/ledger"
)

// Fundraiser pages written by fundraisers. A fundraiser reads and changes only her own
// pages: every method here takes the acting account and answers ErrNotFound for a page
// that is not hers, so another's page looks exactly like one that does not exist.
//
// A new page is pending until an admin approves it. A page edited after approval stays
// approved: supporters have the link already, the edit is audited, and an admin can hide
// the page at any moment. Its address (slug) is fixed once approved, so shared links keep
// working.

// Page limits.
const (
	MaxPhotoBytes = 5 << 20 // 5 MiB
	maxPhotoSide  = 10000   // pixels
	// MaxPhotoMegapixels bounds a photo's pixels, read from its header before anything is
	// decoded: a 24-megapixel (6000x4000) photo decodes to 36-72 MB, more for a progressive
	// JPEG, and a 625 KB file can declare 40 megapixels. Phones save 12 or 24 by default.
	MaxPhotoMegapixels = 24
	minSlugLen         = 3
	maxSlugLen         = 60
	maxTitleLen        = 120
	maxStoryLen        = 10000
	maxOfflineNote     = 500
	maxThanksLen       = 2000
	offlineObjectID    = "offline_"
)

var (
	minPageTarget = decimal.NewFromInt(1)
	maxPageTarget = decimal.NewFromInt(1_000_000)
	slugPattern   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// Photo is a stored copy of a page photo, made from the upload's pixels (photo.go).
type Photo struct {
	ContentType string // image/jpeg, or image/png for a picture with transparency
	Data        []byte
	Width       int
	Height      int
	ETag        string
	UpdatedAt   time.Time
	// Smaller are the narrower copies made with it on upload, narrowest first.
	Smaller []Photo
}

// Bytes is what the photo and its narrower copies take.
func (p Photo) Bytes() int64 {
	n := int64(len(p.Data))
	for _, s := range p.Smaller {
		n += int64(len(s.Data))
	}
	return n
}

// CheckPhoto accepts JPEG, PNG or WebP of at most MaxPhotoBytes and MaxPhotoMegapixels,
// whatever the file was called: the type is sniffed from the bytes, and the header must
// decode as that type with sane dimensions before anything else is done. Anything else (an
// HTML file renamed .png, an SVG) is refused. The Photo returned is not the upload but
// copies drawn from its pixels at the widths pages show, turned upright, without a byte
// of its metadata (photo.go). It waits its turn behind the photos being processed, and
// returns ctx's error once the request is gone.
func CheckPhoto(ctx context.Context, data []byte) (Photo, error) {
	return photoWork.check(ctx, data)
}

func (l *photoLimiter) check(ctx context.Context, data []byte) (Photo, error) {
	bad := func(msg string) (Photo, error) {
		return Photo{}, &ValidationError{Fields: map[string]string{"photo": msg}}
	}
	if len(data) == 0 {
		return bad("The photo is empty. Choose a JPEG, PNG or WebP image.")
	}
	if len(data) > MaxPhotoBytes {
		return bad("The photo must be 5 MB or smaller.")
	}
	ct, want := sniffImage(data)
	if ct == "" {
		return bad("The photo must be a JPEG, PNG or WebP image.")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || format != want {
		return bad("The photo could not be read as an image. Choose a JPEG, PNG or WebP image.")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxPhotoSide || cfg.Height > maxPhotoSide {
		return bad(fmt.Sprintf("The photo must be at most %d pixels on each side.", maxPhotoSide))
	}
	if px := cfg.Width * cfg.Height; px > MaxPhotoMegapixels*1_000_000 {
		return bad(fmt.Sprintf("The photo is %.1f megapixels (%d × %d pixels); the most we can take is %d megapixels. "+
			"Choose a smaller photo, or save a smaller copy of it first.", float64(px)/1e6, cfg.Width, cfg.Height, MaxPhotoMegapixels))
	}
	// Only the segments and chunks that draw the picture reach the decoder (photo.go).
	clean, orientation, icc, err := stripPhoto(data, want)
	if err != nil {
		return bad("The photo file is damaged or incomplete. Choose a JPEG, PNG or WebP image.")
	}
	// The stripped bytes must still be the same picture to a decoder.
	got, format, err := image.DecodeConfig(bytes.NewReader(clean))
	if err != nil || format != want || got.Width != cfg.Width || got.Height != cfg.Height {
		return bad("The photo could not be read as an image. Choose a JPEG, PNG or WebP image.")
	}
	copies, err := l.makeCopies(ctx, clean, want, orientation, icc)
	if errors.Is(err, errPhotoDamaged) {
		return bad("The photo file is damaged or incomplete. Choose a JPEG, PNG or WebP image.")
	}
	if err != nil {
		return Photo{}, err
	}
	var p Photo
	for i, c := range copies { // widest first
		if len(c.data) > MaxPhotoBytes { // a very detailed picture with transparency, as PNG
			return bad("The photo is too detailed to store. Choose a JPEG, or a photo without transparency.")
		}
		sum := sha256.Sum256(c.data)
		cp := Photo{ContentType: c.contentType, Data: c.data, Width: c.width, Height: c.height, ETag: hex.EncodeToString(sum[:16])}
		if i == 0 {
			p = cp
		} else {
			p.Smaller = append([]Photo{cp}, p.Smaller...)
		}
	}
	return p, nil
}

// sniffImage names the image type from the file's first bytes (the signatures net/http's
// DetectContentType uses for these three), whatever the file was called: the content type
// and image.DecodeConfig's format name, or "" for anything else.
func sniffImage(b []byte) (contentType, format string) {
	switch {
	case bytes.HasPrefix(b, []byte("\xFF\xD8\xFF")):
		return "image/jpeg", "jpeg"
	case bytes.HasPrefix(b, []byte("\x89PNG\x0D\x0A\x1A\x0A")):
		return "image/png", "png"
	case len(b) >= 14 && string(b[:4]) == "RIFF" && string(b[8:14]) == "WEBPVP":
		return "image/webp", "webp"
	}
	return "", ""
}

// PageEdit is what a fundraiser writes on her page.
type PageEdit struct {
	Title  string
	Story  string          // plain text; paragraphs on blank lines
	Target decimal.Decimal // zero when the form's text did not parse
	Slug   string          // "" on a new page: suggested from the title
	Photo  *Photo          // nil keeps the current photo
}

func (e *PageEdit) normalise() {
	// A title is one line: line breaks and other control characters become spaces.
	e.Title = strings.Join(strings.FieldsFunc(e.Title, unicode.IsControl), " ")
	e.Title = strings.TrimSpace(e.Title)
	e.Story = strings.TrimSpace(strings.ReplaceAll(e.Story, "\r\n", "\n"))
	e.Slug = strings.ToLower(strings.TrimSpace(e.Slug))
}

func (e PageEdit) validate(ve *ValidationError) {
	if n := utf8.RuneCountInString(e.Title); n == 0 || n > maxTitleLen {
		ve.Add("title", fmt.Sprintf("Give your page a title of up to %d characters.", maxTitleLen))
	}
	if utf8.RuneCountInString(e.Story) > maxStoryLen {
		ve.Add("story", "Use 10,000 characters or fewer.")
	}
	if !utf8.ValidString(e.Title) || !utf8.ValidString(e.Story) {
		ve.Add("story", "The text contains characters we cannot read.")
	}
	if e.Target.LessThan(minPageTarget) || e.Target.GreaterThan(maxPageTarget) || !e.Target.Equal(e.Target.Round(2)) {
		ve.Add("target", "Enter a target between £1 and £1,000,000 in pounds and pence, like 500 or 500.00.")
	}
	if e.Slug != "" {
		if p := SlugProblem(e.Slug); p != "" {
			ve.Add("slug", p)
		}
	}
}

// CheckPageEdit checks the fields of a page edit without saving anything, so a form can
// show every problem at once.
func CheckPageEdit(e PageEdit) error {
	e.normalise()
	ve := &ValidationError{}
	e.validate(ve)
	return ve.OrNil()
}

// SlugProblem explains what is wrong with a page address, or returns "".
func SlugProblem(slug string) string {
	if n := len(slug); n < minSlugLen || n > maxSlugLen || !slugPattern.MatchString(slug) {
		return fmt.Sprintf("Use %d to %d lower-case letters, digits and single hyphens, like rubys-run.", minSlugLen, maxSlugLen)
	}
	return ""
}

// SlugFromTitle suggests a readable address: "Ruby's Run for Freedom!" -> "rubys-run-for-freedom".
func SlugFromTitle(title string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r == '\'' || r == '’':
			// "Ruby's" reads better as "rubys" than "ruby-s".
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		default:
			if folded, ok := asciiFold[r]; ok {
				if hyphen && b.Len() > 0 {
					b.WriteByte('-')
				}
				hyphen = false
				b.WriteString(folded)
				continue
			}
			hyphen = true
		}
	}
	s := trimSlug(b.String(), maxSlugLen)
	if len(s) < minSlugLen {
		s = strings.Trim(s+"-page", "-")
		if len(s) < minSlugLen {
			s = "my-page"
		}
	}
	return s
}

// asciiFold spells the accented letters common in UK names without their accents.
var asciiFold = map[rune]string{'à': "a", 'á': "a", 'â': "a", 'ä': "a", 'ã': "a", 'å': "a", 'æ': "ae", 'ç': "c",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ñ': "n", 'ò': "o", 'ó': "o",
	'ô': "o", 'ö': "o", 'õ': "o", 'ø': "o", 'œ': "oe", 'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ý': "y", 'ÿ': "y", 'ß': "ss"}

// trimSlug cuts a slug to at most n bytes at a hyphen where it can, never leaving one at the end.
func trimSlug(s string, n int) string {
	if len(s) > n {
		s = s[:n]
		if i := strings.LastIndexByte(s, '-'); i >= minSlugLen {
			s = s[:i]
		}
	}
	return strings.Trim(s, "-")
}

// freeSlug is base if no page has it, else the first free base-2, base-3...
func freeSlug(ctx context.Context, db DB, base string) (string, error) {
	taken, err := dbq.New(db).PageSlugsLike(ctx, dbq.PageSlugsLikeParams{Base: base,
		Numbered: strings.ReplaceAll(trimSlug(base, maxSlugLen-4), "_", `\_`) + "-%"})
	if err != nil {
		return "", fmt.Errorf("suggest a page address: %w", err)
	}
	used := map[string]bool{}
	for _, t := range taken {
		used[t] = true
	}
	if !used[base] {
		return base, nil
	}
	for n := 2; ; n++ {
		suffix := "-" + strconv.Itoa(n)
		s := trimSlug(base, maxSlugLen-len(suffix)) + suffix
		if !used[s] {
			return s, nil
		}
	}
}

// slugTaken is the error for an address another page has, with a free one to try.
func slugTaken(ctx context.Context, db DB, slug string) error {
	s, err := freeSlug(ctx, db, slug)
	if err != nil {
		return err
	}
	return &ValidationError{Fields: map[string]string{"slug": fmt.Sprintf("The address %s is taken. Try %s.", slug, s)}}
}

// PageQuota is what one fundraiser's pages may hold, so one account cannot fill the
// database or the disk: a number of pages, and the bytes of their photos' stored copies.
type PageQuota struct {
	Pages      int
	PhotoBytes int64
}

// DefaultPageQuota: ten pages, and 20 MiB of photos (stored copies are 0.3-2 MB a photo).
var DefaultPageQuota = PageQuota{Pages: 10, PhotoBytes: 20 << 20}

func (s *Store) quota() PageQuota {
	q := s.Quota
	if q.Pages <= 0 {
		q.Pages = DefaultPageQuota.Pages
	}
	if q.PhotoBytes <= 0 {
		q.PhotoBytes = DefaultPageQuota.PhotoBytes
	}
	return q
}

// megabytes writes n bytes as a person reads them: "1.4 MB".
func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

func mayRunPages(by User) error {
	if by.Role != RoleFundraiser || by.ID == 0 {
		return fmt.Errorf("%s may not run fundraiser pages: %w", by.Role, ErrForbidden)
	}
	return nil
}

// CreatePage makes a pending page owned by the fundraiser by, on the appeal. With no slug,
// one is suggested from the title (the first free one). A taken slug is refused with a
// free suggestion.
func (s *Store) CreatePage(ctx context.Context, by User, appealID int64, e PageEdit) (Fundraiser, error) {
	if err := mayRunPages(by); err != nil {
		return Fundraiser{}, err
	}
	e.normalise()
	ve := &ValidationError{}
	e.validate(ve)
	if err := ve.OrNil(); err != nil {
		return Fundraiser{}, err
	}
	var f Fundraiser
	q := s.quota()
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		// Her account row is the lock: two new pages at once are counted one after the other.
		if err := dbq.New(tx).LockAccount(ctx, by.ID); err != nil {
			return fmt.Errorf("lock account %d: %w", by.ID, err)
		}
		n, err := dbq.New(tx).OwnPageCount(ctx, by.ID)
		if err != nil {
			return fmt.Errorf("count own pages: %w", err)
		}
		if n >= int64(q.Pages) {
			return &ValidationError{Fields: map[string]string{"title": fmt.Sprintf(
				"You already have %d pages, the most one fundraiser can have. Edit one of them, or ask the charity if you need another.", n)}}
		}
		slug := e.Slug
		if slug == "" {
			var err error
			if slug, err = freeSlug(ctx, tx, SlugFromTitle(e.Title)); err != nil {
				return err
			}
		}
		id, err := dbq.New(tx).InsertOwnPage(ctx, dbq.InsertOwnPageParams{AppealID: appealID, Slug: slug, Title: e.Title,
			Story: e.Story, Target: e.Target, OwnerID: by.ID})
		if errors.Is(err, pgx.ErrNoRows) {
			return slugTaken(ctx, tx, slug)
		}
		if err != nil {
			return fmt.Errorf("create fundraiser page: %w", err)
		}
		if e.Photo != nil {
			if err := savePhoto(ctx, tx, by, id, *e.Photo, q); err != nil {
				return err
			}
		}
		if err := audit.Write(ctx, tx, by, "fundraiser page created", fmt.Sprintf("fundraiser %d /f/%s", id, slug)); err != nil {
			return err
		}
		f, err = pageByID(ctx, tx, id)
		return err
	})
	return f, err
}

// UpdatePage changes the fundraiser's own page. Its status does not change (see above);
// its address may change only while it is pending.
func (s *Store) UpdatePage(ctx context.Context, by User, id int64, e PageEdit) (Fundraiser, error) {
	if err := mayRunPages(by); err != nil {
		return Fundraiser{}, err
	}
	e.normalise()
	ve := &ValidationError{}
	e.validate(ve)
	var f Fundraiser
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		old, err := fundraiserOrNotFound(dbq.New(tx).LockOwnPage(ctx, dbq.LockOwnPageParams{ID: id, OwnerID: by.ID}))
		if err != nil {
			return err
		}
		if e.Slug == "" {
			e.Slug = old.Slug
		}
		if e.Slug != old.Slug && old.Status != "pending" {
			ve.Add("slug", "The address cannot change once the page is approved: supporters may have shared it.")
		}
		if err := ve.OrNil(); err != nil {
			return err
		}
		n, err := dbq.New(tx).UpdateOwnPage(ctx, dbq.UpdateOwnPageParams{ID: id, OwnerID: by.ID, Slug: e.Slug,
			Title: e.Title, Story: e.Story, Target: e.Target})
		if isUniqueViolation(err) || (err == nil && n == 0) {
			return slugTaken(ctx, tx, e.Slug)
		}
		if err != nil {
			return fmt.Errorf("update fundraiser page %d: %w", id, err)
		}
		if e.Photo != nil {
			if err := savePhoto(ctx, tx, by, id, *e.Photo, s.quota()); err != nil {
				return err
			}
		}
		detail := fmt.Sprintf("fundraiser %d /f/%s (%s): target %s -> %s", id, e.Slug, old.Status,
			old.Target.StringFixed(2), e.Target.StringFixed(2))
		if e.Photo != nil {
			detail += ", new photo"
		}
		if err := audit.Write(ctx, tx, by, "fundraiser page edited", detail); err != nil {
			return err
		}
		f, err = pageByID(ctx, tx, id)
		return err
	})
	return f, err
}

// savePhoto stores a page's photo copies in place of any before, within the owner's quota.
func savePhoto(ctx context.Context, tx pgx.Tx, by User, fundraiserID int64, p Photo, q PageQuota) error {
	db := dbq.New(tx)
	if err := db.LockAccount(ctx, by.ID); err != nil {
		return fmt.Errorf("lock account %d: %w", by.ID, err)
	}
	used, err := db.OwnPhotoBytes(ctx, dbq.OwnPhotoBytesParams{OwnerID: by.ID, ExceptPage: fundraiserID})
	if err != nil {
		return fmt.Errorf("count own photo bytes: %w", err)
	}
	if need := p.Bytes(); used+need > q.PhotoBytes {
		return &ValidationError{Fields: map[string]string{"photo": fmt.Sprintf(
			"Your pages' photos may take %s in all. Your other photos take %s and this one needs %s: choose a smaller or simpler photo.",
			megabytes(q.PhotoBytes), megabytes(used), megabytes(need))}}
	}
	if err := db.SavePagePhoto(ctx, dbq.SavePagePhotoParams{FundraiserID: fundraiserID, ContentType: p.ContentType,
		Data: p.Data, Width: int32(p.Width), Height: int32(p.Height), Sha256: p.ETag}); err != nil {
		return fmt.Errorf("save page photo: %w", err)
	}
	if err := db.DeletePhotoSizes(ctx, fundraiserID); err != nil {
		return fmt.Errorf("save page photo: %w", err)
	}
	for _, c := range p.Smaller {
		if err := db.SavePhotoSize(ctx, dbq.SavePhotoSizeParams{FundraiserID: fundraiserID, Width: int32(c.Width),
			Height: int32(c.Height), ContentType: c.ContentType, Data: c.Data, Sha256: c.ETag}); err != nil {
			return fmt.Errorf("save page photo copy: %w", err)
		}
	}
	return nil
}

// OwnPage is one of the fundraiser's own pages, whatever its status; ErrNotFound for a
// page that is someone else's.
func (s *Store) OwnPage(ctx context.Context, by User, id int64) (Fundraiser, error) {
	if err := mayRunPages(by); err != nil {
		return Fundraiser{}, err
	}
	return fundraiserOrNotFound(dbq.New(s.pool).OwnPageByID(ctx, dbq.OwnPageByIDParams{ID: id, OwnerID: by.ID}))
}

// OwnPages lists the fundraiser's pages, newest first.
func (s *Store) OwnPages(ctx context.Context, by User) ([]Fundraiser, error) {
	rows, err := dbq.New(s.pool).OwnPagesNewestFirst(ctx, by.ID)
	if err != nil {
		return nil, fmt.Errorf("list own pages: %w", err)
	}
	pages := make([]Fundraiser, 0, len(rows))
	for _, r := range rows {
		pages = append(pages, fundraiserFromRow(r))
	}
	return pages, nil
}

// PagePhoto returns a copy of a page's photo with the page, so the caller can decide who
// may see it: the widest copy for width 0, else the copy that wide (ErrNotFound if there
// is none).
func (s *Store) PagePhoto(ctx context.Context, slug string, width int) (Fundraiser, Photo, error) {
	f, err := fundraiserOrNotFound(dbq.New(s.pool).PageBySlug(ctx, slug))
	if err != nil {
		return f, Photo{}, err
	}
	var p Photo
	if width > 0 && width <= maxPhotoSide {
		c, err := dbq.New(s.pool).PhotoSize(ctx, dbq.PhotoSizeParams{FundraiserID: f.ID, Width: int32(width)})
		if err == nil {
			return f, Photo{ContentType: c.ContentType, Data: c.Data, Width: int(c.Width), Height: int(c.Height),
				ETag: c.Sha256, UpdatedAt: c.UpdatedAt}, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return f, p, fmt.Errorf("read page photo copy: %w", err)
		}
	}
	widest, err := dbq.New(s.pool).PageMainPhoto(ctx, f.ID)
	if err == nil {
		p = Photo{ContentType: widest.ContentType, Data: widest.Data, Width: int(widest.Width), Height: int(widest.Height),
			ETag: widest.Sha256, UpdatedAt: widest.UpdatedAt}
	}
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && width != 0 && width != p.Width) {
		return f, Photo{}, fmt.Errorf("photo of fundraiser %d at width %d: %w", f.ID, width, ErrNotFound)
	}
	if err != nil {
		return f, p, fmt.Errorf("read page photo: %w", err)
	}
	return f, p, nil
}

// PhotoSize is the size of one stored copy of a page's photo.
type PhotoSize struct{ Width, Height int }

// PhotoSizes lists the copies of a page's photo, narrowest first; the last is the one
// PagePhoto returns for width 0. A page without a photo has none.
func (s *Store) PhotoSizes(ctx context.Context, fundraiserID int64) ([]PhotoSize, error) {
	rows, err := dbq.New(s.pool).PhotoWidths(ctx, fundraiserID)
	if err != nil {
		return nil, fmt.Errorf("list page photo sizes: %w", err)
	}
	sizes := make([]PhotoSize, 0, len(rows))
	for _, r := range rows {
		sizes = append(sizes, PhotoSize{Width: int(r.Width), Height: int(r.Height)})
	}
	return sizes, nil
}

// AppealPages lists an appeal's fundraiser pages for the admin page, pending first, then
// newest first: at most limit from offset, with how many there are in all.
func (s *Store) AppealPages(ctx context.Context, appealID int64, limit, offset int) ([]Fundraiser, int64, error) {
	db := dbq.New(s.pool)
	total, err := db.AppealPageCount(ctx, appealID)
	if err != nil {
		return nil, 0, fmt.Errorf("count fundraiser pages: %w", err)
	}
	rows, err := db.AppealPages(ctx, dbq.AppealPagesParams{AppealID: appealID, MaxRows: int32(limit), Skip: int32(offset)})
	if err != nil {
		return nil, 0, fmt.Errorf("list fundraiser pages: %w", err)
	}
	pages := make([]Fundraiser, 0, len(rows))
	for _, r := range rows {
		pages = append(pages, Fundraiser{ID: r.ID, AppealID: r.AppealID, Slug: r.Slug, Title: r.Title, Story: r.Story,
			Target: r.Target, Status: r.Status, OwnerID: r.OwnerID, HasPhoto: r.HasPhoto})
	}
	return pages, total, nil
}

// PageGift is one gift to a fundraiser's page as she may see it: the donor's privacy
// choices applied, and never the donor's email or address.
type PageGift struct {
	DonationID string
	PageID     int64
	PageTitle  string
	Name       string          // the display name, or "Anonymous"
	Amount     decimal.Decimal // zero when the donor chose not to show it
	Shown      bool
	Message    string
	Monthly    bool
	At         time.Time
	Thanked    bool
	CanThank   bool // the gift is not thanked yet and the donor left a way to reach them
}

// PageGifts lists every gift that reached one of the fundraiser's pages, newest first.
func (s *Store) PageGifts(ctx context.Context, by User, limit int) ([]PageGift, error) {
	if err := mayRunPages(by); err != nil {
		return nil, err
	}
	rows, err := dbq.New(s.pool).OwnPageGifts(ctx, dbq.OwnPageGiftsParams{OwnerID: by.ID, MaxRows: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("list gifts to own pages: %w", err)
	}
	gifts := make([]PageGift, 0, len(rows))
	for _, r := range rows {
		g := PageGift{DonationID: r.DonationID, PageID: r.PageID, PageTitle: r.PageTitle, Name: r.DisplayName,
			Amount: r.Amount, Message: r.Message, Monthly: r.Monthly, At: r.GivenAt, Thanked: r.Thanked}
		if r.HideName || strings.TrimSpace(g.Name) == "" {
			g.Name = "Anonymous"
		}
		g.Shown = !r.HideAmount
		if r.HideAmount {
			g.Amount = decimal.Zero
		}
		g.CanThank = !g.Thanked && r.Reachable
		gifts = append(gifts, g)
	}
	return gifts, nil
}

// Offline takings: money a fundraiser collected herself.

// Offline kinds.
var offlineKinds = map[string]string{"cash": "Cash", "cheque": "Cheque", "bank_transfer": "Bank transfer"}

// OfflineKindLabel is how a kind reads to a person.
func OfflineKindLabel(kind string) string { return offlineKinds[kind] }

// OfflineInput is what a fundraiser enters about money she collected.
type OfflineInput struct {
	Amount     decimal.Decimal // zero when the form's text did not parse
	ReceivedOn time.Time       // a London date; zero when it did not parse
	Kind       string
	Note       string
}

// OfflineTaking is offline money as recorded, with its review.
type OfflineTaking struct {
	ID           int64
	FundraiserID int64
	PageTitle    string
	PageSlug     string
	AppealID     int64
	SubmittedBy  string // the fundraiser's email, for admins
	Amount       decimal.Decimal
	ReceivedOn   time.Time
	Kind         string
	Note         string
	Status       string // pending, verified, rejected or reversed
	CreatedAt    time.Time
	// A reversed taking: when, and the admin's reason.
	ReversedAt     *time.Time
	ReversalReason string
}

// KindLabel is how the taking's kind reads to a person.
func (o OfflineTaking) KindLabel() string { return OfflineKindLabel(o.Kind) }

// SubmitOffline records offline money on the fundraiser's own page, pending an admin's check.
func (s *Store) SubmitOffline(ctx context.Context, by User, pageID int64, in OfflineInput) (int64, error) {
	if err := mayRunPages(by); err != nil {
		return 0, err
	}
	ve := &ValidationError{}
	if in.Amount.LessThan(decimal.RequireFromString("0.01")) || in.Amount.GreaterThan(maxPageTarget) || !in.Amount.Equal(in.Amount.Round(2)) {
		ve.Add("offline_amount", "Enter the amount in pounds and pence, like 120 or 120.50, up to £1,000,000.")
	}
	today := s.now().In(London())
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	if in.ReceivedOn.IsZero() || in.ReceivedOn.After(today) || in.ReceivedOn.Before(today.AddDate(-1, 0, 0)) {
		ve.Add("offline_date", "Enter the date you received the money: today or within the last year.")
	}
	if _, ok := offlineKinds[in.Kind]; !ok {
		ve.Add("offline_kind", "Choose cash, cheque or bank transfer.")
	}
	note := strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(note) > maxOfflineNote || !utf8.ValidString(note) {
		ve.Add("offline_note", "Use 500 characters or fewer.")
	}
	if err := ve.OrNil(); err != nil {
		return 0, err
	}
	var id int64
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		id, err = dbq.New(tx).InsertOwnOffline(ctx, dbq.InsertOwnOfflineParams{FundraiserID: pageID, SubmittedBy: by.ID,
			Amount: in.Amount, ReceivedOn: pgtype.Date{Time: in.ReceivedOn, Valid: true}, Kind: in.Kind, Note: note})
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("fundraiser %d: %w", pageID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("record offline money: %w", err)
		}
		return audit.Write(ctx, tx, by, "offline money entered", fmt.Sprintf("offline %d on fundraiser %d: %s %s, pending",
			id, pageID, in.Kind, in.Amount.StringFixed(2)))
	})
	return id, err
}

// offlineFromRow is a taking as read by any of the offline queries in queries/pages.sql
// (they share their columns, so each row type converts to dbq.LockOfflineRow).
func offlineFromRow(r dbq.LockOfflineRow) OfflineTaking {
	return OfflineTaking{ID: r.ID, FundraiserID: r.FundraiserID, PageTitle: r.PageTitle, PageSlug: r.PageSlug,
		AppealID: r.AppealID, SubmittedBy: r.SubmittedBy, Amount: r.Amount, ReceivedOn: r.ReceivedOn.Time, Kind: r.Kind,
		Note: r.Note, Status: r.Status, CreatedAt: r.CreatedAt, ReversedAt: r.ReversedAt, ReversalReason: r.ReversalReason}
}

// offlineList converts the rows of an offline query.
func offlineList[R ~struct {
	ID             int64
	FundraiserID   int64
	PageTitle      string
	PageSlug       string
	AppealID       int64
	SubmittedBy    string
	Amount         decimal.Decimal
	ReceivedOn     pgtype.Date
	Kind           string
	Note           string
	Status         string
	CreatedAt      time.Time
	ReversedAt     *time.Time
	ReversalReason string
}](rows []R) []OfflineTaking {
	out := make([]OfflineTaking, 0, len(rows))
	for _, r := range rows {
		out = append(out, offlineFromRow(dbq.LockOfflineRow(r)))
	}
	return out
}

func pageByID(ctx context.Context, tx pgx.Tx, id int64) (Fundraiser, error) {
	return fundraiserOrNotFound(dbq.New(tx).PageByID(ctx, id))
}

// OwnOffline lists the offline money entered on the fundraiser's pages, newest first.
func (s *Store) OwnOffline(ctx context.Context, by User) ([]OfflineTaking, error) {
	if err := mayRunPages(by); err != nil {
		return nil, err
	}
	rows, err := dbq.New(s.pool).OwnOffline(ctx, by.ID)
	if err != nil {
		return nil, fmt.Errorf("list own offline money: %w", err)
	}
	return offlineList(rows), nil
}

// PendingOffline lists offline money waiting for an admin, oldest first.
func (s *Store) PendingOffline(ctx context.Context, limit int) ([]OfflineTaking, error) {
	rows, err := dbq.New(s.pool).PendingOffline(ctx, int32(limit))
	if err != nil {
		return nil, fmt.Errorf("list pending offline money: %w", err)
	}
	return offlineList(rows), nil
}

// DecidedOffline lists the offline money admins verified (and any since reversed), most
// recently decided first, so a mistake can be found and reversed.
func (s *Store) DecidedOffline(ctx context.Context, limit int) ([]OfflineTaking, error) {
	rows, err := dbq.New(s.pool).DecidedOffline(ctx, int32(limit))
	if err != nil {
		return nil, fmt.Errorf("list verified offline money: %w", err)
	}
	return offlineList(rows), nil
}

// offlineEntry is the ledger fact a verified taking becomes: a gift to the page and its
// appeal, keyed by the taking, never Gift Aid-able (the fundraiser is not the donor, and
// the people who gave made no declaration), with no donor to count.
func offlineEntry(o OfflineTaking) ledger.Entry {
	return ledger.Entry{
		AppealID: o.AppealID, FundraiserID: o.FundraiserID, Kind: ledger.KindGift,
		StripeObject: offlineObjectID + strconv.FormatInt(o.ID, 10),
		Amount:       o.Amount, GiftAidBase: decimal.Zero,
		// Midday in London on the day received, so it lands on that London day.
		OccurredAt: time.Date(o.ReceivedOn.Year(), o.ReceivedOn.Month(), o.ReceivedOn.Day(), 12, 0, 0, 0, London()),
	}
}

// IsOfflineObject reports whether a ledger entry's object is an offline taking rather than
// a Stripe object (so reconciliation with Stripe leaves it alone).
func IsOfflineObject(object string) bool { return strings.HasPrefix(object, offlineObjectID) }

// offlineReversalEntry is the ledger fact a reversal adds: a refund of the whole taking,
// on the day it was reversed, so the gift stays in the history and every total moves back.
func offlineReversalEntry(o OfflineTaking) ledger.Entry {
	e := offlineEntry(o)
	e.Kind, e.Seq, e.Amount, e.OccurredAt = ledger.KindRefund, "reversal", o.Amount.Neg(), *o.ReversedAt
	return e
}

// VerifiedOfflineEntries are the ledger entries every verified taking recorded (and, for
// one since reversed, its reversal), for rebuilding the ledger (giving replay) from its
// sources: Stripe's events and these.
func VerifiedOfflineEntries(ctx context.Context, db DB) ([]ledger.Entry, error) {
	rows, err := dbq.New(db).VerifiedOffline(ctx)
	if err != nil {
		return nil, fmt.Errorf("list verified offline money: %w", err)
	}
	takings := offlineList(rows)
	var entries []ledger.Entry
	for _, o := range takings {
		entries = append(entries, offlineEntry(o))
		if o.Status == "reversed" {
			entries = append(entries, offlineReversalEntry(o))
		}
	}
	return entries, nil
}

// ReverseOffline is an admin undoing verified offline money that should not count (entered
// with the wrong amount, a cheque that bounced), giving the reason. The ledger keeps the
// gift and gains a refund of the whole amount, so the page's and the appeal's totals move
// back in the same transaction; the reason is kept on the taking and in the audit log.
// Reversing again changes nothing and reports false; only verified money can be reversed.
func (s *Store) ReverseOffline(ctx context.Context, by User, id int64, reason string) (bool, error) {
	if !by.CanAdmin() {
		return false, fmt.Errorf("%s may not reverse offline money: %w", by.Role, ErrForbidden)
	}
	reason = strings.Join(strings.Fields(reason), " ")
	if n := utf8.RuneCountInString(reason); n == 0 || n > 500 {
		return false, &ValidationError{Fields: map[string]string{"reason": "Say why it is reversed, in up to 500 characters: the fundraiser and the audit log see it."}}
	}
	changed := false
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		o, err := lockOffline(ctx, tx, id)
		if err != nil {
			return err
		}
		switch o.Status {
		case "reversed":
			return nil // a second click, or two admins at once
		case "verified":
		default:
			return fmt.Errorf("offline money %d is %s, not verified: only money in the totals can be reversed: %w", id, o.Status, ErrConflict)
		}
		at, err := dbq.New(tx).ReverseOffline(ctx, dbq.ReverseOfflineParams{ID: id, ReversedBy: by.ID, Reason: reason})
		if err != nil {
			return fmt.Errorf("reverse offline money %d: %w", id, err)
		}
		o.ReversedAt = at
		if _, err := ledger.Record(ctx, tx, offlineReversalEntry(o)); err != nil {
			return err
		}
		changed = true
		return audit.Write(ctx, tx, by, "offline money reversed", fmt.Sprintf("offline %d on fundraiser %d: %s %s received %s, because: %s",
			id, o.FundraiserID, o.Kind, o.Amount.StringFixed(2), o.ReceivedOn.Format(time.DateOnly), reason))
	})
	return changed, err
}

// lockOffline reads a taking and locks it for the rest of tx.
func lockOffline(ctx context.Context, tx pgx.Tx, id int64) (OfflineTaking, error) {
	r, err := dbq.New(tx).LockOffline(ctx, id)
	o := offlineFromRow(r)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, fmt.Errorf("offline money %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("read offline money %d: %w", id, err)
	}
	return o, nil
}

// VerifyOffline is an admin confirming offline money arrived: it enters the ledger and
// moves the page's and the appeal's totals in the same transaction. Verifying again
// changes nothing and reports false; a rejected taking cannot be verified.
func (s *Store) VerifyOffline(ctx context.Context, by User, id int64) (bool, error) {
	return s.decideOffline(ctx, by, id, "verified")
}

// RejectOffline is an admin refusing offline money: it never reaches the ledger. Verified
// money cannot be rejected (it is in the ledger; a mistake needs a correcting entry).
func (s *Store) RejectOffline(ctx context.Context, by User, id int64) (bool, error) {
	return s.decideOffline(ctx, by, id, "rejected")
}

func (s *Store) decideOffline(ctx context.Context, by User, id int64, status string) (bool, error) {
	if !by.CanAdmin() {
		return false, fmt.Errorf("%s may not review offline money: %w", by.Role, ErrForbidden)
	}
	changed := false
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		o, err := lockOffline(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case o.Status == status:
			return nil // a second click, or two admins at once: nothing more to do
		case o.Status != "pending":
			return fmt.Errorf("offline money %d is already %s: %w", id, o.Status, ErrConflict)
		}
		if err := dbq.New(tx).DecideOffline(ctx, dbq.DecideOfflineParams{ID: id, Status: status, DecidedBy: by.ID}); err != nil {
			return fmt.Errorf("decide offline money %d: %w", id, err)
		}
		if status == "verified" {
			if _, err := ledger.Record(ctx, tx, offlineEntry(o)); err != nil {
				return err
			}
		}
		changed = true
		return audit.Write(ctx, tx, by, "offline money "+status, fmt.Sprintf("offline %d on fundraiser %d: %s %s received %s",
			id, o.FundraiserID, o.Kind, o.Amount.StringFixed(2), o.ReceivedOn.Format(time.DateOnly)))
	})
	return changed, err
}

// ThankGift queues the fundraiser's thank-you note to the donor of a gift to one of her
// pages. She writes the note but never sees the address: the outbox has it, she does not.
// Each gift is thanked at most once (a second attempt is a conflict, and sends nothing).
func (s *Store) ThankGift(ctx context.Context, by User, donationID, message string) error {
	if err := mayRunPages(by); err != nil {
		return err
	}
	message = strings.TrimSpace(strings.ReplaceAll(message, "\r\n", "\n"))
	if n := utf8.RuneCountInString(message); n == 0 || n > maxThanksLen || !utf8.ValidString(message) {
		return &ValidationError{Fields: map[string]string{"message": "Write a thank-you note of up to 2,000 characters."}}
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		gift, err := dbq.New(tx).GiftToThank(ctx, dbq.GiftToThankParams{DonationID: uuidOrNil(donationID), OwnerID: by.ID})
		email, title, pageID := gift.Email, gift.Title, gift.PageID
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("gift %s: %w", donationID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("find gift to thank: %w", err)
		}
		if strings.TrimSpace(email) == "" {
			return &ValidationError{Fields: map[string]string{"message": "We have no way to reach this donor, so the note cannot be sent."}}
		}
		n, err := dbq.New(tx).RecordThanks(ctx, dbq.RecordThanksParams{DonationID: donationID, FundraiserID: pageID, ThankedBy: by.ID})
		if err != nil {
			return fmt.Errorf("record thanks: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("gift %s is already thanked: %w", donationID, ErrConflict)
		}
		body := message + "\n\n--\nThis note is from the fundraiser behind the page \"" + title + "\", for your gift to " +
			CharityName + ". We passed it on for them: they have not seen your email address.\n"
		if err := QueueMail(ctx, tx, Mail{To: email, Subject: "Thank you for your gift to " + title, Body: body}); err != nil {
			return err
		}
		return audit.Write(ctx, tx, by, "gift thanked", fmt.Sprintf("donation %s on fundraiser %d", donationID, pageID))
	})
}
