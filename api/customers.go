package api

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/rapport-crm/rapport"
)

// customerInput is what a client may set on a new customer; ids, stage and
// times are Rapport's to set.
type customerInput struct {
	ExternalID  string               `json:"external_id"`
	Kind        string               `json:"kind"`
	Name        string               `json:"name"`
	Email       string               `json:"email"`
	Phone       string               `json:"phone"`
	Attributes  map[string]any       `json:"attributes"`
	Preferences *rapport.Preferences `json:"preferences"`
	OwnerID     string               `json:"owner_id"`
	ReferredBy  string               `json:"referred_by"`
	Language    string               `json:"language"`
	// CreatedAt is when they became a customer, for one brought in with
	// their history; now when left out.
	CreatedAt *time.Time `json:"created_at"`
}

func (s *Server) handleCreateCustomer(w http.ResponseWriter, r *http.Request) {
	var in customerInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	c := &rapport.Customer{ExternalID: in.ExternalID, Kind: in.Kind, Name: in.Name, Email: in.Email, Phone: in.Phone,
		Attributes: in.Attributes, OwnerID: in.OwnerID, ReferredBy: in.ReferredBy, Language: in.Language}
	if in.Preferences != nil {
		c.Preferences = *in.Preferences
	}
	if in.CreatedAt != nil {
		c.CreatedAt = *in.CreatedAt
	}
	if err := s.Customers.CreateCustomer(r.Context(), c); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/customers/"+c.ID)
	encode(w, http.StatusCreated, c)
}

func (s *Server) handleListCustomers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if stage := q.Get("stage"); stage != "" && !slices.Contains(rapport.Stages, rapport.Stage(stage)) {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.",
			Fields: []rapport.FieldError{{Field: "stage", Message: "must be one of " + rapport.StageNames()}}})
		return
	}
	page, err := s.Customers.FindCustomers(r.Context(), rapport.CustomerFilter{
		Query: q.Get("q"), OwnerID: q.Get("owner_id"), Stage: q.Get("stage"), Limit: limit, Cursor: q.Get("cursor"),
	})
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, page)
}

func (s *Server) handleGetCustomer(w http.ResponseWriter, r *http.Request) {
	c, err := s.Customers.FindCustomerByID(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, c)
}

func (s *Server) handleUpdateCustomer(w http.ResponseWriter, r *http.Request) {
	var u rapport.CustomerUpdate
	if err := decode(w, r, maxBodyBytes, &u); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	c, err := s.Customers.UpdateCustomer(r.Context(), r.PathValue("id"), u)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, c)
}

func (s *Server) handleDeleteCustomer(w http.ResponseWriter, r *http.Request) {
	if err := s.Customers.DeleteCustomer(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleTimeline(w http.ResponseWriter, r *http.Request) {
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	page, err := s.Timeline.Timeline(r.Context(), r.PathValue("id"), rapport.TimelineFilter{Limit: limit, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, page)
}

// queryLimit reads the page size from ?limit=, which must be 1 to MaxPageSize.
func queryLimit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > rapport.MaxPageSize {
		return 0, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.",
			Fields: []rapport.FieldError{{Field: "limit", Message: "must be a whole number from 1 to " + strconv.Itoa(rapport.MaxPageSize)}}}
	}
	return n, nil
}

// servePage answers a list: the filter's field errors and a bad limit
// together as one 422, else the page find returns for the query's limit
// and cursor.
func servePage[T any](s *Server, w http.ResponseWriter, r *http.Request, fields []rapport.FieldError,
	find func(limit int, cursor string) (rapport.Page[T], error)) {
	limit, err := queryLimit(r)
	if err != nil {
		fields = append(fields, rapport.ErrorFields(err)...)
	}
	if len(fields) > 0 {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.", Fields: fields})
		return
	}
	page, err := find(limit, r.URL.Query().Get("cursor"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, page)
}
