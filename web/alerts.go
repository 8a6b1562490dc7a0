package web

import (
	"net/http"

	"github.com/rapport-crm/rapport"
)

// alertRow is an alert as the pages show it.
type alertRow struct {
	*rapport.Alert
	Kind           string // in words
	TouchpointName string
	AcknowledgedBy string // the name of who acknowledged it
}

// alertKinds name the kinds of alert.
var alertKinds = map[string]string{
	rapport.AlertBelowTarget:     "Below target",
	rapport.AlertStandardDecayed: "Standard decayed",
}

// alertRows names each alert's kind, touchpoint and acknowledger, given
// touchpoint names by key and user names by id.
func alertRows(alerts []*rapport.Alert, touchpoints, users map[string]string) []alertRow {
	out := make([]alertRow, 0, len(alerts))
	for _, a := range alerts {
		row := alertRow{Alert: a, Kind: alertKinds[a.Kind], TouchpointName: touchpoints[a.Touchpoint], AcknowledgedBy: users[a.AcknowledgedBy]}
		if row.Kind == "" {
			row.Kind = a.Kind
		}
		if row.TouchpointName == "" {
			row.TouchpointName = a.Touchpoint
		}
		out = append(out, row)
	}
	return out
}

// alertsData is the alerts page's data.
type alertsData struct {
	Open   bool   // showing open alerts only
	Next   string // this page, to come back to after acknowledging
	Alerts []alertRow
}

func (s *server) alertsPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		open := r.URL.Query().Get("show") == "open"
		rows, err := s.findAlerts(r, rapport.AlertFilter{Open: open})
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "alerts", "", s.newPage(r, "Alerts", "alerts", alertsData{Open: open, Next: r.URL.RequestURI(), Alerts: rows}))
	})
}

// findAlerts finds alerts with the names the pages show.
func (s *server) findAlerts(r *http.Request, f rapport.AlertFilter) ([]alertRow, error) {
	alerts, err := s.Alerts.FindAlerts(r.Context(), f)
	if err != nil || len(alerts) == 0 {
		return nil, err
	}
	tps, err := s.touchpointNames(r)
	if err != nil {
		return nil, err
	}
	users, err := s.userNames(r)
	if err != nil {
		return nil, err
	}
	return alertRows(alerts, tps, users), nil
}

func (s *server) alertAcknowledge() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.Alerts.AcknowledgeAlert(r.Context(), r.PathValue("id")); err != nil {
			s.serverError(w, r, err)
			return
		}
		next := "/alerts"
		if n := r.PostFormValue("next"); n != "" {
			next = safeNext(n)
		}
		setFlash(w, r, "Alert acknowledged.")
		redirect(w, r, next)
	})
}
