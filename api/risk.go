package api

import (
	"net/http"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
)

// riskRoutes are the dissolution-risk model: its track record for anyone
// who may read, a refit for those who look after the catalogue, and the
// import of past stage changes it learns from, for those who keep customers.
func (s *Server) riskRoutes() []route {
	return []route{
		{method: "POST", pattern: "/api/v1/stages/import", perm: rapport.PermWriteCustomers, handler: s.handleImportStageChanges},
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

func (s *Server) handleImportStageChanges(w http.ResponseWriter, r *http.Request) {
	opt, err := importRequest(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	file, err := csvio.ReadStageChanges(r.Body)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	res, err := s.Imports.ImportStageChanges(r.Context(), file, opt)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	answerImport(w, res)
}
