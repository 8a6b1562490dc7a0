package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// SuggestionService suggests, for one customer at one touchpoint, the
// response most likely to delight them. It reads kept counts only: the
// customer's own counts by response (customer_response_stats, kept by the
// moment pipeline) and every group's (response_group_stats, counted by the
// sweep), so a suggestion costs the same however long the history.
type SuggestionService struct{ db *DB }

// NewSuggestionService returns suggestions from the counts kept in db.
func NewSuggestionService(db *DB) *SuggestionService { return &SuggestionService{db: db} }

var _ rapport.SuggestionService = (*SuggestionService)(nil)

// Suggest ranks the touchpoint's active responses for the customer.
func (s *SuggestionService) Suggest(ctx context.Context, customerID, touchpoint string) (*rapport.Suggestions, error) {
	q := s.db.reader()
	c, err := findCustomer(ctx, q, customerID)
	if err != nil {
		return nil, err
	}
	if _, err := findTouchpoint(ctx, q, touchpoint); err != nil {
		return nil, err
	}
	f := rapport.SuggestionFacts{Customer: c}
	if f.Responses, f.Standard, err = activeResponses(ctx, q, touchpoint); err != nil {
		return nil, err
	}
	if f.Groups, f.CountedAt, err = groupCounts(ctx, q, touchpoint); err != nil {
		return nil, err
	}
	if f.Own, err = ownCounts(ctx, q, customerID, touchpoint); err != nil {
		return nil, err
	}
	if err := s.segmentStandard(ctx, q, &f, touchpoint); err != nil {
		return nil, err
	}
	sg := rapport.Suggest(f)
	sg.Touchpoint = touchpoint
	return sg, nil
}

// segmentStandard makes the standard of a segment the customer is in, if
// the touchpoint has one, the standard the suggestion falls back to.
func (s *SuggestionService) segmentStandard(ctx context.Context, q querier, f *rapport.SuggestionFacts, touchpoint string) error {
	type variant struct{ segment, name, response string }
	var vs []variant
	err := eachRow(ctx, q, `SELECT v.segment_id, s.name, v.response FROM standard_variants v JOIN segments s ON s.id = v.segment_id
		WHERE v.touchpoint = ? AND v.ended_at IS NULL ORDER BY s.name`, []any{touchpoint}, func(rows *sql.Rows) error {
		var v variant
		if err := rows.Scan(&v.segment, &v.name, &v.response); err != nil {
			return err
		}
		vs = append(vs, v)
		return nil
	})
	if err != nil {
		return err
	}
	for _, v := range vs {
		in, err := s.inSegment(ctx, q, v.segment, f.Customer.ID)
		if err != nil {
			return err
		}
		if !in {
			continue
		}
		f.Standard, f.StandardFor = v.response, v.name
		return nil
	}
	return nil
}

// inSegment says whether one customer is in a segment now, by the
// segment's rule on that customer's row alone.
func (s *SuggestionService) inSegment(ctx context.Context, q querier, segmentID, customerID string) (bool, error) {
	sg, err := findSegment(ctx, q, segmentID)
	if err != nil {
		return false, err
	}
	cq, err := s.db.compileRule(sg.Rule)
	if err != nil {
		return false, err
	}
	var one int
	err = q.queryRow(ctx, `SELECT 1`+segmentFrom(cq)+` WHERE m.customer_id = ? AND (`+cq.Where+`)`,
		append([]any{customerID}, cq.Args...)...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("segment %s membership: %w", segmentID, err)
	}
	return true, nil
}

// activeResponses are the touchpoint's responses that are not retired, and
// the key of its standard ("" when it has none).
func activeResponses(ctx context.Context, q querier, touchpoint string) ([]*rapport.Response, string, error) {
	rows, err := q.query(ctx, `SELECT `+responseColumns+` FROM responses WHERE touchpoint = ? AND status <> ? ORDER BY created_at, key`,
		touchpoint, string(rapport.ResponseRetired))
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*rapport.Response
	standard := ""
	for rows.Next() {
		r, err := scanResponse(rows)
		if err != nil {
			return nil, "", err
		}
		if r.Status == rapport.ResponseStandard {
			standard = r.Key
		}
		out = append(out, r)
	}
	return out, standard, rows.Err()
}

