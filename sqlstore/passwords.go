package sqlstore

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"

	"github.com/rapport-crm/rapport"
)

// PasswordService sets and checks staff passwords.
type PasswordService struct{ db *DB }

// NewPasswordService returns the passwords of the users stored in db.
func NewPasswordService(db *DB) *PasswordService { return &PasswordService{db: db} }

var _ rapport.PasswordService = (*PasswordService)(nil)

// argon2id parameters: OWASP's baseline (19 MiB, 2 passes, 1 lane), about
// 30 ms on a small server, so sign-in stays quick while guessing stays dear.
// They are stored with every hash, so raising them later keeps old hashes valid.
var currentParams = argonParams{memory: 19 * 1024, time: 2, threads: 1, keyLen: 32}

type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
	keyLen  uint32
}

// dummyHash is checked when a sign-in names no account, so that an unknown
// email costs as much time as a wrong password.
// It is made on first use, as hashing is too slow for package start-up.
var dummyHash = sync.OnceValue(func() string { return hashPassword("rapport: no such user", currentParams) })

// errSignIn is the one answer to every failed sign-in, so that the reply does
// not tell whether the email has an account.
var errSignIn = rapport.Errorf(rapport.EUNAUTHORIZED, "The email or password is not right.")

// errDeactivated refuses the right password of a deactivated user. It is
// given only after the password was checked, so it tells a stranger no
// more than errSignIn does: that the account exists is learnt only by
// someone who knows its password.
var errDeactivated = rapport.Errorf(rapport.EUNAUTHORIZED, "This account has been deactivated. Ask an admin of your firm if you need it again.")

// SetPassword replaces a user's password and ends the user's sessions, so
// that a reset locks out whoever knew the old one.
func (s *PasswordService) SetPassword(ctx context.Context, userID, password string) error {
	if err := rapport.ValidatePassword(password); err != nil {
		return err
	}
	hash := hashPassword(password, currentParams)
	return s.db.inTx(ctx, func(tx *tx) error {
		res, err := tx.exec(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rapport.Errorf(rapport.ENOTFOUND, "No user has the id %q.", userID)
		}
		if _, err = tx.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
			return err
		}
		return auditChanges(ctx, tx, rapport.AuditUpdate, "user", userID,
			map[string]rapport.AuditChange{"password": {Before: rapport.Redacted, After: rapport.Redacted}})
	})
}

// AuthenticatePassword returns the user with this email and password, or EUNAUTHORIZED.
func (s *PasswordService) AuthenticatePassword(ctx context.Context, email, password string) (*rapport.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var stored string
	row := s.db.reader().queryRow(ctx, `SELECT `+userRead+`, password_hash FROM users WHERE email = ?`, email)
	u, err := scanUser(withExtra{row, []any{&stored}})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if stored == "" || len(password) > rapport.MaxPasswordLength {
		// No such user, one without a password yet, or a password too long to
		// have been set: spend the same time, bounded.
		checkPassword(dummyHash(), password[:min(len(password), rapport.MaxPasswordLength)])
		return nil, errSignIn
	}
	ok, err := checkPassword(stored, password)
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", u.ID, err)
	}
	if !ok {
		return nil, errSignIn
	}
	if !u.Active {
		return nil, errDeactivated
	}
	return u, nil
}

// withExtra scans the columns a scan function expects, then some more.
type withExtra struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }

// hashPassword returns the PHC string form of an argon2id hash:
// $argon2id$v=19$m=…,t=…,p=…$salt$hash, salt and hash in unpadded base64.
func hashPassword(password string, p argonParams) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, p.keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// checkPassword reports whether password matches a stored hash, comparing in
// constant time. A malformed hash is an error, not a mismatch, so that it is logged.
func checkPassword(stored, password string) (bool, error) {
	parts := strings.Split(stored, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("stored password hash is not argon2id")
	}
	var version int
	var p argonParams
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("stored password hash has an unknown argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil ||
		p.memory == 0 || p.time == 0 || p.threads == 0 {
		return false, errors.New("stored password hash has bad parameters")
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, errors.New("stored password hash is not base64")
	}
	got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// DeviceMark returns a mark for a browser that userID has just signed in
// from: the user's id, a random nonce and a MAC of both keyed by the user's
// password hash, so that only this database can make one, and a new password
// voids every mark made before it.
func (s *PasswordService) DeviceMark(ctx context.Context, userID string) (string, error) {
	var stored string
	err := s.db.reader().queryRow(ctx, `SELECT password_hash FROM users WHERE id = ?`, userID).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && stored == "") {
		return "", rapport.Errorf(rapport.ENOTFOUND, "No user with a password has the id %q.", userID)
	} else if err != nil {
		return "", err
	}
	nonce := make([]byte, 16)
	rand.Read(nonce)
	n := base64.RawURLEncoding.EncodeToString(nonce)
	return userID + "." + n + "." + deviceMAC(stored, userID, n), nil
}

// KnownDevice reports whether mark was made by DeviceMark for the user who
// has this email, with their current password.
func (s *PasswordService) KnownDevice(ctx context.Context, email, mark string) bool {
	parts := strings.Split(mark, ".")
	if len(parts) != 3 || len(mark) > 200 {
		return false
	}
	var stored string
	err := s.db.reader().queryRow(ctx, `SELECT password_hash FROM users WHERE id = ? AND email = ?`,
		parts[0], strings.ToLower(strings.TrimSpace(email))).Scan(&stored)
	if err != nil || stored == "" {
		return false
	}
	return hmac.Equal([]byte(parts[2]), []byte(deviceMAC(stored, parts[0], parts[1])))
}

func deviceMAC(key, userID, nonce string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("rapport device " + userID + "." + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
