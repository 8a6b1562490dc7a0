package sqlstore

import (
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// DashboardService computes the dashboard from the running totals, and the
// latest misery from the moments.
type DashboardService struct{ db *DB }

// NewDashboardService returns the dashboard of the firm in db.
func NewDashboardService(db *DB) *DashboardService { return &DashboardService{db: db} }

var _ rapport.DashboardService = (*DashboardService)(nil)

// weekMicros is one week in the stored unit. Weeks are bucketed by integer
// division of the microsecond column, which both backends do the same way;
// date functions differ between them and would not be portable.
const weekMicros = int64(7 * 24 * time.Hour / time.Microsecond)

// Dashboard returns the firm at a glance for the weeks up to and including
// the current one.
func (s *DashboardService) Dashboard(ctx context.Context, f rapport.DashboardFilter) (*rapport.Dashboard, error) {
	weeks, misery := dashboardLimits(f)
	now := s.db.now()
	d := &rapport.Dashboard{WeekStart: rapport.WeekStart(now)}
	from := d.WeekStart.AddDate(0, 0, -7*(weeks-1))
	to := d.WeekStart.AddDate(0, 0, 7)
	q := s.db.reader()

	d.Weeks = make([]rapport.WeekSatisfaction, weeks)
	for i := range d.Weeks {
		d.Weeks[i].Start = from.AddDate(0, 0, 7*i)
	}
	if err := addWeeklySatisfaction(ctx, q, d, from, to); err != nil {
		return nil, err
	}
	d.ThisWeek = d.Weeks[weeks-1].Moments
	d.LastWeek = d.Weeks[weeks-2].Moments

	lastWeekStart := d.WeekStart.AddDate(0, 0, -7)
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM moments WHERE occurred_at >= ? AND occurred_at < ?`,
		micros(lastWeekStart), micros(now.AddDate(0, 0, -7))).Scan(&d.LastWeekToDate); err != nil {
		return nil, err
	}
	var err error
	if d.LatestMisery, err = s.latestMisery(ctx, q, misery); err != nil {
		return nil, err
	}
	return d, nil
}

// dashboardLimits are how many weeks the dashboard shows and how many of
// the latest misery moments, within bounds.
func dashboardLimits(f rapport.DashboardFilter) (weeks, misery int) {
	weeks = f.Weeks
	switch {
	case weeks <= 0:
		weeks = rapport.DefaultDashboardWeeks
	case weeks < 2:
		weeks = 2 // this week and last are always compared
	case weeks > rapport.MaxDashboardWeeks:
		weeks = rapport.MaxDashboardWeeks
	}
	misery = f.Misery
	if misery <= 0 {
		misery = 10
	}
	return weeks, min(misery, 100)
}

// addWeeklySatisfaction sums the satisfaction of d's weeks, [from, to), per
// week, per touchpoint and overall. Weeks and touchpoints come
// from the running totals (whole days), so the dashboard costs the same
// however many moments there are.
func addWeeklySatisfaction(ctx context.Context, q querier, d *rapport.Dashboard, from, to time.Time) error {
	perTouchpoint := map[string]rapport.Satisfaction{}
	err := eachRow(ctx, q, `SELECT day, touchpoint, SUM(moments), SUM(rated), SUM(rating_sum), SUM(magic), SUM(misery)
		FROM moment_stats WHERE day >= ? AND day < ? GROUP BY day, touchpoint`, []any{dayOf(from), dayOf(to)},
		func(rows *sql.Rows) error {
			var (
				day       int64
				tp        string
				sat       rapport.Satisfaction
				ratingSum float64
			)
			if err := rows.Scan(&day, &tp, &sat.Moments, &sat.Rated, &ratingSum, &sat.Magic, &sat.Misery); err != nil {
				return err
			}
			sat.RatingTotal = int64(math.Round(ratingSum))
			if b := (day*dayMicros - micros(from)) / weekMicros; b >= 0 && b < int64(len(d.Weeks)) {
				d.Weeks[b].Satisfaction = d.Weeks[b].Satisfaction.Add(sat)
				d.Overall = d.Overall.Add(sat)
				perTouchpoint[tp] = perTouchpoint[tp].Add(sat)
			}
			return nil
		})
	if err != nil {
		return err
	}
	d.Touchpoints = []rapport.TouchpointSatisfaction{}
	for tp, sat := range perTouchpoint {
		d.Touchpoints = append(d.Touchpoints, rapport.TouchpointSatisfaction{Touchpoint: tp, Satisfaction: sat})
	}
	slices.SortFunc(d.Touchpoints, func(a, b rapport.TouchpointSatisfaction) int { return strings.Compare(a.Touchpoint, b.Touchpoint) })
	return nil
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
