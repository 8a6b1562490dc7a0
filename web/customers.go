package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/rapport-crm/rapport"
)

// customerPageSize is how many customers a page of the list shows.
const customerPageSize = 25

// customersData is the customer list's data.
type customersData struct {
	Q         string
	Customers []*rapport.Customer
	Owners    map[string]string // user id to name
	Next      string            // URL of the next page, if any
	Paged     bool              // whether this is a later page
}

func (s *server) customersPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		q := strings.TrimSpace(r.URL.Query().Get("q"))
		cursor := r.URL.Query().Get("cursor")
		page, err := s.Customers.FindCustomers(ctx, rapport.CustomerFilter{Query: q, Limit: customerPageSize, Cursor: cursor})
		if rapport.ErrorCode(err) == rapport.EINVALID {
			// A stale or mangled cursor: start again from the first page.
			page, err = s.Customers.FindCustomers(ctx, rapport.CustomerFilter{Query: q, Limit: customerPageSize})
			cursor = ""
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		owners, err := s.userNames(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		data := customersData{Q: q, Customers: page.Items, Owners: owners, Paged: cursor != ""}
		if page.NextCursor != "" {
			v := url.Values{"cursor": {page.NextCursor}}
			if q != "" {
				v.Set("q", q)
			}
			data.Next = "/customers?" + v.Encode()
		}
		block := ""
		if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == "customer-results" {
			block = "customer-results"
		}
		s.render(w, r, http.StatusOK, "customers", block, s.newPage(r, "Customers", "customers", data))
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
	ctx := r.Context()
	c, err := s.Customers.FindCustomerByID(ctx, id)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	data := customerData{C: c, Attributes: attributeList(c.Attributes)}
	if c.OwnerID != "" {
		if u, err := s.Users.FindUserByID(ctx, c.OwnerID); err == nil {
			data.Owner = u.Name
		} else if rapport.ErrorCode(err) != rapport.ENOTFOUND {
			s.serverError(w, r, err)
			return
		}
	}
	if c.ReferredBy != "" {
		if ref, err := s.Customers.FindCustomerByID(ctx, c.ReferredBy); err == nil {
			data.ReferredBy = ref
		}
	}
	if data.Timeline, err = s.timeline(r, c.ID, "", c.IsErased()); err != nil {
		s.serverError(w, r, err)
		return
	}
	if data.Log, err = s.newMomentForm(r, log, "/customers/"+c.ID+"/moments", c.ID); err != nil {
		s.serverError(w, r, err)
		return
	}
	data.Log.Logged = logged
	if data.Recovery, err = s.customerRecovery(r, c); err != nil {
		s.serverError(w, r, err)
		return
	}
	if data.Rel, err = s.customerRelationship(r, c); err != nil {
		s.serverError(w, r, err)
		return
	}
	p := s.newPage(r, c.Name, "customers", data)
	if c.IsErased() {
		// Nothing can be added to an erased customer or changed on them.
		p.Can.WriteCustomers, p.Can.WriteMoments = false, false
	}
	s.render(w, r, status, "customer", "", p)
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
	"attributes": "attributes", "kind": "kind", "stage": "stage",
}

func (s *server) renderCustomerForm(w http.ResponseWriter, r *http.Request, status int, c *rapport.Customer, f *form) {
	users, err := s.Users.FindUsers(r.Context(), rapport.UserFilter{})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	title := "New customer"
	if c != nil {
		title = "Edit " + c.Name
	}
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
			Name: f.Get("name"), Kind: f.Get("kind"), Email: f.Get("email"), Phone: f.Get("phone"),
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
			"name": {c.Name}, "kind": {c.Kind}, "email": {c.Email}, "phone": {c.Phone},
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
			Name: str("name"), Kind: str("kind"), Email: str("email"), Phone: str("phone"),
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
