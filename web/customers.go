package web

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
)

// customerPageSize is how many customers a page of the list shows.
const customerPageSize = 25

// customersData is the customer list's data.
type customersData struct {
	F        customerListQuery
	List     *rapport.CustomerList
	Owners   map[string]string // user id to name
	Staff    []*rapport.User   // who may own customers, for the owner filter
	Segments []*rapport.Segment
	First    int // the place of the page's first row, from 1
	Last     int // the place of its last row
	Prev     string
	Next     string
	Filtered bool // whether any filter is set (the search aside)
	Views    []*rapport.SavedView
	ViewForm *form // the save-this-view form
}

// CurrentView is the saved view the list shows now, if it is one.
func (d customersData) CurrentView() string {
	here := d.F.Encoded()
	for _, v := range d.Views {
		if v.Query == here {
			return v.ID
		}
	}
	return ""
}

// customerListQuery is the customer list's filter as the address gives it.
type customerListQuery struct {
	Q, Stage, Owner, Health, Risk, Segment, Sort string
	Page                                         int // from 1
}

// parseCustomerListQuery reads the list's filter from the address; an
// unknown page number is the first page.
func parseCustomerListQuery(v url.Values) customerListQuery {
	q := customerListQuery{Q: strings.TrimSpace(v.Get("q")), Stage: v.Get("stage"), Owner: v.Get("owner"), Health: v.Get("health"),
		Risk: v.Get("risk"), Segment: v.Get("segment"), Sort: v.Get("sort"), Page: 1}
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 1 {
		q.Page = n
	}
	return q
}

// values is the query as an address's parameters, leaving out what is not set.
func (q customerListQuery) values() url.Values {
	v := url.Values{}
	for _, p := range [][2]string{{"q", q.Q}, {"stage", q.Stage}, {"owner", q.Owner}, {"health", q.Health}, {"risk", q.Risk}, {"segment", q.Segment}, {"sort", q.Sort}} {
		if p[1] != "" {
			v.Set(p[0], p[1])
		}
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	return v
}

// Link is the list's address with this query.
func (q customerListQuery) Link() string {
	if v := q.values().Encode(); v != "" {
		return "/customers?" + v
	}
	return "/customers"
}

// ExportLink is the address of the CSV of every customer the query
// selects, in its order.
func (q customerListQuery) ExportLink() string {
	if v := q.Encoded(); v != "" {
		return "/customers/export?" + v
	}
	return "/customers/export"
}

// Encoded is the query's parameters without the page, as a saved view keeps them.
func (q customerListQuery) Encoded() string {
	q.Page = 1
	return q.values().Encode()
}

// SortLink is the list's address sorted by a column: by its natural order,
// or the other way round when it is sorted so already.
func (q customerListQuery) SortLink(col string) string {
	q.Page = 1
	switch {
	case q.Sort == col || (col == string(rapport.SortName) && q.Sort == ""):
		q.Sort = "-" + col
	default:
		q.Sort = col
	}
	if q.Sort == string(rapport.SortName) {
		q.Sort = ""
	}
	return q.Link()
}

// SortedBy says how the list is sorted by a column, for aria-sort:
// "ascending", "descending" or "" when it is not.
func (q customerListQuery) SortedBy(col string) string {
	sort := rapport.CustomerSort(q.Sort)
	if sort == "" {
		sort = rapport.SortName
	}
	if string(sort.Column()) != col {
		return ""
	}
	// Names run A to Z; the figures run from the highest, the latest first.
	ascending := col == string(rapport.SortName)
	if sort.Reversed() {
		ascending = !ascending
	}
	if ascending {
		return "ascending"
	}
	return "descending"
}

// filter is the query for the store; "me" as the owner is the signed-in user.
func (q customerListQuery) filter(me string) rapport.CustomerListFilter {
	owner := q.Owner
	if owner == "me" {
		owner = me
	}
	return rapport.CustomerListFilter{Query: q.Q, Stage: rapport.Stage(q.Stage), OwnerID: owner, Health: rapport.Band(q.Health),
		Risk: rapport.Band(q.Risk), SegmentID: q.Segment, Sort: rapport.CustomerSort(q.Sort),
		Limit: customerPageSize, Offset: (q.Page - 1) * customerPageSize}
}

func (s *server) customersPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderCustomers(w, r, http.StatusOK, parseCustomerListQuery(r.URL.Query()), newForm(nil))
	})
}

