package rapport

import (
	"context"
	"time"
)

// Satisfaction sums up a set of moments: how many, how they were rated, and
// how many were magic or misery.
type Satisfaction struct {
	Moments     int   `json:"moments"`
	Rated       int   `json:"rated"`
	RatingTotal int64 `json:"rating_total"`
	Magic       int   `json:"magic"`
	Misery      int   `json:"misery"`
}

// MeanRating is the mean CSAT of the rated moments; ok is false when none was rated.
func (s Satisfaction) MeanRating() (mean float64, ok bool) {
	if s.Rated == 0 {
		return 0, false
	}
	return float64(s.RatingTotal) / float64(s.Rated), true
}

// MagicRate is the share of moments that were magic, 0 when there were none.
func (s Satisfaction) MagicRate() float64 { return shareOf(s.Magic, s.Moments) }

// MiseryRate is the share of moments that were misery, 0 when there were none.
func (s Satisfaction) MiseryRate() float64 { return shareOf(s.Misery, s.Moments) }

// Add returns the sum of two summaries.
func (s Satisfaction) Add(o Satisfaction) Satisfaction {
	return Satisfaction{s.Moments + o.Moments, s.Rated + o.Rated, s.RatingTotal + o.RatingTotal,
		s.Magic + o.Magic, s.Misery + o.Misery}
}

func shareOf(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// WeekSatisfaction is the satisfaction of the moments in one week.
type WeekSatisfaction struct {
	Start time.Time `json:"start"` // Monday 00:00 UTC
	Satisfaction
}

// TouchpointSatisfaction is the satisfaction of the moments at one touchpoint.
type TouchpointSatisfaction struct {
	Touchpoint string `json:"touchpoint"`
	Satisfaction
}

// CustomerMoment is a moment with the name of its customer, for lists that
// span customers.
type CustomerMoment struct {
	Moment       *Moment `json:"moment"`
	CustomerName string  `json:"customer_name"`
}

// Dashboard is the firm at a glance.
type Dashboard struct {
	// WeekStart is the start of the current week: Monday 00:00 UTC.
	WeekStart time.Time `json:"week_start"`
	// ThisWeek counts the moments so far this week; LastWeekToDate counts those
	// of last week up to the same point, so the two compare fairly, and
	// LastWeek counts the whole of last week.
	ThisWeek       int `json:"this_week"`
	LastWeekToDate int `json:"last_week_to_date"`
	LastWeek       int `json:"last_week"`
	// Overall covers every week of Weeks.
	Overall Satisfaction `json:"overall"`
	// Weeks is the series, oldest first, ending with the current week; weeks
	// without moments are present with zero counts.
	Weeks []WeekSatisfaction `json:"weeks"`
	// Touchpoints covers the same period, one entry per touchpoint with moments,
	// ordered by touchpoint key.
	Touchpoints []TouchpointSatisfaction `json:"touchpoints"`
	// LatestMisery are the most recent misery moments, newest first.
	LatestMisery []CustomerMoment `json:"latest_misery"`
}

// DashboardFilter chooses the period of a dashboard.
type DashboardFilter struct {
	// Weeks is how many weeks the series covers, the current one included;
	// 0 means DefaultDashboardWeeks.
	Weeks int
	// Misery is how many of the latest misery moments to list; 0 means 10.
	Misery int
}

// Limits of a dashboard's period.
const (
	DefaultDashboardWeeks = 12
	MaxDashboardWeeks     = 104
)

// WeekStart returns the Monday 00:00 UTC on or before t.
func WeekStart(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	back := (int(day.Weekday()) + 6) % 7 // days since Monday
	return day.AddDate(0, 0, -back)
}

// DashboardService computes the dashboard.
type DashboardService interface {
	Dashboard(ctx context.Context, f DashboardFilter) (*Dashboard, error)
}
