package rapport

import (
	"context"
	"time"
)

// MinPasswordLength is the shortest password a user may set. Length is the
// one rule that measurably helps; composition rules only make passwords
// harder to remember.
const MinPasswordLength = 10

// MaxPasswordLength, in bytes, bounds the work one sign-in attempt can cause.
const MaxPasswordLength = 1024

// ValidatePassword reports whether a password may be set, as an EINVALID
// error on the field "password".
func ValidatePassword(password string) error {
	v := validation{index: -1}
	switch n := len([]rune(password)); {
	case n < MinPasswordLength:
		v.add("password", "must be at least %d characters", MinPasswordLength)
	case len(password) > MaxPasswordLength:
		v.add("password", "must be at most %d bytes", MaxPasswordLength)
	}
	return v.err("password")
}

// PasswordService sets and checks staff passwords, which are stored only as
// slow, salted hashes.
type PasswordService interface {
	// SetPassword replaces a user's password and ends their sessions.
	SetPassword(ctx context.Context, userID, password string) error
	// AuthenticatePassword returns the user whose email and password these are,
	// or EUNAUTHORIZED. It takes about as long whether or not the email exists,
	// so that it does not reveal who has an account.
	AuthenticatePassword(ctx context.Context, email, password string) (*User, error)
	// DeviceMark returns a mark to keep in a browser the user has just
	// signed in from. It stays valid until the user's password changes.
	DeviceMark(ctx context.Context, userID string) (string, error)
	// KnownDevice reports whether mark was made for the user with this
	// email: the browser has signed in as them before.
	KnownDevice(ctx context.Context, email, mark string) bool
}

// SessionLifetime is how long a web session lasts after signing in.
const SessionLifetime = 7 * 24 * time.Hour

// Session is a signed-in browser. Its secret lives only in the browser's
// cookie; the store keeps a hash of it.
type Session struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// User is the session's user as stored now, so that a changed role or a
	// deleted user takes effect on the next request.
	User *User `json:"user,omitempty"`
}

// SessionService keeps web sessions.
type SessionService interface {
	// CreateSession starts a session for a user and returns it with its secret,
	// which is never retrievable again.
	CreateSession(ctx context.Context, userID string) (s *Session, secret string, err error)
	// FindSessionBySecret returns the live session a secret stands for, with its
	// user, or EUNAUTHORIZED when it is unknown or has expired.
	FindSessionBySecret(ctx context.Context, secret string) (*Session, error)
	// DeleteSession ends the session a secret stands for; ending one that does
	// not exist is not an error, so signing out twice is harmless.
	DeleteSession(ctx context.Context, secret string) error
}
