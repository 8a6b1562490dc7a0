package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/rapport-crm/rapport"
)

// Keeping promises, in the UI: staff make a promise from the customer's
// page, see the promises they have due, and mark each kept or broken.

// promisePageSize is how many promises a page of the list shows.
const promisePageSize = 50

// promiseRow is a promise as the pages show it.
type promiseRow struct {
	*rapport.Promise
	CustomerName string
	StaffName    string
	Overdue      bool // open past its due time
	DueToday     bool // open and due before the end of today (UTC)
}

// promiseRows gives each promise the names it shows and its urgency.
func (s *server) promiseRows(r *http.Request, ps []*rapport.Promise) ([]promiseRow, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	users, err := s.userNames(r)
	if err != nil {
		return nil, err
	}
	now := s.Clock()
	endOfDay := endOfDayUTC(now)
	customers := map[string]string{}
	out := make([]promiseRow, 0, len(ps))
	for _, p := range ps {
		name, seen := customers[p.CustomerID]
		if !seen {
			c, err := s.Customers.FindCustomerByID(r.Context(), p.CustomerID)
			switch {
			case err == nil:
				name = c.Name
			case rapport.ErrorCode(err) != rapport.ENOTFOUND:
				return nil, err
			}
			customers[p.CustomerID] = name
		}
		open := p.Status == rapport.PromiseOpen
		out = append(out, promiseRow{Promise: p, CustomerName: name, StaffName: users[p.StaffID],
			Overdue: open && now.After(p.DueAt), DueToday: open && !now.After(p.DueAt) && p.DueAt.Before(endOfDay)})
	}
	return out, nil
}

// endOfDayUTC is the midnight that ends t's day in UTC.
func endOfDayUTC(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// promisesData is the promises page's data.
type promisesData struct {
	Show     string // "due" (open, by due date) or "all"
	Filter   *form  // staff, status and customer
	Staff    []*rapport.User
	Customer *rapport.Customer // when the list is one customer's
	Rows     []promiseRow
	Next     string
	Paged    bool
	Back     string // this page, to come back to after settling a promise
	Mine     bool   // the list is the signed-in user's
}

func (s *server) promisesPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		q := r.URL.Query()
		me := currentUser(r)
		d := promisesData{Show: "due", Back: r.URL.RequestURI()}
		if q.Get("show") == "all" {
			d.Show = "all"
		}
		// The due list is one's own unless another member of staff is chosen
		// (everyone's for those who make no promises); the full list is
		// everyone's unless one is.
		staff := q.Get("staff")
		if _, set := q["staff"]; !set && d.Show == "due" && me.Role.Can(rapport.PermWriteMoments) {
			staff = "me"
		}
		status := rapport.PromiseStatus(q.Get("status"))
		if d.Show == "due" {
			status = rapport.PromiseOpen
		}
		d.Filter = newForm(url.Values{"staff": {staff}, "status": {string(status)}, "customer": {q.Get("customer")}})
		// Those due: the most urgent first, overdue at the top. Every promise:
		// the latest first, rather than last year's.
		f := rapport.PromiseFilter{Status: status, StaffID: staff, CustomerID: q.Get("customer"), Latest: d.Show == "all",
			Limit: promisePageSize, Cursor: q.Get("cursor")}
		if staff == "me" {
			f.StaffID = me.ID
		}
		d.Mine = f.StaffID == me.ID
		switch status {
		case "", rapport.PromiseOpen, rapport.PromiseKept, rapport.PromiseBroken:
		default:
			d.Filter.fail("status", "Choose open, kept or broken.")
			f.Status = ""
		}
		if f.CustomerID != "" {
			c, err := s.Customers.FindCustomerByID(ctx, f.CustomerID)
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			d.Customer = c
		}
		users, err := s.Users.FindUsers(ctx, rapport.UserFilter{})
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		for _, u := range activeFirst(users) {
			if u.Role.Can(rapport.PermWriteMoments) {
				d.Staff = append(d.Staff, u)
			}
		}
		page, err := s.Promises.FindPromises(ctx, f)
		if rapport.ErrorCode(err) == rapport.EINVALID && f.Cursor != "" {
			f.Cursor = ""
			page, err = s.Promises.FindPromises(ctx, f)
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if d.Rows, err = s.promiseRows(r, page.Items); err != nil {
			s.serverError(w, r, err)
			return
		}
		d.Paged = f.Cursor != ""
		if page.NextCursor != "" {
			v := url.Values{"show": {d.Show}, "cursor": {page.NextCursor}, "staff": {staff}}
			for _, k := range []string{"status", "customer"} {
				if x := d.Filter.Get(k); x != "" && d.Show == "all" {
					v.Set(k, x)
				}
			}
			d.Next = "/promises?" + v.Encode()
		}
		status422 := http.StatusOK
		if d.Filter.Invalid() {
			status422 = http.StatusUnprocessableEntity
		}
		s.render(w, r, status422, "promises", "", s.newPage(r, "Promises", "promises", d))
	})
}

