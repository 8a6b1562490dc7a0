package web

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rapport-crm/rapport"
)

// Charts are drawn on the server as SVG: they need no script and no
// network fetch, print well, and carry a text summary for screen readers.

// lineChart is a small multi-series line chart over weeks.
type lineChart struct {
	W, H    float64
	Plot    rect // the plotting area
	Series  []series
	YTicks  []tick
	XTicks  []tick
	Bars    []rect // weekly volume, drawn faintly behind the lines
	Summary string
}

type series struct {
	Name, Class string
	Path        string
	Points      []point
}

type point struct {
	X, Y  float64
	Label string
}

type tick struct {
	Pos   float64
	Label string
}

type rect struct {
	X, Y, W, H float64
	Label      string
}

// Chart geometry, in viewBox units; the SVG scales to its container.
const (
	chartW, chartH                      = 640, 220
	padLeft, padRight, padTop, padBelow = 42, 8, 12, 30
)

// chartLine is one line to draw: its name, CSS class, and its value for a
// week, if the week has one.
type chartLine struct {
	name, class string
	value       func(rapport.Satisfaction) (float64, bool)
}

// weekChart plots one or more values per week. value returns the value of a
// week and whether it has one; weeks without one leave a gap in the line.
func weekChart(weeks []rapport.WeekSatisfaction, lo, hi float64, yTicks []float64, yLabel func(float64) string,
	lines []chartLine) lineChart {
	c := lineChart{W: chartW, H: chartH, Plot: rect{X: padLeft, Y: padTop, W: chartW - padLeft - padRight, H: chartH - padTop - padBelow}}
	n := len(weeks)
	// Each week owns an equal slot and is drawn at its centre, so that the
	// volume bars and the labels of the first and last weeks stay inside.
	slot := c.Plot.W / float64(max(n, 1))
	x := func(i int) float64 { return c.Plot.X + slot*(float64(i)+0.5) }
	y := func(v float64) float64 { return c.Plot.Y + c.Plot.H*(1-(v-lo)/(hi-lo)) }
	for _, v := range yTicks {
		c.YTicks = append(c.YTicks, tick{y(v), yLabel(v)})
	}
	maxMoments := 0
	for _, w := range weeks {
		maxMoments = max(maxMoments, w.Moments)
	}
	for i, w := range weeks {
		if i%2 == (n-1)%2 { // label every other week, always the current one
			c.XTicks = append(c.XTicks, tick{x(i), w.Start.Format("2 Jan")})
		}
		if maxMoments > 0 && w.Moments > 0 {
			h := c.Plot.H * 0.35 * float64(w.Moments) / float64(maxMoments)
			c.Bars = append(c.Bars, rect{X: x(i) - slot*0.3, Y: c.Plot.Y + c.Plot.H - h, W: slot * 0.6, H: h,
				Label: fmt.Sprintf("Week of %s: %d moments", w.Start.Format("2 Jan"), w.Moments)})
		}
	}
	var summary []string
	for _, l := range lines {
		s := series{Name: l.name, Class: l.class}
		var path strings.Builder
		pen := false
		last := ""
		for i, w := range weeks {
			v, ok := l.value(w.Satisfaction)
			if !ok {
				pen = false
				continue
			}
			px, py := x(i), y(v)
			if pen {
				path.WriteString(" L")
			} else {
				path.WriteString(" M")
			}
			path.WriteString(strconv.FormatFloat(px, 'f', 1, 64) + " " + strconv.FormatFloat(py, 'f', 1, 64))
			pen = true
			last = yLabel(v)
			s.Points = append(s.Points, point{px, py, fmt.Sprintf("Week of %s: %s %s", w.Start.Format("2 Jan"), l.name, yLabel(v))})
		}
		s.Path = strings.TrimSpace(path.String())
		c.Series = append(c.Series, s)
		if last != "" {
			summary = append(summary, l.name+" this week "+last)
		} else {
			summary = append(summary, "no "+l.name+" yet")
		}
	}
	c.Summary = fmt.Sprintf("Weekly chart over %d weeks; %s.", n, strings.Join(summary, ", "))
	return c
}

// ratingChart is the weekly mean rating on the 1–5 scale.
func ratingChart(weeks []rapport.WeekSatisfaction) lineChart {
	return weekChart(weeks, 1, 5, []float64{1, 2, 3, 4, 5}, func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
		[]chartLine{{"mean rating", "line-rating", func(s rapport.Satisfaction) (float64, bool) { return s.MeanRating() }}})
}

// outcomeChart is the weekly magic and misery rates.
func outcomeChart(weeks []rapport.WeekSatisfaction) lineChart {
	has := func(s rapport.Satisfaction) bool { return s.Moments > 0 }
	return weekChart(weeks, 0, 1, []float64{0, 0.25, 0.5, 0.75, 1}, func(v float64) string { return fmt.Sprintf("%.0f%%", v*100) },
		[]chartLine{
			{"magic rate", "line-magic", func(s rapport.Satisfaction) (float64, bool) { return s.MagicRate(), has(s) }},
			{"misery rate", "line-misery", func(s rapport.Satisfaction) (float64, bool) { return s.MiseryRate(), has(s) }},
		})
}

// outcomeBar is one touchpoint's split of moments into magic, neutral and
// misery, as percentages of a 100-unit-wide bar.
type outcomeBar struct {
	Magic, Neutral, Misery float64
}

func newOutcomeBar(s rapport.Satisfaction) outcomeBar {
	if s.Moments == 0 {
		return outcomeBar{}
	}
	magic, misery := 100*s.MagicRate(), 100*s.MiseryRate()
	return outcomeBar{Magic: magic, Misery: misery, Neutral: 100 - magic - misery}
}
