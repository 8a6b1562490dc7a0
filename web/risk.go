package web

import (
	"fmt"
	"math"
	"net/http"

	"github.com/rapport-crm/rapport"
)

// riskData is the track-record page: the model in use, how well it
// predicted on periods held back, and its calibration as a chart.
type riskData struct {
	T     *rapport.TrackRecord
	Chart calibrationChart
	// AUC and BaselineAUC as percentages, "–" when not measured.
	AUC, BaselineAUC string
}

// calibrationChart draws predicted against observed dissolution by decile
// as points on a square, with the diagonal where they agree.
type calibrationChart struct {
	Size, Pad, Max float64
	Points         []calibrationPoint
	Ticks          []tick
	Summary        string
}

type calibrationPoint struct {
	X, Y  float64
	Label string
}

func (s *server) riskPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr, err := s.Risk.RiskTrackRecord(r.Context())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d := riskData{T: tr, Chart: newCalibrationChart(tr.Calibration), AUC: aucText(tr.AUC), BaselineAUC: aucText(tr.BaselineAUC)}
		s.render(w, r, http.StatusOK, "risk", "", s.newPage(r, "Risk track record", "risk", d))
	})
}

func (s *server) riskRefit() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr, err := s.Risk.RefitRisk(r.Context())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		msg := "The risk model was refitted on the firm's history; customers are scored with it as the sweep reaches them."
		if tr.Model.IsPrior() {
			msg = "The history is still too short to fit: the prior stands in."
		}
		setFlash(w, r, msg)
		redirect(w, r, "/reports/risk")
	})
}

func aucText(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.3f", *p)
}

// newCalibrationChart scales the chart to the largest chance shown, rounded
// up to a round step of percentage points, so that a firm whose customers
// rarely dissolve still sees its deciles apart and every tick is a whole,
// evenly spaced percentage.
func newCalibrationChart(bins []rapport.CalibrationDecile) calibrationChart {
	c := calibrationChart{Size: 320, Pad: 40, Max: 0.1}
	for _, b := range bins {
		c.Max = math.Max(c.Max, math.Max(b.Predicted, b.Observed))
	}
	ticks := niceTicks(0, 100*c.Max, 4)
	c.Max = ticks[len(ticks)-1] / 100
	plot := c.Size - 2*c.Pad
	scale := func(v float64) float64 { return plot * v / c.Max }
	for _, v := range ticks {
		c.Ticks = append(c.Ticks, tick{Pos: scale(v / 100), Label: fmt.Sprintf("%g%%", v)})
	}
	for i, b := range bins {
		c.Points = append(c.Points, calibrationPoint{X: c.Pad + scale(b.Predicted), Y: c.Size - c.Pad - scale(b.Observed),
			Label: fmt.Sprintf("Decile %d: predicted %s, observed %s of %d customers", i+1, pctText1(b.Predicted), pctText1(b.Observed), b.Customers)})
	}
	c.Summary = fmt.Sprintf("Predicted against observed dissolution within 90 days for %d deciles of customers; points on the diagonal are predicted exactly.", len(bins))
	return c
}

// pctText1 writes a share as a percentage with one decimal.
func pctText1(r float64) string { return fmt.Sprintf("%.1f%%", 100*r) }