// groupCounts reads every group's counts at the touchpoint, by response,
// and when they were counted (nil before the first count).
func groupCounts(ctx context.Context, q querier, touchpoint string) (map[string]map[string]rapport.OutcomeCounts, *time.Time, error) {
	rows, err := q.query(ctx, `SELECT grp, response, moments, magic, misery, counted_at FROM response_group_stats WHERE touchpoint = ?`, touchpoint)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	out := map[string]map[string]rapport.OutcomeCounts{"": {}}
	var counted *time.Time
	for rows.Next() {
		var grp, resp string
		var c rapport.OutcomeCounts
		var at int64
		if err := rows.Scan(&grp, &resp, &c.Moments, &c.Magic, &c.Misery, &at); err != nil {
			return nil, nil, err
		}
		if out[grp] == nil {
			out[grp] = map[string]rapport.OutcomeCounts{}
		}
		out[grp][resp] = c
		t := fromMicros(at)
		counted = &t
	}
	return out, counted, rows.Err()
}

// ownCounts reads the customer's own moments at the touchpoint by response.
func ownCounts(ctx context.Context, q querier, customerID, touchpoint string) (map[string]rapport.OutcomeCounts, error) {
	rows, err := q.query(ctx, `SELECT response, moments, magic, misery FROM customer_response_stats
		WHERE customer_id = ? AND touchpoint = ?`, customerID, touchpoint)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]rapport.OutcomeCounts{}
	for rows.Next() {
		var resp string
		var c rapport.OutcomeCounts
		if err := rows.Scan(&resp, &c.Moments, &c.Magic, &c.Misery); err != nil {
			return nil, err
		}
		out[resp] = c
	}
	return out, rows.Err()
}

