package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/segment"
)

// relationshipRoutes are stages, health and risk, holdings, referrals,
// segments and outcomes.
func (s *Server) relationshipRoutes() []route {
	read, customers, catalogue := rapport.PermRead, rapport.PermWriteCustomers, rapport.PermWriteCatalogue
	return []route{
		{method: "GET", pattern: "/api/v1/customers/{id}/stage", perm: read, handler: s.handleGetStage},
		{method: "POST", pattern: "/api/v1/customers/{id}/stage", perm: customers, handler: s.handleSetStage},
		{method: "POST", pattern: "/api/v1/customers/{id}/stage/release", perm: customers, handler: s.handleReleaseStage},
		{method: "POST", pattern: "/api/v1/customers/{id}/stage/proposal/dismiss", perm: customers, handler: s.handleDismissProposal},
		{method: "GET", pattern: "/api/v1/customers/{id}/stages", perm: read, handler: s.handleStageHistory},
		{method: "GET", pattern: "/api/v1/stage-rules", perm: read, handler: s.handleGetStageRules},
		{method: "PUT", pattern: "/api/v1/stage-rules", perm: catalogue, handler: s.handleSetStageRules},

		{method: "GET", pattern: "/api/v1/customers/{id}/health", perm: read, handler: s.handleCustomerHealth},

		{method: "GET", pattern: "/api/v1/products", perm: read, handler: s.handleListProducts},
		{method: "POST", pattern: "/api/v1/products", perm: catalogue, handler: s.handleCreateProduct},
		{method: "GET", pattern: "/api/v1/customers/{id}/holdings", perm: read, handler: s.handleListHoldings},
		{method: "POST", pattern: "/api/v1/customers/{id}/holdings", perm: customers, handler: s.handleAddHolding},
		{method: "POST", pattern: "/api/v1/customers/{id}/holdings/{holding}/end", perm: customers, handler: s.handleEndHolding},
		{method: "GET", pattern: "/api/v1/customers/{id}/referrals", perm: read, handler: s.handleReferrals},
		{method: "GET", pattern: "/api/v1/customers/{id}/cross-sell", perm: read, handler: s.handleCrossSell},

		{method: "GET", pattern: "/api/v1/segments", perm: read, handler: s.handleListSegments},
		{method: "POST", pattern: "/api/v1/segments", perm: catalogue, handler: s.handleCreateSegment},
		{method: "GET", pattern: "/api/v1/segments/fields", perm: read, handler: s.handleSegmentFields},
		{method: "POST", pattern: "/api/v1/segments/preview", perm: catalogue, handler: s.handlePreviewSegment},
		{method: "GET", pattern: "/api/v1/segments/{id}", perm: read, handler: s.handleGetSegment},
		{method: "PATCH", pattern: "/api/v1/segments/{id}", perm: catalogue, handler: s.handleUpdateSegment},
		{method: "DELETE", pattern: "/api/v1/segments/{id}", perm: catalogue, handler: s.handleDeleteSegment},
		{method: "GET", pattern: "/api/v1/segments/{id}/customers", perm: read, handler: s.handleSegmentMembers},

		{method: "GET", pattern: "/api/v1/reports/outcomes", perm: read, handler: s.handleOutcomes},
	}
}

func (s *Server) handleGetStage(w http.ResponseWriter, r *http.Request) {
	st, err := s.Stages.StageStatus(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, st)
}

func (s *Server) handleSetStage(w http.ResponseWriter, r *http.Request) {
	var in rapport.StageInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	st, err := s.Stages.SetStage(r.Context(), r.PathValue("id"), in)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, st)
}

func (s *Server) handleReleaseStage(w http.ResponseWriter, r *http.Request) {
	s.stageAction(w, r, s.Stages.ReleaseStage)
}

func (s *Server) handleDismissProposal(w http.ResponseWriter, r *http.Request) {
	s.stageAction(w, r, s.Stages.DismissProposal)
}

