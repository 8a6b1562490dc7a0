package api

import (
	"net/http"

	"github.com/rapport-crm/rapport"
)

// riskRoutes are the dissolution-risk model: its track record for anyone
// who may read, a refit for those who look after the catalogue.
func (s *Server) riskRoutes() []route {
	return []route{
		{method: "GET", pattern: "/api/v1/risk/track-record", perm: rapport.PermRead, handler: s.handleRiskTrackRecord},
		{method: "POST", pattern: "/api/v1/risk/refit", perm: rapport.PermWriteCatalogue, handler: s.handleRefitRisk},
	}
}

func (s *Server) handleRiskTrackRecord(w http.ResponseWriter, r *http.Request) {
	tr, err := s.Risk.RiskTrackRecord(r.Context())
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, tr)
}

func (s *Server) handleRefitRisk(w http.ResponseWriter, r *http.Request) {
	tr, err := s.Risk.RefitRisk(r.Context())
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, tr)
}
