package api

import (
	"net/http"
	"time"

	"github.com/rapport-crm/rapport"
)

// offerRoutes are offers: starting them on a segment, the staff's list of
// customers to make them to, and the measured uplift.
func (s *Server) offerRoutes() []route {
	read, catalogue := rapport.PermRead, rapport.PermWriteCatalogue
	return []route{
		{method: "GET", pattern: "/api/v1/offers", perm: read, handler: s.handleListOffers},
		{method: "POST", pattern: "/api/v1/offers", perm: catalogue, handler: s.handleCreateOffer},
		{method: "GET", pattern: "/api/v1/offers/{id}", perm: read, handler: s.handleGetOffer},
		{method: "GET", pattern: "/api/v1/offers/{id}/customers", perm: read, handler: s.handleOfferCustomers},
		{method: "GET", pattern: "/api/v1/offers/{id}/report", perm: read, handler: s.handleOfferReport},
	}
}

// offerInput is a new offer; the store fills the defaults.
type offerInput struct {
	Name         string    `json:"name"`
	Kind         string    `json:"kind"`
	Description  string    `json:"description"`
	Cost         float64   `json:"cost"`
	Touchpoint   string    `json:"touchpoint"`
	Segment      string    `json:"segment"`
	StartsAt     time.Time `json:"starts_at"`
	EndsAt       time.Time `json:"ends_at"`
	HoldoutShare float64   `json:"holdout_share"`
	Seed         int64     `json:"seed"`
}

func (s *Server) handleListOffers(w http.ResponseWriter, r *http.Request) {
	offers, err := s.Offers.FindOffers(r.Context())
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.Offer]{Items: offers})
}

func (s *Server) handleCreateOffer(w http.ResponseWriter, r *http.Request) {
	var in offerInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if in.Seed < 0 {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The offer is not valid.",
			Fields: []rapport.FieldError{{Field: "seed", Message: "must be a positive whole number, or left out for a random one"}}})
		return
	}
	o := &rapport.Offer{Name: in.Name, Kind: in.Kind, Description: in.Description, Cost: in.Cost, Touchpoint: in.Touchpoint,
		Segment: in.Segment, StartsAt: in.StartsAt, EndsAt: in.EndsAt, HoldoutShare: in.HoldoutShare, Seed: in.Seed}
	if err := s.Offers.CreateOffer(r.Context(), o); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/offers/"+o.ID)
	encode(w, http.StatusCreated, o)
}

func (s *Server) handleGetOffer(w http.ResponseWriter, r *http.Request) {
	o, err := s.Offers.FindOfferByID(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, o)
}

// handleOfferCustomers is the staff's list: ?owner= a user's id, or me;
// ?open=true for the customers the offer has not been given to yet.
func (s *Server) handleOfferCustomers(w http.ResponseWriter, r *http.Request) {
	var f rapport.OfferCustomerFilter
	var fields []rapport.FieldError
	f.Owner, f.Open, fields = staffListQuery(r)
	servePage(s, w, r, fields, func(limit int, cursor string) (rapport.Page[*rapport.OfferCustomer], error) {
		f.Limit, f.Cursor = limit, cursor
		return s.Offers.OfferCustomers(r.Context(), r.PathValue("id"), f)
	})
}

// staffListQuery reads the query of a list staff work from: ?owner= a
// user's id, or me; ?open=true for what is still to do.
func staffListQuery(r *http.Request) (owner string, open bool, fields []rapport.FieldError) {
	owner = r.URL.Query().Get("owner")
	if owner == "me" {
		owner = rapport.ActorID(r.Context())
	}
	if err := boolParams(r, map[string]*bool{"open": &open}); err != nil {
		fields = rapport.ErrorFields(err)
	}
	return owner, open, fields
}

func (s *Server) handleOfferReport(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Offers.OfferReport(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rep)
}