// stageAction answers a bodiless action on the customer's stage with the
// stage after it.
func (s *Server) stageAction(w http.ResponseWriter, r *http.Request, act func(context.Context, string) (*rapport.StageStatus, error)) {
	st, err := act(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, st)
}

func (s *Server) handleStageHistory(w http.ResponseWriter, r *http.Request) {
	h, err := s.Stages.StageHistory(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.StageHistoryEntry]{Items: h})
}

func (s *Server) handleGetStageRules(w http.ResponseWriter, r *http.Request) {
	rules, err := s.Stages.StageRules(r.Context())
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rules)
}

// handleSetStageRules changes the rules the body names; a rule left out
// keeps its current value, and a body that names none is refused rather
// than taken as "change nothing" or "reset everything".
func (s *Server) handleSetStageRules(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeError(w, r, s.Logger, rapport.Errorf(rapport.ETOOLARGE, "The body is larger than %d bytes.", maxBodyBytes))
		return
	}
	var named map[string]json.RawMessage
	if json.Unmarshal(body, &named) == nil && len(named) == 0 {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The body names no rule to change; send the rules to change, such as {\"commitment_products\": 4}."})
		return
	}
	current, err := s.Stages.StageRules(r.Context())
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	in := *current
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	rules, err := s.Stages.SetStageRules(r.Context(), in)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rules)
}

func (s *Server) handleCustomerHealth(w http.ResponseWriter, r *http.Request) {
	h, err := s.HealthScores.CustomerHealth(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, h)
}

func (s *Server) handleListProducts(w http.ResponseWriter, r *http.Request) {
	ps, err := s.Holdings.FindProducts(r.Context())
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.Product]{Items: ps})
}

// productInput is what a manager sets on a new product.
type productInput struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

func (s *Server) handleCreateProduct(w http.ResponseWriter, r *http.Request) {
	var in productInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	p := &rapport.Product{Key: in.Key, Name: in.Name}
	if err := s.Holdings.CreateProduct(r.Context(), p); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusCreated, p)
}

func (s *Server) handleListHoldings(w http.ResponseWriter, r *http.Request) {
	hs, err := s.Holdings.FindHoldings(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.Holding]{Items: hs})
}

// holdingInput adds a holding; the time is a string so that a malformed one
// is reported against its field.
type holdingInput struct {
	Product   string `json:"product"`
	StartedAt string `json:"started_at"`
}

// holdingEnd ends a holding, now when ended_at is left out.
type holdingEnd struct {
	EndedAt string `json:"ended_at"`
}

// parseTime reads an optional RFC 3339 time for a field.
func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, &rapport.Error{Code: rapport.EINVALID, Message: "The request is not valid.",
			Fields: []rapport.FieldError{{Field: field, Message: "must be an RFC 3339 time such as 2026-03-01T14:30:00Z"}}}
	}
	return t, nil
}

func (s *Server) handleAddHolding(w http.ResponseWriter, r *http.Request) {
	var in holdingInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	started, err := parseTime("started_at", in.StartedAt)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	h, err := s.Holdings.AddHolding(r.Context(), r.PathValue("id"), rapport.HoldingInput{Product: in.Product, StartedAt: started})
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusCreated, h)
}

func (s *Server) handleEndHolding(w http.ResponseWriter, r *http.Request) {
	var in holdingEnd
	// The body is optional: without one the holding ends now.
	if r.ContentLength != 0 {
		if err := decode(w, r, maxBodyBytes, &in); err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
	}
	ended, err := parseTime("ended_at", in.EndedAt)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	h, err := s.Holdings.EndHolding(r.Context(), r.PathValue("id"), r.PathValue("holding"), ended)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, h)
}

func (s *Server) handleReferrals(w http.ResponseWriter, r *http.Request) {
	refs, err := s.Holdings.Referrals(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, refs)
}

func (s *Server) handleCrossSell(w http.ResponseWriter, r *http.Request) {
	cs, err := s.Holdings.CrossSell(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, cs)
}

