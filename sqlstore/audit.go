package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// AuditService reads the audit log and keeps its retention. The rows are
// written by audit, in the transaction of each change.
type AuditService struct{ db *DB }

// NewAuditService returns the audit log stored in db.
func NewAuditService(db *DB) *AuditService { return &AuditService{db: db} }

var _ rapport.AuditService = (*AuditService)(nil)

// audit records a change to an entity in tx: who made it (from ctx), the
// fields that differ between before and after (either nil), redacted by
// rapport.AuditChanges. An update that changed nothing records nothing.
func audit(ctx context.Context, tx *tx, action, entityType, entityID string, before, after any) error {
	changes := rapport.AuditChanges(before, after)
	if action == rapport.AuditUpdate && len(changes) == 0 {
		return nil
	}
	return auditChanges(ctx, tx, action, entityType, entityID, changes)
}

// auditChanges records a change whose fields the caller has put together,
// such as an import's counts.
func auditChanges(ctx context.Context, tx *tx, action, entityType, entityID string, changes map[string]rapport.AuditChange) error {
	doc, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	actor, token, address := rapport.AuditActor(ctx)
	_, err = tx.exec(ctx, `INSERT INTO audit_log (id, at, actor, token_id, address, action, entity_type, entity_id, changes)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rapport.NewID(tx.now), micros(tx.now), actor, token, address, action, entityType, entityID, string(doc))
	return err
}

const auditColumns = `id, at, actor, token_id, address, action, entity_type, entity_id, changes`

// FindAudit lists entries newest first; see rapport.AuditService.
func (s *AuditService) FindAudit(ctx context.Context, f rapport.AuditFilter) (rapport.Page[*rapport.AuditEntry], error) {
	where, args := auditWhere(f)
	if f.Cursor != "" {
		parts, err := decodeCursor(f.Cursor, 1)
		if err != nil {
			return rapport.Page[*rapport.AuditEntry]{Items: []*rapport.AuditEntry{}}, err
		}
		where, args = append(where, "id < ?"), append(args, parts[0])
	}
	return queryPage(ctx, s.db.reader(), `SELECT `+auditColumns+` FROM audit_log WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`, args, rapport.PageLimit(f.Limit),
		scanAudit, func(e *rapport.AuditEntry) string { return encodeCursor(e.ID) })
}

// ExportAudit pages through every entry the filter selects.
func (s *AuditService) ExportAudit(ctx context.Context, f rapport.AuditFilter, each func(*rapport.AuditEntry) error) error {
	f.Limit, f.Cursor = rapport.MaxPageSize, ""
	for {
		page, err := s.FindAudit(ctx, f)
		if err != nil {
			return err
		}
		for _, e := range page.Items {
			if err := each(e); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		f.Cursor = page.NextCursor
	}
}

func auditWhere(f rapport.AuditFilter) (where []string, args []any) {
	where = []string{"1 = 1"}
	if f.Actor != "" {
		where, args = append(where, "(actor = ? OR token_id = ?)"), append(args, f.Actor, strings.TrimPrefix(f.Actor, "token:"))
	}
	where, args = whereEqual(where, args, "entity_type", f.EntityType, "entity_id", f.EntityID, "action", f.Action)
	return whereWindow(where, args, "at", f.From, f.To)
}

func scanAudit(rows *sql.Rows) (*rapport.AuditEntry, error) {
	var (
		e   rapport.AuditEntry
		at  int64
		doc string
	)
	if err := rows.Scan(&e.ID, &at, &e.Actor, &e.TokenID, &e.Address, &e.Action, &e.EntityType, &e.EntityID, &doc); err != nil {
		return nil, err
	}
	e.At = fromMicros(at)
	if err := json.Unmarshal([]byte(doc), &e.Changes); err != nil {
		return nil, err
	}
	return &e, nil
}

// AuditSettings returns the audit log's settings.
func (s *AuditService) AuditSettings(ctx context.Context) (*rapport.AuditSettings, error) {
	var out rapport.AuditSettings
	err := s.db.reader().queryRow(ctx, `SELECT retention_days FROM audit_settings WHERE name = 'default'`).Scan(&out.RetentionDays)
	return &out, err
}

// SetAuditSettings changes the retention, recording the change in the log.
func (s *AuditService) SetAuditSettings(ctx context.Context, in rapport.AuditSettings) (*rapport.AuditSettings, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	err := s.db.inTx(ctx, func(tx *tx) error {
		var old rapport.AuditSettings
		if err := tx.queryRow(ctx, `SELECT retention_days FROM audit_settings WHERE name = 'default'`).Scan(&old.RetentionDays); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `UPDATE audit_settings SET retention_days = ?, updated_at = ?, updated_by = ? WHERE name = 'default'`,
			in.RetentionDays, micros(tx.now), rapport.ActorID(ctx))
		if err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditUpdate, "audit_settings", "default", old, in)
	})
	if err != nil {
		return nil, err
	}
	return &in, nil
}

// SweepAudit removes the entries older than the retention. It moves the
// cutoff the database's guard reads, then deletes below it; the cutoff
// never moves back, so a shorter retention set by mistake and undone
// removes nothing more.
func (s *AuditService) SweepAudit(ctx context.Context) (int, error) {
	var n int64
	err := s.db.inTx(ctx, func(tx *tx) error {
		var days int
		if err := tx.queryRow(ctx, `SELECT retention_days FROM audit_settings WHERE name = 'default'`).Scan(&days); err != nil {
			return err
		}
		cutoff := micros(tx.now.Add(-time.Duration(days) * 24 * time.Hour))
		_, err := tx.exec(ctx, `UPDATE audit_settings SET cutoff = ? WHERE name = 'default' AND cutoff < ?`, cutoff, cutoff)
		if err != nil {
			return err
		}
		res, err := tx.exec(ctx, `DELETE FROM audit_log WHERE at < ?`, cutoff)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// RecordAudit records a change that touches no table, in its own transaction.
func (s *AuditService) RecordAudit(ctx context.Context, action, entityType, entityID string, changes map[string]rapport.AuditChange) error {
	return s.db.inTx(ctx, func(tx *tx) error {
		return auditChanges(ctx, tx, action, entityType, entityID, changes)
	})
}
