package campaigns

import (
	"context"

	"giving/campaigns/audit"
)

// CommandLine is the actor for changes made with the giving command on the server, where
// nobody logs in.
func CommandLine() User { return User{Email: "command line"} }

// AuditActor makes an account an audit.Actor.
func (u User) AuditActor() (int64, string) { return u.ID, u.Email }

// AuditLog returns the most recent entries of the audit log, newest first (limit between 1
// and 1000).
func (s *Store) AuditLog(ctx context.Context, limit int) ([]audit.Entry, error) {
	return audit.Log(ctx, s.pool, limit)
}
