package web

import (
	"net/http"

	"github.com/rapport-crm/rapport"
)

// myDay is the dashboard's panel of what the signed-in user has to do today:
// their open recovery cases and the promises they have falling due.
type myDay struct {
	OpenCases    int
	OverdueCases int
	MoreCases    bool // more open cases than were counted
	DueToday     int  // open promises due by the end of today (UTC)
	LatePromises int  // open promises already past their due time
	Promises     []promiseRow
	// FirstContacts are customers handed to the user not contacted since.
	FirstContacts []*rapport.FirstContact
}

// myDayPromises is how many of the day's promises the panel lists.
const myDayPromises = 3

// myDayFirstContacts is how many customers handed over the panel lists.
const myDayFirstContacts = 5

// myDay gathers the panel, or returns nil for users who do not work cases
// and promises.
func (s *server) myDay(r *http.Request) (*myDay, error) {
	me := currentUser(r)
	if !me.Role.Can(rapport.PermWriteMoments) {
		return nil, nil
	}
	ctx := r.Context()
	d := &myDay{}
	cases, err := s.Recovery.FindCases(ctx, rapport.CaseFilter{Status: rapport.CaseOpen, AssigneeID: me.ID, Limit: rapport.MaxPageSize})
	if err != nil {
		return nil, err
	}
	d.OpenCases, d.MoreCases = len(cases.Items), cases.NextCursor != ""
	for _, c := range cases.Items {
		if c.Overdue {
			d.OverdueCases++
		}
	}
	ps, err := s.Promises.FindPromises(ctx, rapport.PromiseFilter{Status: rapport.PromiseOpen, StaffID: me.ID,
		DueBefore: endOfDayUTC(s.Clock()), Limit: rapport.MaxPageSize})
	if err != nil {
		return nil, err
	}
	now := s.Clock()
	for _, p := range ps.Items {
		if now.After(p.DueAt) {
			d.LatePromises++
		} else {
			d.DueToday++
		}
	}
	if d.Promises, err = s.promiseRows(r, ps.Items[:min(len(ps.Items), myDayPromises)]); err != nil {
		return nil, err
	}
	if d.FirstContacts, err = s.Handovers.FirstContacts(ctx, me.ID, myDayFirstContacts); err != nil {
		return nil, err
	}
	return d, nil
}
