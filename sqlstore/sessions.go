package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"

	"github.com/rapport-crm/rapport"
)

// SessionService keeps web sessions.
type SessionService struct{ db *DB }

// NewSessionService returns the sessions stored in db.
func NewSessionService(db *DB) *SessionService { return &SessionService{db: db} }

var _ rapport.SessionService = (*SessionService)(nil)

// sessionPrefix marks session secrets, like tokenPrefix marks API tokens.
const sessionPrefix = "rps_"

// CreateSession starts a session for a user and returns its secret. Sessions
// that have expired are swept at the same time, so the table never needs a
// separate clean-up job.
func (s *SessionService) CreateSession(ctx context.Context, userID string) (*rapport.Session, string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, "", err
	}
	secret := sessionPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	var sess *rapport.Session
	err := s.db.inTx(ctx, func(tx *tx) error {
		u, err := scanUser(tx.queryRow(ctx, `SELECT `+userRead+` FROM users WHERE id = ?`, userID))
		if errors.Is(err, sql.ErrNoRows) {
			return rapport.Errorf(rapport.ENOTFOUND, "No user has the id %q.", userID)
		} else if err != nil {
			return err
		}
		if !u.Active {
			return errDeactivated
		}
		if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, micros(tx.now)); err != nil {
			return err
		}
		now := tx.now.Truncate(time.Microsecond)
		sess = &rapport.Session{ID: rapport.NewID(now), UserID: userID, CreatedAt: now,
			ExpiresAt: now.Add(rapport.SessionLifetime), User: u}
		_, err = tx.exec(ctx, `INSERT INTO sessions (id, user_id, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			sess.ID, sess.UserID, hashSecret(secret), micros(sess.CreatedAt), micros(sess.ExpiresAt))
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return sess, secret, nil
}

// errNoSession is the answer for every secret that does not open a live session.
var errNoSession = rapport.Errorf(rapport.EUNAUTHORIZED, "The session has ended; sign in again.")

// FindSessionBySecret returns the live session for a secret, with its user.
func (s *SessionService) FindSessionBySecret(ctx context.Context, secret string) (*rapport.Session, error) {
	if len(secret) <= len(sessionPrefix) || secret[:len(sessionPrefix)] != sessionPrefix {
		return nil, errNoSession
	}
	var (
		sess                 rapport.Session
		createdAt, expiresAt int64
	)
	row := s.db.reader().queryRow(ctx, `SELECT u.id, u.email, u.name, u.role, u.team, u.manager_id, u.created_at, u.deactivated_at,
		s.id, s.created_at, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.secret_hash = ? AND s.expires_at > ? AND u.deactivated_at IS NULL`, hashSecret(secret), micros(s.db.now()))
	u, err := scanUser(withExtra{row, []any{&sess.ID, &createdAt, &expiresAt}})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoSession
	} else if err != nil {
		return nil, err
	}
	sess.UserID, sess.User = u.ID, u
	sess.CreatedAt, sess.ExpiresAt = fromMicros(createdAt), fromMicros(expiresAt)
	return &sess, nil
}

// DeleteSession ends the session a secret stands for, if there is one.
func (s *SessionService) DeleteSession(ctx context.Context, secret string) error {
	return s.db.inTx(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, `DELETE FROM sessions WHERE secret_hash = ?`, hashSecret(secret))
		return err
	})
}
