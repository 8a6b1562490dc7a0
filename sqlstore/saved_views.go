package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/rapport-crm/rapport"
)

// SavedViewService keeps staff's views of the customer list.
type SavedViewService struct{ db *DB }

// NewSavedViewService returns the saved views kept in db.
func NewSavedViewService(db *DB) *SavedViewService { return &SavedViewService{db: db} }

var _ rapport.SavedViewService = (*SavedViewService)(nil)

// FindSavedViews lists a user's views by name.
func (s *SavedViewService) FindSavedViews(ctx context.Context, userID string) ([]*rapport.SavedView, error) {
	views := []*rapport.SavedView{}
	err := eachRow(ctx, s.db.reader(), `SELECT id, user_id, name, query, created_at FROM saved_views WHERE user_id = ? ORDER BY lower(name), id`,
		[]any{userID}, func(rows *sql.Rows) error {
			v := &rapport.SavedView{}
			var created int64
			if err := rows.Scan(&v.ID, &v.UserID, &v.Name, &v.Query, &created); err != nil {
				return err
			}
			v.CreatedAt = fromMicros(created)
			views = append(views, v)
			return nil
		})
	return views, err
}

// SaveView keeps a view, replacing the user's view of the same name.
func (s *SavedViewService) SaveView(ctx context.Context, v *rapport.SavedView) error {
	if err := v.Validate(); err != nil {
		return err
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		var n int
		var existing sql.NullString
		if err := tx.queryRow(ctx, `SELECT COUNT(*), MAX(CASE WHEN name = ? THEN id END) FROM saved_views WHERE user_id = ?`,
			v.Name, v.UserID).Scan(&n, &existing); err != nil {
			return err
		}
		if !existing.Valid && n >= rapport.MaxSavedViews {
			return rapport.Errorf(rapport.ECONFLICT, "You keep %d views already, the most there may be: delete one first.", n)
		}
		v.ID, v.CreatedAt = existing.String, tx.now.Truncate(time.Microsecond)
		if v.ID == "" {
			v.ID = rapport.NewID(tx.now)
		}
		_, err := tx.exec(ctx, `INSERT INTO saved_views (id, user_id, name, query, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query, created_at = excluded.created_at`,
			v.ID, v.UserID, v.Name, v.Query, micros(v.CreatedAt))
		return err
	})
}

// DeleteSavedView removes one of the user's views.
func (s *SavedViewService) DeleteSavedView(ctx context.Context, userID, id string) error {
	return s.db.inTx(ctx, func(tx *tx) error {
		res, err := tx.exec(ctx, `DELETE FROM saved_views WHERE id = ? AND user_id = ?`, id, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return rapport.Errorf(rapport.ENOTFOUND, "You have no view with the id %q.", id)
		}
		return nil
	})
}
