package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"giving/campaigns"
	"giving/payments"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// views holds the parsed pages and the content-hashed names of the static files, so a
// static URL changes whenever its bytes do and can be cached for a year.
type views struct {
	pages  map[string]*template.Template
	hashed map[string]string // "style.css" -> "style.3f2a9c1b.css"
	files  map[string][]byte // hashed name -> bytes
}

func loadViews() (*views, error) {
	v := &views{pages: map[string]*template.Template{}, hashed: map[string]string{}, files: map[string][]byte{}}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		ext := path.Ext(name)
		h := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:4]) + ext
		v.hashed[name], v.files[h] = h, b
		return nil
	})
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"pounds": func(d decimal.Decimal) string { return payments.FormatPounds(d) },
		"amount": func(d decimal.Decimal) string { return payments.FormatAmount(d) },
		"static": func(name string) (string, error) {
			h, ok := v.hashed[name]
			if !ok {
				return "", fmt.Errorf("no static file %q", name)
			}
			return "/static/" + h, nil
		},
		"percent": percent,
		"pct":     pct,
		"pctOf":   pctOf,
		"date":    func(t time.Time) string { return t.In(campaigns.London()).Format("02/01/2006") },
		"charity": func() string { return campaigns.CharityName },
		"errFor": func(errs map[string]string, field string) *fieldError {
			if msg, ok := errs[field]; ok {
				return &fieldError{ID: field, Msg: msg}
			}
			return nil
		},
		"paragraphs": paragraphs,
	}
	pages, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		name := path.Base(p)
		if name == "layout.html" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/_*.html", p)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		v.pages[name] = t
	}
	return v, nil
}

type fieldError struct{ ID, Msg string }

// percent is progress toward a target, 0 to 100, rounded down: never overstated.
func percent(raised, target decimal.Decimal) int {
	if target.Sign() <= 0 || raised.Sign() <= 0 {
		return 0
	}
	p := raised.Mul(decimal.NewFromInt(100)).Div(target).IntPart()
	if p > 100 {
		return 100
	}
	return int(p)
}

// paragraphs splits plain text on blank lines; each paragraph is escaped by the template.
func paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// render executes a page into a buffer first, so a template failure becomes a clean 500
// rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data map[string]any) {
	t, ok := s.views.pages[page]
	if !ok {
		s.log.Error("no such page template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Sandbox"] = s.sandbox
	data["Charity"] = s.deps.Charity // the footer of every page
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("render page", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) static(w http.ResponseWriter, r *http.Request) error {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	b, ok := s.views.files[name]
	if !ok {
		http.NotFound(w, r)
		return nil
	}
	switch path.Ext(name) {
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".svg":
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, err := w.Write(b)
	return err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
