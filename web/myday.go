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
	// Contacts are the first of today's list: whom to contact and why.
	Contacts     []*rapport.Contact
	MoreContacts int
	// FirstContacts are customers handed to the user not contacted since.
	FirstContacts []*rapport.FirstContact
}

// myDayContacts is how many of today's contacts the dashboard lists.
const myDayContacts = 5

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
	contacts, err := s.Today.Today(ctx, rapport.TodayFilter{StaffIDs: []string{me.ID}})
	if err != nil {
		return nil, err
	}
	d.Contacts = contacts[:min(len(contacts), myDayContacts)]
	d.MoreContacts = len(contacts) - len(d.Contacts)
	if d.FirstContacts, err = s.Handovers.FirstContacts(ctx, me.ID, myDayFirstContacts); err != nil {
		return nil, err
	}
	return d, nil
}

// todayData is the page of whom to contact today.
type todayData struct {
	Contacts []*rapport.Contact
	Team     bool   // the manager's team rather than their own
	TeamName string // the team's name, or "" for everyone
	CanTeam  bool   // the user may see a team's list
}

// todayPage lists whom to contact today and why, most pressing first,
// each with the response suggested; a manager may see their team's.
func (s *server) todayPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me := currentUser(r)
		d := todayData{CanTeam: me.Role.Can(rapport.PermWriteCatalogue), Team: r.URL.Query().Get("team") != ""}
		ids := []string{me.ID}
		if d.Team && d.CanTeam {
			var err error
			if ids, d.TeamName, err = s.teamIDs(r, me); err != nil {
				s.serverError(w, r, err)
				return
			}
		} else {
			d.Team = false
		}
		contacts, err := s.Today.Today(r.Context(), rapport.TodayFilter{StaffIDs: ids, Limit: rapport.MaxPageSize})
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d.Contacts = contacts
		s.render(w, r, http.StatusOK, "today", "", s.newPage(r, "Today", "dashboard", d))
	})
}

// teamIDs are the staff of the manager's team, themselves included: the
// users with their team, or every user when they have none.
func (s *server) teamIDs(r *http.Request, me *rapport.User) ([]string, string, error) {
	var f rapport.UserFilter
	if me.Team != "" {
		f.Team = &me.Team
	}
	users, err := s.Users.FindUsers(r.Context(), f)
	if err != nil {
		return nil, "", err
	}
	ids := []string{me.ID}
	for _, u := range users {
		if u.ID != me.ID {
			ids = append(ids, u.ID)
		}
	}
	return ids, me.Team, nil
}