// renderCustomers shows a page of the customer list with the user's saved
// views; view is the save-this-view form.
func (s *server) renderCustomers(w http.ResponseWriter, r *http.Request, status int, q customerListQuery, view *form) {
	ctx := r.Context()
	me := currentUser(r)
	list, err := s.CustomerList.ListCustomers(ctx, q.filter(me.ID))
	if rapport.ErrorCode(err) == rapport.EINVALID || rapport.ErrorCode(err) == rapport.ENOTFOUND {
		s.renderError(w, r, http.StatusBadRequest, "This list cannot be shown: "+rapport.ErrorMessage(err)+" Start again from the list of every customer.")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	data := customersData{F: q, List: list, First: (q.Page-1)*customerPageSize + 1, ViewForm: view,
		Filtered: q.Stage != "" || q.Owner != "" || q.Health != "" || q.Risk != "" || q.Segment != ""}
	data.Last = data.First + len(list.Rows) - 1
	if q.Page > 1 {
		prev := q
		prev.Page--
		data.Prev = prev.Link()
	}
	if data.Last < list.Total {
		next := q
		next.Page++
		data.Next = next.Link()
	}
	if data.Owners, err = s.userNames(r); err != nil {
		s.serverError(w, r, err)
		return
	}
	if data.Staff, err = s.Users.FindUsers(ctx, rapport.UserFilter{}); err != nil {
		s.serverError(w, r, err)
		return
	}
	data.Staff = activeFirst(data.Staff)
	if data.Segments, err = s.Segments.FindSegments(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	if data.Views, err = s.SavedViews.FindSavedViews(ctx, me.ID); err != nil {
		s.serverError(w, r, err)
		return
	}
	block := ""
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == "customer-results" {
		block = "customer-results"
	}
	s.render(w, r, status, "customers", block, s.newPage(r, "Customers", "customers", data))
}

// customerListKeys are the parameters of the customer list a view keeps.
var customerListKeys = []string{"q", "stage", "owner", "health", "risk", "segment", "sort"}

// parseViewQuery reads the filter a view is saved with: the list's own
// parameters, and nothing else, each valid.
func parseViewQuery(raw string) (customerListQuery, error) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return customerListQuery{}, rapport.Errorf(rapport.EINVALID, "The view's filter cannot be read.")
	}
	for k := range v {
		if !slices.Contains(customerListKeys, k) && k != "page" {
			return customerListQuery{}, rapport.Errorf(rapport.EINVALID, "The view's filter has %q, which the list does not know.", k)
		}
	}
	q := parseCustomerListQuery(v)
	q.Page = 1
	f := q.filter("me")
	if err := f.Validate(); err != nil {
		return customerListQuery{}, err
	}
	return q, nil
}

// viewSave keeps the list's filter and order under a name for the user.
func (s *server) viewSave() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fm := newForm(r.PostForm)
		q, err := parseViewQuery(r.PostFormValue("query"))
		if err != nil {
			fm.fromError(err, nil)
			s.renderCustomers(w, r, http.StatusUnprocessableEntity, customerListQuery{Page: 1}, fm)
			return
		}
		v := &rapport.SavedView{UserID: currentUser(r).ID, Name: fm.Get("name"), Query: q.Encoded()}
		if err := s.SavedViews.SaveView(r.Context(), v); err != nil {
			if !fm.fromError(err, nil) {
				s.serverError(w, r, err)
				return
			}
			s.renderCustomers(w, r, http.StatusUnprocessableEntity, q, fm)
			return
		}
		setFlash(w, r, "View “"+v.Name+"” saved: it is listed above the filters.")
		redirect(w, r, q.Link())
	})
}

// viewDelete removes one of the user's views.
func (s *server) viewDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.SavedViews.DeleteSavedView(r.Context(), currentUser(r).ID, r.PathValue("id"))
		switch {
		case err == nil:
			setFlash(w, r, "View deleted.")
		case rapport.ErrorCode(err) == rapport.ENOTFOUND:
			s.renderError(w, r, http.StatusNotFound, rapport.ErrorMessage(err))
			return
		default:
			s.serverError(w, r, err)
			return
		}
		redirect(w, r, "/customers")
	})
}

// userNames maps every user's id to their name, for owners and staff.
func (s *server) userNames(r *http.Request) (map[string]string, error) {
	users, err := s.Users.FindUsers(r.Context(), rapport.UserFilter{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(users))
	for _, u := range users {
		out[u.ID] = u.Name
	}
	return out, nil
}

// customerData is the customer page's data.
type customerData struct {
	C          *rapport.Customer
	Owner      string
	ReferredBy *rapport.Customer
	Attributes []attribute
	Timeline   timelineData
	Log        momentForm
	Recovery   *customerRecovery // promises and cases
	Rel        *customerRel      // stage, health, holdings
	// OOB is set in the answer to a moment logged in place: the timeline
	// and the panels it changes are swapped in beside the form.
	OOB bool
}

type attribute struct{ Key, Value string }

func (s *server) customerPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Today's list links here with the touchpoint the contact is about,
		// so the form opens on it with the suggested response.
		var log *form
		if tp := r.URL.Query().Get("touchpoint"); tp != "" {
			log = newForm(url.Values{"touchpoint": {tp}, "channel": {string(rapport.ChannelPhone)}})
		}
		s.renderCustomer(w, r, http.StatusOK, r.PathValue("id"), log, false)
	})
}

