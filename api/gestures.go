package api

import (
	"net/http"
	"time"

	"github.com/rapport-crm/rapport"
)

// gestureRoutes are gesture rules: managing them, the staff's list of
// gestures suggested on milestones, and what followed the gestures.
func (s *Server) gestureRoutes() []route {
	read, catalogue := rapport.PermRead, rapport.PermWriteCatalogue
	return []route{
		{method: "GET", pattern: "/api/v1/gesture-rules", perm: read, handler: s.handleListGestureRules},
		{method: "POST", pattern: "/api/v1/gesture-rules", perm: catalogue, handler: s.handleCreateGestureRule},
		{method: "GET", pattern: "/api/v1/gesture-rules/{id}", perm: read, handler: s.handleGetGestureRule},
		{method: "POST", pattern: "/api/v1/gesture-rules/{id}/end", perm: catalogue, handler: s.handleEndGestureRule},
		{method: "GET", pattern: "/api/v1/gesture-rules/{id}/gestures", perm: read, handler: s.handleGestures},
		{method: "GET", pattern: "/api/v1/gesture-rules/{id}/report", perm: read, handler: s.handleGestureReport},
	}
}

// gestureRuleInput is a new rule; the store fills the defaults. A missing
// holdout_share means the default 10%; 0 means no holdout.
type gestureRuleInput struct {
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	Milestone    string    `json:"milestone"`
	Count        int       `json:"count"`
	Product      string    `json:"product"`
	Kind         string    `json:"kind"`
	Cost         float64   `json:"cost"`
	Touchpoint   string    `json:"touchpoint"`
	StartsAt     time.Time `json:"starts_at"`
	EndsAt       time.Time `json:"ends_at"`
	HoldoutShare *float64  `json:"holdout_share"`
	Seed         int64     `json:"seed"`
}

func (s *Server) handleListGestureRules(w http.ResponseWriter, r *http.Request) {
	rules, err := s.Gestures.FindGestureRules(r.Context())
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.GestureRule]{Items: rules})
}

func (s *Server) handleCreateGestureRule(w http.ResponseWriter, r *http.Request) {
	var in gestureRuleInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if in.Seed < 0 {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The gesture rule is not valid.",
			Fields: []rapport.FieldError{{Field: "seed", Message: "must be a positive whole number, or left out for a random one"}}})
		return
	}
	share := rapport.DefaultHoldoutShare
	if in.HoldoutShare != nil {
		share = *in.HoldoutShare
	}
	g := &rapport.GestureRule{Name: in.Name, Description: in.Description, Milestone: in.Milestone, Count: in.Count, Product: in.Product,
		Kind: in.Kind, Cost: in.Cost, Touchpoint: in.Touchpoint, StartsAt: in.StartsAt, EndsAt: in.EndsAt, HoldoutShare: share, Seed: in.Seed}
	if err := s.Gestures.CreateGestureRule(r.Context(), g); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/gesture-rules/"+g.ID)
	encode(w, http.StatusCreated, g)
}

func (s *Server) handleGetGestureRule(w http.ResponseWriter, r *http.Request) {
	g, err := s.Gestures.FindGestureRuleByID(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, g)
}

func (s *Server) handleEndGestureRule(w http.ResponseWriter, r *http.Request) {
	g, err := s.Gestures.EndGestureRule(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, g)
}

// handleGestures is the staff's list: ?owner= a user's id, or me;
// ?open=true for the gestures not made yet.
func (s *Server) handleGestures(w http.ResponseWriter, r *http.Request) {
	var f rapport.GestureFilter
	var fields []rapport.FieldError
	f.Owner, f.Open, fields = staffListQuery(r)
	servePage(s, w, r, fields, func(limit int, cursor string) (rapport.Page[*rapport.Gesture], error) {
		f.Limit, f.Cursor = limit, cursor
		return s.Gestures.Gestures(r.Context(), r.PathValue("id"), f)
	})
}

func (s *Server) handleGestureReport(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Gestures.GestureReport(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rep)
}
