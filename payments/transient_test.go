package payments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// Only the database being unreachable, a serialization failure or a deadlock leaves an
// event queued to be tried again at once; every other failure counts against its tries.
func TestTransientFailures(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	pg := func(code string) error { return fmt.Errorf("apply: %w", &pgconn.PgError{Code: code}) }
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"deadlock", context.Background(), pg("40P01"), true},
		{"serialization failure", context.Background(), pg("40001"), true},
		{"connection failure", context.Background(), pg("08006"), true},
		{"server shutting down", context.Background(), pg("57P01"), true},
		{"too many connections", context.Background(), pg("53300"), true},
		{"connection refused", context.Background(), &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"connection cut", context.Background(), fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"shutting down", cancelled, errors.New("anything"), true},
		{"numeric overflow", context.Background(), pg("22003"), false},
		{"NUL in text", context.Background(), pg("22021"), false},
		{"unique violation", context.Background(), pg("23505"), false},
		{"raised by a trigger", context.Background(), pg("P0001"), false},
		{"statement timeout", context.Background(), pg("57014"), false},
		{"this code's own error", context.Background(), errors.New("unmatched money needs a payment intent"), false},
	}
	for _, c := range cases {
		if got := transient(c.ctx, c.err); got != c.want {
			t.Errorf("%s: transient %v, want %v", c.name, got, c.want)
		}
	}
}
