package pages

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/campaigns/accounts"
	"giving/campaigns/audit"
	"giving/campaigns/dbq"
)

// Teams: a captain (a fundraiser) starts a team with one of her pages and shares its join
// link; another fundraiser who has the link adds one of her own pages. A team's page lists
// its live member pages, the most raised first, and its total is their sum, each read from
// the ledger's totals. A page is in at most one team (the database's key), and each gift
// belongs to one page, so no gift is counted twice.

// Team is a team of fundraiser pages.
type Team struct {
	ID        int64
	AppealID  int64
	Slug      string
	Name      string
	Target    decimal.Decimal
	CaptainID int64
	JoinCode  string // the secret in the join link: only the captain sees it
	CreatedAt time.Time
}

// TeamMember is one live page of a team, as its leaderboard lists it.
type TeamMember struct {
	PageID int64
	Slug   string
	Title  string
	Owner  string // the fundraiser's display name; "" for a page nobody signed up for
	Raised decimal.Decimal
	Gifts  int64
}

// TeamStanding is a team with its leaderboard and total.
type TeamStanding struct {
	Team
	Members []TeamMember // the most raised first
	Raised  decimal.Decimal
	Gifts   int64
	Donors  int64 // distinct across its pages
}

// TeamEdit is the new-team form.
type TeamEdit struct {
	Name   string
	Target decimal.Decimal // zero when the form's text did not parse
	PageID int64           // the captain's own page, which joins at once
}

func teamFromRow(r dbq.Team) Team {
	return Team{ID: r.ID, AppealID: r.AppealID, Slug: r.Slug, Name: r.Name, Target: r.Target, CaptainID: r.CaptainID,
		JoinCode: r.JoinCode, CreatedAt: r.CreatedAt}
}

func teamOrNotFound(r dbq.Team, err error) (Team, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return Team{}, fmt.Errorf("team: %w", campaigns.ErrNotFound)
	}
	if err != nil {
		return Team{}, fmt.Errorf("read team: %w", err)
	}
	return teamFromRow(r), nil
}

// CreateTeam starts a team captained by the fundraiser by, with her page e.PageID in it,
// on that page's appeal. Its address is made from its name (the first free one).
func CreateTeam(ctx context.Context, s *campaigns.Store, by accounts.User, e TeamEdit) (Team, error) {
	if err := mayRunPages(by); err != nil {
		return Team{}, err
	}
	e.Name = strings.TrimSpace(strings.Join(strings.FieldsFunc(e.Name, unicode.IsControl), " "))
	ve := &campaigns.ValidationError{}
	if n := utf8.RuneCountInString(e.Name); n == 0 || n > maxTitleLen || !utf8.ValidString(e.Name) {
		ve.Add("team_name", fmt.Sprintf("Give your team a name of up to %d characters.", maxTitleLen))
	}
	if e.Target.LessThan(minPageTarget) || e.Target.GreaterThan(maxPageTarget) || !e.Target.Equal(e.Target.Round(2)) {
		ve.Add("team_target", "Enter a target between £1 and £1,000,000 in pounds and pence, like 2000 or 2000.00.")
	}
	if err := ve.OrNil(); err != nil {
		return Team{}, err
	}
	code := make([]byte, 16)
	if _, err := rand.Read(code); err != nil {
		return Team{}, fmt.Errorf("team join code: %w", err)
	}
	return campaigns.InTxValue(ctx, s, func(tx pgx.Tx) (Team, error) {
		q := dbq.New(tx)
		page, err := fundraiserOrNotFound(q.LockOwnPage(ctx, dbq.LockOwnPageParams{ID: e.PageID, OwnerID: by.ID}))
		if err != nil {
			return Team{}, err
		}
		slug, err := freeSlugAmong(SlugFromTitle(e.Name), func(base, numbered string) ([]string, error) {
			return q.TeamSlugsLike(ctx, dbq.TeamSlugsLikeParams{Base: base, Numbered: numbered})
		})
		if err != nil {
			return Team{}, err
		}
		id, err := q.InsertTeam(ctx, dbq.InsertTeamParams{AppealID: page.AppealID, Slug: slug, Name: e.Name, Target: e.Target,
			CaptainID: by.ID, JoinCode: hex.EncodeToString(code), At: s.Now()})
		if errors.Is(err, pgx.ErrNoRows) { // another team took the address a moment ago
			return Team{}, fmt.Errorf("team address %s: %w", slug, campaigns.ErrConflict)
		}
		if err != nil {
			return Team{}, fmt.Errorf("create team: %w", err)
		}
		if err := audit.Write(ctx, tx, by, "team created", fmt.Sprintf("team %d /t/%s", id, slug)); err != nil {
			return Team{}, err
		}
		if err := joinTeam(ctx, tx, s, by, id, slug, page); err != nil {
			return Team{}, err
		}
		return teamOrNotFound(q.TeamBySlug(ctx, slug))
	})
}

