// Package survey serves the public survey page: a customer follows a
// one-time link (/s/{token}) and rates one moment. The page needs no
// sign-in, loads nothing from elsewhere and runs no script; it shows only
// the firm's name, the touchpoint's name and the date of the moment, so a
// token reveals nothing about anyone. The token in the path is the secret.
// Posting the form also needs the nonce the page set in a SameSite=Strict
// cookie and, when the browser says where the form came from, that it came
// from this site. Requests are rate-limited per client IP.
package survey

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/netaddr"
	"github.com/rapport-crm/rapport/mail"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/survey.css
var stylesheet []byte

var page = template.Must(template.ParseFS(templateFiles, "templates/*.html"))

// Config is what the survey pages need.
type Config struct {
	Surveys rapport.SurveyService
	// Emails take the unsubscribes of customers who follow the link in a
	// survey email.
	Emails rapport.EmailService
	// Messages are the pages' sentences in each language; the shipped
	// catalogues by default.
	Messages *mail.Catalogues
	// FirmName is shown on the page; "us" when empty.
	FirmName string
	Logger   *slog.Logger
	Clock    rapport.Clock
	// RatePerMinute and Burst limit each client IP: Burst requests at once,
	// then RatePerMinute a minute. Zero means 20 a minute, bursts of 10.
	RatePerMinute float64
	Burst         int
	// PublicURL, such as https://rapport.example.com, is where customers
	// reach the server when a proxy in front changes the Host header: form
	// posts may come from it as well as from the request's own host. It also
	// marks the nonce cookie Secure when it is https.
	PublicURL string
}

// contentSecurityPolicy allows the page its own stylesheet and its form,
// and nothing else: no scripts, images, frames or other origins.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// maxFormBytes bounds a posted answer: the comment and a few numbers.
const maxFormBytes = 16 << 10

// nonceCookie holds the nonce the form must echo.
const nonceCookie = "rapport_survey"

type handler struct {
	cfg     Config
	mux     *http.ServeMux
	limit   *limiter
	origins *http.CrossOriginProtection
	cssPath string
}

// New returns the survey pages: GET and POST /s/{token}, and the stylesheet
// under /s/static/. Mount it at /s/.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Messages == nil {
		cfg.Messages = mail.MustCatalogues()
	}
	if cfg.FirmName == "" {
		cfg.FirmName = "us"
	}
	if cfg.RatePerMinute <= 0 {
		cfg.RatePerMinute = 20
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 10
	}
	h := &handler{cfg: cfg, mux: http.NewServeMux(), limit: newLimiter(cfg.RatePerMinute, cfg.Burst, cfg.Clock),
		cssPath: "/s/static/survey.css", origins: http.NewCrossOriginProtection()}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
		// Only an origin with no path is accepted; PublicURL may carry one.
		if err := h.origins.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			cfg.Logger.Warn("survey: public URL not trusted as an origin", "url", cfg.PublicURL, "err", err)
		}
	}
	h.mux.HandleFunc("GET /s/static/survey.css", h.serveCSS)
	h.mux.Handle("GET /s/{token}", h.limited(h.serveForm))
	h.mux.Handle("POST /s/{token}", h.limited(h.serveAnswer))
	h.mux.Handle("GET /s/unsubscribe/{token}", h.limited(h.serveUnsubscribeForm))
	h.mux.Handle("POST /s/unsubscribe/{token}", h.limited(h.serveUnsubscribe))
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.render(w, r, http.StatusNotFound, view{Kind: "gone"})
	})
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	// The token is in the URL: never send it to another site. Same-origin
	// requests (the stylesheet, the form) may carry it, and so carry an
	// Origin that browsers without Sec-Fetch-Site need for the post.
	hd.Set("Referrer-Policy", "same-origin")
	defer func() {
		if v := recover(); v != nil {
			h.cfg.Logger.ErrorContext(r.Context(), "survey panic", "panic", v)
			h.render(w, r, http.StatusInternalServerError, view{Kind: "error"})
		}
	}()
	h.mux.ServeHTTP(w, r)
}

func (h *handler) serveCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(stylesheet)
}

