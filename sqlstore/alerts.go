package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// AlertService raises alerts when touchpoints fall below target or standards
// decay, once per condition.
type AlertService struct{ db *DB }

// NewAlertService returns the alerts stored in db.
func NewAlertService(db *DB) *AlertService { return &AlertService{db: db} }

var _ rapport.AlertService = (*AlertService)(nil)

// A touchpoint is below target when the mean rating of its last 28 days is
// significantly (5%, one-sided t-test) below its target, with at least 30
// ratings behind it.
const (
	targetWindowDays = 28
	targetAlpha      = 0.05
	targetMinRatings = 30
)

const alertColumns = `id, kind, touchpoint, message, details, raised_at, acknowledged_at, acknowledged_by`

// EvaluateAlerts checks every touchpoint and current standard (a segment's
// own standards too) and raises the alerts not raised before. A
// below-target alert is raised at most once per touchpoint per week; a
// decay alert once per standard.
func (s *AlertService) EvaluateAlerts(ctx context.Context) ([]*rapport.Alert, error) {
	now := s.db.now()
	touchpoints, err := NewTouchpointService(s.db).FindTouchpoints(ctx)
	if err != nil {
		return nil, err
	}
	type candidate struct {
		kind, touchpoint, key, message string
		details                        map[string]any
	}
	var found []candidate
	today := dayOf(now)
	for _, t := range touchpoints {
		var st stats
		err := s.db.reader().queryRow(ctx, `SELECT `+statSums+` FROM moment_stats WHERE touchpoint = ? AND day > ? AND day <= ?`,
			t.Key, today-targetWindowDays, today).Scan(nullableTargets(&st)...)
		if err != nil {
			return nil, err
		}
		check := analytics.BelowTarget(st.ratings(), t.TargetScore, targetAlpha, targetMinRatings)
		if check.Below {
			found = append(found, candidate{kind: rapport.AlertBelowTarget, touchpoint: t.Key,
				key:     fmt.Sprintf("%s:%s:week-%d", rapport.AlertBelowTarget, t.Key, analytics.WeekNumber(now)),
				message: rapport.BelowTargetMessage(t.Name, targetWindowDays, check.Message),
				details: map[string]any{"mean_rating": check.Mean, "target": check.Target, "ratings": check.N, "p_value": check.PValue}})
		}
		// Each segment's own standard is watched on its own.
		variants, err := NewVariantService(s.db).FindVariants(ctx, t.Key)
		if err != nil {
			return nil, err
		}
		for _, v := range variants {
			if v.Decayed {
				found = append(found, candidate{kind: rapport.AlertStandardDecayed, touchpoint: t.Key,
					key:     fmt.Sprintf("%s:%s", rapport.AlertStandardDecayed, v.ID),
					message: v.DecayMessage(),
					details: map[string]any{"variant_id": v.ID, "segment_id": v.SegmentID, "response": v.Response,
						"baseline_magic_rate": v.BaselineMagicRate, "current_magic_rate": v.CurrentMagicRate, "p_value": v.PValue}})
			}
		}
		st2, err := NewStandardService(s.db).FindStandard(ctx, t.Key)
		if rapport.ErrorCode(err) == rapport.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		if st2.Decayed {
			found = append(found, candidate{kind: rapport.AlertStandardDecayed, touchpoint: t.Key,
				key:     fmt.Sprintf("%s:%s", rapport.AlertStandardDecayed, st2.ID),
				message: st2.DecayMessage(),
				details: map[string]any{"standard_id": st2.ID, "response": st2.Response, "baseline_magic_rate": st2.BaselineMagicRate,
					"current_magic_rate": st2.CurrentMagicRate, "p_value": st2.PValue}})
		}
	}
	raised := []*rapport.Alert{}
	err = s.db.inTx(ctx, func(tx *tx) error {
		for _, c := range found {
			details, _ := json.Marshal(c.details)
			a := &rapport.Alert{ID: rapport.NewID(tx.now), Kind: c.kind, Touchpoint: c.touchpoint, Message: c.message,
				Details: c.details, RaisedAt: tx.now.Truncate(time.Microsecond)}
			res, err := tx.exec(ctx, `INSERT INTO alerts (id, kind, touchpoint, dedupe_key, message, details, raised_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
				a.ID, a.Kind, a.Touchpoint, c.key, a.Message, string(details), micros(a.RaisedAt))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				raised = append(raised, a)
			}
		}
		return notifyAlerts(ctx, tx, raised)
	})
	if err != nil {
		return nil, err
	}
	return raised, nil
}

// nullableTargets scans sums that are NULL when no rows matched as zeros.
func nullableTargets(st *stats) []any {
	targets := st.scanTargets()
	out := make([]any, len(targets))
	for i, t := range targets {
		out[i] = nullZero{t}
	}
	return out
}

// nullZero scans NULL as the zero value of its target.
type nullZero struct{ dst any }

func (n nullZero) Scan(v any) error {
	if v == nil {
		return nil
	}
	switch d := n.dst.(type) {
	case *int64:
		var x sql.NullInt64
		if err := x.Scan(v); err != nil {
			return err
		}
		*d = x.Int64
	case *float64:
		var x sql.NullFloat64
		if err := x.Scan(v); err != nil {
			return err
		}
		*d = x.Float64
	}
	return nil
}

// FindAlerts lists alerts, newest first.
func (s *AlertService) FindAlerts(ctx context.Context, f rapport.AlertFilter) ([]*rapport.Alert, error) {
	where, args := []string{"1 = 1"}, []any{}
	if f.Open {
		where = append(where, "acknowledged_at IS NULL")
	}
	if f.Touchpoint != "" {
		where, args = append(where, "touchpoint = ?"), append(args, f.Touchpoint)
	}
	rows, err := s.db.reader().query(ctx, `SELECT `+alertColumns+` FROM alerts WHERE `+strings.Join(where, " AND ")+
		` ORDER BY raised_at DESC, id DESC LIMIT 500`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*rapport.Alert{}
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AcknowledgeAlert marks an alert seen by whoever acts in ctx.
func (s *AlertService) AcknowledgeAlert(ctx context.Context, id string) (*rapport.Alert, error) {
	var a *rapport.Alert
	err := s.db.inTx(ctx, func(tx *tx) error {
		var err error
		a, err = scanAlert(tx.queryRow(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return rapport.Errorf(rapport.ENOTFOUND, "No alert has the id %q.", id)
		} else if err != nil {
			return err
		}
		if a.AcknowledgedAt != nil {
			return nil
		}
		at := tx.now.Truncate(time.Microsecond)
		a.AcknowledgedAt, a.AcknowledgedBy = &at, rapport.ActorID(ctx)
		_, err = tx.exec(ctx, `UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?`, micros(at), a.AcknowledgedBy, id)
		if err != nil {
			return err
		}
		return auditChanges(ctx, tx, rapport.AuditUpdate, "alert", id,
			map[string]rapport.AuditChange{"acknowledged_at": {After: at}, "acknowledged_by": {After: a.AcknowledgedBy}})
	})
	return a, err
}

func scanAlert(row interface{ Scan(...any) error }) (*rapport.Alert, error) {
	var (
		a       rapport.Alert
		details string
		raised  int64
		acked   sql.NullInt64
	)
	if err := row.Scan(&a.ID, &a.Kind, &a.Touchpoint, &a.Message, &details, &raised, &acked, &a.AcknowledgedBy); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(details), &a.Details); err != nil {
		return nil, err
	}
	a.RaisedAt, a.AcknowledgedAt = fromMicros(raised), timePtr(acked)
	return &a, nil
}
