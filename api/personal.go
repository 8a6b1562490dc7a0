package api

import (
	"net/http"

	"github.com/rapport-crm/rapport"
)

// personalRoutes suggest, for one customer, the response most likely to
// delight them, and keep what each response involves.
func (s *Server) personalRoutes() []route {
	return []route{
		{method: "GET", pattern: "/api/v1/customers/{id}/suggestions", perm: rapport.PermRead, handler: s.handleSuggestions},
		{method: "PUT", pattern: "/api/v1/touchpoints/{key}/responses/{response}/tags", perm: rapport.PermWriteCatalogue, handler: s.handleSetResponseTags},
	}
}

func (s *Server) handleSuggestions(w http.ResponseWriter, r *http.Request) {
	tp := r.URL.Query().Get("touchpoint")
	if tp == "" {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "Say which touchpoint to suggest a response for.",
			Fields: []rapport.FieldError{{Field: "touchpoint", Message: "is required: a touchpoint's key"}}})
		return
	}
	sg, err := s.Suggestions.Suggest(r.Context(), r.PathValue("id"), tp)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, sg)
}

// tagsInput is the body that replaces a response's tags.
type tagsInput struct {
	Tags []string `json:"tags"`
}

func (s *Server) handleSetResponseTags(w http.ResponseWriter, r *http.Request) {
	var in tagsInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if in.Tags == nil {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The tags are missing.",
			Fields: []rapport.FieldError{{Field: "tags", Message: "is required: a list of tags, [] for none"}}})
		return
	}
	resp, err := s.Suggestions.SetResponseTags(r.Context(), r.PathValue("key"), r.PathValue("response"), in.Tags)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, resp)
}
