package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// Survey links, in the UI: a one-time link for the customer to rate a
// moment, made from the moment on the timeline and shown once.

// surveyLinkData is a new survey link, or why there is none.
type surveyLinkData struct {
	MomentID   string
	CustomerID string
	URL        string
	ExpiresAt  time.Time
	Message    string // why no link was made
}

// absoluteURL makes a path into an address to give a customer: on the
// configured public address, or else on the one this request came to.
func (s *server) absoluteURL(r *http.Request, path string) string {
	if s.PublicURL != "" {
		return strings.TrimSuffix(s.PublicURL, "/") + path
	}
	scheme := "http"
	if secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

// surveyCreate makes a survey link for a moment. htmx gets the link as a
// fragment to show under the moment; a browser without script, a page.
func (s *server) surveyCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		m, err := s.Moments.FindMomentByID(ctx, r.PathValue("id"))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d := surveyLinkData{MomentID: m.ID, CustomerID: m.CustomerID}
		status := http.StatusCreated
		link, err := s.Surveys.CreateSurveyLink(ctx, m.ID, rapport.DefaultSurveyTTL)
		switch {
		case err == nil:
			d.URL, d.ExpiresAt = s.absoluteURL(r, rapport.SurveyPath(link.Token)), link.ExpiresAt
		case rapport.ErrorCode(err) == rapport.ECONFLICT:
			d.Message, status = "The customer has rated this moment already; it takes one answer.", http.StatusUnprocessableEntity
		default:
			s.serverError(w, r, err)
			return
		}
		block := ""
		if r.Header.Get("HX-Request") == "true" {
			block = "survey-link"
			if status == http.StatusCreated {
				status = http.StatusOK // htmx swaps 2xx; 201 would do, 200 says it plainly
			}
		}
		s.render(w, r, status, "survey_link", block, s.newPage(r, "Survey link", "customers", d))
	})
}