// limited refuses clients over their rate with 429 and a polite page.
func (h *handler) limited(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := h.limit.allow(netaddr.Client(r)); !ok {
			secs := int(wait/time.Second) + 1
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			h.render(w, r, http.StatusTooManyRequests, view{Kind: "limited"})
			return
		}
		next(w, r)
	})
}

// view is what the template shows.
type view struct {
	Kind string // form, thanks, answered, gone, forbidden, limited, error, unsubscribe, unsubscribed
	// Lang is the language the page speaks, T its sentences by name.
	Lang       string
	T          map[string]string
	Firm       string
	Touchpoint string
	Date       string
	Action     string
	Nonce      string
	CSS        string
	// Message names a sentence of T to show above the form or as the error.
	Message string
	Errors  map[string]string
	Answer  formValues
	Ratings []choice
	Efforts []choice
	NPS     []choice
	Reasons []choice
}

// formValues are what the customer chose, to show again after an error.
type formValues struct {
	Rating, Effort, NPS, Reason, Comment string
}

// choice is one radio button.
type choice struct {
	Value, Label string
	Checked      bool
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, v view) {
	v.Firm, v.CSS = h.cfg.FirmName, h.cssPath
	// The customer's language when the page knows whose link it is, else
	// the browser's, else English.
	v.Lang = h.cfg.Messages.Choose(v.Lang, r.Header.Get("Accept-Language"))
	v.T = h.cfg.Messages.Page(v.Lang, map[string]any{"Firm": v.Firm, "Touchpoint": v.Touchpoint, "Date": v.Date})
	var buf bytes.Buffer
	if err := page.ExecuteTemplate(&buf, "page.html", v); err != nil {
		h.cfg.Logger.Error("survey page", "err", err)
		http.Error(w, "Something went wrong on our side. Please try again later.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderError shows the page for a failed lookup or answer.
func (h *handler) renderError(w http.ResponseWriter, r *http.Request, err error) {
	switch rapport.ErrorCode(err) {
	case rapport.ENOTFOUND:
		h.render(w, r, http.StatusNotFound, view{Kind: "gone"})
	case rapport.ECONFLICT:
		h.render(w, r, http.StatusConflict, view{Kind: "answered"})
	default:
		h.cfg.Logger.ErrorContext(r.Context(), "survey failed", "err", err)
		h.render(w, r, http.StatusInternalServerError, view{Kind: "error"})
	}
}

func (h *handler) serveForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	inv, err := h.cfg.Surveys.FindSurvey(r.Context(), token)
	if rapport.ErrorCode(err) == rapport.ECONFLICT {
		h.render(w, r, http.StatusOK, view{Kind: "answered"})
		return
	}
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	h.renderForm(w, r, http.StatusOK, token, inv, formValues{}, nil, "")
}

// renderForm shows the form with a fresh nonce, in its cookie and in the form.
func (h *handler) renderForm(w http.ResponseWriter, r *http.Request, status int, token string, inv *rapport.SurveyInvite,
	vals formValues, errs []rapport.FieldError, msg string) {
	var b [18]byte
	rand.Read(b[:])
	nonce := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: nonceCookie, Value: nonce, Path: "/s/" + token, MaxAge: 24 * 3600,
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteStrictMode})
	lang := h.cfg.Messages.Choose(inv.Language, r.Header.Get("Accept-Language"))
	v := view{Kind: "form", Lang: lang, Touchpoint: inv.TouchpointName, Date: h.cfg.Messages.Date(lang, inv.OccurredAt.UTC()),
		Action: "/s/" + token, Nonce: nonce, Answer: vals, Message: msg, Errors: map[string]string{}}
	for _, f := range errs {
		v.Errors[f.Field] = f.Message
	}
	t := h.cfg.Messages.Page(lang, map[string]any{"Firm": h.cfg.FirmName})
	v.Ratings = choices(1, 5, vals.Rating, map[int]string{1: t["rating_1"], 2: t["rating_2"], 3: t["rating_3"], 4: t["rating_4"], 5: t["rating_5"]})
	v.Efforts = choices(1, 7, vals.Effort, map[int]string{1: t["effort_1"], 7: t["effort_7"]})
	v.NPS = choices(0, 10, vals.NPS, map[int]string{0: t["nps_0"], 10: t["nps_10"]})
	for _, r := range inv.Reasons {
		v.Reasons = append(v.Reasons, choice{Value: r, Label: r, Checked: r == vals.Reason})
	}
	h.render(w, r, status, v)
}

