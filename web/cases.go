package web

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/rapport-crm/rapport"
)

// Turning misery into magic, in the UI: the recovery queue lists the cases
// opened for misery moments, each case's page keeps its history and lets
// staff take it, note what they did and resolve it.

// casePageSize is how many cases a page of the queue shows.
const casePageSize = 50

// teamCaseLimit bounds the team tab, which merges several members' queues.
const teamCaseLimit = 100

// caseRow is a recovery case as the pages show it.
type caseRow struct {
	*rapport.RecoveryCase
	TouchpointName string
	Notes          string // the misery moment's notes
	// EscalatedToName says to whom an escalated case went: a manager's name,
	// or "every manager".
	EscalatedToName string
}

// caseNames are the names a list of cases shows, looked up once.
type caseNames struct {
	touchpoints map[string]string
	users       map[string]string
}

func (s *server) loadCaseNames(r *http.Request) (caseNames, error) {
	tps, err := s.touchpointNames(r)
	if err != nil {
		return caseNames{}, err
	}
	users, err := s.userNames(r)
	if err != nil {
		return caseNames{}, err
	}
	return caseNames{touchpoints: tps, users: users}, nil
}

func (n caseNames) touchpoint(key string) string {
	if name := n.touchpoints[key]; name != "" {
		return name
	}
	return key
}

// escalatedTo names whom a case was escalated to.
func (n caseNames) escalatedTo(c *rapport.RecoveryCase) string {
	switch {
	case !c.Escalated:
		return ""
	case c.EscalatedTo != "":
		if name := n.users[c.EscalatedTo]; name != "" {
			return name
		}
		return "a manager"
	case c.EscalatedRole != "":
		return "every " + string(c.EscalatedRole)
	}
	return "a manager"
}

// caseRows gives each case the names and the misery moment's notes it shows.
func (s *server) caseRows(r *http.Request, cases []*rapport.RecoveryCase, names caseNames) ([]caseRow, error) {
	out := make([]caseRow, 0, len(cases))
	for _, c := range cases {
		row := caseRow{RecoveryCase: c, TouchpointName: names.touchpoint(c.Touchpoint), EscalatedToName: names.escalatedTo(c)}
		m, err := s.Moments.FindMomentByID(r.Context(), c.MomentID)
		switch {
		case err == nil:
			row.Notes = m.Notes
		case rapport.ErrorCode(err) != rapport.ENOTFOUND:
			return nil, err
		}
		out = append(out, row)
	}
	return out, nil
}

// caseTab is one view of the queue.
type caseTab struct {
	Key, Label string
}

var caseTabs = []caseTab{
	{"mine", "Mine"}, {"team", "Team"}, {"overdue", "Overdue"}, {"open", "All open"}, {"resolved", "Resolved"},
}

// casesData is the recovery queue's data.
type casesData struct {
	Tabs      []caseTab
	Show      string
	Note      string // what this tab lists
	Cases     []caseRow
	Escalated []caseRow // on "mine": open cases escalated to me
	Next      string    // the next page, if any
	Paged     bool      // this is a later page
	Truncated bool      // the team tab shows only its first cases
	Empty     string    // what to say when there are none
}

func (s *server) casesPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me := currentUser(r)
		show := r.URL.Query().Get("show")
		d := casesData{Tabs: caseTabs, Show: "mine"}
		if !me.Role.Can(rapport.PermWriteMoments) {
			d.Show = "open" // nothing is ever assigned to those who only read
		}
		for _, t := range caseTabs {
			if t.Key == show {
				d.Show = show
			}
		}
		names, err := s.loadCaseNames(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		yes := true
		var f rapport.CaseFilter
		switch d.Show {
		case "mine":
			f = rapport.CaseFilter{Status: rapport.CaseOpen, AssigneeID: me.ID}
			d.Note, d.Empty = "Open cases assigned to you, soonest due first.", "No open cases are assigned to you."
		case "team":
			cases, truncated, note, err := s.teamCases(r, me)
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			if d.Cases, err = s.caseRows(r, cases, names); err != nil {
				s.serverError(w, r, err)
				return
			}
			d.Truncated, d.Note, d.Empty = truncated, note, "Nothing open for your team, and the queue is empty."
			s.render(w, r, http.StatusOK, "cases", "", s.newPage(r, "Recovery", "recovery", d))
			return
		case "overdue":
			f = rapport.CaseFilter{Status: rapport.CaseOpen, Overdue: &yes}
			d.Note, d.Empty = "Open cases past their due time, longest overdue first.", "No case is overdue."
		case "open":
			f = rapport.CaseFilter{Status: rapport.CaseOpen}
			d.Note, d.Empty = "Every open case, soonest due first.", "No open cases. Every misery moment has been dealt with."
		case "resolved":
			f = rapport.CaseFilter{Status: rapport.CaseResolved}
			d.Note, d.Empty = "Resolved cases, by when they were due.", "No case has been resolved yet."
		}
		f.Limit, f.Cursor = casePageSize, r.URL.Query().Get("cursor")
		page, err := s.Recovery.FindCases(r.Context(), f)
		if rapport.ErrorCode(err) == rapport.EINVALID && f.Cursor != "" {
			// A stale or mangled cursor: start again from the first page.
			f.Cursor = ""
			page, err = s.Recovery.FindCases(r.Context(), f)
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if d.Cases, err = s.caseRows(r, page.Items, names); err != nil {
			s.serverError(w, r, err)
			return
		}
		d.Paged = f.Cursor != ""
		if page.NextCursor != "" {
			d.Next = "/cases?" + url.Values{"show": {d.Show}, "cursor": {page.NextCursor}}.Encode()
		}
		if d.Show == "mine" && !d.Paged {
			esc, err := s.Recovery.FindCases(r.Context(), rapport.CaseFilter{Status: rapport.CaseOpen, EscalatedTo: me.ID, Limit: casePageSize})
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			if d.Escalated, err = s.caseRows(r, esc.Items, names); err != nil {
				s.serverError(w, r, err)
				return
			}
		}
		s.render(w, r, http.StatusOK, "cases", "", s.newPage(r, "Recovery", "recovery", d))
	})
}

