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
		{method: "GET", pattern: "/api/v1/touchpoints/{key}/variants", perm: rapport.PermRead, handler: s.handleListVariants},
		{method: "POST", pattern: "/api/v1/touchpoints/{key}/variants", perm: rapport.PermWriteCatalogue, handler: s.handlePromoteVariant},
		{method: "GET", pattern: "/api/v1/touchpoints/{key}/variants/comparison", perm: rapport.PermRead, handler: s.handleCompareInSegment},
	}
}

func (s *Server) handleListVariants(w http.ResponseWriter, r *http.Request) {
	vs, err := s.Variants.FindVariants(r.Context(), r.PathValue("key"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.StandardVariant]{Items: vs})
}

// variantInput names the segment and the response to be its standard.
type variantInput struct {
	Segment  string `json:"segment"`
	Response string `json:"response"`
}

func (s *Server) handlePromoteVariant(w http.ResponseWriter, r *http.Request) {
	var in variantInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	var missing []rapport.FieldError
	if in.Segment == "" {
		missing = append(missing, rapport.FieldError{Field: "segment", Message: "is required: a segment's id"})
	}
	if in.Response == "" {
		missing = append(missing, rapport.FieldError{Field: "response", Message: "is required: a response's key"})
	}
	if len(missing) > 0 {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "Say which segment and which response.", Fields: missing})
		return
	}
	v, err := s.Variants.PromoteVariant(r.Context(), r.PathValue("key"), in.Segment, in.Response)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusCreated, v)
}

func (s *Server) handleCompareInSegment(w http.ResponseWriter, r *http.Request) {
	seg := r.URL.Query().Get("segment")
	if seg == "" {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "Say which segment to compare the responses in.",
			Fields: []rapport.FieldError{{Field: "segment", Message: "is required: a segment's id"}}})
		return
	}
	c, err := s.Variants.CompareInSegment(r.Context(), r.PathValue("key"), seg)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, c)
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
