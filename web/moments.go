package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// timelinePageSize is how many entries a page of a timeline shows.
const timelinePageSize = 30

// timelineData is one page of a customer's timeline.
type timelineData struct {
	CustomerID string
	Entries    []timelineEntry
	Next       string // URL of the next, older page
}

type timelineEntry struct {
	rapport.TimelineEntry
	TouchpointName string
	StaffName      string
	recoveryEntry  // promises, cases and surveys: see timeline_recovery.go
}

// timeline fetches a page of a customer's timeline with the names the page shows.
// timeline reads a page of a customer's timeline; an erased customer's
// entries offer no actions, since nothing new can be added to them.
func (s *server) timeline(r *http.Request, customerID, cursor string, erased bool) (timelineData, error) {
	ctx := r.Context()
	page, err := s.Timeline.Timeline(ctx, customerID, rapport.TimelineFilter{Limit: timelinePageSize, Cursor: cursor})
	if err != nil {
		return timelineData{}, err
	}
	tps, err := s.touchpointNames(r)
	if err != nil {
		return timelineData{}, err
	}
	staff := map[string]string{}
	data := timelineData{CustomerID: customerID}
	for _, e := range page.Items {
		te := timelineEntry{TimelineEntry: e}
		if m := e.Moment; m != nil {
			te.TouchpointName = tps[m.Touchpoint]
			if te.TouchpointName == "" {
				te.TouchpointName = m.Touchpoint
			}
			if m.StaffID != "" {
				name, seen := staff[m.StaffID]
				if !seen {
					if u, err := s.Users.FindUserByID(ctx, m.StaffID); err == nil {
						name = u.Name
					} else if rapport.ErrorCode(err) != rapport.ENOTFOUND {
						return timelineData{}, err
					}
					staff[m.StaffID] = name
				}
				te.StaffName = name
			}
		}
		data.Entries = append(data.Entries, te)
	}
	if err := s.recoveryEntries(r, customerID, data.Entries, tps, !erased); err != nil {
		return timelineData{}, err
	}
	if page.NextCursor != "" {
		data.Next = "/customers/" + customerID + "/timeline?" + url.Values{"cursor": {page.NextCursor}}.Encode()
	}
	return data, nil
}

func (s *server) touchpointNames(r *http.Request) (map[string]string, error) {
	tps, err := s.Touchpoints.FindTouchpoints(r.Context())
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(tps))
	for _, t := range tps {
		out[t.Key] = t.Name
	}
	return out, nil
}

// timelinePage serves older timeline entries: to htmx, as entries to append;
// to a browser without script, as a page of its own.
func (s *server) timelinePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		c, err := s.Customers.FindCustomerByID(r.Context(), id)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		tl, err := s.timeline(r, id, r.URL.Query().Get("cursor"), c.IsErased())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		block := ""
		if r.Header.Get("HX-Request") == "true" {
			block = "timeline-more"
		}
		s.render(w, r, http.StatusOK, "timeline", block, s.newPage(r, "Earlier moments", "customers", tl))
	})
}

// momentForm is the log-a-moment form.
type momentForm struct {
	Form        *form
	Action      string
	Touchpoints []*rapport.Touchpoint
	Logged      bool // a moment was just logged: say so
	// Case is the recovery case the logged moment opened, or nil.
	Case *rapport.RecoveryCase
	// For the quick entry: the search and the customers to choose from.
	Q         string
	Customers []*rapport.Customer
	// Suggestion ranks the chosen touchpoint's responses for the customer;
	// nil until both are chosen.
	Suggestion *rapport.Suggestions
	CustomerID string // the customer the suggestion is for
}

// newMomentForm is the form to log a moment for customerID ("" when the
// customer is still to be chosen).
func (s *server) newMomentForm(r *http.Request, f *form, action, customerID string) (momentForm, error) {
	tps, err := s.Touchpoints.FindTouchpoints(r.Context())
	if err != nil {
		return momentForm{}, err
	}
	if f == nil {
		f = newForm(url.Values{"channel": {string(rapport.ChannelPhone)}})
	}
	mf := momentForm{Form: f, Action: action, Touchpoints: tps, CustomerID: customerID}
	return mf, s.suggestResponse(r, &mf, customerID)
}

// suggestResponse ranks the chosen touchpoint's responses for the customer
// and preselects the suggestion, unless the form already says which
// response was used.
func (s *server) suggestResponse(r *http.Request, mf *momentForm, customerID string) error {
	tp := mf.Form.Get("touchpoint")
	if customerID == "" || tp == "" {
		return nil
	}
	sg, err := s.Suggestions.Suggest(r.Context(), customerID, tp)
	if rapport.ErrorCode(err) == rapport.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	mf.Suggestion = sg
	if _, chosen := mf.Form.Values["response"]; !chosen {
		mf.Form.Values.Set("response", sg.Suggested)
	}
	return nil
}

