package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/rapport-crm/rapport"
)

// TouchpointService keeps the touchpoint catalogue.
type TouchpointService struct{ db *DB }

// NewTouchpointService returns the catalogue stored in db.
func NewTouchpointService(db *DB) *TouchpointService { return &TouchpointService{db: db} }

var _ rapport.TouchpointService = (*TouchpointService)(nil)

const touchpointColumns = `key, name, description, phase, channels, target_score, priority, created_at, updated_at`

// FindTouchpoints returns the whole catalogue, ordered by journey phase then key.
func (s *TouchpointService) FindTouchpoints(ctx context.Context) ([]*rapport.Touchpoint, error) {
	rows, err := s.db.reader().query(ctx, `SELECT `+touchpointColumns+` FROM touchpoints
		ORDER BY CASE phase WHEN 'pre_sales' THEN 0 WHEN 'sale' THEN 1 ELSE 2 END, key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*rapport.Touchpoint{}
	for rows.Next() {
		t, err := scanTouchpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// FindTouchpointByKey returns one touchpoint, or ENOTFOUND.
func (s *TouchpointService) FindTouchpointByKey(ctx context.Context, key string) (*rapport.Touchpoint, error) {
	return findTouchpoint(ctx, s.db.reader(), key)
}

func findTouchpoint(ctx context.Context, q querier, key string) (*rapport.Touchpoint, error) {
	t, err := scanTouchpoint(q.queryRow(ctx, `SELECT `+touchpointColumns+` FROM touchpoints WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "No touchpoint has the key %q.", key)
	}
	return t, err
}

// CreateTouchpoint adds a touchpoint to the catalogue.
func (s *TouchpointService) CreateTouchpoint(ctx context.Context, t *rapport.Touchpoint) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM touchpoints WHERE key = ?`, t.Key).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return rapport.Errorf(rapport.ECONFLICT, "A touchpoint with the key %q exists already.", t.Key)
		}
		err := insertTouchpoint(ctx, tx, t, tx.now)
		if tx.d.uniqueViolation(err) {
			// Created by another request since we looked.
			return rapport.Errorf(rapport.ECONFLICT, "A touchpoint with the key %q exists already.", t.Key)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditCreate, "touchpoint", t.Key, nil, t)
	})
}

func insertTouchpoint(ctx context.Context, tx *tx, t *rapport.Touchpoint, now time.Time) error {
	t.CreatedAt, t.UpdatedAt = now.Truncate(time.Microsecond), now.Truncate(time.Microsecond)
	channels, _ := json.Marshal(t.Channels)
	_, err := tx.exec(ctx, `INSERT INTO touchpoints (`+touchpointColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Key, t.Name, t.Description, t.Phase, string(channels), t.TargetScore, nullInt(t.Priority),
		micros(t.CreatedAt), micros(t.UpdatedAt))
	return err
}

// UpdateTouchpoint changes a touchpoint and returns it as stored.
func (s *TouchpointService) UpdateTouchpoint(ctx context.Context, key string, u rapport.TouchpointUpdate) (*rapport.Touchpoint, error) {
	var t *rapport.Touchpoint
	err := s.db.inTx(ctx, func(tx *tx) error {
		var err error
		if t, err = findTouchpoint(ctx, tx.querier, key); err != nil {
			return err
		}
		before := *t
		u.Apply(t)
		if err := t.Validate(); err != nil {
			return err
		}
		if err := audit(ctx, tx, rapport.AuditUpdate, "touchpoint", key, &before, t); err != nil {
			return err
		}
		t.UpdatedAt = tx.now.Truncate(time.Microsecond)
		channels, _ := json.Marshal(t.Channels)
		_, err = tx.exec(ctx, `UPDATE touchpoints SET name = ?, description = ?, phase = ?, channels = ?,
			target_score = ?, priority = ?, updated_at = ? WHERE key = ?`,
			t.Name, t.Description, t.Phase, string(channels), t.TargetScore, nullInt(t.Priority), micros(t.UpdatedAt), key)
		return err
	})
	return t, err
}

func scanTouchpoint(row interface{ Scan(...any) error }) (*rapport.Touchpoint, error) {
	var (
		t                    rapport.Touchpoint
		channels             string
		priority             sql.NullInt64
		createdAt, updatedAt int64
	)
	if err := row.Scan(&t.Key, &t.Name, &t.Description, &t.Phase, &channels, &t.TargetScore, &priority, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(channels), &t.Channels); err != nil {
		return nil, err
	}
	t.Priority = intPtr(priority)
	t.CreatedAt, t.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &t, nil
}
