package web

import (
	"net/http"
	"net/url"
	"slices"
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

// caseTab is one view of the queue, with how many cases it holds.
type caseTab struct {
	Key, Label string
	Count      int
	Link       string
}

// caseTabKeys are the queue's views, in the order the page offers them.
var caseTabKeys = []caseTab{
	{Key: "mine", Label: "Mine"}, {Key: "team", Label: "Team"}, {Key: "unassigned", Label: "Unassigned"},
	{Key: "overdue", Label: "Overdue"}, {Key: "open", Label: "All open"}, {Key: "resolved", Label: "Resolved"},
}

// casesData is the recovery queue's data.
type casesData struct {
	Tabs        []caseTab
	Show        string
	Note        string // what this tab lists
	Cases       []caseRow
	Escalated   []caseRow // on "mine": open cases escalated to me
	Next        string    // the next page, if any
	Paged       bool      // this is a later page
	Truncated   bool      // the team tab shows only its first cases
	Empty       string    // what to say when there are none
	Touchpoints []*rapport.Touchpoint
	Touchpoint  string // the touchpoint filter, or ""
	EscOnly     bool   // only escalated cases
	Filtered    bool
}

// caseQueueFilter is the filter of a tab of the queue, with the page's own
// filters; the team tab, which merges several queues, has none.
func caseQueueFilter(tab string, me *rapport.User, touchpoint string, escOnly bool) rapport.CaseFilter {
	yes := true
	f := rapport.CaseFilter{Status: rapport.CaseOpen, Touchpoint: touchpoint}
	if escOnly {
		f.Escalated = &yes
	}
	switch tab {
	case "mine":
		f.AssigneeID = me.ID
	case "unassigned":
		f.AssigneeID = rapport.CaseUnassigned
	case "overdue":
		f.Overdue = &yes
	case "resolved":
		f.Status = rapport.CaseResolved
	}
	return f
}

// caseTabNotes say what each tab lists, and what it says when it is empty.
var caseTabNotes = map[string][2]string{
	"mine":       {"Open cases assigned to you, soonest due first.", "No open cases are assigned to you."},
	"unassigned": {"Open cases nobody has taken yet, soonest due first.", "Every open case has someone on it."},
	"overdue":    {"Open cases past their due time, longest overdue first.", "No case is overdue."},
	"open":       {"Every open case, soonest due first.", "No open cases. Every misery moment has been dealt with."},
	"resolved":   {"Resolved cases, by when they were due.", "No case has been resolved yet."},
}

func (s *server) casesPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me := currentUser(r)
		q := r.URL.Query()
		d := casesData{Touchpoint: q.Get("touchpoint"), EscOnly: q.Get("escalated") == "1"}
		d.Filtered = d.Touchpoint != "" || d.EscOnly
		var err error
		if d.Touchpoints, err = s.Touchpoints.FindTouchpoints(r.Context()); err != nil {
			s.serverError(w, r, err)
			return
		}
		if d.Tabs, err = s.caseTabCounts(r, me, d); err != nil {
			s.serverError(w, r, err)
			return
		}
		d.Show = q.Get("show")
		if !slices.ContainsFunc(d.Tabs, func(t caseTab) bool { return t.Key == d.Show }) {
			// Cases escalated to the user are shown with their own.
			escalated, err := s.Recovery.CountCases(r.Context(), rapport.CaseFilter{Status: rapport.CaseOpen, EscalatedTo: me.ID})
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			d.Show = defaultCaseTab(d.Tabs, escalated > 0)
			if !me.Role.Can(rapport.PermWriteMoments) {
				d.Show = "open" // those who only read follow the whole queue
			}
		}
		names, err := s.loadCaseNames(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if d.Show == "team" {
			cases, truncated, note, err := s.teamCases(r, me, d.Touchpoint, d.EscOnly)
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
		}
		d.Note, d.Empty = caseTabNotes[d.Show][0], caseTabNotes[d.Show][1]
		f := caseQueueFilter(d.Show, me, d.Touchpoint, d.EscOnly)
		f.Limit, f.Cursor = casePageSize, q.Get("cursor")
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
			d.Next = d.link(d.Show, page.NextCursor)
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

// FirstPage is the address of the tab's first page.
func (d casesData) FirstPage() string { return d.link(d.Show, "") }

// link is the queue's address at a tab (and page), keeping the filters.
func (d casesData) link(tab, cursor string) string {
	v := url.Values{"show": {tab}}
	if d.Touchpoint != "" {
		v.Set("touchpoint", d.Touchpoint)
	}
	if d.EscOnly {
		v.Set("escalated", "1")
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	return "/cases?" + v.Encode()
}

// caseTabCounts returns the tabs the user may open, each with how many
// cases it holds under the page's filters. Those who only read have nothing
// assigned to them, and no team: they see the whole queue.
func (s *server) caseTabCounts(r *http.Request, me *rapport.User, d casesData) ([]caseTab, error) {
	var tabs []caseTab
	for _, t := range caseTabKeys {
		if !me.Role.Can(rapport.PermWriteMoments) && (t.Key == "mine" || t.Key == "team") {
			continue
		}
		var err error
		if t.Key == "team" {
			t.Count, err = s.teamCaseCount(r, me, d.Touchpoint, d.EscOnly)
		} else {
			t.Count, err = s.Recovery.CountCases(r.Context(), caseQueueFilter(t.Key, me, d.Touchpoint, d.EscOnly))
		}
		if err != nil {
			return nil, err
		}
		t.Link = d.link(t.Key, "")
		tabs = append(tabs, t)
	}
	return tabs, nil
}

// defaultCaseTab is the first tab with work in it, in the order people
// work: their own cases (or those escalated to them, shown with theirs),
// their team's, those nobody has taken, the overdue; else every open case.
func defaultCaseTab(tabs []caseTab, escalatedToMe bool) string {
	for _, t := range tabs {
		if (t.Count > 0 || t.Key == "mine" && escalatedToMe) && t.Key != "resolved" {
			return t.Key
		}
	}
	return "open"
}

// teamCases returns the open cases of the user's team — colleagues in the
// same team and those who report to the user, the user included — and the
// cases waiting in the queue, soonest due first, with a note saying so.
func (s *server) teamCases(r *http.Request, me *rapport.User, touchpoint string, escOnly bool) ([]*rapport.RecoveryCase, bool, string, error) {
	ctx := r.Context()
	members, reports, err := s.teamMembers(r, me)
	if err != nil {
		return nil, false, "", err
	}
	var all []*rapport.RecoveryCase
	truncated := false
	for _, id := range members {
		f := caseQueueFilter("open", me, touchpoint, escOnly)
		f.AssigneeID, f.Limit = id, teamCaseLimit
		page, err := s.Recovery.FindCases(ctx, f)
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

// teamMembers returns whose cases the user's team tab holds — the queue
// (nobody), the user, colleagues in the same team and those who report to
// the user — and whether anyone reports to the user.
func (s *server) teamMembers(r *http.Request, me *rapport.User) ([]string, bool, error) {
	users, err := s.Users.FindUsers(r.Context(), rapport.UserFilter{})
	if err != nil {
		return nil, false, err
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
	return members, reports, nil
}

// teamCaseCount counts the open cases of the user's team tab.
func (s *server) teamCaseCount(r *http.Request, me *rapport.User, touchpoint string, escOnly bool) (int, error) {
	members, _, err := s.teamMembers(r, me)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, id := range members {
		f := caseQueueFilter("open", me, touchpoint, escOnly)
		f.AssigneeID = id
		n, err := s.Recovery.CountCases(r.Context(), f)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
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
	for _, u := range activeOr(users, c.AssigneeID) {
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
