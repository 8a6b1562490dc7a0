package rapport

import (
	"math"
	"slices"
	"strings"

	"github.com/rapport-crm/rapport/analytics"
)

// CheckSettle says whether a promise in status s may be settled as to:
// EINVALID unless to is kept or broken, ECONFLICT unless the promise is
// still open.
func (s PromiseStatus) CheckSettle(to PromiseStatus) error {
	if to != PromiseKept && to != PromiseBroken {
		return &Error{Code: EINVALID, Message: "The promise update is not valid.",
			Fields: []FieldError{{Field: "status", Message: "must be kept or broken"}}}
	}
	if s != PromiseOpen {
		return Errorf(ECONFLICT, "The promise is %s already.", s)
	}
	return nil
}

// PromiseCount is how many promises one member of staff made that are in
// one status; StaffID is empty for promises nobody made (the staff member
// was removed).
type PromiseCount struct {
	StaffID string
	Name    string
	Team    string
	Status  PromiseStatus
	N       int
}

// PromiseReportExplanation says how the promise report reads.
const PromiseReportExplanation = "The say/do ratio is promises kept ÷ promises settled (kept + broken); open promises do not count until they are kept, " +
	"or broken when they fall due. Staff and teams are listed worst first, by the upper end of the ratio's 95% interval: " +
	"someone is ranked low only when the evidence says they keep few promises, not merely because they have settled few."

// RankPromises adds up the counts for everyone, each member of staff and
// each team, with their say/do ratios, and orders staff and teams worst
// first (PromiseWorstFirst).
func RankPromises(counts []PromiseCount) (total PromiseRecord, staff, teams []PromiseRecord) {
	byStaff := map[string]*PromiseRecord{}
	byTeam := map[string]*PromiseRecord{}
	total.Name = "Everyone"
	for _, c := range counts {
		targets := []*PromiseRecord{&total}
		if c.StaffID != "" {
			rec := byStaff[c.StaffID]
			if rec == nil {
				rec = &PromiseRecord{StaffID: c.StaffID, Name: c.Name, Team: c.Team}
				byStaff[c.StaffID] = rec
			}
			targets = append(targets, rec)
			if c.Team != "" {
				t := byTeam[c.Team]
				if t == nil {
					t = &PromiseRecord{Name: c.Team, Team: c.Team}
					byTeam[c.Team] = t
				}
				targets = append(targets, t)
			}
		}
		for _, rec := range targets {
			rec.add(c.Status, c.N)
		}
	}
	total.sayDo()
	staff, teams = []PromiseRecord{}, []PromiseRecord{}
	for _, rec := range byStaff {
		rec.sayDo()
		staff = append(staff, *rec)
	}
	for _, rec := range byTeam {
		rec.sayDo()
		teams = append(teams, *rec)
	}
	slices.SortFunc(staff, PromiseWorstFirst)
	slices.SortFunc(teams, PromiseWorstFirst)
	return total, staff, teams
}

func (r *PromiseRecord) add(status PromiseStatus, n int) {
	r.Made += n
	switch status {
	case PromiseKept:
		r.Kept += n
	case PromiseBroken:
		r.Broken += n
	default:
		r.Open += n
	}
}

// sayDo sets the say/do ratio, kept ÷ settled, with its 95% Wilson interval.
func (r *PromiseRecord) sayDo() {
	p := analytics.Proportion{Successes: r.Kept, Trials: r.Kept + r.Broken}
	iv, ok := p.Wilson(0.95)
	if !ok {
		r.SayDo, r.SayDoCI = nil, nil
		return
	}
	rate := p.Rate()
	r.SayDo, r.SayDoCI = &rate, &Interval{iv.Lo, iv.Hi}
}

// PromiseWorstFirst orders records by the upper end of their say/do
// interval, then the ratio, then the most broken, then the name; records
// with nothing settled come last.
func PromiseWorstFirst(a, b PromiseRecord) int {
	hi := func(r PromiseRecord) float64 {
		if r.SayDoCI == nil {
			return math.Inf(1)
		}
		return r.SayDoCI[1]
	}
	ratio := func(r PromiseRecord) float64 {
		if r.SayDo == nil {
			return math.Inf(1)
		}
		return *r.SayDo
	}
	switch {
	case hi(a) != hi(b):
		return cmpFloat(hi(a), hi(b))
	case ratio(a) != ratio(b):
		return cmpFloat(ratio(a), ratio(b))
	case a.Broken != b.Broken:
		return b.Broken - a.Broken
	}
	return strings.Compare(a.Name, b.Name)
}

func cmpFloat(a, b float64) int {
	if a < b {
		return -1
	}
	return 1
}

// BrokenNote is the note on the misery moment a broken promise records.
func (p *Promise) BrokenNote() string { return "Promise broken: " + p.Text }
