package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// Text a person can type is UTF-8 without NUL bytes; PostgreSQL stores nothing else. This
// file refuses anything else at the door, once for every route, so no handler or query ever
// sees it and a stray byte is the visitor's mistake (4xx), not the service's (500).

// readable reports whether s is text PostgreSQL can store: valid UTF-8 without NUL bytes.
func readable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// unreadableField is the first field name or value in vs that is not readable text, or "".
func unreadableField(vs url.Values) (string, bool) {
	for k, values := range vs {
		if !readable(k) {
			return "form", true
		}
		for _, v := range values {
			if !readable(v) {
				return k, true
			}
		}
	}
	return "", false
}

// maxCheckedForm bounds how much of a url-encoded form body the check reads into memory: more
// than every form handler accepts (each refuses a larger body itself).
const maxCheckedForm = 256 << 10

const (
	msgUnreadableAddress = "That address contains characters we can't read (a NUL byte or text that is not UTF-8). Please check the link and try again."
	msgUnreadableForm    = "Something typed in the form contains characters we can't accept (a NUL byte or text that is not UTF-8). Please go back, retype it and send the form again."
)

// errUnreadable is text the database refused as not UTF-8 (a NUL byte, an invalid
// sequence) that slipped past the checks at the door: the sender's fault, 400.
var errUnreadable = errors.New("unreadable text")

// isUnreadableText recognises PostgreSQL refusing bytes that are not text in its encoding.
func isUnreadableText(err error) bool {
	var pgErr *pgconn.PgError
	// 22021 character_not_in_repertoire (invalid byte sequence, 0x00), 22P05 untranslatable_character.
	return errors.As(err, &pgErr) && (pgErr.Code == "22021" || pgErr.Code == "22P05")
}

// readableInput answers 404 to a path, and 400 to a query string or url-encoded form, that
// carries a NUL byte or bytes that are not UTF-8. A form body is read (bounded) and put
// back, so handlers parse it as before with their own limits. Multipart forms are checked
// where they are parsed (readPageForm), field by field.
func (s *Server) readableInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !readable(r.URL.Path) {
			s.renderErrorMessage(w, r, http.StatusNotFound, msgUnreadableAddress)
			return
		}
		// A malformed escape is ignored here as net/http ignores it; the values decoded are checked.
		q, _ := url.ParseQuery(r.URL.RawQuery)
		if _, bad := unreadableField(q); bad {
			s.renderErrorMessage(w, r, http.StatusBadRequest, msgUnreadableAddress)
			return
		}
		if r.Body != nil && r.Body != http.NoBody && isURLEncoded(r) {
			b, err := io.ReadAll(io.LimitReader(r.Body, maxCheckedForm+1))
			// On a read error the handler's own read fails the same way and answers it.
			if err == nil && len(b) <= maxCheckedForm {
				form, _ := url.ParseQuery(string(b))
				if _, bad := unreadableField(form); bad {
					s.renderErrorMessage(w, r, http.StatusBadRequest, msgUnreadableForm)
					return
				}
			}
			// A larger body is left to the handler, whose limit refuses it.
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
		}
		next.ServeHTTP(w, r)
	})
}

func isURLEncoded(r *http.Request) bool {
	if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return false
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && ct == "application/x-www-form-urlencoded"
}