// responseField answers a change of touchpoint in a log form with the
// response field: the touchpoint's responses for the customer, the
// suggestion preselected with its reason.
func (s *server) responseField() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := newForm(url.Values{"touchpoint": {q.Get("touchpoint")}})
		customerID := q.Get("customer_id")
		if customerID == "" {
			customerID = r.PathValue("id")
		}
		mf := momentForm{Form: f}
		if err := s.suggestResponse(r, &mf, customerID); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "moment_new", "response-field-page", s.newPage(r, "", "log", mf))
	})
}

// momentFields maps the domain's field names to the form's where they differ.
var momentFields = map[string]string{"customer_id": "customer_id", "touchpoint": "touchpoint", "response": "response", "channel": "channel",
	"rating": "rating", "outcome": "outcome", "occurred_at": "occurred_at"}

// recordMoment reads a posted moment form and records it. When the form has
// errors it puts them on the form and returns no moment; errors the user
// cannot fix are returned.
func (s *server) recordMoment(r *http.Request, f *form, customerID string) (*rapport.Moment, error) {
	m := &rapport.Moment{
		CustomerID: customerID,
		Touchpoint: f.Get("touchpoint"),
		Response:   f.Get("response"),
		Channel:    rapport.Channel(f.Get("channel")),
		Outcome:    rapport.Outcome(f.Get("outcome")),
		Notes:      f.Get("notes"),
		StaffID:    currentUser(r).ID,
		Rating:     f.optionalInt("rating"),
		Effort:     f.optionalInt("effort"),
		NPS:        f.optionalInt("nps"),
		Revenue:    f.optionalFloat("revenue"),
		Cost:       f.optionalFloat("cost"),
		OccurredAt: s.occurredAt(f),
	}
	if m.Touchpoint == "" {
		f.fail("touchpoint", "Choose the touchpoint.")
	}
	if customerID == "" {
		f.fail("customer_id", "Choose the customer.")
	}
	if f.Invalid() {
		// Report the domain's own checks too, so every problem shows at once.
		for _, fe := range m.Validate(s.Clock(), -1) {
			f.fail(fe.Field, sentence(fe.Message))
		}
		return nil, nil
	}
	if _, err := s.Moments.RecordMoment(r.Context(), m); err != nil {
		if f.fromError(err, momentFields) {
			return nil, nil
		}
		return nil, err
	}
	return m, nil
}

// occurredAt reads when the moment happened: empty means now. The browser
// sends its offset from UTC (tz_offset, minutes, as JavaScript's
// getTimezoneOffset gives it) so that the time typed is the user's own;
// without script it is taken as UTC.
func (s *server) occurredAt(f *form) time.Time {
	v := f.Get("occurred_at")
	if v == "" {
		return s.Clock().UTC()
	}
	offset, _ := strconv.Atoi(f.Get("tz_offset"))
	if offset < -14*60 || offset > 14*60 {
		offset = 0
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", v, time.FixedZone("", -offset*60))
	if err != nil {
		f.fail("occurred_at", "Enter a date and time, or leave it empty for now.")
		return time.Time{}
	}
	return t.UTC()
}

// customerLogMoment logs a moment from the customer page. With htmx it
// answers with a fresh form and the updated timeline, swapped in place; a
// browser without script is redirected back to the page.
func (s *server) customerLogMoment() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		f := newForm(r.PostForm)
		m, err := s.recordMoment(r, f, id)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		htmx := r.Header.Get("HX-Request") == "true"
		if !htmx {
			if m == nil {
				s.renderCustomer(w, r, http.StatusUnprocessableEntity, id, f, false)
				return
			}
			if err := s.flashLogged(w, r, m, "Moment logged."); err != nil {
				s.serverError(w, r, err)
				return
			}
			http.Redirect(w, r, "/customers/"+id+"#timeline", http.StatusSeeOther)
			return
		}
		status := http.StatusOK
		var data customerData
		if m == nil {
			status = http.StatusUnprocessableEntity
			if data.Log, err = s.newMomentForm(r, f, "/customers/"+id+"/moments", id); err != nil {
				s.serverError(w, r, err)
				return
			}
		} else {
			// Keep the touchpoint and channel: the next moment is often
			// alike. The timeline and the panels beside it change with the
			// moment, so they come too.
			f = newForm(url.Values{"touchpoint": {m.Touchpoint}, "channel": {string(m.Channel)}})
			if data, err = s.customerPageData(r, id, f); err != nil {
				s.serverError(w, r, err)
				return
			}
			data.OOB = true
		}
		data.Log.Logged = m != nil
		if m != nil {
			if data.Log.Case, err = s.caseOpenedBy(r, m); err != nil {
				s.serverError(w, r, err)
				return
			}
		}
		s.render(w, r, status, "customer", "log-response", s.newPage(r, "", "customers", data))
	})
}

