package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// StandardService promotes responses to service standards and watches them.
type StandardService struct{ db *DB }

// NewStandardService returns the standards stored in db.
func NewStandardService(db *DB) *StandardService { return &StandardService{db: db} }

var _ rapport.StandardService = (*StandardService)(nil)

// Decay is judged at 5% significance, once the standard has been used this
// often since promotion.
const (
	decayAlpha      = 0.05
	decayMinMoments = 30
)

const standardColumns = `id, touchpoint, response, since, ended_at, baseline_moments, baseline_magic,
	baseline_rated, baseline_rating_sum, promoted_by`

// PromoteResponse makes a response the touchpoint's standard, recording as its
// baseline the magic rate and mean rating of every moment that used it before.
// The standard it replaces ends, and its response returns to trial.
func (s *StandardService) PromoteResponse(ctx context.Context, touchpoint, response string) (*rapport.Standard, error) {
	var id string
	err := s.db.inTx(ctx, func(tx *tx) error {
		if _, err := findTouchpoint(ctx, tx.querier, touchpoint); err != nil {
			return err
		}
		r, err := findResponse(ctx, tx.querier, touchpoint, response)
		if err != nil {
			if rapport.ErrorCode(err) == rapport.ENOTFOUND {
				return &rapport.Error{Code: rapport.EINVALID, Message: err.(*rapport.Error).Message,
					Fields: []rapport.FieldError{{Field: "response", Message: "no such response at this touchpoint"}}}
			}
			return err
		}
		if err := r.CheckPromote(); err != nil {
			return err
		}
		var base momentCounts
		if err := base.load(ctx, tx.querier, touchpoint, response, 0, micros(tx.now)); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE responses SET status = ? WHERE touchpoint = ? AND status = ?`,
			string(rapport.ResponseTrial), touchpoint, string(rapport.ResponseStandard)); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE standards SET ended_at = ? WHERE touchpoint = ? AND ended_at IS NULL`, micros(tx.now), touchpoint); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE responses SET status = ? WHERE id = ?`, string(rapport.ResponseStandard), r.ID); err != nil {
			return err
		}
		id = rapport.NewID(tx.now)
		_, err = tx.exec(ctx, `INSERT INTO standards (`+standardColumns+`) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)`,
			id, touchpoint, response, micros(tx.now), base.moments, base.magic, base.rated, base.ratingSum, rapport.ActorID(ctx))
		if err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditCreate, "standard", id, nil,
			map[string]any{"touchpoint": touchpoint, "response": response, "response_id": r.ID})
	})
	if err != nil {
		return nil, err
	}
	return s.find(ctx, `id = ?`, id)
}

// FindStandard returns the touchpoint's current standard with how it has done
// since promotion, or ENOTFOUND.
func (s *StandardService) FindStandard(ctx context.Context, touchpoint string) (*rapport.Standard, error) {
	if _, err := findTouchpoint(ctx, s.db.reader(), touchpoint); err != nil {
		return nil, err
	}
	return s.find(ctx, `touchpoint = ? AND ended_at IS NULL`, touchpoint)
}

func (s *StandardService) find(ctx context.Context, where string, arg any) (*rapport.Standard, error) {
	q := s.db.reader()
	st, err := s.scan(ctx, q, q.queryRow(ctx, `SELECT `+standardColumns+` FROM standards WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "The touchpoint has no service standard yet.")
	}
	return st, err
}

// StandardHistory returns every standard the touchpoint has had, newest first.
func (s *StandardService) StandardHistory(ctx context.Context, touchpoint string) ([]*rapport.Standard, error) {
	if _, err := findTouchpoint(ctx, s.db.reader(), touchpoint); err != nil {
		return nil, err
	}
	q := s.db.reader()
	rows, err := q.query(ctx, `SELECT `+standardColumns+` FROM standards WHERE touchpoint = ? ORDER BY since DESC, id DESC`, touchpoint)
	if err != nil {
		return nil, err
	}
	var out []*rapport.Standard
	var pending []func() error
	for rows.Next() {
		st, err := scanStandardRow(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, st.Standard)
		pending = append(pending, func() error { return s.measure(ctx, q, st) })
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Measured after the rows are closed: SQLite's pool may hold one reader per query.
	for _, p := range pending {
		if err := p(); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = []*rapport.Standard{}
	}
	return out, nil
}

// standardRow is a standard as stored, with its baseline counts.
type standardRow struct {
	*rapport.Standard
	base momentCounts
}

func scanStandardRow(row interface{ Scan(...any) error }) (*standardRow, error) {
	st := &standardRow{Standard: &rapport.Standard{}}
	var since int64
	var ended sql.NullInt64
	if err := row.Scan(&st.ID, &st.Touchpoint, &st.Response, &since, &ended, &st.base.moments, &st.base.magic,
		&st.base.rated, &st.base.ratingSum, &st.PromotedBy); err != nil {
		return nil, err
	}
	st.Since, st.EndedAt = fromMicros(since), timePtr(ended)
	return st, nil
}

func (s *StandardService) scan(ctx context.Context, q querier, row *sql.Row) (*rapport.Standard, error) {
	st, err := scanStandardRow(row)
	if err != nil {
		return nil, err
	}
	return st.Standard, s.measure(ctx, q, st)
}

// measure fills the standard's baseline and current figures and judges decay:
// the current magic rate (moments that used the response since promotion,
// until the standard ended) against the baseline (moments that used it before).
func (s *StandardService) measure(ctx context.Context, q querier, st *standardRow) error {
	until := micros(s.db.now()) + 1
	if st.EndedAt != nil {
		until = micros(*st.EndedAt)
	}
	var cur momentCounts
	if err := cur.load(ctx, q, st.Touchpoint, st.Response, micros(st.Since), until); err != nil {
		return err
	}
	st.BaselineMoments, st.CurrentMoments = int(st.base.moments), int(cur.moments)
	st.BaselineMagicRate, _ = rateOf(st.base.proportion())
	st.CurrentMagicRate, _ = rateOf(cur.proportion())
	st.BaselineRating, st.CurrentRating = st.base.meanRating(), cur.meanRating()
	check := analytics.Decayed(st.base.proportion(), cur.proportion(), decayAlpha, decayMinMoments)
	st.Decayed, st.PValue = check.Decayed, check.PValue
	st.Explanation = check.Message
	return nil
}

// momentCounts are the figures of the moments that used one response in a period.
type momentCounts struct {
	moments, magic, rated int64
	ratingSum             float64
}

func (c *momentCounts) load(ctx context.Context, q querier, touchpoint, response string, from, to int64) error {
	return q.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN outcome = 'magic' THEN 1 ELSE 0 END), 0),
		COUNT(rating), COALESCE(SUM(rating), 0)
		FROM moments WHERE touchpoint = ? AND response = ? AND occurred_at >= ? AND occurred_at < ?`,
		touchpoint, response, from, to).Scan(&c.moments, &c.magic, &c.rated, &c.ratingSum)
}

func (c momentCounts) proportion() analytics.Proportion {
	return analytics.Proportion{Successes: int(c.magic), Trials: int(c.moments)}
}

func (c momentCounts) meanRating() *float64 {
	if c.rated == 0 {
		return nil
	}
	v := c.ratingSum / float64(c.rated)
	return &v
}
