package campaigns

import (
	"context"
	"fmt"
	"time"

	"giving/campaigns/dbq"
)

// AuditEntry is one line of the audit log: who did what, and when. The log is
// append-only; the database refuses changes and deletions.
type AuditEntry struct {
	ID          int64
	At          time.Time
	ActorUserID int64 // 0 when nobody was logged in (the command line)
	ActorEmail  string
	Action      string
	Detail      string
}

// CommandLine is the actor for changes made with the giving command on the server, where
// nobody logs in.
func CommandLine() User { return User{Email: "command line"} }

// Audit appends an entry in db: pass the transaction that makes the change, so the entry
// and the change are committed together or not at all.
func Audit(ctx context.Context, db DB, actor User, action, detail string) error {
	var actorID *int64
	if actor.ID != 0 {
		actorID = &actor.ID
	}
	err := dbq.New(db).InsertAudit(ctx, dbq.InsertAuditParams{ActorUserID: actorID, ActorEmail: actor.Email, Action: action, Detail: detail})
	if err != nil {
		return fmt.Errorf("audit %q: %w", action, err)
	}
	return nil
}

// AuditLog returns the most recent entries, newest first (limit between 1 and 1000).
func (s *Store) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	limit = min(max(limit, 1), 1000)
	rows, err := dbq.New(s.pool).AuditLog(ctx, int32(limit))
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	entries := make([]AuditEntry, len(rows))
	for i, r := range rows {
		entries[i] = AuditEntry(r)
	}
	return entries, nil
}
