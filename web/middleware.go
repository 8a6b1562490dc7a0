package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/netaddr"
)

// Cookie names. The session cookie holds the session's secret; the pre-session
// cookie exists only to protect the sign-in form from login CSRF.
const (
	sessionCookie    = "rapport_session"
	preSessionCookie = "rapport_presession"
	flashCookie      = "rapport_flash"
)

// csrfField is the name of the hidden form field that carries the CSRF token.
const csrfField = "csrf_token"

// contentSecurityPolicy allows only this origin's own scripts, styles and
// images, and no inline script or style at all, so injected markup cannot run.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic in a handler into a logged 500 page.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.Error("web: panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				s.renderError(w, r, http.StatusInternalServerError, "Something went wrong on our side; please try again.")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// visitor is what a request knows about who sent it.
type visitor struct {
	user   *rapport.User // nil when not signed in
	secret string        // the session's secret
	csrf   string        // the token forms must send back
}

type visitorKey struct{}

func visitorFrom(ctx context.Context) *visitor {
	v, _ := ctx.Value(visitorKey{}).(*visitor)
	if v == nil {
		return &visitor{}
	}
	return v
}

// currentUser returns the signed-in user, or nil.
func currentUser(r *http.Request) *rapport.User { return visitorFrom(r.Context()).user }

// loadSession finds the request's session, if any, and puts the user and a
// principal in the context so the services can record who acted.
func (s *server) loadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := &visitor{}
		if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			sess, err := s.Sessions.FindSessionBySecret(r.Context(), c.Value)
			switch {
			case err == nil:
				v.user, v.secret = sess.User, c.Value
				v.csrf = csrfToken(c.Value, "session")
			case rapport.ErrorCode(err) == rapport.EUNAUTHORIZED:
				clearCookie(w, r, sessionCookie)
			default:
				s.serverError(w, r, err)
				return
			}
		}
		ctx := context.WithValue(r.Context(), visitorKey{}, v)
		if v.user != nil {
			ctx = rapport.NewContextWithPrincipal(ctx, &rapport.Principal{UserID: v.user.ID, Name: v.user.Name, Role: v.user.Role,
				Address: netaddr.Client(r)})
		}
		inner := r.WithContext(ctx)
		next.ServeHTTP(w, inner)
		// The page's pattern, as the UI's router matched it on the copy, for
		// the request metrics outside, which see only this request.
		r.Pattern = inner.Pattern
	})
}

// csrfToken derives a form token from a secret the browser holds in an
// HttpOnly cookie. Another site can make the browser send the cookie but can
// neither read it nor the token, so it cannot forge a form that passes.
func csrfToken(secret, purpose string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("rapport csrf " + purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF refuses any POST whose form lacks the token of its session (or,
// for signing in, of its pre-session cookie). Requests that are not signed in
// and are not signing in pass through to be redirected to the sign-in page.
func (s *server) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		v := visitorFrom(r.Context())
		want := v.csrf
		if v.user == nil {
			if r.URL.Path != "/signin" {
				next.ServeHTTP(w, r)
				return
			}
			c, err := r.Cookie(preSessionCookie)
			if err != nil || c.Value == "" {
				s.renderError(w, r, http.StatusForbidden, "The form had expired. Please go back, reload the page and try again.")
				return
			}
			want = csrfToken(c.Value, "signin")
		}
		if uploadPaths[r.URL.Path] && isMultipart(r) {
			// A file upload is far larger than a form; parts over a
			// megabyte wait on disk rather than in memory.
			r.Body = http.MaxBytesReader(w, r.Body, s.maxUpload()+64<<10)
			if err := r.ParseMultipartForm(1 << 20); err != nil {
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					s.renderError(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %s, the most this server takes. Split it into smaller files and import each.", byteSize(s.maxUpload())))
					return
				}
				s.renderError(w, r, http.StatusBadRequest, "The upload could not be read. Please choose the file again.")
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		got := r.PostFormValue(csrfField)
		if got == "" {
			got = r.Header.Get("X-CSRF-Token")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			s.renderError(w, r, http.StatusForbidden, "The form had expired. Please go back, reload the page and try again.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// maxFormBytes bounds a form post; the largest form, a customer's profile,
// is far smaller.
const maxFormBytes = 256 << 10

// uploadPaths take a file, up to the server's import limit and room for
// the rest of the form. Parts over a megabyte wait on disk, so a large file
// costs no memory.
var uploadPaths = map[string]bool{"/customers/import": true, "/moments/import": true}

// maxUpload is the largest file an import takes.
func (s *server) maxUpload() int64 {
	if s.MaxUploadBytes > 0 {
		return s.MaxUploadBytes
	}
	return rapport.DefaultMaxImportBytes
}

func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// signedIn sends visitors who are not signed in to the sign-in page, with
// the page they wanted to come back to.
// refuseBadText answers 400 to a request whose address or form holds a
// NUL character or text that is not UTF-8, which no database should be
// asked to store or compare. Uploaded files are read and checked by rows.
func (s *server) refuseBadText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := rapport.StorableText(r.URL.Path) && rapport.StorableValues(r.URL.Query())
		if ok && r.Method == http.MethodPost && !isMultipart(r) {
			if err := r.ParseForm(); err == nil {
				ok = rapport.StorableValues(r.PostForm)
			}
		}
		if !ok {
			s.renderError(w, r, http.StatusBadRequest, "The page was sent a NUL character or text that is not UTF-8, and changed nothing.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) signedIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) != nil {
			next.ServeHTTP(w, r)
			return
		}
		target := "/signin"
		if r.Method == http.MethodGet && r.URL.Path != "/" {
			target += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		if r.Header.Get("HX-Request") == "true" {
			// htmx would swap the sign-in page into a fragment; load it whole.
			w.Header().Set("HX-Redirect", target)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}

// allowed lets through signed-in users whose role has the permission and
// answers 403 to the rest.
func (s *server) allowed(p rapport.Permission, next http.Handler) http.Handler {
	return s.signedIn(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !currentUser(r).Role.Can(p) {
			s.renderError(w, r, http.StatusForbidden, "Your role does not allow this. Ask an administrator if you need it.")
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// secure reports whether the browser reached us over TLS, directly or
// through a proxy that says so; cookies are then marked Secure. Trusting the
// header can only make a cookie stricter, never weaker.
func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteLaxMode})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	setCookie(w, r, name, "", -1)
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