// renderCustomer shows a customer's page; log is the log-a-moment form as
// posted, or nil for an empty one.
func (s *server) renderCustomer(w http.ResponseWriter, r *http.Request, status int, id string, log *form, logged bool) {
	data, err := s.customerPageData(r, id, log)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	data.Log.Logged = logged
	c := data.C
	p := s.newPage(r, c.Name, "customers", data)
	if c.IsErased() {
		// Nothing can be added to an erased customer or changed on them.
		p.Can.WriteCustomers, p.Can.WriteMoments = false, false
	}
	s.render(w, r, status, "customer", "", p)
}

// customerPageData is everything the customer page shows, with log as the
// log form.
func (s *server) customerPageData(r *http.Request, id string, log *form) (customerData, error) {
	ctx := r.Context()
	c, err := s.Customers.FindCustomerByID(ctx, id)
	if err != nil {
		return customerData{}, err
	}
	data := customerData{C: c, Attributes: attributeList(c.Attributes)}
	if c.OwnerID != "" {
		if u, err := s.Users.FindUserByID(ctx, c.OwnerID); err == nil {
			data.Owner = u.Name
		} else if rapport.ErrorCode(err) != rapport.ENOTFOUND {
			return data, err
		}
	}
	if c.ReferredBy != "" {
		if ref, err := s.Customers.FindCustomerByID(ctx, c.ReferredBy); err == nil {
			data.ReferredBy = ref
		}
	}
	if data.Timeline, err = s.timeline(r, c.ID, "", c.IsErased()); err != nil {
		return data, err
	}
	if data.Log, err = s.newMomentForm(r, log, "/customers/"+c.ID+"/moments", c.ID); err != nil {
		return data, err
	}
	if data.Recovery, err = s.customerRecovery(r, c); err != nil {
		return data, err
	}
	data.Rel, err = s.customerRelationship(r, c)
	return data, err
}

// attributeList lists a customer's attributes by key, each value as the
// attribute editor writes it.
func attributeList(attrs map[string]any) []attribute {
	out := make([]attribute, 0, len(attrs))
	for k, v := range attrs {
		out = append(out, attribute{k, rapport.FormatAttribute(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// parseAttributes reads the attribute editor: one "key: value" per line.
func parseAttributes(f *form, text string) map[string]any {
	out := map[string]any{}
	for i, l := range lines(text) {
		k, v, ok := strings.Cut(l, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			f.fail("attributes", "Line "+strconv.Itoa(i+1)+" needs a key, a colon and a value, like “segment: retail”.")
			return nil
		}
		out[k] = rapport.ParseAttribute(v)
	}
	return out
}

// customerFormData is the data of the new-customer and edit-profile forms.
type customerFormData struct {
	C     *rapport.Customer // nil when creating
	Form  *form
	Users []*rapport.User
}

// customerFields maps the domain's field names to the form's.
var customerFields = map[string]string{
	"preferences.likes": "likes", "preferences.dislikes": "dislikes", "owner_id": "owner_id",
	"attributes": "attributes", "kind": "kind", "stage": "stage", "language": "language",
}

func (s *server) renderCustomerForm(w http.ResponseWriter, r *http.Request, status int, c *rapport.Customer, f *form) {
	users, err := s.Users.FindUsers(r.Context(), rapport.UserFilter{})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	title, keep := "New customer", []string{f.Get("owner_id")}
	if c != nil {
		title, keep = "Edit "+c.Name, append(keep, c.OwnerID)
	}
	users = activeOr(users, keep...)
	s.render(w, r, status, "customer_form", "", s.newPage(r, title, "customers", customerFormData{C: c, Form: f, Users: users}))
}

func (s *server) customerNewPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := newForm(url.Values{"kind": {rapport.KindPerson}, "stage": {rapport.StageAwareness},
			"owner_id": {currentUser(r).ID}})
		s.renderCustomerForm(w, r, http.StatusOK, nil, f)
	})
}

func (s *server) customerCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := newForm(r.PostForm)
		c := &rapport.Customer{
			Name: f.Get("name"), Kind: f.Get("kind"), Email: f.Get("email"), Phone: f.Get("phone"), Language: f.Get("language"),
			ExternalID: f.Get("external_id"), OwnerID: f.Get("owner_id"), Stage: rapport.Stage(f.Get("stage")),
			Preferences: rapport.Preferences{Likes: lines(f.Get("likes")), Dislikes: lines(f.Get("dislikes"))},
			Attributes:  parseAttributes(f, f.Values.Get("attributes")),
		}
		if !f.Invalid() {
			err := s.Customers.CreateCustomer(r.Context(), c)
			if err == nil {
				setFlash(w, r, "Customer added.")
				redirect(w, r, "/customers/"+c.ID)
				return
			}
			if !f.fromError(err, customerFields) {
				s.serverError(w, r, err)
				return
			}
		}
		s.renderCustomerForm(w, r, http.StatusUnprocessableEntity, nil, f)
	})
}

