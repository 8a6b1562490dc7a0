package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/netaddr"
)

// signInData is the sign-in page's data.
type signInData struct {
	Form *form
	Next string
}

func (s *server) signInPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) != nil {
			http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
			return
		}
		f := newForm(nil)
		s.renderSignIn(w, r, http.StatusOK, f, r.URL.Query().Get("next"))
	})
}

// renderSignIn shows the sign-in form with a token bound to the browser's
// pre-session cookie, making one if the browser has none yet.
func (s *server) renderSignIn(w http.ResponseWriter, r *http.Request, status int, f *form, next string) {
	pre := ""
	if c, err := r.Cookie(preSessionCookie); err == nil && c.Value != "" {
		pre = c.Value
	} else {
		pre = randomToken()
		setCookie(w, r, preSessionCookie, pre, 0)
	}
	p := s.newPage(r, "Sign in", "", signInData{Form: f, Next: safeNext(next)})
	p.CSRF = csrfToken(pre, "signin")
	s.render(w, r, status, "signin", "", p)
}

func (s *server) signIn() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next := safeNext(r.PostFormValue("next"))
		if currentUser(r) != nil {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
		email, password := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("password")
		f := newForm(url.Values{"email": {email}}) // the password is never sent back
		if email == "" {
			f.fail("email", "Enter your email address.")
		}
		if password == "" {
			f.fail("password", "Enter your password.")
		}
		if f.Invalid() {
			s.renderSignIn(w, r, http.StatusUnprocessableEntity, f, next)
			return
		}
		// After many wrong passwords for one account, or from one address,
		// every try waits, the right password too, so guessing learns nothing.
		// A browser the person has signed in from before counts its failures
		// apart, so that someone guessing elsewhere cannot lock them out.
		account, addr := s.signInKey(r, email), netaddr.Client(r)
		if wait := max(s.accounts.Wait(account), s.addresses.Wait(addr)); wait > 0 {
			s.Logger.Info("web: sign-in held", "email", email, "remote", r.RemoteAddr, "wait", wait)
			s.refuseSignIn(w, r, f, next, wait)
			return
		}
		u, err := s.Passwords.AuthenticatePassword(r.Context(), email, password)
		if rapport.ErrorCode(err) == rapport.EUNAUTHORIZED {
			s.Logger.Info("web: sign-in refused", "email", email, "remote", r.RemoteAddr)
			if wait := max(s.accounts.Fail(account), s.addresses.Fail(addr)); wait > 0 {
				s.refuseSignIn(w, r, f, next, wait)
				return
			}
			f.Message = rapport.ErrorMessage(err)
			s.renderSignIn(w, r, http.StatusUnauthorized, f, next)
			return
		} else if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.accounts.Succeed(account)
		_, secret, err := s.Sessions.CreateSession(r.Context(), u.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		setCookie(w, r, sessionCookie, secret, int(rapport.SessionLifetime.Seconds()))
		mark, err := s.Passwords.DeviceMark(r.Context(), u.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		setCookie(w, r, deviceCookie, mark, int(deviceMarkLifetime.Seconds()))
		clearCookie(w, r, preSessionCookie)
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
}

// deviceCookie marks a browser that has signed in, for deviceMarkLifetime
// after its latest sign-in or until the person's password changes.
const (
	deviceCookie       = "rapport_device"
	deviceMarkLifetime = 365 * 24 * time.Hour
)

// signInKey is the key that counts the failures of this attempt: the
// account's own, or for a browser that has signed in to it before, one of
// that browser's alone.
func (s *server) signInKey(r *http.Request, email string) string {
	c, err := r.Cookie(deviceCookie)
	if err != nil || !s.Passwords.KnownDevice(r.Context(), email, c.Value) {
		return rapport.SignInKey(email)
	}
	sum := sha256.Sum256([]byte(c.Value))
	return "device:" + hex.EncodeToString(sum[:8])
}

// refuseSignIn says how long to wait before trying to sign in again.
func (s *server) refuseSignIn(w http.ResponseWriter, r *http.Request, f *form, next string, wait time.Duration) {
	minutes, unit := int(math.Ceil(wait.Minutes())), "minutes"
	if minutes == 1 {
		unit = "minute"
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	f.Message = fmt.Sprintf("Too many attempts to sign in. Please wait %d %s and try again.", minutes, unit)
	s.renderSignIn(w, r, http.StatusTooManyRequests, f, next)
}

func (s *server) signOut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Sessions.DeleteSession(r.Context(), visitorFrom(r.Context()).secret); err != nil {
			s.serverError(w, r, err)
			return
		}
		clearCookie(w, r, sessionCookie)
		setFlash(w, r, "You have signed out.")
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
	})
}

// safeNext returns where to go after signing in: a path on this site only,
// never another host, so the sign-in page cannot be used to send people away.
// Browsers drop tabs and newlines from a URL and read a backslash as a slash
// ("/\t/evil.example" becomes "//evil.example"), so a next holding any control
// character or backslash is refused whole rather than cleaned, and what is
// left must parse as a bare path with no scheme or host.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "/signin") || strings.ContainsRune(next, '\\') {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || strings.HasPrefix(next, "//") {
		return "/"
	}
	return next
}
