package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rapport-crm/rapport"
)

// The handover brief, in the UI: the one screen a new owner reads when a
// customer changes hands. It is drawn with the UI's own templates so that it
// sits behind the same sign-in and security headers, and prints cleanly.

// briefItems is how many open promises and cases the brief lists; the rest
// are a click away.
const briefItems = 4

// briefData is the brief's page.
type briefData struct {
	B            *rapport.Brief
	Touchpoints  map[string]string
	Promises     []*rapport.Promise
	MorePromises int
	Cases        []*rapport.RecoveryCase
	MoreCases    int
	Months       monthChart
	People       []rapport.BriefPerson
	Stages       []*rapport.StageChange
	Handovers    []*rapport.Handover
	Surveys      []*rapport.SurveyResponse
	// Delighted and Disappointed are the responses that brought this
	// customer more magic than misery, and the reverse.
	Delighted, Disappointed []rapport.ResponseHistory
	Now                     time.Time
}

// briefFirst returns at most the first n items of a list: the brief keeps to one screen.
func briefFirst[T any](items []T, n int) []T { return items[:min(len(items), n)] }

// TP names a touchpoint.
func (d briefData) TP(key string) string {
	if n := d.Touchpoints[key]; n != "" {
		return n
	}
	return key
}

// monthChart is the customer's mean rating by month as small columns.
type monthChart struct {
	W, H    float64
	Base    float64 // the columns' foot
	Cols    []monthCol
	Summary string
}

type monthCol struct {
	X, Y, W, H  float64
	LabelX      float64
	Label, Mean string
	Title       string
	Low, Void   bool
}

func newMonthChart(months []rapport.BriefMonth) monthChart {
	const colW, gap, top, plotH = 34.0, 10.0, 14.0, 52.0
	c := monthChart{H: top + plotH + 16, Base: top + plotH}
	c.W = float64(max(len(months), 1))*(colW+gap) - gap
	var parts []string
	for i, m := range months {
		x := float64(i) * (colW + gap)
		col := monthCol{X: x, W: colW, LabelX: x + colW/2, Label: m.Month.UTC().Format("Jan")}
		if m.MeanRating == nil {
			col.Void, col.Mean = true, "–"
			col.Title = fmt.Sprintf("%s: no ratings", m.Month.UTC().Format("January 2006"))
		} else {
			mean := *m.MeanRating
			col.H = plotH * scalePct(mean) / 100
			col.H = max(col.H, 2)
			col.Y = c.Base - col.H
			col.Mean, col.Low = fmt.Sprintf("%.1f", mean), mean < 3
			col.Title = fmt.Sprintf("%s: mean rating %.1f over %d rated moments; %d magic, %d misery",
				m.Month.UTC().Format("January 2006"), mean, m.Rated, m.Magic, m.Misery)
		}
		if col.Void {
			col.Y, col.H = c.Base-2, 2
		}
		parts = append(parts, col.Label+" "+col.Mean)
		c.Cols = append(c.Cols, col)
	}
	c.Summary = "Mean rating by month: " + strings.Join(parts, ", ") + "."
	return c
}

func (s *server) briefPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := s.Briefs.Brief(r.Context(), r.PathValue("id"))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		tps, err := s.touchpointNames(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d := briefData{B: b, Touchpoints: tps, Promises: b.OpenPromises, Cases: b.OpenCases, Months: newMonthChart(b.Trend.Months), Now: s.Clock()}
		d.People, d.Stages, d.Handovers, d.Surveys = briefFirst(b.People, 5), briefFirst(b.StageChanges, 3), briefFirst(b.Handovers, 2), briefFirst(b.Surveys, 2)
		history, err := s.Suggestions.ResponseHistory(r.Context(), b.Customer.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d.Delighted, d.Disappointed = rapport.DelightedAndDisappointed(history)
		d.Delighted, d.Disappointed = briefFirst(d.Delighted, briefItems), briefFirst(d.Disappointed, briefItems)
		if n := len(d.Promises); n > briefItems {
			d.Promises, d.MorePromises = d.Promises[:briefItems], n-briefItems
		}
		if n := len(d.Cases); n > briefItems {
			d.Cases, d.MoreCases = d.Cases[:briefItems], n-briefItems
		}
		s.render(w, r, http.StatusOK, "customer_brief", "", s.newPage(r, "Handover brief: "+b.Customer.Name, "customers", d))
	})
}
