package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/rapport-crm/rapport"
)

// TimelineService assembles customers' histories from every kind of event.
type TimelineService struct{ db *DB }

// NewTimelineService returns the timelines of the customers in db.
func NewTimelineService(db *DB) *TimelineService { return &TimelineService{db: db} }

var _ rapport.TimelineService = (*TimelineService)(nil)

// timelineSource returns up to limit of a customer's events of one kind,
// newest first, strictly before the cursor position (at, id) when one is set.
type timelineSource func(ctx context.Context, q querier, customerID string, c timelinePosition, limit int) ([]rapport.TimelineEntry, error)

// timelinePosition is where a page of the timeline ends: the time and id of
// its last entry. Zero means the newest end.
type timelinePosition struct {
	at int64
	id string
}

// before returns the SQL condition and arguments for rows older than the
// position, on the given time and id columns.
func (p timelinePosition) before(atCol, idCol string) (string, []any) {
	if p.id == "" {
		return "1 = 1", nil
	}
	return "(" + atCol + " < ? OR (" + atCol + " = ? AND " + idCol + " < ?))", []any{p.at, p.at, p.id}
}

// timelineSources lists every kind of event on a customer's timeline; each
// capability that adds a kind adds its source here.
var timelineSources = []timelineSource{momentEntries, stageChangeEntries, promiseEntries, caseEntries, surveyEntries, emailEntries}

// Timeline returns a customer's history, newest first, merging every source.
// Each source gives at most one page past the cursor, so a page costs one
// indexed query per kind of event however long the history is.
func (s *TimelineService) Timeline(ctx context.Context, customerID string, f rapport.TimelineFilter) (rapport.Page[rapport.TimelineEntry], error) {
	page := rapport.Page[rapport.TimelineEntry]{Items: []rapport.TimelineEntry{}}
	q := s.db.reader()
	if _, err := findCustomer(ctx, q, customerID); err != nil {
		return page, err
	}
	var pos timelinePosition
	if f.Cursor != "" {
		us, id, err := decodeTimeCursor(f.Cursor)
		if err != nil {
			return page, err
		}
		pos = timelinePosition{at: us, id: id}
	}
	limit := rapport.PageLimit(f.Limit)
	var all []rapport.TimelineEntry
	for _, source := range timelineSources {
		entries, err := source(ctx, q, customerID, pos, limit+1)
		if err != nil {
			return page, err
		}
		all = append(all, entries...)
	}
	slices.SortFunc(all, func(a, b rapport.TimelineEntry) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	if len(all) > limit {
		all = all[:limit]
		last := all[limit-1]
		page.NextCursor = timeCursor(last.At, last.ID)
	}
	page.Items = append(page.Items, all...)
	return page, nil
}

func momentEntries(ctx context.Context, q querier, customerID string, pos timelinePosition, limit int) ([]rapport.TimelineEntry, error) {
	cond, args := pos.before("occurred_at", "id")
	rows, err := q.query(ctx, `SELECT `+momentColumns+` FROM moments WHERE customer_id = ? AND `+cond+
		` ORDER BY occurred_at DESC, id DESC LIMIT ?`, append(append([]any{customerID}, args...), limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []rapport.TimelineEntry
	for rows.Next() {
		m, err := scanMoment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rapport.TimelineEntry{Kind: rapport.EntryMoment, ID: m.ID, At: m.OccurredAt, Moment: m})
	}
	return out, rows.Err()
}

func stageChangeEntries(ctx context.Context, q querier, customerID string, pos timelinePosition, limit int) ([]rapport.TimelineEntry, error) {
	cond, args := pos.before("changed_at", "id")
	rows, err := q.query(ctx, `SELECT id, customer_id, from_stage, to_stage, reason, dissolution_reason, changed_by, changed_at
		FROM stage_changes WHERE customer_id = ? AND `+cond+` ORDER BY changed_at DESC, id DESC LIMIT ?`,
		append(append([]any{customerID}, args...), limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []rapport.TimelineEntry
	for rows.Next() {
		sc, err := scanStageChange(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rapport.TimelineEntry{Kind: rapport.EntryStageChange, ID: sc.ID, At: sc.ChangedAt, StageChange: sc})
	}
	return out, rows.Err()
}

func scanStageChange(row interface{ Scan(...any) error }) (*rapport.StageChange, error) {
	var sc rapport.StageChange
	var at int64
	var reason sql.NullString
	if err := row.Scan(&sc.ID, &sc.CustomerID, &sc.From, &sc.To, &reason, &sc.DissolutionReason, &sc.ChangedBy, &at); err != nil {
		return nil, err
	}
	sc.Reason, sc.ChangedAt = reason.String, fromMicros(at)
	return &sc, nil
}
