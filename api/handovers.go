package api

import (
	"net/http"

	"github.com/rapport-crm/rapport"
)

// handoverRoutes are handing customers over as one step and the first
// contacts each new owner has to make.
func (s *Server) handoverRoutes() []route {
	return []route{
		{method: "POST", pattern: "/api/v1/handovers", perm: rapport.PermWriteCatalogue, handler: s.handleHandOver},
		{method: "GET", pattern: "/api/v1/first-contacts", perm: rapport.PermRead, handler: s.handleFirstContacts},
		{method: "GET", pattern: "/api/v1/reports/handovers", perm: rapport.PermRead, handler: s.handleHandoverReport},
	}
}

func (s *Server) handleHandOver(w http.ResponseWriter, r *http.Request) {
	var in rapport.HandoverInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	res, err := s.Handovers.HandOver(r.Context(), in)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, res)
}

// handleFirstContacts lists ?owner='s first contacts: a user's id, or the
// caller's own when left out.
func (s *Server) handleFirstContacts(w http.ResponseWriter, r *http.Request) {
	owner := r.URL.Query().Get("owner")
	if owner == "" || owner == "me" {
		owner = rapport.ActorID(r.Context())
	}
	servePage(s, w, r, nil, func(limit int, cursor string) (rapport.Page[*rapport.FirstContact], error) {
		if cursor != "" {
			return rapport.Page[*rapport.FirstContact]{Items: []*rapport.FirstContact{}}, rapport.Errorf(rapport.EINVALID,
				"First contacts come in one page; send no cursor.")
		}
		items, err := s.Handovers.FirstContacts(r.Context(), owner, limit)
		return rapport.Page[*rapport.FirstContact]{Items: items}, err
	})
}

func (s *Server) handleHandoverReport(w http.ResponseWriter, r *http.Request) {
	var f rapport.HandoverReportFilter
	if fields := queryWindow(r.URL.Query(), &f.From, &f.To); len(fields) > 0 {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.", Fields: fields})
		return
	}
	rep, err := s.Handovers.HandoverReport(r.Context(), f)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rep)
}
