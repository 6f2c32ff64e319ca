package pages

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/dbq"
)

// Sponsored events. A fundraiser marks her page a sponsored event on her page form (a run,
// a swim, a trek her supporters sponsor her for), saying whether the charity pays her
// event costs; an admin checks it. Only a checked page's gifts say "Yes" in the Gift Aid
// schedule's "Sponsored event" column (campaigns/giftaid). HMRC's conditions, stated to
// her on the form: sponsors may add Gift Aid to their own money when they get nothing in
// return; if the charity pays her costs, neither she nor anyone connected with her (family,
// business partners) may add Gift Aid to their sponsorship of her; money she collected
// from others is never her own gift. A page marked again, or whose cost answer changes,
// waits for a new check.

// Sponsored-event states of a page.
const (
	SponsoredNo        = "no"
	SponsoredRequested = "requested"
	SponsoredApproved  = "approved"
)

// Sponsorship is a page's sponsored event, and who owns the page.
type Sponsorship struct {
	State            string // SponsoredNo, SponsoredRequested or SponsoredApproved
	CharityPaysCosts bool
	OwnerID          int64
	OwnerEmail       string
}

// Marked says the fundraiser marked the page a sponsored event (checked or not yet).
func (s Sponsorship) Marked() bool {
	return s.State == SponsoredRequested || s.State == SponsoredApproved
}

// Approved says an admin checked the sponsored event.
func (s Sponsorship) Approved() bool { return s.State == SponsoredApproved }

// PageSponsorship is page id's sponsored event.
func PageSponsorship(ctx context.Context, s *campaigns.Store, id int64) (Sponsorship, error) {
	r, err := dbq.New(s.Pool()).PageSponsorship(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Sponsorship{}, fmt.Errorf("fundraiser %d: %w", id, campaigns.ErrNotFound)
	}
	return Sponsorship{State: r.SponsoredEvent, CharityPaysCosts: r.SponsoredCharityPaysCosts, OwnerID: r.OwnerID,
		OwnerEmail: r.OwnerEmail}, err
}

// setOwnSponsorship saves the page form's answer in tx and says, for the audit, what it
// became.
func setOwnSponsorship(ctx context.Context, tx pgx.Tx, by accounts.User, id int64, e PageEdit) (string, error) {
	state, err := dbq.New(tx).SetOwnSponsorship(ctx, dbq.SetOwnSponsorshipParams{ID: id, OwnerID: by.ID,
		Sponsored: e.Sponsored, CharityPaysCosts: e.CharityPaysCosts})
	if err != nil {
		return "", fmt.Errorf("fundraiser %d: sponsored event: %w", id, err)
	}
	detail := "sponsored event " + state
	if e.Sponsored && e.CharityPaysCosts {
		detail += ", the charity pays her costs"
	}
	return detail, nil
}

// SponsoredPage is a page whose sponsored event waits for an admin's check.
type SponsoredPage struct {
	ID               int64
	Slug, Title      string
	Owner            string
	CharityPaysCosts bool
}

// SponsoredWaiting lists the pages whose sponsored event waits for a check, oldest page first.
func SponsoredWaiting(ctx context.Context, s *campaigns.Store) ([]SponsoredPage, error) {
	rows, err := dbq.New(s.Pool()).SponsoredWaiting(ctx)
	out := make([]SponsoredPage, 0, len(rows))
	for _, r := range rows {
		out = append(out, SponsoredPage{ID: r.ID, Slug: r.Slug, Title: r.Title, Owner: r.OwnerName, CharityPaysCosts: r.SponsoredCharityPaysCosts})
	}
	return out, err
}

// CheckSponsoredEvent is an admin's decision on a page marked a sponsored event: approve
// makes its gifts sponsored on the Gift Aid schedule; otherwise the mark is taken off (the
// fundraiser may mark it again). Audited in the same transaction.
func CheckSponsoredEvent(ctx context.Context, s *campaigns.Store, by accounts.User, id int64, approve bool) error {
	decision := SponsoredNo
	if approve {
		decision = SponsoredApproved
	}
	return accounts.AdminTx(ctx, s, by, func(tx pgx.Tx) (string, string, error) {
		r, err := dbq.New(tx).CheckSponsorship(ctx, dbq.CheckSponsorshipParams{ID: id, Decision: decision, CheckedBy: by.ID, CheckedAt: s.Now()})
		if errors.Is(err, pgx.ErrNoRows) {
			err = fmt.Errorf("fundraiser %d is not marked a sponsored event: %w", id, campaigns.ErrNotFound)
		}
		if err != nil {
			return "", "", err
		}
		return "sponsored event checked", fmt.Sprintf("fundraiser %d /f/%s (%s): sponsored event %s", id, r.Slug, r.Title, decision), nil
	})
}
