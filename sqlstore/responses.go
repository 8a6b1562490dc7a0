package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// ResponseService keeps each touchpoint's alternative responses and compares them.
type ResponseService struct{ db *DB }

// NewResponseService returns the responses stored in db.
func NewResponseService(db *DB) *ResponseService { return &ResponseService{db: db} }

var _ rapport.ResponseService = (*ResponseService)(nil)

// Winner decisions: 5% significance after Holm's correction, and no verdict
// before every response has been used this many times.
const (
	winnerAlpha      = 0.05
	winnerMinMoments = 30
)

const responseColumns = `id, touchpoint, key, description, status, created_at, tags`

// CreateResponse adds an alternative response to a touchpoint.
func (s *ResponseService) CreateResponse(ctx context.Context, r *rapport.Response) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.db.inTx(ctx, func(tx *tx) error {
		if _, err := findTouchpoint(ctx, tx.querier, r.Touchpoint); err != nil {
			return err
		}
		if _, err := findResponse(ctx, tx.querier, r.Touchpoint, r.Key); err == nil {
			return rapport.Errorf(rapport.ECONFLICT, "Touchpoint %q has a response %q already.", r.Touchpoint, r.Key)
		}
		r.ID = rapport.NewID(tx.now)
		r.CreatedAt = tx.now.Truncate(time.Microsecond)
		tags, err := tagsJSON(r.Tags)
		if err != nil {
			return err
		}
		_, err = tx.exec(ctx, `INSERT INTO responses (`+responseColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Touchpoint, r.Key, r.Description, string(r.Status), micros(r.CreatedAt), tags)
		if tx.d.uniqueViolation(err) {
			return rapport.Errorf(rapport.ECONFLICT, "Touchpoint %q has a response %q already.", r.Touchpoint, r.Key)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditCreate, "response", r.ID, nil, r)
	})
}

// FindResponses lists a touchpoint's responses, oldest first.
func (s *ResponseService) FindResponses(ctx context.Context, touchpoint string) ([]*rapport.Response, error) {
	if _, err := findTouchpoint(ctx, s.db.reader(), touchpoint); err != nil {
		return nil, err
	}
	rows, err := s.db.reader().query(ctx, `SELECT `+responseColumns+` FROM responses WHERE touchpoint = ? ORDER BY created_at, key`, touchpoint)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*rapport.Response{}
	for rows.Next() {
		r, err := scanResponse(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetResponseStatus moves a response to candidate, trial or retired. Retiring
// the touchpoint's standard ends the standard.
func (s *ResponseService) SetResponseStatus(ctx context.Context, touchpoint, key string, status rapport.ResponseStatus) (*rapport.Response, error) {
	if !status.Settable() {
		return nil, &rapport.Error{Code: rapport.EINVALID, Message: "The status is not valid.",
			Fields: []rapport.FieldError{{Field: "status", Message: "must be candidate, trial or retired; a response becomes the standard by promotion"}}}
	}
	var r *rapport.Response
	err := s.db.inTx(ctx, func(tx *tx) error {
		var err error
		if r, err = findResponse(ctx, tx.querier, touchpoint, key); err != nil {
			return err
		}
		if r.Status == rapport.ResponseStandard {
			if _, err := tx.exec(ctx, `UPDATE standards SET ended_at = ? WHERE touchpoint = ? AND ended_at IS NULL`, micros(tx.now), touchpoint); err != nil {
				return err
			}
		}
		before := *r
		r.Status = status
		if _, err = tx.exec(ctx, `UPDATE responses SET status = ? WHERE id = ?`, status, r.ID); err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditUpdate, "response", r.ID, &before, r)
	})
	return r, err
}

func findResponse(ctx context.Context, q querier, touchpoint, key string) (*rapport.Response, error) {
	r, err := scanResponse(q.queryRow(ctx, `SELECT `+responseColumns+` FROM responses WHERE touchpoint = ? AND key = ?`, touchpoint, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rapport.Errorf(rapport.ENOTFOUND, "Touchpoint %q has no response %q.", touchpoint, key)
	}
	return r, err
}

func scanResponse(row interface{ Scan(...any) error }) (*rapport.Response, error) {
	var r rapport.Response
	var created int64
	var tags string
	if err := row.Scan(&r.ID, &r.Touchpoint, &r.Key, &r.Description, &r.Status, &created, &tags); err != nil {
		return nil, err
	}
	r.CreatedAt = fromMicros(created)
	if err := json.Unmarshal([]byte(tags), &r.Tags); err != nil {
		return nil, fmt.Errorf("response %s tags: %w", r.ID, err)
	}
	return &r, nil
}

// CompareResponses compares the touchpoint's responses that are not retired
// on the moments in the window that used them, and names a winner only when
// its magic rate beats every other's significantly.
func (s *ResponseService) CompareResponses(ctx context.Context, touchpoint string, f rapport.ReportFilter) (*rapport.Comparison, error) {
	fromDay, toDay, err := dayWindow(f, s.db.now())
	if err != nil {
		return nil, err
	}
	responses, err := s.FindResponses(ctx, touchpoint)
	if err != nil {
		return nil, err
	}
	totals, err := sumStats(ctx, s.db.reader(), "response", fromDay, toDay, f.Channel, "touchpoint = ? AND response <> ''", touchpoint)
	if err != nil {
		return nil, err
	}
	return compareTotals(touchpoint, responses, totals), nil
}

// compareTotals compares the responses that are not retired on their
// totals, and names a winner only when its magic rate beats every other's
// significantly.
func compareTotals(touchpoint string, responses []*rapport.Response, totals map[string]stats) *rapport.Comparison {
	c := &rapport.Comparison{Touchpoint: touchpoint, Responses: []rapport.ResponseMeasures{}, Alpha: winnerAlpha,
		MinMoments: winnerMinMoments, Tests: []rapport.PairTest{},
		Method: rapport.ComparisonMethod}
	var arms []analytics.Arm
	for _, r := range responses {
		if r.Status == rapport.ResponseRetired {
			continue
		}
		st := totals[r.Key]
		m := rapport.ResponseMeasures{Response: *r, Moments: int(st.moments), Magic: int(st.magic), Rated: int(st.rated)}
		m.MagicRate, m.MagicRateCI = rateOf(st.magicRate())
		m.MeanRating, m.MeanRatingCI = meanOf(st.ratings())
		c.Responses = append(c.Responses, m)
		arms = append(arms, analytics.Arm{Key: r.Key, Name: rapport.KeyName(r.Key), Magic: st.magicRate()})
	}
	d := analytics.Winner(arms, winnerAlpha, winnerMinMoments)
	if d.Winner != "" {
		w := d.Winner
		c.Winner = &w
	}
	c.Reason, c.Explanation = rapport.ComparisonReason(d.Reason), d.Message
	for _, p := range d.Pairs {
		c.Tests = append(c.Tests, rapport.PairTest{Leader: p.Leader, Other: p.Other, Difference: p.Difference,
			DifferenceCI: rapport.Interval{p.Interval.Lo, p.Interval.Hi}, PValue: p.PValue, AdjustedPValue: p.Adjusted, Test: string(p.Test)})
	}
	return c
}

// tagsJSON is a response's tags as stored: a JSON list, never null.
func tagsJSON(tags []string) (string, error) {
	if tags == nil {
		tags = []string{}
	}
	b, err := json.Marshal(tags)
	return string(b), err
}
