package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// VariantService keeps segment variants of service standards: a segment's
// own standard at a touchpoint, promoted on the segment's own evidence and
// watched for decay on its own.
type VariantService struct{ db *DB }

// NewVariantService returns the variants stored in db.
func NewVariantService(db *DB) *VariantService { return &VariantService{db: db} }

var _ rapport.VariantService = (*VariantService)(nil)

const variantColumns = `v.id, v.touchpoint, v.segment_id, s.name, v.response, v.since, v.ended_at, v.baseline_moments, v.baseline_magic, v.promoted_by`

// CompareInSegment compares the touchpoint's active responses on every
// moment of the segment's customers (as the segment stands now).
func (s *VariantService) CompareInSegment(ctx context.Context, touchpoint, segmentID string) (*rapport.Comparison, error) {
	q := s.db.reader()
	responses, err := NewResponseService(s.db).FindResponses(ctx, touchpoint)
	if err != nil {
		return nil, err
	}
	totals, err := s.segmentResponseStats(ctx, q, touchpoint, segmentID, 0, micros(s.db.now())+1)
	if err != nil {
		return nil, err
	}
	return compareTotals(touchpoint, responses, totals), nil
}

// segmentResponseStats totals the touchpoint's moments of the segment's
// customers by response, over [from, to).
func (s *VariantService) segmentResponseStats(ctx context.Context, q querier, touchpoint, segmentID string, from, to int64) (map[string]stats, error) {
	members, memberArgs, _, err := s.db.segmentCustomers(ctx, q, segmentID)
	if err != nil {
		return nil, err
	}
	if members == "" {
		return nil, rapport.Errorf(rapport.EINVALID, "Say which segment.")
	}
	query := `SELECT response, ` + momentSums + `
		FROM moments WHERE touchpoint = ? AND response IS NOT NULL AND occurred_at >= ? AND occurred_at < ?
			AND customer_id IN (` + members + `) GROUP BY response`
	args := append([]any{touchpoint, from, to}, memberArgs...)
	return statsByKey(ctx, q, query, args)
}

// PromoteVariant makes response the segment's standard at the touchpoint,
// when it is the winner on the segment's moments; the segment's previous
// variant there ends. Its baseline is the segment's moments with the
// response until now.
func (s *VariantService) PromoteVariant(ctx context.Context, touchpoint, segmentID, response string) (*rapport.StandardVariant, error) {
	sg, err := findSegment(ctx, s.db.reader(), segmentID)
	if err != nil {
		if rapport.ErrorCode(err) == rapport.ENOTFOUND {
			return nil, &rapport.Error{Code: rapport.EINVALID, Message: err.(*rapport.Error).Message,
				Fields: []rapport.FieldError{{Field: "segment", Message: "no such segment"}}}
		}
		return nil, err
	}
	if _, err := findResponse(ctx, s.db.reader(), touchpoint, response); err != nil {
		if rapport.ErrorCode(err) == rapport.ENOTFOUND {
			return nil, &rapport.Error{Code: rapport.EINVALID, Message: err.(*rapport.Error).Message,
				Fields: []rapport.FieldError{{Field: "response", Message: "no such response at this touchpoint"}}}
		}
		return nil, err
	}
	c, err := s.CompareInSegment(ctx, touchpoint, segmentID)
	if err != nil {
		return nil, err
	}
	if err := rapport.CheckVariantEvidence(c, sg.Name, response); err != nil {
		return nil, err
	}
	var base analytics.Proportion
	for _, m := range c.Responses {
		if m.Key == response {
			base = analytics.Proportion{Successes: m.Magic, Trials: m.Moments}
		}
	}
	var id string
	err = s.db.inTx(ctx, func(tx *tx) error {
		if _, err := tx.exec(ctx, `UPDATE standard_variants SET ended_at = ? WHERE touchpoint = ? AND segment_id = ? AND ended_at IS NULL`,
			micros(tx.now), touchpoint, segmentID); err != nil {
			return err
		}
		id = rapport.NewID(tx.now)
		if _, err := tx.exec(ctx, `INSERT INTO standard_variants (id, touchpoint, segment_id, response, since, baseline_moments, baseline_magic, promoted_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, touchpoint, segmentID, response, micros(tx.now), base.Trials, base.Successes, rapport.ActorID(ctx)); err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditCreate, "standard", id, nil,
			map[string]any{"touchpoint": touchpoint, "response": response, "segment_id": segmentID})
	})
	if err != nil {
		return nil, err
	}
	vs, err := s.find(ctx, `v.id = ?`, id)
	if err != nil {
		return nil, err
	}
	return vs[0], nil
}

// FindVariants returns the touchpoint's current variants, each measured
// since promotion and judged for decay.
func (s *VariantService) FindVariants(ctx context.Context, touchpoint string) ([]*rapport.StandardVariant, error) {
	if _, err := findTouchpoint(ctx, s.db.reader(), touchpoint); err != nil {
		return nil, err
	}
	return s.find(ctx, `v.touchpoint = ? AND v.ended_at IS NULL`, touchpoint)
}

func (s *VariantService) find(ctx context.Context, where string, arg any) ([]*rapport.StandardVariant, error) {
	q := s.db.reader()
	type row struct {
		v    *rapport.StandardVariant
		base analytics.Proportion
	}
	var found []row
	err := eachRow(ctx, q, `SELECT `+variantColumns+` FROM standard_variants v JOIN segments s ON s.id = v.segment_id
		WHERE `+where+` ORDER BY s.name, v.since`, []any{arg}, func(rows *sql.Rows) error {
		v := &rapport.StandardVariant{}
		var since int64
		var ended sql.NullInt64
		var base analytics.Proportion
		if err := rows.Scan(&v.ID, &v.Touchpoint, &v.SegmentID, &v.SegmentName, &v.Response, &since, &ended,
			&base.Trials, &base.Successes, &v.PromotedBy); err != nil {
			return err
		}
		v.Since, v.EndedAt = fromMicros(since), timePtr(ended)
		found = append(found, row{v, base})
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*rapport.StandardVariant, 0, len(found))
	for _, r := range found {
		if err := s.measure(ctx, q, r.v, r.base); err != nil {
			return nil, err
		}
		out = append(out, r.v)
	}
	return out, nil
}

// measure fills the variant's figures and judges decay as a touchpoint's
// standard is judged, on the segment's moments with the response since
// promotion against those before.
func (s *VariantService) measure(ctx context.Context, q querier, v *rapport.StandardVariant, base analytics.Proportion) error {
	until := micros(s.db.now()) + 1
	if v.EndedAt != nil {
		until = micros(*v.EndedAt)
	}
	totals, err := s.segmentResponseStats(ctx, q, v.Touchpoint, v.SegmentID, micros(v.Since), until)
	if err != nil {
		return fmt.Errorf("variant %s: %w", v.ID, err)
	}
	cur := totals[v.Response].magicRate()
	v.BaselineMoments, v.CurrentMoments = base.Trials, cur.Trials
	v.BaselineMagicRate, _ = rateOf(base)
	v.CurrentMagicRate, _ = rateOf(cur)
	check := analytics.Decayed(base, cur, decayAlpha, decayMinMoments)
	v.Decayed, v.PValue, v.Explanation = check.Decayed, check.PValue, check.Message
	return nil
}