func (s *server) customerEditPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.Customers.FindCustomerByID(r.Context(), r.PathValue("id"))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		var attrs []string
		for _, a := range attributeList(c.Attributes) {
			attrs = append(attrs, a.Key+": "+a.Value)
		}
		f := newForm(url.Values{
			"name": {c.Name}, "kind": {c.Kind}, "email": {c.Email}, "phone": {c.Phone}, "language": {c.Language},
			"external_id": {c.ExternalID}, "owner_id": {c.OwnerID},
			"likes":      {strings.Join(c.Preferences.Likes, "\n")},
			"dislikes":   {strings.Join(c.Preferences.Dislikes, "\n")},
			"attributes": {strings.Join(attrs, "\n")},
		})
		s.renderCustomerForm(w, r, http.StatusOK, c, f)
	})
}

func (s *server) customerUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		c, err := s.Customers.FindCustomerByID(ctx, r.PathValue("id"))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		f := newForm(r.PostForm)
		str := func(name string) *string { v := f.Get(name); return &v }
		u := rapport.CustomerUpdate{
			Name: str("name"), Kind: str("kind"), Email: str("email"), Phone: str("phone"), Language: str("language"),
			ExternalID: str("external_id"), OwnerID: str("owner_id"),
			Preferences: &rapport.Preferences{Likes: lines(f.Get("likes")), Dislikes: lines(f.Get("dislikes"))},
		}
		// The editor shows every attribute, so one missing from the post was removed.
		attrs := parseAttributes(f, f.Values.Get("attributes"))
		u.Attributes = map[string]any{}
		for k := range c.Attributes {
			u.Attributes[k] = nil
		}
		for k, v := range attrs {
			u.Attributes[k] = v
		}
		if !f.Invalid() {
			_, err := s.Customers.UpdateCustomer(ctx, c.ID, u)
			if err == nil {
				setFlash(w, r, "Profile saved.")
				redirect(w, r, "/customers/"+c.ID)
				return
			}
			if !f.fromError(err, customerFields) {
				s.serverError(w, r, err)
				return
			}
		}
		s.renderCustomerForm(w, r, http.StatusUnprocessableEntity, c, f)
	})
}

// customerListColumns are the columns of the list's export: what the list
// shows, with the email it shows under a name and the id that names a
// customer for good.
var customerListColumns = []string{"Name", "Kind", "Email", "Stage", "Owner", "Health", "Risk", "Last moment", "Id"}

// exportCustomers streams as CSV every customer the list selects with the
// filters, search and order of the address, not only the page shown.
func (s *server) exportCustomers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := parseCustomerListQuery(r.URL.Query())
		f := q.filter(currentUser(r).ID)
		if err := f.Validate(); err != nil {
			s.renderError(w, r, http.StatusBadRequest, "This list cannot be exported: "+rapport.ErrorMessage(err)+" Start again from the list of every customer.")
			return
		}
		owners, err := s.userNames(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		out := s.startExport(w, "customers")
		cw := csv.NewWriter(out)
		err = cw.Write(customerListColumns)
		if err == nil {
			err = s.CustomerList.EachListedCustomer(r.Context(), f, func(c *rapport.CustomerListRow) error {
				return out.row(cw.Write(customerListRecord(c, owners)))
			})
		}
		s.endExport(w, r, out, err, func() error { cw.Flush(); return cw.Error() })
	})
}

// customerListRecord is one customer as a row of the list's export, each
// text guarded against being run as a spreadsheet formula.
func customerListRecord(c *rapport.CustomerListRow, owners map[string]string) []string {
	name, email := c.Name, c.Email
	if c.Erased {
		name, email = "Erased customer", ""
	}
	score := func(v *int) string {
		if v == nil {
			return ""
		}
		return strconv.Itoa(*v)
	}
	last := ""
	if c.LastMomentAt != nil {
		last = c.LastMomentAt.UTC().Format(time.RFC3339)
	}
	return []string{csvio.Escape(name), c.Kind, csvio.Escape(email), string(c.Stage), csvio.Escape(owners[c.OwnerID]),
		score(c.Health), score(c.Risk), last, c.ID}
}
