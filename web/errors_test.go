package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"giving/campaigns"
)

// A database that cannot answer now (down, dropped a connection, or no free connection in
// time) is 503, which people and Stripe retry; a bug is 500.
func TestStatusOfDatabaseFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		want int
	}{
		{fmt.Errorf("read appeal: %w", context.DeadlineExceeded), http.StatusServiceUnavailable}, // pool acquire wait
		{fmt.Errorf("read appeal: %w", io.ErrUnexpectedEOF), http.StatusServiceUnavailable},      // connection dropped
		{fmt.Errorf("store event: %w", syscall.ECONNRESET), http.StatusServiceUnavailable},
		{&pgconn.PgError{Code: "57P01"}, http.StatusServiceUnavailable}, // admin shutdown
		{&pgconn.PgError{Code: "23514"}, http.StatusInternalServerError},
		{fmt.Errorf("read appeal: %w", campaigns.ErrNotFound), http.StatusNotFound},
		{errors.New("template exploded"), http.StatusInternalServerError},
	}
	for _, c := range cases {
		if got := statusOf(c.err); got != c.want {
			t.Errorf("statusOf(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
