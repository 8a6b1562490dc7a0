package web

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

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
	Band    string // a path for an interval band, or ""
	Target  *hline // a dashed reference line, or nil
	Class   string // an extra CSS class for the chart
	Summary string

	x func(i int) float64     // a week's centre
	y func(v float64) float64 // a value's height
}

// hline is a horizontal reference line across the plot.
type hline struct {
	Y     float64
	Label string
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

// chartLine is one line to draw: its name, CSS class, and its value for the
// week at an index, if that week has one.
type chartLine struct {
	name, class string
	value       func(i int) (float64, bool)
}

// chartWeek is one week on a chart's x axis.
type chartWeek struct {
	Start   time.Time
	Moments int
}

// weekChart plots one or more values per week. A line's value returns the
// value of a week and whether it has one; weeks without one leave a gap.
func weekChart(weeks []chartWeek, lo, hi float64, yTicks []float64, yLabel func(float64) string,
	lines []chartLine) lineChart {
	c := lineChart{W: chartW, H: chartH, Plot: rect{X: padLeft, Y: padTop, W: chartW - padLeft - padRight, H: chartH - padTop - padBelow}}
	n := len(weeks)
	// Each week owns an equal slot and is drawn at its centre, so that the
	// volume bars and the labels of the first and last weeks stay inside.
	slot := c.Plot.W / float64(max(n, 1))
	c.x = func(i int) float64 { return c.Plot.X + slot*(float64(i)+0.5) }
	c.y = func(v float64) float64 { return c.Plot.Y + c.Plot.H*(1-(v-lo)/(hi-lo)) }
	x, y := c.x, c.y
	for _, v := range yTicks {
		c.YTicks = append(c.YTicks, tick{y(v), yLabel(v)})
	}
	maxMoments := 0
	for _, w := range weeks {
		maxMoments = max(maxMoments, w.Moments)
	}
	// About seven labels fit; the current week always has one.
	every := max(1, (n+6)/7)
	for i, w := range weeks {
		if i%every == (n-1)%every {
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
			v, ok := l.value(i)
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
			path.WriteString(coord(px) + " " + coord(py))
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

// coord formats a chart coordinate compactly.
func coord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// dashboardWeeks turns the dashboard's weeks into chart weeks and a way to
// read each week's satisfaction.
func dashboardWeeks(weeks []rapport.WeekSatisfaction) []chartWeek {
	out := make([]chartWeek, len(weeks))
	for i, w := range weeks {
		out[i] = chartWeek{Start: w.Start, Moments: w.Moments}
	}
	return out
}

func ratingLabel(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// ratingChart is the weekly mean rating on the 1–5 scale.
func ratingChart(weeks []rapport.WeekSatisfaction) lineChart {
	c := weekChart(dashboardWeeks(weeks), 1, 5, []float64{1, 2, 3, 4, 5}, ratingLabel,
		[]chartLine{{"mean rating", "line-rating", func(i int) (float64, bool) { return weeks[i].Satisfaction.MeanRating() }}})
	c.Class = "weekly"
	return c
}

// outcomeChart is the weekly magic and misery rates.
func outcomeChart(weeks []rapport.WeekSatisfaction) lineChart {
	has := func(i int) bool { return weeks[i].Satisfaction.Moments > 0 }
	c := weekChart(dashboardWeeks(weeks), 0, 1, []float64{0, 0.25, 0.5, 0.75, 1}, func(v float64) string { return fmt.Sprintf("%.0f%%", v*100) },
		[]chartLine{
			{"magic rate", "line-magic", func(i int) (float64, bool) { return weeks[i].Satisfaction.MagicRate(), has(i) }},
			{"misery rate", "line-misery", func(i int) (float64, bool) { return weeks[i].Satisfaction.MiseryRate(), has(i) }},
		})
	c.Class = "weekly"
	return c
}

// trendChart is a touchpoint's weekly mean rating with its 95% interval as
// a band and its target as a dashed line.
func trendChart(tr *rapport.Trend) lineChart {
	weeks := make([]chartWeek, len(tr.Weeks))
	for i, w := range tr.Weeks {
		weeks[i] = chartWeek{Start: w.Week, Moments: w.Moments}
	}
	c := weekChart(weeks, 1, 5, []float64{1, 2, 3, 4, 5}, ratingLabel,
		[]chartLine{{"mean rating", "line-rating", func(i int) (float64, bool) {
			if m := tr.Weeks[i].MeanRating; m != nil {
				return *m, true
			}
			return 0, false
		}}})
	// The band runs along each stretch of weeks that have an interval: the
	// upper bounds left to right, then the lower ones back.
	var band strings.Builder
	var run []int
	flush := func() {
		if len(run) > 1 {
			for j, i := range run {
				cmd := " L"
				if j == 0 {
					cmd = "M"
				}
				band.WriteString(cmd + coord(c.x(i)) + " " + coord(c.y(tr.Weeks[i].MeanRatingCI[1])))
			}
			for j := len(run) - 1; j >= 0; j-- {
				i := run[j]
				band.WriteString(" L" + coord(c.x(i)) + " " + coord(c.y(tr.Weeks[i].MeanRatingCI[0])))
			}
			band.WriteString(" Z ")
		}
		run = run[:0]
	}
	for i, w := range tr.Weeks {
		if w.MeanRatingCI == nil {
			flush()
			continue
		}
		run = append(run, i)
	}
	flush()
	c.Band = strings.TrimSpace(band.String())
	c.Target = &hline{Y: c.y(tr.TargetScore), Label: "target " + ratingLabel(tr.TargetScore)}
	c.Class = "trend"
	c.Summary += fmt.Sprintf(" Target %s.", ratingLabel(tr.TargetScore))
	return c
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

// niceTicks returns evenly spaced round values (steps of 1, 2 or 5 times a
// power of ten) that cover lo to hi in about n steps.
func niceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(max(n, 1))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m == 2.5 && mag < 10 {
			continue // keep small steps whole: no 2.5 moments
		}
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Floor(lo/step) * step; v < hi+step*0.999; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

// matrixChart is the priority matrix: each touchpoint whose impact has been
// measured, placed by its volume (x) and its impact (y: how many percentage
// points more often customers dissolve after misery there), with the
// impact's 95% interval as a whisker, and lines at the median volume and
// impact dividing it into quadrants.
type matrixChart struct {
	W, H      float64
	Plot      rect
	XTicks    []tick
	YTicks    []tick
	Zero      float64 // the height of "no effect"
	Split     *point  // where the quadrant lines cross, or nil with under two points
	Quadrants []chartLabel
	Points    []matrixPoint
	Summary   string
}

// matrixPoint is one touchpoint on the matrix.
type matrixPoint struct {
	X, Y, Lo, Hi float64 // the centre and the whisker's ends
	Rank         int
	Top          bool // among the three to manage first
	Href         string
	Label        chartLabel
	Title        string
}

// chartLabel is a piece of text placed on a chart.
type chartLabel struct {
	X, Y   float64
	Anchor string // start, middle or end
	Text   string
}

// matrixInput is a touchpoint to place on the matrix.
type matrixInput struct {
	Name, Href string
	Rank       int
	Volume     int
	Impact     rapport.Impact
}

// Matrix geometry, in viewBox units.
const (
	matrixW, matrixH = 640, 400
	labelFont        = 12.0 // px, as app.css sets it for .point-label
)

func newMatrixChart(in []matrixInput) matrixChart {
	c := matrixChart{W: matrixW, H: matrixH, Plot: rect{X: 58, Y: 14, W: matrixW - 58 - 18, H: matrixH - 14 - 52}}
	maxVol := 1
	loY, hiY := 0.0, 0.0
	for _, p := range in {
		maxVol = max(maxVol, p.Volume)
		loY = min(loY, clampPts(p.Impact.RiskDifferenceCI[0]))
		hiY = max(hiY, clampPts(p.Impact.RiskDifferenceCI[1]))
	}
	xt, yt := niceTicks(0, float64(maxVol), 5), niceTicks(loY, hiY, 5)
	x0, x1, y0, y1 := xt[0], xt[len(xt)-1], yt[0], yt[len(yt)-1]
	x := func(v float64) float64 { return c.Plot.X + c.Plot.W*(v-x0)/(x1-x0) }
	y := func(v float64) float64 { return c.Plot.Y + c.Plot.H*(1-(v-y0)/(y1-y0)) }
	for _, v := range xt {
		c.XTicks = append(c.XTicks, tick{x(v), strconv.FormatFloat(v, 'f', -1, 64)})
	}
	for _, v := range yt {
		c.YTicks = append(c.YTicks, tick{y(v), signed(v)})
	}
	c.Zero = y(0)

	if len(in) >= 2 {
		vols, imps := make([]float64, len(in)), make([]float64, len(in))
		for i, p := range in {
			vols[i], imps[i] = float64(p.Volume), clampPts(p.Impact.RiskDifference)
		}
		c.Split = &point{X: x(median(vols)), Y: y(median(imps))}
		left, right := c.Plot.X+8, c.Plot.X+c.Plot.W-8
		top, bottom := c.Plot.Y+16, c.Plot.Y+c.Plot.H-8
		c.Quadrants = []chartLabel{
			{right, top, "end", "Frequent and costly: manage first"},
			{left, top, "start", "Rare but costly"},
			{right, bottom, "end", "Frequent, less costly"},
			{left, bottom, "start", "Rare, less costly"},
		}
	}

	// Labels go beside their point where they overlap no other label or
	// point, trying the right first; the quadrant names are placed already.
	var taken []box
	for _, q := range c.Quadrants {
		taken = append(taken, labelBox(q, labelFont*0.9))
	}
	for _, p := range in {
		px, py := x(float64(p.Volume)), y(clampPts(p.Impact.RiskDifference))
		taken = append(taken, box{px - 10, py - 10, px + 10, py + 10})
	}
	var summary []string
	for _, p := range in {
		im := p.Impact
		mp := matrixPoint{X: x(float64(p.Volume)), Y: y(clampPts(im.RiskDifference)),
			Lo: y(clampPts(im.RiskDifferenceCI[0])), Hi: y(clampPts(im.RiskDifferenceCI[1])),
			Rank: p.Rank, Top: p.Rank <= 3, Href: p.Href}
		mp.Title = fmt.Sprintf("%s: priority %d, %d moments, impact %s points (95%% interval %s to %s)", p.Name, p.Rank, p.Volume,
			signed(100*im.RiskDifference), signed(100*im.RiskDifferenceCI[0]), signed(100*im.RiskDifferenceCI[1]))
		summary = append(summary, fmt.Sprintf("%d %s, %d moments, %s points", p.Rank, p.Name, p.Volume, signed(100*im.RiskDifference)))
		mp.Label = c.placeLabel(mp.X, mp.Y, p.Name, taken)
		taken = append(taken, labelBox(mp.Label, labelFont))
		c.Points = append(c.Points, mp)
	}
	c.Summary = fmt.Sprintf("Priority matrix of %d touchpoints, volume across and impact of misery up: %s.", len(in), strings.Join(summary, "; "))
	return c
}

// clampPts turns a risk difference into percentage points within ±100.
func clampPts(rd float64) float64 { return max(-100, min(100, 100*rd)) }

// signed formats a number of percentage points with its sign: +12, 0, −3.
func signed(v float64) string {
	v = math.Round(v)
	switch {
	case v > 0:
		return "+" + strconv.FormatFloat(v, 'f', 0, 64)
	case v < 0:
		return "−" + strconv.FormatFloat(-v, 'f', 0, 64)
	}
	return "0"
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// box is an area of a chart that a label should not cover.
type box struct{ x0, y0, x1, y1 float64 }

func (a box) overlaps(b box) bool { return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1 }

// labelBox estimates the area a label's text covers: an average character
// is about 0.58 of the font size wide.
func labelBox(l chartLabel, font float64) box {
	w := 0.58 * font * float64(len([]rune(l.Text)))
	x0 := l.X
	switch l.Anchor {
	case "middle":
		x0 -= w / 2
	case "end":
		x0 -= w
	}
	return box{x0 - 2, l.Y - font, x0 + w + 2, l.Y + 3}
}

func (c matrixChart) placeLabel(px, py float64, text string, taken []box) chartLabel {
	tries := []chartLabel{
		{px + 13, py + 4, "start", text}, {px - 13, py + 4, "end", text},
		{px + 10, py - 11, "start", text}, {px + 10, py + 20, "start", text},
		{px - 10, py - 11, "end", text}, {px - 10, py + 20, "end", text},
		{px, py - 15, "middle", text}, {px, py + 25, "middle", text},
	}
	inside := func(b box) bool {
		return b.x0 >= 0 && b.x1 <= c.W && b.y0 >= c.Plot.Y-4 && b.y1 <= c.Plot.Y+c.Plot.H+4
	}
	first := -1
	for i, l := range tries {
		b := labelBox(l, labelFont)
		if !inside(b) {
			continue
		}
		if first < 0 {
			first = i
		}
		free := true
		for _, t := range taken {
			if b.overlaps(t) {
				free = false
				break
			}
		}
		if free {
			return l
		}
	}
	if first < 0 {
		first = 0
	}
	return tries[first]
}

// intervalChart draws rates with their 95% intervals, one row each: the
// magic rate of each response compared at a touchpoint.
type intervalChart struct {
	W, H    float64
	Plot    rect
	XTicks  []tick
	Rows    []intervalRow
	Summary string
}

// intervalRow is one rate: its name and value above a whisker from the
// interval's low to its high end, with a dot at the estimate.
type intervalRow struct {
	Y, TextY     float64
	X, Lo, Hi    float64
	Name, Value  string
	Winner, Void bool // Void: no moments, so nothing to draw
}

// intervalInput is one rate to draw.
type intervalInput struct {
	Name     string
	Rate     *float64
	CI       *rapport.Interval
	Moments  int
	IsWinner bool
}

const intervalRowH = 52

func newIntervalChart(in []intervalInput) intervalChart {
	c := intervalChart{W: 560, Plot: rect{X: 20, Y: 6, W: 560 - 40}}
	c.Plot.H = float64(len(in)) * intervalRowH
	c.H = c.Plot.Y + c.Plot.H + 26
	x := func(v float64) float64 { return c.Plot.X + c.Plot.W*v }
	for _, v := range []float64{0, 0.25, 0.5, 0.75, 1} {
		c.XTicks = append(c.XTicks, tick{x(v), fmt.Sprintf("%.0f%%", 100*v)})
	}
	var summary []string
	for i, r := range in {
		row := intervalRow{TextY: c.Plot.Y + float64(i)*intervalRowH + 16, Y: c.Plot.Y + float64(i)*intervalRowH + 36,
			Name: r.Name, Winner: r.IsWinner}
		if r.Rate == nil || r.CI == nil {
			row.Void, row.Value = true, "no moments yet"
		} else {
			row.X, row.Lo, row.Hi = x(*r.Rate), x(r.CI[0]), x(r.CI[1])
			row.Value = fmt.Sprintf("%s (%s)", pctText(*r.Rate), ciText(*r.CI))
		}
		summary = append(summary, fmt.Sprintf("%s: %s over %d moments", r.Name, row.Value, r.Moments))
		c.Rows = append(c.Rows, row)
	}
	c.Summary = "Magic rate of each response with its 95% interval. " + strings.Join(summary, "; ") + "."
	return c
}

// pctText formats a rate as a whole percentage.
func pctText(r float64) string { return fmt.Sprintf("%.0f%%", math.Round(100*r)) }

// ciText formats a rate's interval: "27–46%".
func ciText(iv rapport.Interval) string {
	return fmt.Sprintf("%.0f–%.0f%%", math.Round(100*iv[0]), math.Round(100*iv[1]))
}
