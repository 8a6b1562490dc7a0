package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// recoveryRoutes are recovery cases, promises, surveys and the handover brief.
func (s *Server) recoveryRoutes() []route {
	read, work, catalogue := rapport.PermRead, rapport.PermWriteMoments, rapport.PermWriteCatalogue
	return []route{
		{method: "GET", pattern: "/api/v1/cases", perm: read, handler: s.handleListCases},
		{method: "GET", pattern: "/api/v1/cases/{id}", perm: read, handler: s.handleGetCase},
		{method: "PATCH", pattern: "/api/v1/cases/{id}", perm: work, handler: s.handleUpdateCase},
		{method: "GET", pattern: "/api/v1/reports/recovery", perm: read, handler: s.handleRecoveryReport},
		{method: "GET", pattern: "/api/v1/recovery/policy", perm: read, handler: s.handleGetRecoveryPolicy},
		{method: "PUT", pattern: "/api/v1/recovery/policy", perm: catalogue, handler: s.handleSetRecoveryPolicy},
		{method: "GET", pattern: "/api/v1/touchpoints/{key}/service-level", perm: read, handler: s.handleGetServiceLevel},
		{method: "PUT", pattern: "/api/v1/touchpoints/{key}/service-level", perm: catalogue, handler: s.handleSetServiceLevel},

		{method: "GET", pattern: "/api/v1/promises", perm: read, handler: s.handleListPromises},
		{method: "POST", pattern: "/api/v1/promises", perm: work, handler: s.handleCreatePromise},
		{method: "GET", pattern: "/api/v1/promises/{id}", perm: read, handler: s.handleGetPromise},
		{method: "PATCH", pattern: "/api/v1/promises/{id}", perm: work, handler: s.handleUpdatePromise},
		{method: "GET", pattern: "/api/v1/reports/promises", perm: read, handler: s.handlePromiseReport},

		{method: "POST", pattern: "/api/v1/moments/{id}/survey", perm: work, handler: s.handleCreateSurvey},

		{method: "GET", pattern: "/api/v1/customers/{id}/brief", perm: read, handler: s.handleBrief},
		{method: "GET", pattern: "/api/v1/customers/{id}/handovers", perm: read, handler: s.handleHandovers},
	}
}

// invalid is the error for one bad field.
func invalid(field, msg string) error {
	return &rapport.Error{Code: rapport.EINVALID, Message: "The request is not valid.",
		Fields: []rapport.FieldError{{Field: field, Message: msg}}}
}

// params reads a request's query parameters, collecting every problem so
// that the client hears of all of them at once.
type params struct {
	r      *http.Request
	fields []rapport.FieldError
}

func (p *params) get(name string) string { return p.r.URL.Query().Get(name) }

func (p *params) add(name, msg string) {
	p.fields = append(p.fields, rapport.FieldError{Field: name, Message: msg})
}

// limit reads the page size.
func (p *params) limit() int {
	n, err := queryLimit(p.r)
	p.fields = append(p.fields, rapport.ErrorFields(err)...)
	return n
}

// boolean reads an optional true or false.
func (p *params) boolean(name string) *bool {
	switch p.get(name) {
	case "":
		return nil
	case "true":
		v := true
		return &v
	case "false":
		v := false
		return &v
	}
	p.add(name, "must be true or false")
	return nil
}

// time reads an optional RFC 3339 time or YYYY-MM-DD date (midnight UTC).
func (p *params) time(name string) time.Time {
	v := p.get(name)
	if v == "" {
		return time.Time{}
	}
	t, problem := queryTime(v)
	if problem != "" {
		p.add(name, problem)
	}
	return t
}

// user reads a user id, where "me" is the caller's own.
func (p *params) user(name string) string {
	v := p.get(name)
	if v != "me" {
		return v
	}
	if pr := rapport.PrincipalFromContext(p.r.Context()); pr != nil && pr.UserID != "" {
		return pr.UserID
	}
	p.add(name, "is me, but this token belongs to no user")
	return ""
}

func (p *params) err() error {
	if len(p.fields) == 0 {
		return nil
	}
	return &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.", Fields: p.fields}
}

func (s *Server) handleListCases(w http.ResponseWriter, r *http.Request) {
	p := &params{r: r}
	f := rapport.CaseFilter{Status: rapport.CaseStatus(p.get("status")), CustomerID: p.get("customer_id"), Queue: p.get("queue"), Cursor: p.get("cursor"),
		AssigneeID: p.user("assignee"), EscalatedTo: p.user("escalated_to"), Overdue: p.boolean("overdue"),
		Escalated: p.boolean("escalated"), Limit: p.limit()}
	if err := p.err(); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	page, err := s.Recovery.FindCases(r.Context(), f)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, page)
}

func (s *Server) handleGetCase(w http.ResponseWriter, r *http.Request) {
	c, err := s.Recovery.FindCaseByID(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, c)
}

func (s *Server) handleUpdateCase(w http.ResponseWriter, r *http.Request) {
	var u rapport.CaseUpdate
	if err := decode(w, r, maxBodyBytes, &u); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	c, err := s.Recovery.UpdateCase(r.Context(), r.PathValue("id"), u)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, c)
}

