package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// pageSet holds one template per page, each made of the shared layout and
// partials plus the page's own file.
type pageSet struct {
	pages map[string]*template.Template
}

// staticVersions maps each static file to a hash of its content, so that
// URLs change when files do and browsers may cache them for good.
var staticVersions = func() map[string]string {
	out := map[string]string{}
	fs.WalkDir(staticFS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(staticFS(), p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[p] = hex.EncodeToString(sum[:6])
		return nil
	})
	return out
}()

// mustParsePages parses each page with its own copy of the shared files
// (those whose names start with "_"), because every page defines the same
// blocks, "title" and "content".
func mustParsePages() *pageSet {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	ps := &pageSet{pages: map[string]*template.Template{}}
	for _, name := range names {
		base := path.Base(name)
		if strings.HasPrefix(base, "_") {
			continue
		}
		t := template.New("").Funcs(templateFuncs)
		ps.pages[strings.TrimSuffix(base, ".html")] = template.Must(t.ParseFS(templateFiles, "templates/_*.html", name))
	}
	return ps
}

// page is what every page template receives: who is signed in, their
// CSRF token and permissions, and the page's own data in D.
type page struct {
	Title string
	Nav   string // which navigation entry is current
	User  *rapport.User
	CSRF  string
	Can   perms
	Flash flash
	// Unread is how many of the user's notifications are unread, for the nav.
	Unread int
	// Currency is the code amounts are shown in, for money.
	Currency string
	D        any
}

// flash is what the page says of the action just done, with a link to what
// followed from it, such as a case that opened.
type flash struct {
	Text     string
	Link     string // a path on this site, or empty
	LinkText string
}

// perms says what the signed-in user may change, so templates show only
// the controls that would work.
type perms struct {
	WriteCustomers, WriteMoments, WriteCatalogue, ManageUsers, PersonalData bool
}

func (s *server) newPage(r *http.Request, title, nav string, d any) page {
	v := visitorFrom(r.Context())
	p := page{Title: title, Nav: nav, User: v.user, CSRF: v.csrf, Currency: s.Currency, D: d}
	if v.user != nil {
		p.Can = perms{
			WriteCustomers: v.user.Role.Can(rapport.PermWriteCustomers),
			WriteMoments:   v.user.Role.Can(rapport.PermWriteMoments),
			WriteCatalogue: v.user.Role.Can(rapport.PermWriteCatalogue),
			ManageUsers:    v.user.Role.Can(rapport.PermManageUsers),
			PersonalData:   v.user.Role.Can(rapport.PermPersonalData),
		}
		// A count that cannot be read leaves the badge off rather than the page.
		if list, err := s.Notifications.FindNotifications(r.Context(), v.user.ID, 0); err == nil {
			p.Unread = list.Unread
		} else {
			s.Logger.WarnContext(r.Context(), "counting unread notifications", "err", err)
		}
	}
	return p
}