// segmentInput is a new segment.
type segmentInput struct {
	Name string `json:"name"`
	Rule string `json:"rule"`
}

// ruleProblem is the problem for a rule that cannot be read: the position
// (1-based, in characters) of the fault comes with it.
type ruleProblem struct {
	problem
	Position int `json:"position"`
}

// checkRule answers 422 with the position of the fault when a rule cannot
// be read, and reports whether it could.
func (s *Server) checkRule(w http.ResponseWriter, rule string) bool {
	if len(rule) > rapport.MaxRuleLength {
		return true // the service reports the length
	}
	_, err := segment.Parse(strings.TrimSpace(rule))
	var e *segment.Error
	if !errors.As(err, &e) {
		return true
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusUnprocessableEntity)
	_ = json.NewEncoder(w).Encode(ruleProblem{
		problem: problem{Type: "urn:rapport:problem:" + rapport.EINVALID, Title: http.StatusText(http.StatusUnprocessableEntity),
			Status: http.StatusUnprocessableEntity, Detail: "The rule is not valid: " + e.Error() + ".",
			Errors: []rapport.FieldError{{Field: "rule", Message: e.Error()}}},
		Position: e.Pos,
	})
	return false
}

func (s *Server) handleListSegments(w http.ResponseWriter, r *http.Request) {
	sgs, err := s.Segments.FindSegments(r.Context())
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.Segment]{Items: sgs})
}

func (s *Server) handleCreateSegment(w http.ResponseWriter, r *http.Request) {
	var in segmentInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if strings.TrimSpace(in.Rule) != "" && !s.checkRule(w, in.Rule) {
		return
	}
	sg := &rapport.Segment{Name: in.Name, Rule: in.Rule}
	if err := s.Segments.CreateSegment(r.Context(), sg); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/segments/"+sg.ID)
	encode(w, http.StatusCreated, sg)
}

func (s *Server) handleSegmentFields(w http.ResponseWriter, r *http.Request) {
	encode(w, http.StatusOK, rapport.Page[segment.Field]{Items: segment.Fields()})
}

// previewInput is a rule to try.
type previewInput struct {
	Rule string `json:"rule"`
}

func (s *Server) handlePreviewSegment(w http.ResponseWriter, r *http.Request) {
	var in previewInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if !s.checkRule(w, in.Rule) {
		return
	}
	p, err := s.Segments.PreviewSegment(r.Context(), in.Rule, limit)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, p)
}

func (s *Server) handleGetSegment(w http.ResponseWriter, r *http.Request) {
	sg, err := s.Segments.FindSegmentByID(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, sg)
}

func (s *Server) handleUpdateSegment(w http.ResponseWriter, r *http.Request) {
	var u rapport.SegmentUpdate
	if err := decode(w, r, maxBodyBytes, &u); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if u.Rule != nil && strings.TrimSpace(*u.Rule) != "" && !s.checkRule(w, *u.Rule) {
		return
	}
	sg, err := s.Segments.UpdateSegment(r.Context(), r.PathValue("id"), u)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, sg)
}

func (s *Server) handleDeleteSegment(w http.ResponseWriter, r *http.Request) {
	if err := s.Segments.DeleteSegment(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleSegmentMembers(w http.ResponseWriter, r *http.Request) {
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	page, err := s.Segments.SegmentMembers(r.Context(), r.PathValue("id"), limit, r.URL.Query().Get("cursor"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, page)
}

func (s *Server) handleOutcomes(w http.ResponseWriter, r *http.Request) {
	f, err := reportFilter(r)
	if err == nil && f.Channel != "" {
		err = &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.",
			Fields: []rapport.FieldError{{Field: "channel", Message: "outcomes cover every channel; leave channel out"}}}
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	var fresh bool
	if err := boolParams(r, map[string]*bool{"fresh": &fresh}); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	o, err := s.Outcomes.Outcomes(r.Context(), rapport.OutcomeFilter{Segment: r.URL.Query().Get("segment"),
		From: f.From, To: f.To, Fresh: fresh})
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, o)
}