func choices(from, to int, chosen string, labels map[int]string) []choice {
	out := make([]choice, 0, to-from+1)
	for i := from; i <= to; i++ {
		s := strconv.Itoa(i)
		out = append(out, choice{Value: s, Label: labels[i], Checked: s == chosen})
	}
	return out
}

func (h *handler) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(h.cfg.PublicURL, "https://")
}

func (h *handler) serveAnswer(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if !h.sameOrigin(r) {
		h.render(w, r, http.StatusForbidden, view{Kind: "forbidden"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.render(w, r, http.StatusBadRequest, view{Kind: "error", Message: "unreadable"})
		return
	}
	inv, err := h.cfg.Surveys.FindSurvey(r.Context(), token)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	vals := formValues{Rating: r.PostForm.Get(fieldRating), Effort: r.PostForm.Get(fieldEffort),
		NPS: r.PostForm.Get(fieldNPS), Reason: r.PostForm.Get(fieldReason), Comment: r.PostForm.Get(fieldComment)}
	if !h.nonceMatches(r) {
		h.renderForm(w, r, http.StatusForbidden, token, inv, vals, nil,
			"stale")
		return
	}
	a, errs := parseAnswer(r.PostForm)
	if len(errs) > 0 {
		h.renderForm(w, r, http.StatusUnprocessableEntity, token, inv, vals, errs, "check")
		return
	}
	if err := h.cfg.Surveys.AnswerSurvey(r.Context(), token, a); err != nil {
		if rapport.ErrorCode(err) == rapport.EINVALID {
			h.renderForm(w, r, http.StatusUnprocessableEntity, token, inv, vals, rapport.ErrorFields(err), "check")
			return
		}
		h.renderError(w, r, err)
		return
	}
	// The nonce has done its work.
	http.SetCookie(w, &http.Cookie{Name: nonceCookie, Value: "", Path: "/s/" + token, MaxAge: -1,
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteStrictMode})
	h.render(w, r, http.StatusOK, view{Kind: "thanks", Lang: inv.Language})
}

// nonceMatches reports whether the form echoes the nonce of its cookie.
func (h *handler) nonceMatches(r *http.Request) bool {
	c, err := r.Cookie(nonceCookie)
	sent := r.PostForm.Get(fieldNonce)
	return err == nil && c.Value != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(sent)) == 1
}

// sameOrigin refuses a post that the browser says came from another site.
// It asks the standard library's check, which reads Sec-Fetch-Site first
// and falls back to comparing Origin with the host: the page's own form
// posts with Sec-Fetch-Site: same-origin in every current browser, while
// its Origin may be "null" where the referrer policy hides it. Requests
// with neither header come from no browser, and cannot be forged by one.
// PublicURL, when set, is trusted too, for a proxy that changes Host.
func (h *handler) sameOrigin(r *http.Request) bool {
	return h.origins.Check(r) == nil
}

// serveUnsubscribeForm asks the customer to confirm: a link opened by a
// mail scanner must not unsubscribe anyone, so only the button does.
func (h *handler) serveUnsubscribeForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	optedOut, err := h.cfg.Emails.CheckUnsubscribe(r.Context(), token)
	if err != nil {
		h.renderError(w, r, err)
		return
	}
	if optedOut {
		h.render(w, r, http.StatusOK, view{Kind: "unsubscribed"})
		return
	}
	h.render(w, r, http.StatusOK, view{Kind: "unsubscribe", Action: rapport.UnsubscribePath(token)})
}

// serveUnsubscribe records the wish. It takes the page's own button and a
// mail client's one-click post (RFC 8058), which comes from no browser
// and so carries no origin; another site's page cannot post it.
func (h *handler) serveUnsubscribe(w http.ResponseWriter, r *http.Request) {
	if !h.sameOrigin(r) {
		h.render(w, r, http.StatusForbidden, view{Kind: "forbidden"})
		return
	}
	if err := h.cfg.Emails.Unsubscribe(r.Context(), r.PathValue("token")); err != nil {
		h.renderError(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, view{Kind: "unsubscribed"})
}