// render writes a whole page, or with block set, one named template of it
// (for htmx fragments). It renders into a buffer first so that a template
// error becomes a clean 500 rather than half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name, block string, p page) {
	t, ok := s.pages.pages[name]
	if !ok {
		s.serverError(w, r, fmt.Errorf("no page template %q", name))
		return
	}
	if block == "" {
		block = "layout"
		if p.Flash.Text == "" {
			p.Flash = takeFlash(w, r)
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, p); err != nil {
		s.serverError(w, r, fmt.Errorf("render %s/%s: %w", name, block, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages show customer data: keep them out of shared and back-forward caches.
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "HX-Request")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderError shows a page that explains what went wrong.
func (s *server) renderError(w http.ResponseWriter, r *http.Request, status int, message string) {
	p := s.newPage(r, http.StatusText(status), "", struct {
		Status  int
		Message string
	}{status, message})
	if r.Header.Get("HX-Request") == "true" {
		// htmx does not show error responses in place of a fragment; reloading
		// the page shows the user where they stand (signed out, or with a
		// fresh form).
		w.Header().Set("HX-Refresh", "true")
	}
	t := s.pages.pages["error"]
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.Logger.Error("web: render error page", "err", err)
		http.Error(w, message, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// serverError logs an unexpected error and shows a page that reveals nothing
// of it. Application errors with a code get their proper status and message.
func (s *server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	switch rapport.ErrorCode(err) {
	case rapport.ENOTFOUND:
		s.renderError(w, r, http.StatusNotFound, rapport.ErrorMessage(err))
		return
	case rapport.EFORBIDDEN:
		s.renderError(w, r, http.StatusForbidden, rapport.ErrorMessage(err))
		return
	case rapport.EINVALID, rapport.ECONFLICT:
		s.renderError(w, r, http.StatusBadRequest, rapport.ErrorMessage(err))
		return
	}
	s.Logger.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	s.renderError(w, r, http.StatusInternalServerError, "Something went wrong on our side; please try again.")
}

// redirect answers a successful form post: to a normal browser with 303, to
// htmx with a header so that it loads the page whole.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Location", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// setFlash leaves a one-line message for the next page, after a redirect.
// formatWhen writes a time as pages show it.
func formatWhen(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04") + " UTC" }

func setFlash(w http.ResponseWriter, r *http.Request, msg string) {
	setCookie(w, r, flashCookie, url.QueryEscape(msg), 60)
}

// setFlashLink says msg with a link to path, a page on this site.
func setFlashLink(w http.ResponseWriter, r *http.Request, msg, path, linkText string) {
	setCookie(w, r, flashCookie, url.QueryEscape(msg+"\n"+path+"\n"+linkText), 60)
}

func takeFlash(w http.ResponseWriter, r *http.Request) flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return flash{}
	}
	clearCookie(w, r, flashCookie)
	msg, _ := url.QueryUnescape(c.Value)
	if len(msg) > 400 {
		return flash{}
	}
	f := flash{Text: msg}
	// A link is only ever to a page of this site.
	if parts := strings.Split(msg, "\n"); len(parts) == 3 && strings.HasPrefix(parts[1], "/") && !strings.HasPrefix(parts[1], "//") {
		f = flash{Text: parts[0], Link: parts[1], LinkText: parts[2]}
	}
	return f
}

func (s *server) serveStatic() http.Handler {
	files := http.FileServerFS(staticFS())
	return http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("v"); v != "" && v == staticVersions[r.URL.Path] {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	}))
}

// Labels for the domain's codes.
var (
	channelLabels = map[rapport.Channel]string{
		rapport.ChannelInPerson: "In person", rapport.ChannelPhone: "Phone", rapport.ChannelEmail: "Email",
		rapport.ChannelChat: "Chat", rapport.ChannelWeb: "Web", rapport.ChannelSystem: "Product or system",
	}
	phaseLabels = map[string]string{
		rapport.PhasePreSales: "Pre-sales", rapport.PhaseSale: "Sale", rapport.PhasePostSales: "Post-sales",
	}
	phases = []string{rapport.PhasePreSales, rapport.PhaseSale, rapport.PhasePostSales}
)

var templateFuncs = template.FuncMap{
	"static": func(name string) string {
		return "/static/" + name + "?v=" + staticVersions[name]
	},
	"channelLabel": func(c rapport.Channel) string {
		if l, ok := channelLabels[c]; ok {
			return l
		}
		return string(c)
	},
	"phaseLabel": func(p string) string {
		if l, ok := phaseLabels[p]; ok {
			return l
		}
		return p
	},
	// title takes any word: a plain string, or a stage, status or other
	// named string of the domain.
	"title": func(v any) (string, error) {
		w := reflect.ValueOf(v)
		if w.Kind() != reflect.String {
			return "", fmt.Errorf("title of %T: want a word", v)
		}
		return rapport.KeyName(w.String()), nil
	},
	// tickAnchor hangs the i-th of n labels of an axis from its tick: the
	// end ones run inwards so that neither is cut off at the chart's edge.
	"tickAnchor": func(i, n int) string {
		switch i {
		case 0:
			return "start"
		case n - 1:
			return "end"
		}
		return "middle"
	},
	"channels":   func() []rapport.Channel { return rapport.Channels },
	"phases":     func() []string { return phases },
	"stages":     func() []string { return rapport.StageValues() },
	"datetime":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"when":       formatWhen,
	"caseOpened": caseOpened,
	"date":       func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
	"pct": func(x float64) string {
		return fmt.Sprintf("%.0f%%", math.Round(x*100))
	},
	"num":   func(x float64) string { return fmt.Sprintf("%.1f", x) },
	"count": thousands,
	"band": func(score *int) string {
		if score == nil {
			return ""
		}
		return string(rapport.BandOf(*score))
	},
	"bands": func() []rapport.Band { return rapport.Bands },
	"bandRange": func(b rapport.Band) string {
		lo, hi := b.Range()
		return fmt.Sprintf("(%d–%d)", lo, hi)
	},
	"sortChoices": func() []choice { return sortChoices },
	// listLink is the customer list's address with a saved view's parameters.
	"listLink": func(query string) string {
		if query == "" {
			return "/customers"
		}
		return "/customers?" + query
	},
	"pct1":   pctText1,
	"plus":   func(a, b int) int { return a + b },
	"plusf":  func(a, b float64) float64 { return a + b },
	"minusf": func(a, b float64) float64 { return a - b },
	"divf":   func(a, b float64) float64 { return a / b },
	// Survey estimates: a figure with its interval and count.
	"est":   estimateText,
	"estCI": estimateCI,
	"rateEst": func(e *rapport.Estimate) string {
		if e == nil {
			return "–"
		}
		return pctText(e.Value)
	},
	"rateEstCI":    rateEstimateCI,
	"rateEstRange": func(e *rapport.Estimate) string { return pctText(e.Low) + " and " + pctText(e.High) },
	"plural":       plural,
	"minutes":      minutesText,
	"languages":    languageChoices,
	// Figures of the loop, which may be missing ("–") and carry intervals.
	"rate": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return pctText(*p)
	},
	"rateCI": func(iv *rapport.Interval) string {
		if iv == nil {
			return ""
		}
		return ciText(*iv)
	},
	"mean": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.2f", *p)
	},
	"meanCI": func(iv *rapport.Interval) string {
		if iv == nil {
			return ""
		}
		return fmt.Sprintf("%.2f–%.2f", iv[0], iv[1])
	},
	"pts": func(rd float64) string { return signed(100 * rd) },
	"nps": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return signed(*p)
	},
	"below": func(mean *float64, target float64) bool {
		return mean != nil && *mean < target
	},
	"measured": measured,
	"pval": func(p float64) string {
		if p < 0.001 {
			return "< 0.001"
		}
		return fmt.Sprintf("%.3f", p)
	},
	"signedCI": func(iv *rapport.Interval) string {
		if iv == nil {
			return ""
		}
		return signed(iv[0]) + " to " + signed(iv[1])
	},
	"effort": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.1f", *p)
	},
	"seq": func(from, to int) []int {
		var out []int
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
		return out
	},
	"deref": func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	},
	"stars": func(n int) string {
		n = max(0, min(5, n))
		return strings.Repeat("★", n) + strings.Repeat("☆", 5-n)
	},
	"initials": func(name string) string {
		var out []rune
		for _, f := range strings.Fields(name) {
			out = append(out, []rune(f)[0])
			if len(out) == 2 {
				break
			}
		}
		return strings.ToUpper(string(out))
	},
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, errors.New("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, errors.New("dict: keys must be strings")
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}

// thousands writes a count, of any integer type, with a comma between
// each three digits.
func thousands(v any) (string, error) {
	w := reflect.Indirect(reflect.ValueOf(v))
	switch w.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return commas(w.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return commas(int64(w.Uint())), nil
	}
	return "", fmt.Errorf("count of %T: want a whole number", v)
}

// commas writes n with a comma between each three digits.
func commas(n int64) string {
	if n < 0 {
		return "-" + commas(-n)
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// choice is an option of a select: its value and what it reads.
type choice struct{ Value, Label string }

// sortChoices are the orders of the customer list, the default first.
var sortChoices = []choice{
	{"", "Name, A to Z"}, {"-name", "Name, Z to A"},
	{"risk", "Risk, highest first"}, {"-risk", "Risk, lowest first"},
	{"-health", "Health, lowest first"}, {"health", "Health, highest first"},
	{"last", "Last moment, latest first"}, {"-last", "Last moment, earliest first"},
}
