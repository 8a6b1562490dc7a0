package api

import (
	"net/http"

	"github.com/rapport-crm/rapport"
)

// touchpointInput is what a client may set on a new touchpoint.
type touchpointInput struct {
	Key         string            `json:"key"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Phase       string            `json:"phase"`
	Channels    []rapport.Channel `json:"channels"`
	TargetScore float64           `json:"target_score"`
	Priority    *int              `json:"priority"`
}

func (s *Server) handleListTouchpoints(w http.ResponseWriter, r *http.Request) {
	ts, err := s.Touchpoints.FindTouchpoints(r.Context())
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.Touchpoint]{Items: ts})
}

func (s *Server) handleCreateTouchpoint(w http.ResponseWriter, r *http.Request) {
	var in touchpointInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	t := &rapport.Touchpoint{Key: in.Key, Name: in.Name, Description: in.Description, Phase: in.Phase,
		Channels: in.Channels, TargetScore: in.TargetScore, Priority: in.Priority}
	if err := s.Touchpoints.CreateTouchpoint(r.Context(), t); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/touchpoints/"+t.Key)
	encode(w, http.StatusCreated, t)
}

func (s *Server) handleGetTouchpoint(w http.ResponseWriter, r *http.Request) {
	t, err := s.Touchpoints.FindTouchpointByKey(r.Context(), r.PathValue("key"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, t)
}

func (s *Server) handleUpdateTouchpoint(w http.ResponseWriter, r *http.Request) {
	var u rapport.TouchpointUpdate
	if err := decode(w, r, maxBodyBytes, &u); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	t, err := s.Touchpoints.UpdateTouchpoint(r.Context(), r.PathValue("key"), u)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, t)
}