// promiseStatusWords say what marking a promise did.
var promiseStatusWords = map[rapport.PromiseStatus]string{
	rapport.PromiseKept:   "Promise kept. Well done.",
	rapport.PromiseBroken: "Promise marked broken. It is on the customer's timeline as a misery moment.",
}

func (s *server) promiseSetStatus() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next := "/promises"
		if n := r.PostFormValue("next"); n != "" {
			next = safeNext(n)
		}
		status := rapport.PromiseStatus(r.PostFormValue("status"))
		if status == rapport.PromiseBroken && r.PostFormValue("confirm") != "yes" {
			// Breaking cannot be undone and sets off a misery moment and a
			// case: it is asked again, never done on one click.
			s.confirmBroken(w, r, next)
			return
		}
		start := s.Clock()
		p, err := s.Promises.SetPromiseStatus(r.Context(), r.PathValue("id"), status)
		switch {
		case err == nil && status == rapport.PromiseBroken:
			if err := s.flashBroken(w, r, p, start); err != nil {
				s.serverError(w, r, err)
				return
			}
		case err == nil:
			setFlash(w, r, promiseStatusWords[status])
		case rapport.ErrorCode(err) == rapport.ECONFLICT:
			// Settled meanwhile, by someone else or by the sweep at its due time.
			setFlash(w, r, rapport.ErrorMessage(err))
		default:
			s.serverError(w, r, err)
			return
		}
		redirect(w, r, next)
	})
}

// flashBroken says a promise was marked broken and what followed: the
// recovery case its misery moment opened (the customer's case opened since
// start), with a link to it, or else a link to the customer's timeline.
func (s *server) flashBroken(w http.ResponseWriter, r *http.Request, p *rapport.Promise, start time.Time) error {
	msg := promiseStatusWords[rapport.PromiseBroken]
	cases, err := s.Recovery.FindCases(r.Context(), rapport.CaseFilter{CustomerID: p.CustomerID, Status: rapport.CaseOpen, Limit: rapport.MaxPageSize})
	if err != nil {
		return err
	}
	var opened *rapport.RecoveryCase
	for _, c := range cases.Items {
		if !c.OpenedAt.Before(start.Truncate(time.Microsecond)) && (opened == nil || c.OpenedAt.After(opened.OpenedAt)) {
			opened = c
		}
	}
	if opened == nil {
		setFlashLink(w, r, msg, "/customers/"+p.CustomerID+"#timeline", "See the timeline")
		return nil
	}
	setFlashLink(w, r, msg+" "+caseOpened(opened), "/cases/"+opened.ID, "Open the case")
	return nil
}

// brokenData is the page that asks whether a promise was really broken.
type brokenData struct {
	Row  promiseRow
	Next string
}

// confirmBroken asks whether a promise was broken, saying what follows.
func (s *server) confirmBroken(w http.ResponseWriter, r *http.Request, next string) {
	p, err := s.Promises.FindPromiseByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := p.Status.CheckSettle(rapport.PromiseBroken); err != nil {
		setFlash(w, r, rapport.ErrorMessage(err))
		redirect(w, r, next)
		return
	}
	rows, err := s.promiseRows(r, []*rapport.Promise{p})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "promise_broken", "", s.newPage(r, "Mark the promise broken?", "promises", brokenData{Row: rows[0], Next: next}))
}

// promiseForm is the make-a-promise form on a customer's page.
type promiseForm struct {
	Form    *form
	Action  string
	Staff   []*rapport.User
	Moments []momentOption // the customer's latest moments, to say where it was made
}

// momentOption is a moment to choose from.
type momentOption struct {
	ID, Label string
}

// promiseMoments is how many of the customer's latest moments the form offers.
const promiseMoments = 10

// promiseFields maps the domain's field names to the form's.
var promiseFields = map[string]string{"text": "text", "due_at": "due_date", "staff_id": "staff_id", "moment_id": "moment_id"}

type promiseFormKey struct{}

// newPromiseForm is the make-a-promise form for a customer: as posted when
// the request carries one with mistakes, otherwise fresh, for the signed-in
// user, due tomorrow at five and tied to the moment named in the query, if any.
func (s *server) newPromiseForm(r *http.Request, c *rapport.Customer) (promiseForm, error) {
	ctx := r.Context()
	f, _ := ctx.Value(promiseFormKey{}).(*form)
	if f == nil {
		f = newForm(url.Values{"staff_id": {currentUser(r).ID}, "due_time": {"17:00"},
			"due_date": {s.Clock().UTC().AddDate(0, 0, 1).Format(time.DateOnly)}, "moment_id": {r.URL.Query().Get("moment")}})
	}
	pf := promiseForm{Form: f, Action: "/customers/" + c.ID + "/promises"}
	users, err := s.Users.FindUsers(ctx, rapport.UserFilter{})
	if err != nil {
		return pf, err
	}
	for _, u := range activeOr(users) {
		if u.Role.Can(rapport.PermWriteMoments) {
			pf.Staff = append(pf.Staff, u)
		}
	}
	ms, err := s.Moments.FindMoments(ctx, rapport.MomentFilter{CustomerID: c.ID, Limit: promiseMoments})
	if err != nil {
		return pf, err
	}
	tps, err := s.touchpointNames(r)
	if err != nil {
		return pf, err
	}
	for _, m := range ms.Items {
		name := tps[m.Touchpoint]
		if name == "" {
			name = m.Touchpoint
		}
		pf.Moments = append(pf.Moments, momentOption{ID: m.ID,
			Label: m.OccurredAt.UTC().Format("2 Jan 2006") + " · " + name + " · " + codeLabel(string(m.Outcome))})
	}
	return pf, nil
}

