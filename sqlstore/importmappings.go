package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rapport-crm/rapport"
)

// mappingOptions is what a mapping's options column holds.
type mappingOptions struct {
	Map        map[string]string `json:"map"`
	Delimiter  string            `json:"delimiter,omitempty"`
	DateFormat string            `json:"date_format,omitempty"`
	Key        []string          `json:"key,omitempty"`
}

const mappingColumns = `id, kind, name, options, created_by, created_at, updated_at`

func scanMapping(row interface{ Scan(...any) error }) (*rapport.ImportMapping, error) {
	var m rapport.ImportMapping
	var opts string
	var created, updated int64
	if err := row.Scan(&m.ID, &m.Kind, &m.Name, &opts, &m.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	var o mappingOptions
	if err := json.Unmarshal([]byte(opts), &o); err != nil {
		return nil, fmt.Errorf("import mapping %s: %w", m.ID, err)
	}
	m.Map, m.Delimiter, m.DateFormat, m.Key = o.Map, o.Delimiter, o.DateFormat, o.Key
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &m, nil
}

// SaveImportMapping keeps a mapping; see rapport.ImportMappingService.
func (s *ImportService) SaveImportMapping(ctx context.Context, m *rapport.ImportMapping) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if m.CreatedBy == "" {
		m.CreatedBy = rapport.ActorID(ctx)
	}
	opts, err := json.Marshal(mappingOptions{m.Map, m.Delimiter, m.DateFormat, m.Key})
	if err != nil {
		return err
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		var n int
		var existing sql.NullString
		var created sql.NullInt64
		if err := tx.queryRow(ctx, `SELECT COUNT(*), MAX(CASE WHEN name = ? THEN id END), MAX(CASE WHEN name = ? THEN created_at END)
			FROM import_mappings WHERE kind = ?`, m.Name, m.Name, m.Kind).Scan(&n, &existing, &created); err != nil {
			return err
		}
		if !existing.Valid && n >= rapport.MaxImportMappings {
			return rapport.Errorf(rapport.ECONFLICT, "The firm keeps %d mappings of %s already, the most there may be: delete one first.", n, m.Kind)
		}
		now := tx.now.Truncate(time.Microsecond)
		m.ID, m.CreatedAt, m.UpdatedAt = existing.String, now, now
		if m.ID == "" {
			m.ID = rapport.NewID(tx.now)
		} else {
			m.CreatedAt = fromMicros(created.Int64)
		}
		if _, err := tx.exec(ctx, `INSERT INTO import_mappings (`+mappingColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (kind, name) DO UPDATE SET options = excluded.options, updated_at = excluded.updated_at`,
			m.ID, m.Kind, m.Name, string(opts), m.CreatedBy, micros(m.CreatedAt), micros(m.UpdatedAt)); err != nil {
			return err
		}
		action := rapport.AuditCreate
		if existing.Valid {
			action = rapport.AuditUpdate
		}
		return audit(ctx, tx, action, "import_mapping", m.ID, nil, m)
	})
}

// FindImportMappings lists a kind's mappings by name; see rapport.ImportMappingService.
func (s *ImportService) FindImportMappings(ctx context.Context, kind string) ([]*rapport.ImportMapping, error) {
	where, args := "1 = 1", []any{}
	if kind != "" {
		where, args = "kind = ?", append(args, kind)
	}
	return collect(ctx, s.db.reader(), `SELECT `+mappingColumns+` FROM import_mappings WHERE `+where+` ORDER BY kind, name`, args, scanMapping)
}

// FindImportMapping returns one mapping; see rapport.ImportMappingService.
func (s *ImportService) FindImportMapping(ctx context.Context, id string) (*rapport.ImportMapping, error) {
	m, err := scanMapping(s.db.reader().queryRow(ctx, `SELECT `+mappingColumns+` FROM import_mappings WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "No import mapping has the id %q.", id)
	}
	return m, err
}

// DeleteImportMapping removes a mapping; see rapport.ImportMappingService.
func (s *ImportService) DeleteImportMapping(ctx context.Context, id string) error {
	return s.db.inTx(ctx, func(tx *tx) error {
		m, err := scanMapping(tx.queryRow(ctx, `SELECT `+mappingColumns+` FROM import_mappings WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return rapport.Errorf(rapport.ENOTFOUND, "No import mapping has the id %q.", id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM import_mappings WHERE id = ?`, id); err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditDelete, "import_mapping", id, m, nil)
	})
}
