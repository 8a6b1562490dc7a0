package api

import (
	"net/http"

	"github.com/rapport-crm/rapport"
)

// surveyRoutes are the touchpoints' survey policies and how their
// invitations fare.
func (s *Server) surveyRoutes() []route {
	read, catalogue := rapport.PermRead, rapport.PermWriteCatalogue
	return []route{
		{method: "GET", pattern: "/api/v1/touchpoints/{key}/survey-policy", perm: read, handler: s.handleGetSurveyPolicy},
		{method: "PUT", pattern: "/api/v1/touchpoints/{key}/survey-policy", perm: catalogue, handler: s.handleSetSurveyPolicy},
		{method: "GET", pattern: "/api/v1/touchpoints/{key}/survey-report", perm: read, handler: s.handleSurveyReport},
	}
}

func (s *Server) handleGetSurveyPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.SurveyPolicies.FindSurveyPolicy(r.Context(), r.PathValue("key"))
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, p)
}

// surveyPolicyInput is a whole survey policy; enabled is required, the
// rest take the defaults when left out.
type surveyPolicyInput struct {
	Enabled       *bool             `json:"enabled"`
	Channels      []rapport.Channel `json:"channels"`
	SamplePercent *int              `json:"sample_percent"`
	DelayMinutes  *int              `json:"delay_minutes"`
	QuietDays     *int              `json:"quiet_days"`
	ReminderDays  *int              `json:"reminder_days"`
	Reasons       []string          `json:"reasons"`
}

func (s *Server) handleSetSurveyPolicy(w http.ResponseWriter, r *http.Request) {
	var in surveyPolicyInput
	if err := decode(w, r, maxBodyBytes, &in); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	p := rapport.DefaultSurveyPolicy(r.PathValue("key"))
	p.Channels, p.Reasons = in.Channels, in.Reasons
	for _, f := range []struct {
		dst *int
		src *int
	}{{&p.SamplePercent, in.SamplePercent}, {&p.DelayMinutes, in.DelayMinutes}, {&p.QuietDays, in.QuietDays}, {&p.ReminderDays, in.ReminderDays}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	err := p.Validate()
	if in.Enabled == nil {
		fields := append([]rapport.FieldError{{Field: "enabled", Message: "is required: true or false"}}, rapport.ErrorFields(err)...)
		err = &rapport.Error{Code: rapport.EINVALID, Message: "The survey policy is not valid.", Fields: fields}
	}
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	p.Enabled = *in.Enabled
	if err := s.SurveyPolicies.SetSurveyPolicy(r.Context(), &p); err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, p)
}

func (s *Server) handleSurveyReport(w http.ResponseWriter, r *http.Request) {
	f := rapport.SurveyReportFilter{Touchpoint: r.PathValue("key")}
	if fields := queryWindow(r.URL.Query(), &f.From, &f.To); len(fields) > 0 {
		writeError(w, r, s.Logger, &rapport.Error{Code: rapport.EINVALID, Message: "The query is not valid.", Fields: fields})
		return
	}
	report, err := s.SurveyPolicies.SurveyReport(r.Context(), f)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	encode(w, http.StatusOK, report)
}
