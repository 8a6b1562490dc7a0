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
	trendWindow      = 90 * 24 * time.Hour
)

// TrendMoment is what the trend reads of one moment: when it happened, its
// rating (nil when unrated) and its outcome.
type TrendMoment struct {
	At      time.Time
	Rating  *int
	Outcome Outcome
}

// BriefTrendSince is the earliest moment BriefTrendOf needs at now: the start
// of the first month it lists, or 180 days back, whichever is earlier.
func BriefTrendSince(now time.Time) time.Time {
	first := trendFirstMonth(now)
	if since := now.AddDate(0, 0, -180); since.Before(first) {
		return since
	}
	return first
}

func trendFirstMonth(now time.Time) time.Time {
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1-BriefTrendMonths, 0)
}

// BriefTrendOf works out the trend at now from the customer's moments
// since BriefTrendSince(now), in any order; later moments are ignored.
func BriefTrendOf(now time.Time, ms []TrendMoment) BriefTrend {
	first := trendFirstMonth(now)
	months := make([]BriefMonth, BriefTrendMonths)
	sums := make([]analytics.Mean, BriefTrendMonths)
	for i := range months {
		months[i].Month = first.AddDate(0, i, 0)
	}
	var recent, previous analytics.Mean
	for _, m := range ms {
		if m.At.After(now) {
			continue
		}
		age := now.Sub(m.At)
		if m.Rating != nil {
			switch {
			case age <= trendWindow:
				recent = recent.Add(float64(*m.Rating))
			case age <= 2*trendWindow:
				previous = previous.Add(float64(*m.Rating))
			}
		}
		i := (m.At.Year()-first.Year())*12 + int(m.At.Month()) - int(first.Month())
		if i < 0 || i >= BriefTrendMonths {
			continue
		}
		months[i].Moments++
		switch m.Outcome {
		case OutcomeMagic:
			months[i].Magic++
		case OutcomeMisery:
			months[i].Misery++
		}
		if m.Rating != nil {
			months[i].Rated++
			sums[i] = sums[i].Add(float64(*m.Rating))
		}
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
