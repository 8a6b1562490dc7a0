package web

import (
	"fmt"
	"math"
	"net/http"

	"github.com/rapport-crm/rapport"
)

// alertRow is an alert as the pages show it.
type alertRow struct {
	*rapport.Alert
	Kind           string // in words
	TouchpointName string
	AcknowledgedBy string // the name of who acknowledged it
	// Plain says what happened in plain words; the alert's own message,
	// with the test behind it, is the why.
	Plain string
	// Earlier are older alerts of the same kind on the same touchpoint,
	// open or acknowledged as this one is, shown folded under it.
	Earlier []alertRow
}

// groupAlerts folds each alert into the first (the newest) of its kind on
// its touchpoint in the same state, so that a touchpoint below its target
// for weeks reads as one alert, not one a week.
func groupAlerts(rows []alertRow) []alertRow {
	type key struct {
		touchpoint, kind string
		open             bool
	}
	out := make([]alertRow, 0, len(rows))
	first := map[key]int{}
	for _, row := range rows {
		k := key{row.Alert.Touchpoint, row.Alert.Kind, row.AcknowledgedAt == nil}
		if i, ok := first[k]; ok {
			out[i].Earlier = append(out[i].Earlier, row)
			continue
		}
		first[k] = len(out)
		out = append(out, row)
	}
	return out
}

// plainAlert says what an alert is about in plain words from its details,
// or "" when the details lack what it needs.
func plainAlert(a *rapport.Alert, touchpoint string) string {
	switch a.Kind {
	case rapport.AlertBelowTarget:
		mean, ok1 := detailNumber(a.Details["mean_rating"])
		target, ok2 := detailNumber(a.Details["target"])
		n, ok3 := detailNumber(a.Details["ratings"])
		if ok1 && ok2 && ok3 {
			return fmt.Sprintf("%s has been below its %.1f target over the last four weeks: %.2f over %s ratings.",
				touchpoint, target, mean, commas(int64(math.Round(n))))
		}
	case rapport.AlertStandardDecayed:
		before, ok1 := detailNumber(a.Details["baseline_magic_rate"])
		now, ok2 := detailNumber(a.Details["current_magic_rate"])
		response, _ := a.Details["response"].(string)
		if ok1 && ok2 && response != "" {
			return fmt.Sprintf("The standard “%s” at %s delights less than it did: %s of moments were magic before it became the standard, %s since. Time to improve it.",
				rapport.KeyName(response), touchpoint, pctText(before), pctText(now))
		}
	}
	return ""
}

// detailNumber reads a number from an alert's details, as raised (a Go
// number) or as read back from the database (JSON).
func detailNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case *float64:
		if x != nil {
			return *x, true
		}
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
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
		row.Plain = plainAlert(a, row.TouchpointName)
		out = append(out, row)
	}
	return groupAlerts(out)
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
		// The earlier alerts folded under this one go with it.
		ids := append([]string{r.PathValue("id")}, r.PostForm["also"]...)
		for _, id := range ids {
			if _, err := s.Alerts.AcknowledgeAlert(r.Context(), id); err != nil {
				s.serverError(w, r, err)
				return
			}
		}
		next := "/alerts"
		if n := r.PostFormValue("next"); n != "" {
			next = safeNext(n)
		}
		msg := "Alert acknowledged."
		if len(ids) > 1 {
			msg = fmt.Sprintf("%d alerts acknowledged.", len(ids))
		}
		setFlash(w, r, msg)
		redirect(w, r, next)
	})
}
