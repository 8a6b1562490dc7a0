package rapport

import (
	"time"

	"github.com/rapport-crm/rapport/analytics"
)

// The trend of a handover brief: the customer's mean rating over the last
// 90 days against the 90 before, and month by month over the last six.

const (
	// BriefTrendMonths is how many calendar months the brief's trend lists.
	BriefTrendMonths = 6
	// BriefTrendMargin is how far, in rating points, the last 90 days' mean
	// must move from the 90 days before for the trend to count as moving.
	BriefTrendMargin = 0.3
	// trendDays is the length of each of the two windows compared.
	trendDays = 90
)

// TrendDay is what the trend reads of one day of a customer's moments,
// summed: the customer's daily totals, kept as moments arrive, so that the
// trend costs the same whatever the customer's history.
type TrendDay struct {
	Day       time.Time // midnight UTC
	Moments   int
	Rated     int
	RatingSum float64
	Magic     int
	Misery    int
}

// BriefTrendSince is the first day BriefTrendOf needs at now: the start of
// the first month it lists, or 179 days before today (the first day of the
// previous 90), whichever is earlier.
func BriefTrendSince(now time.Time) time.Time {
	first := trendFirstMonth(now)
	if since := utcDay(now).AddDate(0, 0, -(2*trendDays - 1)); since.Before(first) {
		return since
	}
	return first
}

func trendFirstMonth(now time.Time) time.Time {
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1-BriefTrendMonths, 0)
}

func utcDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// BriefTrendOf works out the trend at now from the customer's daily totals
// since BriefTrendSince(now), in any order. The last 90 days are today and
// the 89 before it; the previous 90 the days before those. Days after today
// are ignored.
func BriefTrendOf(now time.Time, days []TrendDay) BriefTrend {
	first, today := trendFirstMonth(now), utcDay(now)
	months := make([]BriefMonth, BriefTrendMonths)
	sums := make([]analytics.Mean, BriefTrendMonths)
	for i := range months {
		months[i].Month = first.AddDate(0, i, 0)
	}
	var recent, previous analytics.Mean
	for _, d := range days {
		if d.Day.After(today) {
			continue
		}
		rated := analytics.Mean{N: d.Rated, Sum: d.RatingSum}
		switch age := int(today.Sub(utcDay(d.Day)) / (24 * time.Hour)); {
		case age < trendDays:
			recent = recent.Merge(rated)
		case age < 2*trendDays:
			previous = previous.Merge(rated)
		}
		i := (d.Day.Year()-first.Year())*12 + int(d.Day.Month()) - int(first.Month())
		if i < 0 || i >= BriefTrendMonths {
			continue
		}
		months[i].Moments += d.Moments
		months[i].Magic += d.Magic
		months[i].Misery += d.Misery
		months[i].Rated += d.Rated
		sums[i] = sums[i].Merge(rated)
	}
	for i := range months {
		months[i].MeanRating = meanOrNil(sums[i])
	}
	t := BriefTrend{Months: months, RecentRated: recent.N, PreviousRated: previous.N,
		RecentMean: meanOrNil(recent), PreviousMean: meanOrNil(previous)}
	t.Direction = TrendDirectionOf(t.RecentMean, t.PreviousMean)
	return t
}

// TrendDirectionOf compares the recent mean rating with the previous one:
// a move of more than BriefTrendMargin either way is improving or
// declining, anything less is steady, and without both it is unknown.
func TrendDirectionOf(recent, previous *float64) TrendDirection {
	if recent == nil || previous == nil {
		return TrendUnknown
	}
	switch d := *recent - *previous; {
	case d > BriefTrendMargin:
		return TrendImproving
	case d < -BriefTrendMargin:
		return TrendDeclining
	}
	return TrendSteady
}

func meanOrNil(m analytics.Mean) *float64 {
	if m.N == 0 {
		return nil
	}
	v := m.Value()
	return &v
}

// Known reports whether the direction could be worked out.
func (d TrendDirection) Known() bool { return d != TrendUnknown && d != "" }