func (s *Server) handleRecoveryReport(w http.ResponseWriter, r *http.Request) {
	p := &params{r: r}
	f := rapport.RecoveryReportFilter{From: p.time("from"), To: p.time("to")}
	if err := p.err(); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	report, err := s.Recovery.RecoveryReport(r.Context(), f)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, report)
}

func (s *Server) handleGetRecoveryPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.Recovery.FindRecoveryPolicy(r.Context())
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, p)
}

// policyInput is a whole recovery policy; every field is required.
type policyInput struct {
	AssignToOwner  *bool        `json:"assign_to_owner"`
	Queue          string       `json:"queue"`
	EscalationRole rapport.Role `json:"escalation_role"`
	OpenWithinDays int          `json:"open_within_days"`
}

func (s *Server) handleSetRecoveryPolicy(w http.ResponseWriter, r *http.Request) {
	var in policyInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	p := rapport.RecoveryPolicy{Queue: in.Queue, EscalationRole: in.EscalationRole, OpenWithinDays: in.OpenWithinDays}
	err := p.Validate()
	if in.AssignToOwner == nil {
		fields := append([]rapport.FieldError{{Field: "assign_to_owner", Message: "is required: true or false"}}, rapport.ErrorFields(err)...)
		err = &rapport.Error{Code: rapport.EINVALID, Message: "The recovery policy is not valid.", Fields: fields}
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	p.AssignToOwner = *in.AssignToOwner
	stored, err := s.Recovery.SetRecoveryPolicy(r.Context(), p)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, stored)
}

func (s *Server) handleGetServiceLevel(w http.ResponseWriter, r *http.Request) {
	sl, err := s.Recovery.FindServiceLevel(r.Context(), r.PathValue("key"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, sl)
}

// serviceLevelInput sets a touchpoint's service level.
type serviceLevelInput struct {
	Hours int `json:"hours"`
}

func (s *Server) handleSetServiceLevel(w http.ResponseWriter, r *http.Request) {
	var in serviceLevelInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	sl, err := s.Recovery.SetServiceLevel(r.Context(), rapport.ServiceLevel{Touchpoint: r.PathValue("key"), Hours: in.Hours})
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, sl)
}

// promiseInput is what a client sends to record a promise. The due time is
// a string so that a malformed one is reported against its field.
type promiseInput struct {
	CustomerID string `json:"customer_id"`
	StaffID    string `json:"staff_id"`
	MomentID   string `json:"moment_id"`
	Text       string `json:"text"`
	DueAt      string `json:"due_at"`
}

func (s *Server) handleCreatePromise(w http.ResponseWriter, r *http.Request) {
	var in promiseInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	p := &rapport.Promise{CustomerID: in.CustomerID, StaffID: in.StaffID, MomentID: in.MomentID, Text: in.Text}
	if in.DueAt != "" {
		t, err := time.Parse(time.RFC3339Nano, in.DueAt)
		if err != nil {
			writeError(w, r, s.Logger, invalid("due_at", "must be an RFC 3339 time such as 2026-03-01T17:00:00Z"))
			return
		}
		p.DueAt = t
	}
	if err := s.Promises.CreatePromise(r.Context(), p); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	w.Header().Set("Location", "/api/v1/promises/"+p.ID)
	encode(w, http.StatusCreated, p)
}

func (s *Server) handleListPromises(w http.ResponseWriter, r *http.Request) {
	p := &params{r: r}
	f := rapport.PromiseFilter{Status: rapport.PromiseStatus(p.get("status")), CustomerID: p.get("customer_id"), Cursor: p.get("cursor"),
		StaffID: p.user("staff_id"), DueBefore: p.time("due_before"), Limit: p.limit()}
	if err := p.err(); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	page, err := s.Promises.FindPromises(r.Context(), f)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, page)
}

func (s *Server) handleGetPromise(w http.ResponseWriter, r *http.Request) {
	p, err := s.Promises.FindPromiseByID(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, p)
}

// promiseUpdate settles a promise.
type promiseUpdate struct {
	Status rapport.PromiseStatus `json:"status"`
}

func (s *Server) handleUpdatePromise(w http.ResponseWriter, r *http.Request) {
	var in promiseUpdate
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	p, err := s.Promises.SetPromiseStatus(r.Context(), r.PathValue("id"), in.Status)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, p)
}

func (s *Server) handlePromiseReport(w http.ResponseWriter, r *http.Request) {
	p := &params{r: r}
	f := rapport.PromiseReportFilter{From: p.time("from"), To: p.time("to")}
	if err := p.err(); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	report, err := s.Promises.PromiseReport(r.Context(), f)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, report)
}

func (s *Server) handleCreateSurvey(w http.ResponseWriter, r *http.Request) {
	link, err := s.Surveys.CreateSurveyLink(r.Context(), r.PathValue("id"), s.SurveyTTL)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if s.PublicURL != "" {
		link.URL = strings.TrimSuffix(s.PublicURL, "/") + link.URL
	}
	encode(w, http.StatusCreated, link)
}

func (s *Server) handleBrief(w http.ResponseWriter, r *http.Request) {
	b, err := s.Briefs.Brief(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, b)
}

func (s *Server) handleHandovers(w http.ResponseWriter, r *http.Request) {
	hs, err := s.Briefs.FindHandovers(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.Handover]{Items: hs})
}
