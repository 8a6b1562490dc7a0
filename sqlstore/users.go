package sqlstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rapport-crm/rapport"
)

// UserService keeps staff users.
type UserService struct{ db *DB }

// NewUserService returns the users stored in db.
func NewUserService(db *DB) *UserService { return &UserService{db: db} }

var _ rapport.UserService = (*UserService)(nil)

const userColumns = `id, email, name, role, team, manager_id, created_at`

// userRead are the columns scanUser reads: those written at creation, and
// when the user was deactivated.
const userRead = userColumns + `, deactivated_at`

// CreateUser adds a member of staff; the email must be new.
func (s *UserService) CreateUser(ctx context.Context, u *rapport.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE email = ?`, u.Email).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return rapport.Errorf(rapport.ECONFLICT, "A user with the email %s exists already.", u.Email)
		}
		if u.ManagerID != "" {
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, u.ManagerID).Scan(&n); err != nil {
				return err
			} else if n == 0 {
				return &rapport.Error{Code: rapport.EINVALID, Message: "The user is not valid.",
					Fields: []rapport.FieldError{{Field: "manager_id", Message: "no user has this id"}}}
			}
		}
		u.ID = rapport.NewID(tx.now)
		u.CreatedAt = tx.now.Truncate(time.Microsecond)
		u.Active, u.DeactivatedAt = true, nil
		_, err := tx.exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Email, u.Name, string(u.Role), u.Team, nullString(u.ManagerID), micros(u.CreatedAt))
		if tx.d.uniqueViolation(err) {
			return rapport.Errorf(rapport.ECONFLICT, "A user with the email %s exists already.", u.Email)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditCreate, "user", u.ID, nil, u)
	})
}

// UpdateUser changes a user's role or team; see rapport.UserService.
func (s *UserService) UpdateUser(ctx context.Context, id string, up rapport.UserUpdate) (*rapport.User, error) {
	var after *rapport.User
	err := s.db.inTx(ctx, func(tx *tx) error {
		before, err := scanUser(tx.queryRow(ctx, `SELECT `+userRead+` FROM users WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return rapport.Errorf(rapport.ENOTFOUND, "No such user.")
		}
		if err != nil {
			return err
		}
		changed := *before
		up.Apply(&changed, tx.now)
		if err := changed.Validate(); err != nil {
			return err
		}
		// The active admins' rows are locked so that two admins demoting or
		// deactivating each other at once cannot both succeed on PostgreSQL.
		admins := 0
		err = eachRow(ctx, tx.querier, `SELECT id FROM users WHERE role = ? AND deactivated_at IS NULL`+tx.d.updateLock,
			[]any{string(rapport.RoleAdmin)}, func(*sql.Rows) error { admins++; return nil })
		if err != nil {
			return err
		}
		if err := rapport.CheckAdminsLeft(before, &changed, admins); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE users SET role = ?, team = ?, deactivated_at = ? WHERE id = ?`,
			string(changed.Role), changed.Team, microsPtr(changed.DeactivatedAt), id); err != nil {
			return err
		}
		if before.Active && !changed.Active {
			// Signed out everywhere at once; their tokens refuse from the
			// next request on this server, within tokenCacheFor on others.
			if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
				return err
			}
			tx.onCommit(func() { s.db.tokens.forgetUser(id) })
		} else if !before.Active && changed.Active {
			tx.onCommit(func() { s.db.tokens.allowUser(id) })
		}
		after = &changed
		return audit(ctx, tx, rapport.AuditUpdate, "user", id, before, after)
	})
	if err != nil {
		return nil, err
	}
	return after, nil
}

// FindUserByID returns one user, or ENOTFOUND.
func (s *UserService) FindUserByID(ctx context.Context, id string) (*rapport.User, error) {
	return s.findOne(ctx, `id = ?`, id)
}

// FindUserByEmail returns the user with that email, or ENOTFOUND.
func (s *UserService) FindUserByEmail(ctx context.Context, email string) (*rapport.User, error) {
	return s.findOne(ctx, `email = ?`, strings.ToLower(strings.TrimSpace(email)))
}

func (s *UserService) findOne(ctx context.Context, where string, arg any) (*rapport.User, error) {
	u, err := scanUser(s.db.reader().queryRow(ctx, `SELECT `+userRead+` FROM users WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "No such user.")
	}
	return u, err
}