// joinTeam adds her locked page to the team, refusing a page that is in a team already.
func joinTeam(ctx context.Context, tx pgx.Tx, s *campaigns.Store, by accounts.User, teamID int64, teamSlug string, page Fundraiser) error {
	q := dbq.New(tx)
	_, err := q.JoinTeam(ctx, dbq.JoinTeamParams{FundraiserID: page.ID, TeamID: teamID, At: s.Now()})
	if errors.Is(err, pgx.ErrNoRows) {
		current, err := teamOrNotFound(q.PageTeam(ctx, page.ID))
		if err != nil {
			return err
		}
		return &campaigns.ValidationError{Fields: map[string]string{"page": fmt.Sprintf(
			"%s is in the team %s already: a page can be in one team.", page.Title, current.Name)}}
	}
	if err != nil {
		return fmt.Errorf("join team: %w", err)
	}
	return audit.Write(ctx, tx, by, "page joined team", fmt.Sprintf("fundraiser %d /f/%s joined team %d /t/%s", page.ID, page.Slug, teamID, teamSlug))
}

// JoinTeam adds the fundraiser's own page to the team whose join link carries code. An
// unknown code, or a page that is not hers, is ErrNotFound; a page of another appeal, or
// one in a team already, is refused beside the field.
func JoinTeam(ctx context.Context, s *campaigns.Store, by accounts.User, code string, pageID int64) (Team, error) {
	if err := mayRunPages(by); err != nil {
		return Team{}, err
	}
	return campaigns.InTxValue(ctx, s, func(tx pgx.Tx) (Team, error) {
		q := dbq.New(tx)
		team, err := teamOrNotFound(q.TeamByJoinCode(ctx, code))
		if err != nil {
			return Team{}, err
		}
		page, err := fundraiserOrNotFound(q.LockOwnPage(ctx, dbq.LockOwnPageParams{ID: pageID, OwnerID: by.ID}))
		if err != nil {
			return Team{}, err
		}
		if page.AppealID != team.AppealID {
			return Team{}, &campaigns.ValidationError{Fields: map[string]string{"page": "This page raises money for another appeal than the team's."}}
		}
		return team, joinTeam(ctx, tx, s, by, team.ID, team.Slug, page)
	})
}

// TeamByJoinCode is the team a join link names (ErrNotFound for an unknown code).
func TeamByJoinCode(ctx context.Context, s *campaigns.Store, code string) (Team, error) {
	return teamOrNotFound(dbq.New(s.Pool()).TeamByJoinCode(ctx, code))
}

// CaptainsTeams lists the teams the fundraiser captains, newest first, with their join codes.
func CaptainsTeams(ctx context.Context, s *campaigns.Store, by accounts.User) ([]Team, error) {
	rows, err := dbq.New(s.Pool()).TeamsOfCaptain(ctx, by.ID)
	if err != nil {
		return nil, fmt.Errorf("list own teams: %w", err)
	}
	out := make([]Team, 0, len(rows))
	for _, r := range rows {
		out = append(out, teamFromRow(r))
	}
	return out, nil
}

// PageTeam is the team a page is in; ok false when it is in none.
func PageTeam(ctx context.Context, s *campaigns.Store, pageID int64) (Team, bool, error) {
	t, err := teamOrNotFound(dbq.New(s.Pool()).PageTeam(ctx, pageID))
	if errors.Is(err, campaigns.ErrNotFound) {
		return Team{}, false, nil
	}
	return t, err == nil, err
}

// PublicTeam is a team's page as anyone reads it: its live member pages, the most raised
// first, and its total, their sum. A team with no live page is not public, and looks like
// one that does not exist.
func PublicTeam(ctx context.Context, s *campaigns.Store, slug string) (TeamStanding, error) {
	q := dbq.New(s.Pool())
	team, err := teamOrNotFound(q.TeamBySlug(ctx, slug))
	if err != nil {
		return TeamStanding{}, err
	}
	rows, err := q.TeamLeaderboard(ctx, team.ID)
	if err != nil {
		return TeamStanding{}, fmt.Errorf("read team leaderboard: %w", err)
	}
	if len(rows) == 0 {
		return TeamStanding{}, fmt.Errorf("team %s has no live page: %w", slug, campaigns.ErrNotFound)
	}
	donors, err := q.TeamDonors(ctx, team.ID)
	if err != nil {
		return TeamStanding{}, fmt.Errorf("count team donors: %w", err)
	}
	st := TeamStanding{Team: team, Members: make([]TeamMember, 0, len(rows)), Donors: donors}
	for _, r := range rows {
		st.Members = append(st.Members, TeamMember{PageID: r.ID, Slug: r.Slug, Title: r.Title, Owner: r.OwnerName, Raised: r.Raised, Gifts: r.Gifts})
		st.Raised = st.Raised.Add(r.Raised)
		st.Gifts += r.Gifts
	}
	return st, nil
}
