package pages

import (
	"context"
	"errors"
	"fmt"
	_ "image/jpeg" // registers JPEG with image.DecodeConfig
	_ "image/png"  // registers PNG with image.DecodeConfig
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	_ "golang.org/x/image/webp" // registers WebP with image.DecodeConfig

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
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
)

var (
	minPageTarget = decimal.NewFromInt(1)
	maxPageTarget = decimal.NewFromInt(1_000_000)
	slugPattern   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// PageEdit is what a fundraiser writes on her page.
type PageEdit struct {
	Title  string
	Story  string          // plain text; paragraphs on blank lines
	Target decimal.Decimal // zero when the form's text did not parse
	Slug   string          // "" on a new page: suggested from the title
	Photo  *Photo          // nil keeps the current photo
	// Sponsored marks the page a sponsored event, and CharityPaysCosts says the charity
	// pays her event costs (sponsored.go); an admin checks it.
	Sponsored, CharityPaysCosts bool
}

func (e *PageEdit) normalise() {
	// A title is one line: line breaks and other control characters become spaces.
	e.Title = strings.Join(strings.FieldsFunc(e.Title, unicode.IsControl), " ")
	e.Title = strings.TrimSpace(e.Title)
	e.Story = strings.TrimSpace(strings.ReplaceAll(e.Story, "\r\n", "\n"))
	e.Slug = strings.ToLower(strings.TrimSpace(e.Slug))
}

func (e PageEdit) validate(ve *campaigns.ValidationError) {
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
	ve := &campaigns.ValidationError{}
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
func freeSlug(ctx context.Context, db campaigns.DB, base string) (string, error) {
	return freeSlugAmong(base, func(base, numbered string) ([]string, error) {
		return dbq.New(db).PageSlugsLike(ctx, dbq.PageSlugsLikeParams{Base: base, Numbered: numbered})
	})
}

// freeSlugAmong is base if slugsLike (the addresses equal to base or LIKE numbered) does
// not list it, else the first free base-2, base-3...
func freeSlugAmong(base string, slugsLike func(base, numbered string) ([]string, error)) (string, error) {
	taken, err := slugsLike(base, strings.ReplaceAll(trimSlug(base, maxSlugLen-4), "_", `\_`)+"-%")
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
func slugTaken(ctx context.Context, db campaigns.DB, slug string) error {
	s, err := freeSlug(ctx, db, slug)
	if err != nil {
		return err
	}
	return &campaigns.ValidationError{Fields: map[string]string{"slug": fmt.Sprintf("The address %s is taken. Try %s.", slug, s)}}
}

// DefaultPageQuota: ten pages, and 20 MiB of photos (stored copies are 0.3-2 MB a photo).
var DefaultPageQuota = campaigns.PageQuota{Pages: 10, PhotoBytes: 20 << 20}

func quota(s *campaigns.Store) campaigns.PageQuota {
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

func mayRunPages(by accounts.User) error {
	if by.Role != accounts.RoleFundraiser || by.ID == 0 {
		return fmt.Errorf("%s may not run fundraiser pages: %w", by.Role, campaigns.ErrForbidden)
	}
	return nil
}

// CreatePage makes a pending page owned by the fundraiser by, on the appeal. With no slug,
// one is suggested from the title (the first free one). A taken slug is refused with a
// free suggestion.
func CreatePage(ctx context.Context, s *campaigns.Store, by accounts.User, appealID int64, e PageEdit, site string) (Fundraiser, error) {
	if err := mayRunPages(by); err != nil {
		return Fundraiser{}, err
	}
	e.normalise()
	ve := &campaigns.ValidationError{}
	e.validate(ve)
	if err := ve.OrNil(); err != nil {
		return Fundraiser{}, err
	}
	var f Fundraiser
	q := quota(s)
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
			return &campaigns.ValidationError{Fields: map[string]string{"title": fmt.Sprintf(
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
		sponsored, err := setOwnSponsorship(ctx, tx, by, id, e)
		if err != nil {
			return err
		}
		if err := audit.Write(ctx, tx, by, "fundraiser page created", fmt.Sprintf("fundraiser %d /f/%s, %s", id, slug, sponsored)); err != nil {
			return err
		}
		// A new page waits for an admin: every admin is told (queue.go).
		if err := mailAdminsWaiting(ctx, tx, site, by.DisplayName, by.Email, e.Title, slug); err != nil {
			return err
		}
		f, err = pageByID(ctx, tx, id)
		return err
	})
	return f, err
}

// UpdatePage changes the fundraiser's own page. Its status does not change (see above);
// its address may change only while it is pending.
func UpdatePage(ctx context.Context, s *campaigns.Store, by accounts.User, id int64, e PageEdit) (Fundraiser, error) {
	if err := mayRunPages(by); err != nil {
		return Fundraiser{}, err
	}
	e.normalise()
	ve := &campaigns.ValidationError{}
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
		if campaigns.IsUniqueViolation(err) || (err == nil && n == 0) {
			return slugTaken(ctx, tx, e.Slug)
		}
		if err != nil {
			return fmt.Errorf("update fundraiser page %d: %w", id, err)
		}
		if e.Photo != nil {
			if err := savePhoto(ctx, tx, by, id, *e.Photo, quota(s)); err != nil {
				return err
			}
		}
		detail := fmt.Sprintf("fundraiser %d /f/%s (%s): target %s -> %s", id, e.Slug, old.Status,
			old.Target.StringFixed(2), e.Target.StringFixed(2))
		if e.Photo != nil {
			detail += ", new photo"
		}
		sponsored, err := setOwnSponsorship(ctx, tx, by, id, e)
		if err != nil {
			return err
		}
		detail += ", " + sponsored
		if err := audit.Write(ctx, tx, by, "fundraiser page edited", detail); err != nil {
			return err
		}
		f, err = pageByID(ctx, tx, id)
		return err
	})
	return f, err
}

// OwnPage is one of the fundraiser's own pages, whatever its status; ErrNotFound for a
// page that is someone else's.
func OwnPage(ctx context.Context, s *campaigns.Store, by accounts.User, id int64) (Fundraiser, error) {
	if err := mayRunPages(by); err != nil {
		return Fundraiser{}, err
	}
	return fundraiserOrNotFound(dbq.New(s.Pool()).OwnPageByID(ctx, dbq.OwnPageByIDParams{ID: id, OwnerID: by.ID}))
}

// OwnPages lists the fundraiser's pages, newest first.
func OwnPages(ctx context.Context, s *campaigns.Store, by accounts.User) ([]Fundraiser, error) {
	rows, err := dbq.New(s.Pool()).OwnPagesNewestFirst(ctx, by.ID)
	if err != nil {
		return nil, fmt.Errorf("list own pages: %w", err)
	}
	pages := make([]Fundraiser, 0, len(rows))
	for _, r := range rows {
		pages = append(pages, fundraiserFromRow(r))
	}
	return pages, nil
}

// AppealPages lists an appeal's fundraiser pages for the admin page, pending first, then
// newest first: at most limit from offset, with how many there are in all.
func AppealPages(ctx context.Context, s *campaigns.Store, appealID int64, limit, offset int) ([]Fundraiser, int64, error) {
	db := dbq.New(s.Pool())
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
	Hidden     bool // the message is hidden from the public walls (SetMessageHidden)
	Monthly    bool
	At         time.Time
	Thanked    bool
	CanThank   bool // the gift is not thanked yet and the donor left a way to reach them
}

// PageGifts lists every gift that reached one of the fundraiser's pages, newest first.
func PageGifts(ctx context.Context, s *campaigns.Store, by accounts.User, limit int) ([]PageGift, error) {
	if err := mayRunPages(by); err != nil {
		return nil, err
	}
	rows, err := dbq.New(s.Pool()).OwnPageGifts(ctx, dbq.OwnPageGiftsParams{OwnerID: by.ID, MaxRows: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("list gifts to own pages: %w", err)
	}
	gifts := make([]PageGift, 0, len(rows))
	for _, r := range rows {
		g := PageGift{DonationID: r.DonationID, PageID: r.PageID, PageTitle: r.PageTitle, Name: r.DisplayName,
			Amount: r.Amount, Message: r.Message, Hidden: r.MessageHidden, Monthly: r.Monthly, At: r.GivenAt, Thanked: r.Thanked}
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

// SetFundraiserStatus approves or hides a fundraiser page. When a page goes live, its
// fundraiser is emailed the link (once: approving a live page again changes nothing); site
// is the site's address for that link.
func SetFundraiserStatus(ctx context.Context, s *campaigns.Store, by accounts.User, id int64, status, site string) error {
	if status != "approved" && status != "hidden" && status != "pending" {
		return &campaigns.ValidationError{Fields: map[string]string{"status": "Choose approve or hide"}}
	}
	return accounts.AdminTx(ctx, s, by, func(tx pgx.Tx) (string, string, error) {
		old, err := dbq.New(tx).LockPageStatus(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			err = fmt.Errorf("fundraiser %d: %w", id, campaigns.ErrNotFound)
		}
		if err != nil {
			return "", "", err
		}
		if _, err := dbq.New(tx).SetFundraiserStatus(ctx, dbq.SetFundraiserStatusParams{ID: id, Status: status}); err != nil {
			return "", "", err
		}
		if status == "approved" && old.Status != "approved" {
			if err := mailOwnerLive(ctx, tx, site, old); err != nil {
				return "", "", err
			}
		}
		return "fundraiser page " + status, fmt.Sprintf("fundraiser %d /f/%s (%s): %s -> %s", id, old.Slug, old.Title, old.Status, status), nil
	})
}
