package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/mail"
)

// surveyPolicyData is the survey settings form of a touchpoint.
type surveyPolicyData struct {
	T    *rapport.Touchpoint
	Form *form
}

var surveyPolicyFields = map[string]string{"channels": "channels", "sample_percent": "sample_percent",
	"delay_minutes": "delay_minutes", "quiet_days": "quiet_days", "reminder_days": "reminder_days", "reasons": "reasons"}

func (s *server) renderSurveyPolicy(w http.ResponseWriter, r *http.Request, status int, t *rapport.Touchpoint, f *form) {
	s.render(w, r, status, "survey_policy", "", s.newPage(r, "Surveys for "+t.Name, "touchpoints", surveyPolicyData{T: t, Form: f}))
}

func (s *server) surveyPolicyPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		t, err := s.Touchpoints.FindTouchpointByKey(ctx, r.PathValue("key"))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		p, err := s.SurveyPolicies.FindSurveyPolicy(ctx, t.Key)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		v := url.Values{"sample_percent": {strconv.Itoa(p.SamplePercent)}, "delay_minutes": {strconv.Itoa(p.DelayMinutes)},
			"quiet_days": {strconv.Itoa(p.QuietDays)}, "reminder_days": {strconv.Itoa(p.ReminderDays)},
			"reasons": {strings.Join(p.Reasons, "\n")}}
		if p.Enabled {
			v.Set("enabled", "on")
		}
		for _, c := range p.Channels {
			v.Add("channels", string(c))
		}
		s.renderSurveyPolicy(w, r, http.StatusOK, t, newForm(v))
	})
}

func (s *server) surveyPolicySave() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		t, err := s.Touchpoints.FindTouchpointByKey(ctx, r.PathValue("key"))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		f := newForm(r.PostForm)
		p := rapport.DefaultSurveyPolicy(t.Key)
		p.Enabled = f.Get("enabled") == "on"
		for _, c := range f.Values["channels"] {
			p.Channels = append(p.Channels, rapport.Channel(c))
		}
		for name, dst := range map[string]*int{"sample_percent": &p.SamplePercent, "delay_minutes": &p.DelayMinutes,
			"quiet_days": &p.QuietDays, "reminder_days": &p.ReminderDays} {
			if n := f.optionalInt(name); n != nil {
				*dst = *n
			} else if f.Err(name) == "" {
				f.fail(name, "Enter a whole number.")
			}
		}
		p.Reasons = strings.Split(strings.ReplaceAll(f.Get("reasons"), "\r\n", "\n"), "\n")
		if !f.Invalid() {
			err := s.SurveyPolicies.SetSurveyPolicy(ctx, &p)
			if err == nil {
				msg := fmt.Sprintf("Survey invitations for %q are off.", t.Name)
				if p.Enabled {
					msg = fmt.Sprintf("Survey invitations for %q are on: %d%% of moments, %s after each.", t.Name, p.SamplePercent, minutesText(p.DelayMinutes))
				}
				setFlash(w, r, msg)
				redirect(w, r, "/touchpoints/"+url.PathEscape(t.Key)+"#survey-results")
				return
			}
			if !f.fromError(err, surveyPolicyFields) {
				s.serverError(w, r, err)
				return
			}
		}
		s.renderSurveyPolicy(w, r, http.StatusUnprocessableEntity, t, f)
	})
}

// minutesText says a delay the way people do: "2 hours", "90 minutes".
func minutesText(m int) string {
	switch {
	case m == 0:
		return "at once"
	case m%1440 == 0:
		return plural(m/1440, "day")
	case m%60 == 0:
		return plural(m/60, "hour")
	}
	return plural(m, "minute")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// touchpointSurveys is the survey part of step 1: how invitations fared
// over the page's window, and the policy that sends them.
func (s *server) touchpointSurveys(ctx context.Context, d *touchpointPageData) error {
	p, err := s.SurveyPolicies.FindSurveyPolicy(ctx, d.T.Key)
	if err != nil {
		return err
	}
	// The window the measures above covered, so that both speak of the same days.
	f := rapport.SurveyReportFilter{Touchpoint: d.T.Key, From: d.Window.First, To: d.Window.Last.AddDate(0, 0, 1)}
	r, err := s.SurveyPolicies.SurveyReport(ctx, f)
	if err != nil {
		return err
	}
	d.Survey = surveyResults{Policy: p, R: r}
	return nil
}

// surveyResults is the customers' own voice on a touchpoint's page.
type surveyResults struct {
	Policy *rapport.SurveyPolicy
	R      *rapport.SurveyReport
}

func estimateText(e *rapport.Estimate, digits int) string {
	if e == nil {
		return "—"
	}
	return strconv.FormatFloat(e.Value, 'f', digits, 64)
}

func estimateCI(e *rapport.Estimate, digits int) string {
	if e == nil || e.N < 2 {
		return ""
	}
	return fmt.Sprintf("95%%: %s – %s · %d", strconv.FormatFloat(e.Low, 'f', digits, 64), strconv.FormatFloat(e.High, 'f', digits, 64), e.N)
}

func rateEstimateCI(e *rapport.Estimate) string {
	if e == nil {
		return ""
	}
	return fmt.Sprintf("95%%: %s – %s", pctText(e.Low), pctText(e.High))
}

// languageChoice is a language a customer may be written to in.
type languageChoice struct{ Code, Name string }

// languageChoices are the languages with a message catalogue.
func languageChoices() []languageChoice {
	c := shippedMessages()
	var out []languageChoice
	for _, l := range c.Languages() {
		out = append(out, languageChoice{Code: l, Name: c.Text(l, "language", nil)})
	}
	return out
}

var shippedMessages = sync.OnceValue(mail.MustCatalogues)
