package audit

import (
	"context"
	"fmt"
	"regexp"
	"strconv"

	"giving/campaigns"
	"giving/campaigns/dbq"
	"giving/campaigns/outbox"
)

// Filter narrows the log to one person (their email as logged) and one action; empty
// fields match every entry.
type Filter struct {
	Actor  string
	Action string
}

// Read is an entry as people read it: Said is its detail with the things it mentions
// named as people know them (see Name).
type Read struct {
	Entry
	Said string
}

// Choices are the people and actions the log holds, for its filter.
type Choices struct {
	Actors  []string
	Actions []string
}

// ReadLog returns the most recent entries matching f, newest first (limit between 1 and
// 1000), each named as people know them, and the filter's choices.
func ReadLog(ctx context.Context, db dbq.DBTX, f Filter, limit int) ([]Read, Choices, error) {
	limit = min(max(limit, 1), 1000)
	q := dbq.New(db)
	rows, err := q.AuditLogFiltered(ctx, dbq.AuditLogFilteredParams{Actor: f.Actor, Action: f.Action, MaxRows: int32(limit)})
	if err != nil {
		return nil, Choices{}, fmt.Errorf("audit log: %w", err)
	}
	var c Choices
	if c.Actors, err = q.AuditActors(ctx); err != nil {
		return nil, Choices{}, fmt.Errorf("audit log people: %w", err)
	}
	if c.Actions, err = q.AuditActions(ctx); err != nil {
		return nil, Choices{}, fmt.Errorf("audit log actions: %w", err)
	}
	details := make([]string, len(rows))
	for i, r := range rows {
		details[i] = r.Detail
	}
	said, err := Name(ctx, db, details)
	if err != nil {
		return nil, Choices{}, err
	}
	out := make([]Read, len(rows))
	for i, r := range rows {
		out[i] = Read{Entry: Entry(r), Said: said[i]}
	}
	return out, c, nil
}

var (
	pageRef     = regexp.MustCompile(`\bfundraiser (\d+)\b`)
	donationRef = regexp.MustCompile(`\bdonation ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b`)
	claimRef    = regexp.MustCompile(`\bclaim (\d+)\b`)
)

// Name rewrites audit details so they name things as people know them: "fundraiser 7"
// becomes the page's title in quotes, "donation <id>" the gift from the donor's masked
// email ("the gift from r***@example.org"), "claim 3" the claim with the day it was made
// ("Gift Aid claim 3 of 02/01/2026"). A thing no longer found keeps its number.
func Name(ctx context.Context, db dbq.DBTX, details []string) ([]string, error) {
	q := dbq.New(db)
	var pageIDs, claimIDs []int64
	var donationIDs []string
	for _, d := range details {
		for _, m := range pageRef.FindAllStringSubmatch(d, -1) {
			if id, err := strconv.ParseInt(m[1], 10, 64); err == nil {
				pageIDs = append(pageIDs, id)
			}
		}
		for _, m := range claimRef.FindAllStringSubmatch(d, -1) {
			if id, err := strconv.ParseInt(m[1], 10, 64); err == nil {
				claimIDs = append(claimIDs, id)
			}
		}
		for _, m := range donationRef.FindAllStringSubmatch(d, -1) {
			donationIDs = append(donationIDs, m[1])
		}
	}
	pages, claims, gifts := map[string]string{}, map[string]string{}, map[string]string{}
	if len(pageIDs) > 0 {
		rows, err := q.AuditPageTitles(ctx, pageIDs)
		if err != nil {
			return nil, fmt.Errorf("audit log page titles: %w", err)
		}
		for _, r := range rows {
			pages[strconv.FormatInt(r.ID, 10)] = fmt.Sprintf("page “%s”", r.Title)
		}
	}
	if len(claimIDs) > 0 {
		rows, err := q.AuditClaims(ctx, claimIDs)
		if err != nil {
			return nil, fmt.Errorf("audit log claims: %w", err)
		}
		for _, r := range rows {
			claims[strconv.FormatInt(r.ID, 10)] = fmt.Sprintf("Gift Aid claim %d of %s", r.ID, r.CreatedAt.In(campaigns.London()).Format("02/01/2006"))
		}
	}
	if len(donationIDs) > 0 {
		rows, err := q.AuditDonationEmails(ctx, donationIDs)
		if err != nil {
			return nil, fmt.Errorf("audit log donations: %w", err)
		}
		for _, r := range rows {
			who := "an erased donor"
			if r.Email != "" {
				who = outbox.MaskEmail(r.Email)
			}
			gifts[r.ID] = "the gift from " + who
		}
	}
	replace := func(re *regexp.Regexp, names map[string]string, s string) string {
		return re.ReplaceAllStringFunc(s, func(m string) string {
			if name, ok := names[re.FindStringSubmatch(m)[1]]; ok {
				return name
			}
			return m
		})
	}
	out := make([]string, len(details))
	for i, d := range details {
		out[i] = replace(claimRef, claims, replace(donationRef, gifts, replace(pageRef, pages, d)))
	}
	return out, nil
}