// FindUsers lists users by name.
func (s *UserService) FindUsers(ctx context.Context, f rapport.UserFilter) ([]*rapport.User, error) {
	where, args := []string{"1 = 1"}, []any{}
	if f.Role != nil {
		where, args = append(where, "role = ?"), append(args, string(*f.Role))
	}
	if f.Team != nil {
		where, args = append(where, "team = ?"), append(args, *f.Team)
	}
	if f.Active != nil && *f.Active {
		where = append(where, "deactivated_at IS NULL")
	} else if f.Active != nil {
		where = append(where, "deactivated_at IS NOT NULL")
	}
	rows, err := s.db.reader().query(ctx, `SELECT `+userRead+` FROM users WHERE `+strings.Join(where, " AND ")+` ORDER BY name, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*rapport.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func scanUser(row interface{ Scan(...any) error }) (*rapport.User, error) {
	var (
		u           rapport.User
		role        string
		manager     sql.NullString
		createdAt   int64
		deactivated sql.NullInt64
	)
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &u.Team, &manager, &createdAt, &deactivated); err != nil {
		return nil, err
	}
	u.Role, u.ManagerID, u.CreatedAt = rapport.Role(role), manager.String, fromMicros(createdAt)
	u.DeactivatedAt = timePtr(deactivated)
	u.Active = u.DeactivatedAt == nil
	return &u, nil
}

// TokenService issues and checks API tokens.
type TokenService struct{ db *DB }

// NewTokenService returns the tokens stored in db.
func NewTokenService(db *DB) *TokenService { return &TokenService{db: db} }

var _ rapport.TokenService = (*TokenService)(nil)

// tokenPrefix marks Rapport secrets so that secret scanners can spot a leaked one.
const tokenPrefix = "rpt_"

// hashSecret is SHA-256: a token carries 160 random bits, so a slow password
// hash would add nothing but latency to every request.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateToken stores t and returns its secret.
func (s *TokenService) CreateToken(ctx context.Context, t *rapport.Token) (string, error) {
	if err := t.Validate(); err != nil {
		return "", err
	}
	var raw [20]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	secret := tokenPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw[:]))
	err := s.db.inTx(ctx, func(tx *tx) error {
		if t.UserID != "" {
			// A token acts as its user, so it may do no more than the user may.
			var userRole string
			err := tx.queryRow(ctx, `SELECT role FROM users WHERE id = ?`, t.UserID).Scan(&userRole)
			if errors.Is(err, sql.ErrNoRows) {
				return &rapport.Error{Code: rapport.EINVALID, Message: "The token is not valid.",
					Fields: []rapport.FieldError{{Field: "user_id", Message: "no user has this id"}}}
			} else if err != nil {
				return err
			}
			if !t.Role.Within(rapport.Role(userRole)) {
				return &rapport.Error{Code: rapport.EINVALID, Message: "The token is not valid.",
					Fields: []rapport.FieldError{{Field: "role", Message: fmt.Sprintf("may not be above its user's own role (%s)", userRole)}}}
			}
		}
		t.ID = rapport.NewID(tx.now)
		t.CreatedAt = tx.now.Truncate(time.Microsecond)
		_, err := tx.exec(ctx, `INSERT INTO tokens (id, name, role, user_id, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			t.ID, t.Name, string(t.Role), nullString(t.UserID), hashSecret(secret), micros(t.CreatedAt))
		if err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditCreate, "token", t.ID, nil, t)
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// lastUsedGranularity bounds how often a token's last use is written, so that
// reads do not each cost a write.
const lastUsedGranularity = time.Hour

// Authenticate returns the principal for a secret, or EUNAUTHORIZED. A
// token found is kept for tokenCacheFor (see tokenCache), so most requests
// read no row to learn who is asking.
func (s *TokenService) Authenticate(ctx context.Context, secret string) (*rapport.Principal, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return nil, rapport.Errorf(rapport.EUNAUTHORIZED, "The token is not valid.")
	}
	hash, now := hashSecret(secret), s.db.now()
	known, ok := s.db.tokens.get(hash, now)
	if !ok {
		var (
			role     string
			userID   sql.NullString
			userRole sql.NullString
			lastUsed sql.NullInt64
		)
		err := s.db.reader().queryRow(ctx, `SELECT t.id, t.name, t.role, t.user_id, u.role, t.last_used_at
			FROM tokens t LEFT JOIN users u ON u.id = t.user_id
			WHERE t.secret_hash = ? AND t.revoked_at IS NULL AND u.deactivated_at IS NULL`, hash).
			Scan(&known.p.TokenID, &known.p.Name, &role, &userID, &userRole, &lastUsed)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, rapport.Errorf(rapport.EUNAUTHORIZED, "The token is not valid, has been revoked, or belongs to a deactivated user.")
		} else if err != nil {
			return nil, err
		}
		known.p.Role, known.p.UserID = rapport.Role(role), userID.String
		if userRole.Valid {
			// A user's token never does more than the user may now.
			known.p.Role = rapport.Weaker(known.p.Role, rapport.Role(userRole.String))
		}
		if lastUsed.Valid {
			known.lastUsed = fromMicros(lastUsed.Int64)
		}
	}
	if now.Sub(known.lastUsed) > lastUsedGranularity {
		err := s.db.inTx(ctx, func(tx *tx) error {
			_, err := tx.exec(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ?`, micros(now), known.p.TokenID)
			return err
		})
		if err != nil {
			return nil, err
		}
		known.lastUsed = now
	}
	s.db.tokens.put(hash, known, now)
	p := known.p
	return &p, nil
}

// tokenCacheFor is how long a server trusts a token it has found without
// reading it again: a token revoked, or whose user was deactivated, on
// another server sharing the database stops working here within this time.
// Revoked or deactivated on this server, it stops at once.
const tokenCacheFor = 5 * time.Second

// maxCachedTokens bounds the cache; when it is full it starts afresh.
const maxCachedTokens = 10000

// tokenCache keeps the tokens a server has found lately, by the hash of
// their secret. Only valid tokens are kept: a wrong guess always reads the
// table, and the sign-in throttle answers guessing.
type tokenCache struct {
	mu     sync.Mutex
	byHash map[string]cachedToken
	// revoked are the tokens revoked on this server: a request that read
	// one just before its revocation committed does not put it back.
	revoked map[string]bool
	// deactivated are the users deactivated on this server, and not since
	// reactivated, kept for the same reason.
	deactivated map[string]bool
}

type cachedToken struct {
	p        rapport.Principal
	lastUsed time.Time // as written to the table
	read     time.Time // when the table was read
}

func (c *tokenCache) get(hash string, now time.Time) (cachedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.byHash[hash]
	if !ok || now.Sub(t.read) >= tokenCacheFor || now.Before(t.read) {
		return cachedToken{}, false
	}
	return t, true
}

// put keeps t, found in the table at now unless it came from the cache.
func (c *tokenCache) put(hash string, t cachedToken, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.revoked[t.p.TokenID] || (t.p.UserID != "" && c.deactivated[t.p.UserID]) {
		return
	}
	if c.byHash == nil || len(c.byHash) >= maxCachedTokens {
		c.byHash = map[string]cachedToken{}
	}
	if t.read.IsZero() {
		t.read = now
	}
	c.byHash[hash] = t
}

// forget drops the token with this id, once its revocation has committed,
// and keeps it from being cached again.
func (c *tokenCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.revoked == nil || len(c.revoked) >= maxCachedTokens {
		c.revoked = map[string]bool{}
	}
	c.revoked[id] = true
	for h, t := range c.byHash {
		if t.p.TokenID == id {
			delete(c.byHash, h)
		}
	}
}

// forgetUser drops every token of the user, once their deactivation has
// committed, and keeps them from being cached again until allowUser.
func (c *tokenCache) forgetUser(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deactivated == nil || len(c.deactivated) >= maxCachedTokens {
		c.deactivated = map[string]bool{}
	}
	c.deactivated[userID] = true
	for h, t := range c.byHash {
		if t.p.UserID == userID {
			delete(c.byHash, h)
		}
	}
}

// allowUser lets the tokens of a reactivated user be cached again.
func (c *tokenCache) allowUser(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.deactivated, userID)
}

// FindTokens lists tokens, newest first; secrets are never listed.
func (s *TokenService) FindTokens(ctx context.Context) ([]*rapport.Token, error) {
	rows, err := s.db.reader().query(ctx, `SELECT id, name, role, user_id, created_at, last_used_at, revoked_at FROM tokens ORDER BY id DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*rapport.Token{}
	for rows.Next() {
		var (
			t                 rapport.Token
			role              string
			userID            sql.NullString
			createdAt         int64
			lastUsed, revoked sql.NullInt64
		)
		if err := rows.Scan(&t.ID, &t.Name, &role, &userID, &createdAt, &lastUsed, &revoked); err != nil {
			return nil, err
		}
		t.Role, t.UserID, t.CreatedAt = rapport.Role(role), userID.String, fromMicros(createdAt)
		t.LastUsedAt, t.RevokedAt = timePtr(lastUsed), timePtr(revoked)
		out = append(out, &t)
	}
	return out, rows.Err()
}

// RevokeToken stops a token working.
func (s *TokenService) RevokeToken(ctx context.Context, id string) error {
	return s.db.inTx(ctx, func(tx *tx) error {
		res, err := tx.exec(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(tx.now), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rapport.Errorf(rapport.ENOTFOUND, "No active token has the id %q.", id)
		}
		tx.onCommit(func() { s.db.tokens.forget(id) })
		return auditChanges(ctx, tx, rapport.AuditRevoke, "token", id,
			map[string]rapport.AuditChange{"revoked_at": {After: tx.now.Truncate(time.Microsecond)}})
	})
}
