// Package brief serves the printable handover brief: the one-page summary a
// new owner reads when a customer changes hands. It is HTML with a print
// stylesheet, no script and nothing loaded from elsewhere. It does no
// authentication of its own: mount it behind the web UI's sign-in.
package brief

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/brief.css
var stylesheet []byte

var page = template.Must(template.New("").Funcs(template.FuncMap{
	"date":     func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
	"datetime": func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 MST") },
	"dateptr": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006")
	},
	"month":  func(t time.Time) string { return t.UTC().Format("Jan 2006") },
	"rating": rating,
	"mean": func(p *float64) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprintf("%.1f", *p)
	},
	"title": func(s string) string {
		s = strings.ReplaceAll(s, "_", " ")
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
}).ParseFS(templateFiles, "templates/*.html"))

func rating(m *rapport.Moment) string {
	if m.Rating == nil {
		return "not rated"
	}
	return fmt.Sprintf("rated %d/5", *m.Rating)
}

// Config is what the brief page needs.
type Config struct {
	Briefs      rapport.BriefService
	Touchpoints rapport.TouchpointService
	// FirmName heads the page.
	FirmName string
	Logger   *slog.Logger
	// Prefix is where the handler is mounted: it serves GET {Prefix}/{id}
	// and its stylesheet at {Prefix}/static/brief.css. "/brief" when empty.
	Prefix string
}

type handler struct {
	cfg Config
	mux *http.ServeMux
}

// New returns the printable brief pages.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Prefix = "/" + strings.Trim(cfg.Prefix, "/")
	if cfg.Prefix == "/" {
		cfg.Prefix = "/brief"
	}
	h := &handler{cfg: cfg, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET "+cfg.Prefix+"/static/brief.css", h.serveCSS)
	h.mux.HandleFunc("GET "+cfg.Prefix+"/{id}", h.serveBrief)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	h.mux.ServeHTTP(w, r)
}

func (h *handler) serveCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(stylesheet)
}

// view is the brief with what the template needs besides.
type view struct {
	*rapport.Brief
	Firm        string
	CSS         string
	Touchpoints map[string]string
}

// Name returns a touchpoint's name, or its key when the catalogue lacks it.
func (v view) Name(key string) string {
	if n, ok := v.Touchpoints[key]; ok {
		return n
	}
	return key
}

func (h *handler) serveBrief(w http.ResponseWriter, r *http.Request) {
	b, err := h.cfg.Briefs.Brief(r.Context(), r.PathValue("id"))
	if err != nil {
		status := http.StatusInternalServerError
		msg := "The brief could not be put together. Please try again later."
		if rapport.ErrorCode(err) == rapport.ENOTFOUND {
			status, msg = http.StatusNotFound, "No customer has this id."
		} else {
			h.cfg.Logger.ErrorContext(r.Context(), "brief failed", "err", err)
		}
		http.Error(w, msg, status)
		return
	}
	v := view{Brief: b, Firm: h.cfg.FirmName, CSS: h.cfg.Prefix + "/static/brief.css", Touchpoints: map[string]string{}}
	if h.cfg.Touchpoints != nil {
		if tps, err := h.cfg.Touchpoints.FindTouchpoints(r.Context()); err == nil {
			for _, t := range tps {
				v.Touchpoints[t.Key] = t.Name
			}
		}
	}
	var buf bytes.Buffer
	if err := page.ExecuteTemplate(&buf, "brief.html", v); err != nil {
		h.cfg.Logger.ErrorContext(r.Context(), "brief page", "err", err)
		http.Error(w, "The brief could not be shown.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}
