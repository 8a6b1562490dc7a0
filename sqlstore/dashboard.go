package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// DashboardService computes the dashboard from the moments table.
type DashboardService struct{ db *DB }

// NewDashboardService returns the dashboard of the firm in db.
func NewDashboardService(db *DB) *DashboardService { return &DashboardService{db: db} }

var _ rapport.DashboardService = (*DashboardService)(nil)

// weekMicros is one week in the stored unit. Weeks are bucketed by integer
// division of the microsecond column, which both backends do the same way;
// date functions differ between them and would not be portable.
const weekMicros = int64(7 * 24 * time.Hour / time.Microsecond)

// satisfactionColumns aggregates a group of moments into a rapport.Satisfaction.
const satisfactionColumns = `COUNT(*), COUNT(rating), COALESCE(SUM(rating), 0),
	COALESCE(SUM(CASE WHEN outcome = 'magic' THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN outcome = 'misery' THEN 1 ELSE 0 END), 0)`

func satisfactionDest(s *rapport.Satisfaction) []any {
	return []any{&s.Moments, &s.Rated, &s.RatingTotal, &s.Magic, &s.Misery}
}

// Dashboard returns the firm at a glance for the weeks up to and including
// the current one.
func (s *DashboardService) Dashboard(ctx context.Context, f rapport.DashboardFilter) (*rapport.Dashboard, error) {
	weeks := f.Weeks
	switch {
	case weeks <= 0:
		weeks = rapport.DefaultDashboardWeeks
	case weeks < 2:
		weeks = 2 // this week and last are always compared
	case weeks > rapport.MaxDashboardWeeks:
		weeks = rapport.MaxDashboardWeeks
	}
	misery := f.Misery
	if misery <= 0 {
		misery = 10
	}
	misery = min(misery, 100)

	now := s.db.now()
	d := &rapport.Dashboard{WeekStart: rapport.WeekStart(now)}
	from := d.WeekStart.AddDate(0, 0, -7*(weeks-1))
	to := d.WeekStart.AddDate(0, 0, 7)
	q := s.db.reader()

	d.Weeks = make([]rapport.WeekSatisfaction, weeks)
	for i := range d.Weeks {
		d.Weeks[i].Start = from.AddDate(0, 0, 7*i)
	}
	// The bucket offset and width are constants of ours, written into the SQL
	// so that PostgreSQL need not infer the type of a parameter in arithmetic.
	bucket := `(occurred_at - ` + strconv.FormatInt(micros(from), 10) + `) / ` + strconv.FormatInt(weekMicros, 10)
	rows, err := q.query(ctx, `SELECT `+bucket+` AS bucket, `+satisfactionColumns+`
		FROM moments WHERE occurred_at >= ? AND occurred_at < ? GROUP BY `+bucket, micros(from), micros(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var b int64
		var sat rapport.Satisfaction
		if err := rows.Scan(append([]any{&b}, satisfactionDest(&sat)...)...); err != nil {
			return nil, err
		}
		if b >= 0 && b < int64(weeks) {
			d.Weeks[b].Satisfaction = sat
			d.Overall = d.Overall.Add(sat)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	d.ThisWeek = d.Weeks[weeks-1].Moments
	d.LastWeek = d.Weeks[weeks-2].Moments

	lastWeekStart := d.WeekStart.AddDate(0, 0, -7)
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM moments WHERE occurred_at >= ? AND occurred_at < ?`,
		micros(lastWeekStart), micros(now.AddDate(0, 0, -7))).Scan(&d.LastWeekToDate); err != nil {
		return nil, err
	}

	if d.Touchpoints, err = s.byTouchpoint(ctx, q, from, to); err != nil {
		return nil, err
	}
	if d.LatestMisery, err = s.latestMisery(ctx, q, misery); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *DashboardService) byTouchpoint(ctx context.Context, q querier, from, to time.Time) ([]rapport.TouchpointSatisfaction, error) {
	rows, err := q.query(ctx, `SELECT touchpoint, `+satisfactionColumns+`
		FROM moments WHERE occurred_at >= ? AND occurred_at < ? GROUP BY touchpoint ORDER BY touchpoint`,
		micros(from), micros(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []rapport.TouchpointSatisfaction{}
	for rows.Next() {
		var t rapport.TouchpointSatisfaction
		if err := rows.Scan(append([]any{&t.Touchpoint}, satisfactionDest(&t.Satisfaction)...)...); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *DashboardService) latestMisery(ctx context.Context, q querier, limit int) ([]rapport.CustomerMoment, error) {
	rows, err := q.query(ctx, `SELECT `+qualify("m", momentColumns)+`, c.name
		FROM moments m JOIN customers c ON c.id = m.customer_id
		WHERE m.outcome = 'misery' ORDER BY m.occurred_at DESC, m.id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []rapport.CustomerMoment{}
	for rows.Next() {
		var name sql.NullString
		m, err := scanMoment(withExtra{rows, []any{&name}})
		if err != nil {
			return nil, err
		}
		out = append(out, rapport.CustomerMoment{Moment: m, CustomerName: name.String})
	}
	return out, rows.Err()
}

// qualify prefixes each column of a column list with a table alias, for joins.
func qualify(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