// teamCases returns the open cases of the user's team — colleagues in the
// same team and those who report to the user, the user included — and the
// cases waiting in the queue, soonest due first, with a note saying so.
func (s *server) teamCases(r *http.Request, me *rapport.User) ([]*rapport.RecoveryCase, bool, string, error) {
	ctx := r.Context()
	users, err := s.Users.FindUsers(ctx, rapport.UserFilter{})
	if err != nil {
		return nil, false, "", err
	}
	members := []string{rapport.CaseUnassigned}
	reports := false
	for _, u := range users {
		mate := me.Team != "" && u.Team == me.Team
		if u.ManagerID == me.ID {
			reports = true
		}
		if u.ID == me.ID || mate || u.ManagerID == me.ID {
			members = append(members, u.ID)
		}
	}
	var all []*rapport.RecoveryCase
	truncated := false
	for _, id := range members {
		page, err := s.Recovery.FindCases(ctx, rapport.CaseFilter{Status: rapport.CaseOpen, AssigneeID: id, Limit: teamCaseLimit})
		if err != nil {
			return nil, false, "", err
		}
		all = append(all, page.Items...)
		truncated = truncated || page.NextCursor != ""
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].DueAt.Equal(all[j].DueAt) {
			return all[i].DueAt.Before(all[j].DueAt)
		}
		return all[i].ID < all[j].ID
	})
	if len(all) > teamCaseLimit {
		all, truncated = all[:teamCaseLimit], true
	}
	var note string
	switch {
	case me.Team != "" && reports:
		note = "Open cases of the " + me.Team + " team and of those who report to you"
	case me.Team != "":
		note = "Open cases of the " + me.Team + " team"
	case reports:
		note = "Open cases of yours and of those who report to you"
	default:
		note = "Your open cases"
	}
	note += ", and the cases nobody has taken yet, soonest due first."
	return all, truncated, note, nil
}

// caseAction is one step of a case's history, with who took it.
type caseAction struct {
	rapport.CaseAction
	Label     string
	ActorName string
}

var caseActionLabels = map[rapport.CaseActionKind]string{
	rapport.ActionAssigned: "Assigned", rapport.ActionNote: "Note", rapport.ActionEscalated: "Escalated",
	rapport.ActionResolved: "Resolved", rapport.ActionReopened: "Reopened",
}

// caseData is a case's page.
type caseData struct {
	Case     caseRow
	Moment   *rapport.Moment // the misery moment
	Staff    string          // who served the misery moment
	Actions  []caseAction
	Mine     bool // assigned to the signed-in user
	Users    []*rapport.User
	Assign   *form
	Note     *form
	Resolve  *form
	Reopen   *form
	Resolver string // who resolved it
}

// caseForms are the case page's forms as posted; nil ones are shown empty.
type caseForms struct {
	assign, note, resolve, reopen *form
}

func (s *server) casePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderCase(w, r, http.StatusOK, caseForms{})
	})
}