// ResponseHistory is every response the customer has met, by touchpoint
// and response: a few kept rows, however long their history.
func (s *SuggestionService) ResponseHistory(ctx context.Context, customerID string) ([]rapport.ResponseHistory, error) {
	rows, err := s.db.reader().query(ctx, `SELECT touchpoint, response, moments, magic, misery FROM customer_response_stats
		WHERE customer_id = ? AND moments > 0 ORDER BY touchpoint, response`, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []rapport.ResponseHistory{}
	for rows.Next() {
		var h rapport.ResponseHistory
		if err := rows.Scan(&h.Touchpoint, &h.Response, &h.Moments, &h.Magic, &h.Misery); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// SetResponseTags replaces what a response involves.
func (s *SuggestionService) SetResponseTags(ctx context.Context, touchpoint, key string, tags []string) (*rapport.Response, error) {
	tags, err := rapport.CheckTags(tags)
	if err != nil {
		return nil, err
	}
	var r *rapport.Response
	err = s.db.inTx(ctx, func(tx *tx) error {
		if r, err = findResponse(ctx, tx.querier, touchpoint, key); err != nil {
			return err
		}
		before := *r
		r.Tags = tags
		doc, err := tagsJSON(tags)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE responses SET tags = ? WHERE id = ?`, doc, r.ID); err != nil {
			return err
		}
		return audit(ctx, tx, rapport.AuditUpdate, "response", r.ID, &before, r)
	})
	return r, err
}

// customerResponseKey names one row of customer_response_stats.
type customerResponseKey struct{ customer, touchpoint, response string }

// addCustomerResponseStats is step 2 of the moment pipeline: each
// customer's counts by touchpoint and response, which suggestions read.
// Moments with no response count nowhere here.
func addCustomerResponseStats(ctx context.Context, tx *tx, ms []signedMoment) error {
	groups := map[customerResponseKey]*rapport.OutcomeCounts{}
	for _, sm := range ms {
		m, n := sm.m, sm.sign
		if m.Response == "" {
			continue
		}
		k := customerResponseKey{m.CustomerID, m.Touchpoint, m.Response}
		g := groups[k]
		if g == nil {
			g = &rapport.OutcomeCounts{}
			groups[k] = g
		}
		g.Moments += n
		switch m.Outcome {
		case rapport.OutcomeMagic:
			g.Magic += n
		case rapport.OutcomeMisery:
			g.Misery += n
		}
	}
	keys := sortedKeys(groups, func(a, b customerResponseKey) int {
		return cmp.Or(strings.Compare(a.customer, b.customer), strings.Compare(a.touchpoint, b.touchpoint), strings.Compare(a.response, b.response))
	})
	const perRow = 6
	for start := 0; start < len(keys); start += insertChunk {
		chunk := keys[start:min(start+insertChunk, len(keys))]
		var q strings.Builder
		q.WriteString(`INSERT INTO customer_response_stats (customer_id, touchpoint, response, moments, magic, misery) VALUES `)
		args := make([]any, 0, len(chunk)*perRow)
		for i, k := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(" + placeholders(perRow) + ")")
			g := groups[k]
			args = append(args, k.customer, k.touchpoint, k.response, g.Moments, g.Magic, g.Misery)
		}
		q.WriteString(` ON CONFLICT (customer_id, touchpoint, response) DO UPDATE SET
			moments = customer_response_stats.moments + excluded.moments,
			magic = customer_response_stats.magic + excluded.magic,
			misery = customer_response_stats.misery + excluded.misery`)
		if _, err := tx.exec(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("customer response counts: %w", err)
		}
	}
	return nil
}

// rebuildCustomerResponseStats counts every customer's moments by response afresh.
func rebuildCustomerResponseStats(ctx context.Context, tx *tx) error {
	if _, err := tx.exec(ctx, `DELETE FROM customer_response_stats`); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `INSERT INTO customer_response_stats (customer_id, touchpoint, response, moments, magic, misery)
		SELECT customer_id, touchpoint, response, COUNT(*),
			SUM(CASE WHEN outcome = 'magic' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'misery' THEN 1 ELSE 0 END)
		FROM moments WHERE response IS NOT NULL AND response <> ''
		GROUP BY customer_id, touchpoint, response`)
	return err
}

// groupKey names one row of response_group_stats.
type groupKey struct{ touchpoint, group, response string }

// groupTotals are one group's counts with one response.
type groupTotals struct {
	customers int
	rapport.OutcomeCounts
}

// RefreshSuggestionGroups counts every group's moments by touchpoint and
// response afresh from each customer's kept counts and the groups each
// customer belongs to now. It reads one row per customer and response
// used, never the moments.
func (s *SuggestionService) RefreshSuggestionGroups(ctx context.Context) error {
	totals, err := s.countGroups(ctx)
	if err != nil {
		return err
	}
	keys := sortedKeys(totals, func(a, b groupKey) int {
		return cmp.Or(strings.Compare(a.touchpoint, b.touchpoint), strings.Compare(a.group, b.group), strings.Compare(a.response, b.response))
	})
	return s.db.inTx(ctx, func(tx *tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM response_group_stats`); err != nil {
			return err
		}
		const perRow = 8
		for start := 0; start < len(keys); start += insertChunk {
			chunk := keys[start:min(start+insertChunk, len(keys))]
			args := make([]any, 0, len(chunk)*perRow)
			rows := make([]string, len(chunk))
			for i, k := range chunk {
				t := totals[k]
				rows[i] = "(" + placeholders(perRow) + ")"
				args = append(args, k.touchpoint, k.group, k.response, t.customers, t.Moments, t.Magic, t.Misery, micros(tx.now))
			}
			if _, err := tx.exec(ctx, `INSERT INTO response_group_stats (touchpoint, grp, response, customers, moments, magic, misery, counted_at)
				VALUES `+strings.Join(rows, ", "), args...); err != nil {
				return fmt.Errorf("group counts: %w", err)
			}
		}
		return nil
	})
}

// countGroups adds each customer's counts to everyone's and to each group
// the customer belongs to.
func (s *SuggestionService) countGroups(ctx context.Context) (map[groupKey]*groupTotals, error) {
	rows, err := s.db.reader().query(ctx, `SELECT c.id, c.stage, c.attributes, c.preferences, s.touchpoint, s.response, s.moments, s.magic, s.misery
		FROM customer_response_stats s JOIN customers c ON c.id = s.customer_id
		WHERE s.moments > 0
		ORDER BY c.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	totals := map[groupKey]*groupTotals{}
	var last string
	var groups []string
	for rows.Next() {
		var id, stage, attrs, prefs, tp, resp string
		var oc rapport.OutcomeCounts
		if err := rows.Scan(&id, &stage, &attrs, &prefs, &tp, &resp, &oc.Moments, &oc.Magic, &oc.Misery); err != nil {
			return nil, err
		}
		if id != last {
			c := rapport.Customer{ID: id, Stage: rapport.Stage(stage)}
			if err := json.Unmarshal([]byte(attrs), &c.Attributes); err != nil {
				return nil, fmt.Errorf("customer %s attributes: %w", id, err)
			}
			if err := json.Unmarshal([]byte(prefs), &c.Preferences); err != nil {
				return nil, fmt.Errorf("customer %s preferences: %w", id, err)
			}
			groups, last = append(rapport.CustomerGroups(&c), ""), id
		}
		for _, g := range groups {
			k := groupKey{tp, g, resp}
			t := totals[k]
			if t == nil {
				t = &groupTotals{}
				totals[k] = t
			}
			t.customers++
			t.Moments += oc.Moments
			t.Magic += oc.Magic
			t.Misery += oc.Misery
		}
	}
	return totals, rows.Err()
}
