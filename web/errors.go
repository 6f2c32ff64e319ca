package web

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"giving/campaigns"
)

// handler is an HTTP handler that returns its failure instead of writing it.
type handler func(w http.ResponseWriter, r *http.Request) error

// errUnavailable marks a dependency (the database) that cannot answer now: 503, try later.
var errUnavailable = errors.New("service unavailable")

// statusOf is the one table from error kind to HTTP status.
func statusOf(err error) int {
	var ve *campaigns.ValidationError
	switch {
	case errors.As(err, &ve):
		return http.StatusUnprocessableEntity
	case errors.Is(err, campaigns.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, campaigns.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, campaigns.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, errUnreadable), isUnreadableText(err):
		return http.StatusBadRequest
	case errors.Is(err, errUnavailable), isDBUnavailable(err):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// isDBUnavailable recognises a database that is down or a pool with no free connection in
// time, which callers should retry, from a genuine bug.
func isDBUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	// A pooled connection that the server or the network dropped fails its next query
	// like this; the pool discards it, so a retry gets a fresh connection.
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 (connection exception) and 57P0x (admin shutdown, crash, cannot connect now).
		return pgErr.Code[:2] == "08" || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	return pgconn.SafeToRetry(err)
}

// wrap adapts a handler: the error becomes the right status and page; only internal
// failures are logged, and their details never reach the visitor.
func (s *Server) wrap(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		status := statusOf(err)
		if status >= 500 {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		}
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "5")
		}
		if status == http.StatusBadRequest {
			s.renderErrorMessage(w, r, status, msgUnreadableForm)
			return
		}
		s.renderError(w, r, status)
	}
}

var errorMessages = map[int]string{
	http.StatusNotFound:            "We couldn't find that page. It may have moved, or the link may be mistyped.",
	http.StatusForbidden:           "You don't have permission to see this page.",
	http.StatusConflict:            "That change clashed with another one. Please reload and try again.",
	http.StatusUnprocessableEntity: "Some details need another look.",
	http.StatusServiceUnavailable:  "We're having trouble reaching our records right now. Nothing was lost: please try again in a minute.",
	http.StatusInternalServerError: "Something went wrong on our side. Nothing was charged. Please try again in a minute.",
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int) {
	msg := errorMessages[status]
	if msg == "" {
		msg = http.StatusText(status)
	}
	s.renderErrorMessage(w, r, status, msg)
}

// renderErrorMessage is the error page (or JSON) with a message of its own.
func (s *Server) renderErrorMessage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if wantsJSON(r) {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	s.render(w, r, status, "error.html", map[string]any{"Title": http.StatusText(status), "Status": status, "Message": msg})
}

func wantsJSON(r *http.Request) bool {
	return len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/api/"
}