// quickEntryData is the quick-entry page's data.
type quickEntryData struct {
	Log momentForm
}

func (s *server) quickEntryPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := newForm(url.Values{"channel": {string(rapport.ChannelPhone)}})
		if id := r.URL.Query().Get("customer"); id != "" {
			f.Values.Set("customer_id", id)
		}
		s.renderQuickEntry(w, r, http.StatusOK, f, r.URL.Query().Get("q"), false)
	})
}

// renderQuickEntry shows the quick entry: the customers matching q (with the
// chosen one always among them) and the moment form.
func (s *server) renderQuickEntry(w http.ResponseWriter, r *http.Request, status int, f *form, q string, logged bool) {
	mf, err := s.newMomentForm(r, f, "/moments", f.Get("customer_id"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	mf.Q, mf.Logged = strings.TrimSpace(q), logged
	if mf.Customers, err = s.pickCustomers(r, mf.Q, f.Get("customer_id")); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, status, "moment_new", "", s.newPage(r, "Log a moment", "log", quickEntryData{Log: mf}))
}

// pickCustomers returns the customers to choose from: those matching q (the
// newest when q is empty), with the chosen one first.
func (s *server) pickCustomers(r *http.Request, q, chosen string) ([]*rapport.Customer, error) {
	ctx := r.Context()
	var out []*rapport.Customer
	if chosen != "" {
		c, err := s.Customers.FindCustomerByID(ctx, chosen)
		if err == nil {
			out = append(out, c)
		} else if rapport.ErrorCode(err) != rapport.ENOTFOUND {
			return nil, err
		}
	}
	page, err := s.Customers.FindCustomers(ctx, rapport.CustomerFilter{Query: q, Limit: 8})
	if err != nil {
		return nil, err
	}
	for _, c := range page.Items {
		if c.ID != chosen {
			out = append(out, c)
		}
	}
	return out, nil
}

// quickEntryCustomers answers the quick entry's live search with the list of
// customers to choose from.
func (s *server) quickEntryCustomers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("q")
		chosen := r.URL.Query().Get("customer_id")
		cs, err := s.pickCustomers(r, q, chosen)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		f := newForm(url.Values{"customer_id": {chosen}})
		mf := momentForm{Form: f, Q: q, Customers: cs}
		s.render(w, r, http.StatusOK, "moment_new", "customer-options-page", s.newPage(r, "", "log", mf))
	})
}

func (s *server) quickEntryLog() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := newForm(r.PostForm)
		m, err := s.recordMoment(r, f, f.Get("customer_id"))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if m == nil {
			s.renderQuickEntry(w, r, http.StatusUnprocessableEntity, f, r.PostFormValue("q"), false)
			return
		}
		c, err := s.Customers.FindCustomerByID(r.Context(), m.CustomerID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if err := s.flashLogged(w, r, m, "Moment logged for "+c.Name+"."); err != nil {
			s.serverError(w, r, err)
			return
		}
		redirect(w, r, "/customers/"+m.CustomerID+"#timeline")
	})
}

// caseOpenedBy returns the recovery case that recording moment m opened, or
// nil when it opened none.
func (s *server) caseOpenedBy(r *http.Request, m *rapport.Moment) (*rapport.RecoveryCase, error) {
	if m.Outcome != rapport.OutcomeMisery {
		return nil, nil
	}
	cases, err := s.Recovery.FindCases(r.Context(), rapport.CaseFilter{CustomerID: m.CustomerID, Status: rapport.CaseOpen, Limit: rapport.MaxPageSize})
	if err != nil {
		return nil, err
	}
	for _, c := range cases.Items {
		if c.MomentID == m.ID {
			return c, nil
		}
	}
	return nil, nil
}

// flashLogged says the moment was logged and, when it opened a recovery
// case, when the case is due and who has it, with a link to it.
func (s *server) flashLogged(w http.ResponseWriter, r *http.Request, m *rapport.Moment, msg string) error {
	c, err := s.caseOpenedBy(r, m)
	if err != nil {
		return err
	}
	if c == nil {
		setFlash(w, r, msg)
		return nil
	}
	setFlashLink(w, r, msg+" "+caseOpened(c), "/cases/"+c.ID, "Open the case")
	return nil
}

// caseOpened says that a case opened, when it is due and who has it.
func caseOpened(c *rapport.RecoveryCase) string {
	who := "waiting in the " + c.Queue + " queue"
	if c.AssigneeName != "" {
		who = "assigned to " + c.AssigneeName
	}
	return fmt.Sprintf("A recovery case opened, due %s, %s.", formatWhen(c.DueAt), who)
}
