// Package audit is the audit log: who did what, and when. The log is append-only (the
// database refuses changes and deletions), and every row is written by the operation that
// makes the change, in the same transaction, so a change and its row are committed together
// or not at all; trustees and admins read it at /trustees/audit, filtered by who and what,
// with the pages, gifts and claims it mentions named as people know them (names.go).
package audit

import (
	"context"
	"fmt"
	"time"

	"giving/campaigns/dbq"
)

// Actor is who acted: an account, or the command line (ID 0).
type Actor interface {
	AuditActor() (id int64, email string)
}

// Entry is one line of the audit log.
type Entry struct {
	ID          int64
	At          time.Time
	ActorUserID int64 // 0 when nobody was logged in (the command line)
	ActorEmail  string
	Action      string
	Detail      string
}

// Write appends an entry in db: pass the transaction that makes the change, so the entry
// and the change are committed together or not at all.
func Write(ctx context.Context, db dbq.DBTX, actor Actor, action, detail string) error {
	id, email := actor.AuditActor()
	var actorID *int64
	if id != 0 {
		actorID = &id
	}
	err := dbq.New(db).InsertAudit(ctx, dbq.InsertAuditParams{ActorUserID: actorID, ActorEmail: email, Action: action, Detail: detail})
	if err != nil {
		return fmt.Errorf("audit %q: %w", action, err)
	}
	return nil
}

// Log returns the most recent entries, newest first (limit between 1 and 1000).
func Log(ctx context.Context, db dbq.DBTX, limit int) ([]Entry, error) {
	limit = min(max(limit, 1), 1000)
	rows, err := dbq.New(db).AuditLog(ctx, int32(limit))
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	entries := make([]Entry, len(rows))
	for i, r := range rows {
		entries[i] = Entry(r)
	}
	return entries, nil
}
