package rapport

import (
	"cmp"
	"slices"

	"github.com/rapport-crm/rapport/analytics"
)

// SurveyTallies are the counts a survey report is measured from, as the
// store gathers them.
type SurveyTallies struct {
	Invited, Answered int
	Customer, Staff   analytics.Mean // ratings, 1–5
	Effort            analytics.Mean
	NPS               analytics.NPS
	LowAnswers        int
	Reasons           map[string]int
}

// NewSurveyReport measures a report from tallies: each figure with its
// 95 % interval, the warning when the response is too low to trust, and
// the reasons for low scores, most often first.
func NewSurveyReport(f SurveyReportFilter, t SurveyTallies) *SurveyReport {
	r := &SurveyReport{Touchpoint: f.Touchpoint, From: f.From, To: f.To, Invited: t.Invited, Answered: t.Answered,
		LowResponse: LowSurveyResponse(t.Invited, t.Answered), LowAnswers: t.LowAnswers, Reasons: []ReasonCount{}}
	p := analytics.Proportion{Successes: t.Answered, Trials: t.Invited}
	if iv, ok := p.Wilson(0.95); ok {
		r.ResponseRate = &Estimate{Value: p.Rate(), Low: iv.Lo, High: iv.Hi, N: t.Invited}
	}
	r.CustomerRating, r.StaffRating, r.Effort = meanEstimate(t.Customer), meanEstimate(t.Staff), meanEstimate(t.Effort)
	if iv, ok := t.NPS.Interval(0.95); ok {
		r.NPS = &Estimate{Value: t.NPS.Score(), Low: iv.Lo, High: iv.Hi, N: t.NPS.Total()}
	}
	for reason, n := range t.Reasons {
		share := 0.0
		if t.LowAnswers > 0 {
			share = float64(n) / float64(t.LowAnswers)
		}
		r.Reasons = append(r.Reasons, ReasonCount{Reason: reason, Count: n, Share: share})
	}
	slices.SortFunc(r.Reasons, func(a, b ReasonCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
	})
	return r
}

// meanEstimate is a mean with its interval, nil without values. One value
// has no interval but its own.
func meanEstimate(m analytics.Mean) *Estimate {
	if m.N == 0 {
		return nil
	}
	e := &Estimate{Value: m.Value(), Low: m.Value(), High: m.Value(), N: m.N}
	if iv, ok := m.Interval(0.95); ok {
		e.Low, e.High = iv.Lo, iv.Hi
	}
	return e
}