func (s *server) renderCase(w http.ResponseWriter, r *http.Request, status int, forms caseForms) {
	ctx := r.Context()
	c, err := s.Recovery.FindCaseByID(ctx, r.PathValue("id"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	names, err := s.loadCaseNames(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	rows, err := s.caseRows(r, []*rapport.RecoveryCase{c}, names)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := caseData{Case: rows[0], Mine: c.AssigneeID == currentUser(r).ID, Resolver: names.users[c.ResolvedBy]}
	if d.Moment, err = s.Moments.FindMomentByID(ctx, c.MomentID); err != nil && rapport.ErrorCode(err) != rapport.ENOTFOUND {
		s.serverError(w, r, err)
		return
	}
	if d.Moment != nil {
		d.Staff = names.users[d.Moment.StaffID]
	}
	for _, a := range c.Actions {
		ca := caseAction{CaseAction: a, Label: caseActionLabels[a.Kind], ActorName: names.users[a.Actor]}
		if ca.Label == "" {
			ca.Label = codeLabel(string(a.Kind))
		}
		switch {
		case ca.ActorName != "":
		case a.Actor == rapport.ActorRapport: // the escalation sweep
			ca.ActorName = "Rapport"
		case strings.HasPrefix(a.Actor, "token:"):
			ca.ActorName = "an API token"
		}
		d.Actions = append(d.Actions, ca)
	}
	users, err := s.Users.FindUsers(ctx, rapport.UserFilter{})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	for _, u := range users {
		if u.Role.Can(rapport.PermWriteMoments) {
			d.Users = append(d.Users, u)
		}
	}
	d.Assign, d.Note, d.Resolve, d.Reopen = forms.assign, forms.note, forms.resolve, forms.reopen
	if d.Assign == nil {
		d.Assign = newForm(url.Values{"assignee_id": {c.AssigneeID}})
	}
	if d.Note == nil {
		d.Note = newForm(nil)
	}
	if d.Resolve == nil {
		d.Resolve = newForm(nil)
	}
	if d.Reopen == nil {
		d.Reopen = newForm(nil)
	}
	s.render(w, r, status, "case", "", s.newPage(r, "Case: "+c.CustomerName, "recovery", d))
}

// codeLabel capitalises a code for display: "not_recovered" reads "Not recovered".
func codeLabel(s string) string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + strings.ReplaceAll(s[1:], "_", " ")
}

// casePath is a case's page, at one of its parts.
func casePath(id, anchor string) string {
	p := "/cases/" + url.PathEscape(id)
	if anchor != "" {
		p += "#" + anchor
	}
	return p
}

// updateCase applies an update from one of the case page's forms: on
// success it goes back to the case with a message; on a mistake the user can
// fix it shows the page again with the error beside the field.
func (s *server) updateCase(w http.ResponseWriter, r *http.Request, u rapport.CaseUpdate, f *form, put func(*caseForms),
	fields map[string]string, done string) {
	id := r.PathValue("id")
	if !f.Invalid() {
		_, err := s.Recovery.UpdateCase(r.Context(), id, u)
		if err == nil || rapport.ErrorCode(err) == rapport.ECONFLICT {
			// A conflict is a case someone else resolved or reopened first:
			// show it as it now is, and say so.
			if err != nil {
				done = rapport.ErrorMessage(err)
			}
			setFlash(w, r, done)
			redirect(w, r, casePath(id, "history"))
			return
		}
		if rapport.ErrorCode(err) == rapport.ENOTFOUND || !f.fromError(err, fields) {
			s.serverError(w, r, err)
			return
		}
	}
	var forms caseForms
	put(&forms)
	s.renderCase(w, r, http.StatusUnprocessableEntity, forms)
}

func (s *server) caseAssign() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := newForm(r.PostForm)
		assignee := f.Get("assignee_id")
		done := "Case put back in the queue."
		switch assignee {
		case "me":
			assignee = currentUser(r).ID
			f.Values.Set("assignee_id", assignee)
			done = "The case is yours."
		case "":
		default:
			done = "Case assigned."
		}
		s.updateCase(w, r, rapport.CaseUpdate{AssigneeID: &assignee}, f, func(cf *caseForms) { cf.assign = f },
			map[string]string{"assignee_id": "assignee_id"}, done)
	})
}

func (s *server) caseNote() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := newForm(r.PostForm)
		note := f.Get("note")
		if note == "" {
			f.fail("note", "Write what you did or found out.")
		}
		s.updateCase(w, r, rapport.CaseUpdate{Note: &note}, f, func(cf *caseForms) { cf.note = f },
			map[string]string{"note": "note"}, "Note added.")
	})
}

func (s *server) caseResolve() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := newForm(r.PostForm)
		resolution, status := f.Get("resolution"), rapport.CaseResolved
		if resolution == "" {
			f.fail("resolution", "Say what was done to put it right.")
		}
		s.updateCase(w, r, rapport.CaseUpdate{Status: &status, Resolution: &resolution}, f, func(cf *caseForms) { cf.resolve = f },
			map[string]string{"resolution": "resolution", "status": "resolution"}, "Case resolved. Whether it recovered shows once the customer's next moment is logged.")
	})
}

func (s *server) caseReopen() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := newForm(r.PostForm)
		status := rapport.CaseOpen
		u := rapport.CaseUpdate{Status: &status}
		if why := f.Get("reason"); why != "" {
			u.Note = &why
		}
		s.updateCase(w, r, u, f, func(cf *caseForms) { cf.reopen = f },
			map[string]string{"note": "reason", "status": "reason"}, "Case reopened.")
	})
}
