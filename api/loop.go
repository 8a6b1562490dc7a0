package api

import (
	"net/http"
	"strconv"

	"github.com/rapport-crm/rapport"
)

// reportFilter reads from, to (RFC 3339 times or YYYY-MM-DD dates) and channel.
func reportFilter(r *http.Request) (rapport.ReportFilter, error) {
	q := r.URL.Query()
	f := rapport.ReportFilter{Channel: rapport.Channel(q.Get("channel"))}
	var fields []rapport.FieldError
	if f.Channel != "" && !f.Channel.Valid() {
		fields = append(fields, rapport.FieldError{Field: "channel", Message: "is not a known channel"})
	}
	fields = append(fields, queryWindow(q, &f.From, &f.To)...)
	if len(fields) > 0 {
		return f, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.", Fields: fields}
	}
	return f, nil
}

func (s *Server) handleTouchpointReport(w http.ResponseWriter, r *http.Request) {
	f, err := reportFilter(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	f.Segment = r.URL.Query().Get("segment")
	report, err := s.Reports.TouchpointReport(r.Context(), f)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, report)
}

func (s *Server) handleRefreshImpact(w http.ResponseWriter, r *http.Request) {
	if err := s.Reports.RefreshImpact(r.Context()); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	report, err := s.Reports.TouchpointReport(r.Context(), rapport.ReportFilter{})
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, report)
}

func (s *Server) handleTrend(w http.ResponseWriter, r *http.Request) {
	weeks := 26
	if v := r.URL.Query().Get("weeks"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.",
				Fields: []rapport.FieldError{{Field: "weeks", Message: "must be a whole number from 1 to 260"}}})
			return
		}
		weeks = n
	}
	trend, err := s.Reports.Trend(r.Context(), r.PathValue("key"), weeks)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, trend)
}

// responseInput is what a manager sets on a new response.
type responseInput struct {
	Key         string                 `json:"key"`
	Description string                 `json:"description"`
	Status      rapport.ResponseStatus `json:"status"`
	Tags        []string               `json:"tags"`
}

func (s *Server) handleCreateResponse(w http.ResponseWriter, r *http.Request) {
	var in responseInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	resp := &rapport.Response{Touchpoint: r.PathValue("key"), Key: in.Key, Description: in.Description, Status: in.Status, Tags: in.Tags}
	if err := s.Responses.CreateResponse(r.Context(), resp); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusCreated, resp)
}

func (s *Server) handleListResponses(w http.ResponseWriter, r *http.Request) {
	rs, err := s.Responses.FindResponses(r.Context(), r.PathValue("key"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.Response]{Items: rs})
}

// responseUpdate moves a response between candidate, trial and retired.
type responseUpdate struct {
	Status rapport.ResponseStatus `json:"status"`
}

func (s *Server) handleUpdateResponse(w http.ResponseWriter, r *http.Request) {
	var in responseUpdate
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	s.setResponseStatus(w, r, in.Status)
}

func (s *Server) handleRetireResponse(w http.ResponseWriter, r *http.Request) {
	s.setResponseStatus(w, r, rapport.ResponseRetired)
}

func (s *Server) setResponseStatus(w http.ResponseWriter, r *http.Request, status rapport.ResponseStatus) {
	resp, err := s.Responses.SetResponseStatus(r.Context(), r.PathValue("key"), r.PathValue("response"), status)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, resp)
}

func (s *Server) handleCompareResponses(w http.ResponseWriter, r *http.Request) {
	f, err := reportFilter(r)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	c, err := s.Responses.CompareResponses(r.Context(), r.PathValue("key"), f)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, c)
}

// promotion names the response to make the standard.
type promotion struct {
	Response string `json:"response"`
}

func (s *Server) handlePromote(w http.ResponseWriter, r *http.Request) {
	var in promotion
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	if in.Response == "" {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The promotion is not valid.",
			Fields: []rapport.FieldError{{Field: "response", Message: "is required"}}})
		return
	}
	st, err := s.Standards.PromoteResponse(r.Context(), r.PathValue("key"), in.Response)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusCreated, st)
}

func (s *Server) handleGetStandard(w http.ResponseWriter, r *http.Request) {
	st, err := s.Standards.FindStandard(r.Context(), r.PathValue("key"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, st)
}

func (s *Server) handleStandardHistory(w http.ResponseWriter, r *http.Request) {
	sts, err := s.Standards.StandardHistory(r.Context(), r.PathValue("key"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.Standard]{Items: sts})
}

func (s *Server) handleListAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := rapport.AlertFilter{Touchpoint: q.Get("touchpoint")}
	switch q.Get("open") {
	case "", "false":
	case "true":
		f.Open = true
	default:
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.",
			Fields: []rapport.FieldError{{Field: "open", Message: "must be true or false"}}})
		return
	}
	alerts, err := s.Alerts.FindAlerts(r.Context(), f)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.Alert]{Items: alerts})
}

func (s *Server) handleEvaluateAlerts(w http.ResponseWriter, r *http.Request) {
	raised, err := s.Alerts.EvaluateAlerts(r.Context())
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, rapport.Page[*rapport.Alert]{Items: raised})
}

func (s *Server) handleAcknowledgeAlert(w http.ResponseWriter, r *http.Request) {
	a, err := s.Alerts.AcknowledgeAlert(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, a)
}