// promiseDue reads when a promise is due: a date and a time of day (17:00
// when left empty) in the browser's time zone, as tz_offset gives it.
func (s *server) promiseDue(f *form) time.Time {
	date, clock := f.Get("due_date"), f.Get("due_time")
	if date == "" {
		f.fail("due_date", "Enter the date it is due.")
		return time.Time{}
	}
	if clock == "" {
		clock = "17:00"
	}
	offset, _ := strconv.Atoi(f.Get("tz_offset"))
	if offset < -14*60 || offset > 14*60 {
		offset = 0
	}
	zone := time.FixedZone("", -offset*60)
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		f.fail("due_date", "Enter a date such as 2026-03-01.")
		return time.Time{}
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, zone)
	if err != nil {
		f.fail("due_time", "Enter a time such as 17:00, or leave it empty for 17:00.")
		return time.Time{}
	}
	return t.UTC()
}

func (s *server) promiseCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		f := newForm(r.PostForm)
		p := &rapport.Promise{CustomerID: id, Text: f.Get("text"), StaffID: f.Get("staff_id"), MomentID: f.Get("moment_id")}
		p.DueAt = s.promiseDue(f)
		if p.Text == "" {
			f.fail("text", "Say what was promised.")
		}
		if f.Invalid() {
			// Report the domain's own checks too, so every problem shows at once.
			check := *p
			if check.DueAt.IsZero() {
				check.DueAt = s.Clock().Add(time.Hour)
			}
			for _, fe := range rapport.ErrorFields(check.Validate(s.Clock())) {
				if name, ok := promiseFields[fe.Field]; ok {
					f.fail(name, sentence(fe.Message))
				}
			}
		} else {
			err := s.Promises.CreatePromise(r.Context(), p)
			if err == nil {
				setFlash(w, r, "Promise made, due "+p.DueAt.UTC().Format("2 Jan 2006, 15:04")+" UTC.")
				redirect(w, r, "/customers/"+url.PathEscape(id)+"#timeline")
				return
			}
			if !f.fromError(err, promiseFields) {
				s.serverError(w, r, err)
				return
			}
		}
		ctx := context.WithValue(r.Context(), promiseFormKey{}, f)
		s.renderCustomer(w, r.WithContext(ctx), http.StatusUnprocessableEntity, id, nil, false)
	})
}

// customerRecovery is what the customer's page shows of promises and cases.
type customerRecovery struct {
	Promise      promiseForm
	OpenPromises []promiseRow
	OpenCases    []caseRow
	MorePromises bool
	MoreCases    bool
}

// customerOpenItems is how many open promises and cases the customer's page lists.
const customerOpenItems = 5

// customerRecovery gathers a customer's open promises and cases and the
// make-a-promise form.
func (s *server) customerRecovery(r *http.Request, c *rapport.Customer) (*customerRecovery, error) {
	ctx := r.Context()
	d := &customerRecovery{}
	ps, err := s.Promises.FindPromises(ctx, rapport.PromiseFilter{CustomerID: c.ID, Status: rapport.PromiseOpen, Limit: customerOpenItems})
	if err != nil {
		return nil, err
	}
	if d.OpenPromises, err = s.promiseRows(r, ps.Items); err != nil {
		return nil, err
	}
	d.MorePromises = ps.NextCursor != ""
	cs, err := s.Recovery.FindCases(ctx, rapport.CaseFilter{CustomerID: c.ID, Status: rapport.CaseOpen, Limit: customerOpenItems})
	if err != nil {
		return nil, err
	}
	if len(cs.Items) > 0 {
		names, err := s.loadCaseNames(r)
		if err != nil {
			return nil, err
		}
		if d.OpenCases, err = s.caseRows(r, cs.Items, names); err != nil {
			return nil, err
		}
	}
	d.MoreCases = cs.NextCursor != ""
	if currentUser(r).Role.Can(rapport.PermWriteMoments) && !c.IsErased() {
		if d.Promise, err = s.newPromiseForm(r, c); err != nil {
			return nil, err
		}
	}
	return d, nil
}
