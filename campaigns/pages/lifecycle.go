package pages

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
)

// A page's lifecycle: most pages run until the fundraiser stops them, some end on a day
// (an event: after its last day the page shows its total as completed and takes no more
// gifts, and donors are offered the appeal instead), and some remember someone (no end
// date; the gifts on it are tributes).

const maxMemoryName = 80

// Lifecycle is how a page lives.
type Lifecycle struct {
	EndsOn     time.Time // the last day (in London) the page takes gifts, at midnight UTC; zero: no end
	InMemoryOf string    // the person a memorial page remembers; "" for any other page
}

// Memorial is whether the page remembers someone.
func (l Lifecycle) Memorial() bool { return l.InMemoryOf != "" }

// Completed is whether the page's last day is over at now (the store's clock), in London.
func (l Lifecycle) Completed(now time.Time) bool {
	return !l.EndsOn.IsZero() && londonDay(now).After(l.EndsOn)
}

// londonDay is now's calendar day in London, at midnight UTC (as dates are read from SQL).
func londonDay(now time.Time) time.Time {
	y, m, d := now.In(campaigns.London()).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// PageLifecycle reads a page's end date and memorial name (none set: the zero Lifecycle).
func PageLifecycle(ctx context.Context, s *campaigns.Store, fundraiserID int64) (Lifecycle, error) {
	r, err := dbq.New(s.Pool()).PageLifecycle(ctx, fundraiserID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Lifecycle{}, nil
	}
	if err != nil {
		return Lifecycle{}, fmt.Errorf("read page lifecycle: %w", err)
	}
	l := Lifecycle{InMemoryOf: r.InMemoryOf}
	if r.EndsOn.Valid {
		l.EndsOn = r.EndsOn.Time
	}
	return l, nil
}

// LifecycleEdit is the lifecycle form as she typed it.
type LifecycleEdit struct {
	EndsOn     string // YYYY-MM-DD (what a date input sends), or ""
	InMemoryOf string
}

// SetPageLifecycle sets the end date or the memorial name of the fundraiser's own page
// (ErrNotFound for anyone else's). An end date is today or later; a memorial page has no
// end date. The change is audited in its transaction.
func SetPageLifecycle(ctx context.Context, s *campaigns.Store, by accounts.User, id int64, e LifecycleEdit) (Lifecycle, error) {
	if err := mayRunPages(by); err != nil {
		return Lifecycle{}, err
	}
	name := strings.TrimSpace(strings.Join(strings.FieldsFunc(e.InMemoryOf, unicode.IsControl), " "))
	ve := &campaigns.ValidationError{}
	if n := utf8.RuneCountInString(name); n > maxMemoryName || !utf8.ValidString(name) {
		ve.Add("in_memory_of", fmt.Sprintf("Use %d characters or fewer.", maxMemoryName))
	}
	var l Lifecycle
	if raw := strings.TrimSpace(e.EndsOn); raw != "" {
		day, err := time.Parse(time.DateOnly, raw)
		switch {
		case err != nil:
			ve.Add("ends_on", "Enter a date, like 2027-03-31.")
		case day.Before(londonDay(s.Now())):
			ve.Add("ends_on", "Choose today or a later day: the page takes gifts until the end of it.")
		case name != "":
			ve.Add("ends_on", "A page in memory of someone stays open: leave the end date empty.")
		default:
			l.EndsOn = day
		}
	}
	l.InMemoryOf = name
	if err := ve.OrNil(); err != nil {
		return Lifecycle{}, err
	}
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		f, err := fundraiserOrNotFound(dbq.New(tx).LockOwnPage(ctx, dbq.LockOwnPageParams{ID: id, OwnerID: by.ID}))
		if err != nil {
			return err
		}
		p := dbq.SetPageLifecycleParams{FundraiserID: id, InMemoryOf: l.InMemoryOf, At: s.Now()}
		ends := "no end date"
		if !l.EndsOn.IsZero() {
			p.EndsOn = pgtype.Date{Time: l.EndsOn, Valid: true}
			ends = "ends " + l.EndsOn.Format(time.DateOnly)
		}
		if err := dbq.New(tx).SetPageLifecycle(ctx, p); err != nil {
			return fmt.Errorf("set page lifecycle: %w", err)
		}
		detail := fmt.Sprintf("fundraiser %d /f/%s: %s", id, f.Slug, ends)
		if l.Memorial() {
			detail += ", in memory of " + l.InMemoryOf
		}
		return audit.Write(ctx, tx, by, "fundraiser page lifecycle set", detail)
	})
	return l, err
}
