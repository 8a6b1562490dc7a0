package web

import (
	"fmt"
	"net/http"

	"github.com/rapport-crm/rapport"
)

// dashboardData is the dashboard page's data.
type dashboardData struct {
	D           *rapport.Dashboard
	Trend       string // "+3 on last week at this time", or ""
	TrendClass  string // "up", "down" or ""
	Mean        string // overall mean rating, or "–"
	Rating      lineChart
	Outcomes    lineChart
	Touchpoints []touchpointRow
	Misery      []miseryRow
	Alerts      []alertRow // the open alerts, newest first
	MoreAlerts  int        // open alerts beyond those shown
	MyDay       *myDay     // my open cases and promises due, or nil
}

// dashboardAlerts is how many open alerts the dashboard lists.
const dashboardAlerts = 5

// touchpointRow is one touchpoint's line in the dashboard's table.
type touchpointRow struct {
	Key, Name   string
	Target      float64
	Sat         rapport.Satisfaction
	Mean        string
	MeanPct     float64 // mean rating as a share of the 1–5 scale, 0–100
	TargetPct   float64
	BelowTarget bool
	Bar         outcomeBar
}

// miseryRow is one of the latest misery moments.
type miseryRow struct {
	M              *rapport.Moment
	CustomerName   string
	TouchpointName string
}

func (s *server) dashboardPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		d, err := s.Dashboard.Dashboard(ctx, rapport.DashboardFilter{Misery: 6})
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		tps, err := s.Touchpoints.FindTouchpoints(ctx)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		data := dashboardData{D: d, Mean: "–", Rating: ratingChart(d.Weeks), Outcomes: outcomeChart(d.Weeks)}
		if mean, ok := d.Overall.MeanRating(); ok {
			data.Mean = fmt.Sprintf("%.2f", mean)
		}
		switch diff := d.ThisWeek - d.LastWeekToDate; {
		case diff > 0:
			data.Trend, data.TrendClass = fmt.Sprintf("+%d on last week at this time", diff), "up"
		case diff < 0:
			data.Trend, data.TrendClass = fmt.Sprintf("%d on last week at this time", diff), "down"
		default:
			data.Trend = "the same as last week at this time"
		}

		sats := map[string]rapport.Satisfaction{}
		for _, t := range d.Touchpoints {
			sats[t.Touchpoint] = t.Satisfaction
		}
		names := map[string]string{}
		for _, t := range tps {
			names[t.Key] = t.Name
			row := touchpointRow{Key: t.Key, Name: t.Name, Target: t.TargetScore, Sat: sats[t.Key], Mean: "–",
				TargetPct: scalePct(t.TargetScore)}
			if mean, ok := row.Sat.MeanRating(); ok {
				row.Mean, row.MeanPct, row.BelowTarget = fmt.Sprintf("%.2f", mean), scalePct(mean), mean < t.TargetScore
			}
			row.Bar = newOutcomeBar(row.Sat)
			data.Touchpoints = append(data.Touchpoints, row)
		}
		for _, m := range d.LatestMisery {
			name := names[m.Moment.Touchpoint]
			if name == "" {
				name = m.Moment.Touchpoint
			}
			data.Misery = append(data.Misery, miseryRow{M: m.Moment, CustomerName: m.CustomerName, TouchpointName: name})
		}
		if data.Alerts, err = s.findAlerts(r, rapport.AlertFilter{Open: true}); err != nil {
			s.serverError(w, r, err)
			return
		}
		if n := len(data.Alerts); n > dashboardAlerts {
			data.Alerts, data.MoreAlerts = data.Alerts[:dashboardAlerts], n-dashboardAlerts
		}
		if data.MyDay, err = s.myDay(r); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "dashboard", "", s.newPage(r, "Dashboard", "dashboard", data))
	})
}

// scalePct places a rating on the 1–5 scale as a percentage of its width.
func scalePct(rating float64) float64 {
	return max(0, min(100, (rating-1)/4*100))
}
