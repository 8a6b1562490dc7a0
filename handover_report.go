package rapport

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/rapport-crm/rapport/analytics"
)

// The handover effect report: for the handovers of a period, how the
// customers' satisfaction, magic and misery rates moved from the 90 days
// before to the 90 days after, against comparable customers who kept their
// owner over the same days, and how many dissolved.

// HandoverWindowDays is the length of the windows before and after a
// handover.
const HandoverWindowDays = 90

// HandoverUnit is one customer around one day: their moments in the 90
// days before and after, whether they dissolved in the 90 after, and the
// cell of comparable customers they belong to.
type HandoverUnit struct {
	// Cell is the day and the stratum (stage and risk band that day):
	// handed and comparable customers are compared within it.
	Cell string
	// Risk is the customer's risk band that day, for the report's mix;
	// "" when the comparison does not match on it.
	Risk                                                  Band
	MomentsBefore, MagicBefore, MiseryBefore, RatedBefore int
	RatingSumBefore                                       float64
	MomentsAfter, MagicAfter, MiseryAfter, RatedAfter     int
	RatingSumAfter                                        float64
	Dissolved                                             bool
}

// HandoverGroupUnits are the handed customers of one group: everyone, a
// team, or a receiving person.
type HandoverGroupUnits struct {
	Kind, ID, Name string
	Units          []HandoverUnit
}

// HandoverEffect is one figure of a group: for the handed customers the
// value before and after and the change; the comparable customers' change
// over the same days, weighted to the handed customers' cells; and the
// difference between the two with its 95% interval. For dissolution, the
// handed customers' share dissolved within 90 days against the
// comparables'.
type HandoverEffect struct {
	Key              string   `json:"key"`
	Name             string   `json:"name"`
	Unit             string   `json:"unit"`
	Before           *float64 `json:"before"`
	After            *float64 `json:"after"`
	ComparableChange *float64 `json:"comparable_change"`
	Difference       *float64 `json:"difference"`
	Low              *float64 `json:"low"`
	High             *float64 `json:"high"`
	PValue           *float64 `json:"p_value"`
	AdjustedP        *float64 `json:"adjusted_p"`
	// Hurt is true when the difference is significantly against the
	// customers (Holm across the report's figures); Verdict says it.
	Hurt    bool   `json:"hurt"`
	Verdict string `json:"verdict,omitempty"`
	// Compared are the handed customers this figure compares: those whose
	// cell has the comparable customers' figure.
	Compared int `json:"compared"`
}

// HandoverGroup is the effect of a group's handovers.
type HandoverGroup struct {
	Kind      string `json:"kind"` // all, team or person
	ID        string `json:"id,omitempty"`
	Name      string `json:"name"`
	Customers int    `json:"customers"`
	// Unmatched are handed customers with fewer than two comparable
	// customers in their cell, left out of the comparison.
	Unmatched int `json:"unmatched"`
	// RiskBands are the handed customers by risk band on the day of their
	// handover, with the comparable customers of their cells.
	RiskBands []HandoverBandCount `json:"risk_bands"`
	Effects   []HandoverEffect    `json:"effects"`
}

// HandoverBandCount is how many of a group's handed customers stood in a
// risk band on the day of their handover, and how many comparable
// customers shared their cells (day, stage and band).
type HandoverBandCount struct {
	Band        Band `json:"band"`
	Customers   int  `json:"customers"`
	Comparables int  `json:"comparables"`
}

// HandoverMatch says how comparable customers were chosen: always on the
// day and the stage, and on the risk band unless RiskBand is false; the
// band as scored by the risk model of kind RiskModel ("fitted" or
// "prior"); Sample, when not 0, the most comparable customers scored per
// day (an even sample beyond that).
type HandoverMatch struct {
	RiskBand  bool
	RiskModel string
	Sample    int
}

// MatchedOn names what comparable customers share with the handed ones.
func (m HandoverMatch) MatchedOn() []string {
	if m.RiskBand {
		return []string{"day", "stage", "risk_band"}
	}
	return []string{"day", "stage"}
}

// Sentence says in words how comparable customers were chosen.
func (m HandoverMatch) Sentence() string {
	s := "Comparable customers kept their owner: active on the day of the handover, with no handover within 90 days of it, in the same relationship stage"
	if !m.RiskBand {
		return s + " that day."
	}
	s += " and the same risk band (low 0–39, medium 40–69, high 70–100) that day, as the risk model in use scores them from what was known then"
	if m.RiskModel != "fitted" {
		s += " (the prior model, not yet fitted to the firm's history)"
	}
	s += "."
	if m.Sample > 0 {
		n := fmt.Sprint(m.Sample)
		if m.Sample >= 1000 {
			n = fmt.Sprintf("%d,%03d", m.Sample/1000, m.Sample%1000)
		}
		s += " Where more than " + n + " customers could be compared on a day, an even sample of " + n + " was."
	}
	return s
}

// HandoverReport is the effect of a period's handovers.
type HandoverReport struct {
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	MeasuredAt time.Time `json:"measured_at"`
	// Handovers are those measured; Pending those whose 90 days after have
	// not ended yet.
	Handovers int `json:"handovers"`
	Pending   int `json:"pending"`
	// Inactive are measured handovers of customers who had not joined or
	// had dissolved by the day: nothing of theirs is compared.
	Inactive int `json:"inactive"`
	// Comparables are the comparable customer-days in the handed
	// customers' cells.
	Comparables int `json:"comparables"`
	// MatchedOn names what comparable customers share with the handed
	// ones (day, stage, risk_band); Matching says it in words.
	MatchedOn []string        `json:"matched_on"`
	Matching  string          `json:"matching"`
	Groups    []HandoverGroup `json:"groups"`
	Hurts     []string        `json:"hurts"`
	Summary   string          `json:"summary"`
}

// HandoverReportFilter is the period whose handovers are measured.
type HandoverReportFilter struct {
	From, To time.Time
}

type handoverMetric struct {
	key, name, unit string
	// worse is the sign of a difference that hurts customers.
	worse float64
}

var handoverMetrics = []handoverMetric{
	{"mean_rating", "mean rating", "rating", -1},
	{"magic_rate", "magic rate", "rate", -1},
	{"misery_rate", "misery rate", "rate", 1},
	{"dissolution", "dissolution within 90 days", "rate", 1},
}

// cellFigures are a set of customers' aggregates for each figure.
type cellFigures struct {
	rating, magic, misery analytics.RatioChange
	dissolved             analytics.Proportion
}

func figuresOfUnits(units []HandoverUnit) map[string]*cellFigures {
	out := map[string]*cellFigures{}
	for _, u := range units {
		f := out[u.Cell]
		if f == nil {
			f = &cellFigures{}
			out[u.Cell] = f
		}
		f.rating = f.rating.Add(u.RatingSumBefore, float64(u.RatedBefore), u.RatingSumAfter, float64(u.RatedAfter))
		f.magic = f.magic.Add(float64(u.MagicBefore), float64(u.MomentsBefore), float64(u.MagicAfter), float64(u.MomentsAfter))
		f.misery = f.misery.Add(float64(u.MiseryBefore), float64(u.MomentsBefore), float64(u.MiseryAfter), float64(u.MomentsAfter))
		f.dissolved.Trials++
		if u.Dissolved {
			f.dissolved.Successes++
		}
	}
	return out
}

func (f *cellFigures) change(key string) analytics.RatioChange {
	switch key {
	case "mean_rating":
		return f.rating
	case "magic_rate":
		return f.magic
	}
	return f.misery
}

// NewHandoverReport compares each group's handed customers with the
// comparable customers of the same cells. Every figure of every group is
// tested and the p-values adjusted together (Holm), so the chance that the
// report says handovers hurt anywhere when they did not stays at most 5%.
//
// A handed customer whose cell holds fewer than two comparable customers
// cannot be compared and is left out, counted as unmatched.
func NewHandoverReport(groups []HandoverGroupUnits, comparables []HandoverUnit, match HandoverMatch, now time.Time) *HandoverReport {
	control := figuresOfUnits(comparables)
	inCells := 0
	for _, f := range control {
		inCells += f.dissolved.Trials
	}
	r := &HandoverReport{MeasuredAt: now.UTC().Truncate(time.Microsecond), Comparables: inCells, Hurts: []string{},
		MatchedOn: match.MatchedOn(), Matching: match.Sentence()}
	var ps []float64
	var tested []*HandoverEffect
	var worse []float64
	r.Groups = make([]HandoverGroup, len(groups))
	for gi, g := range groups {
		var matched []HandoverUnit
		bands := map[Band]*HandoverBandCount{}
		counted := map[string]bool{}
		for _, u := range g.Units {
			f := control[u.Cell]
			if f != nil && f.dissolved.Trials >= 2 {
				matched = append(matched, u)
			}
			if u.Risk == "" {
				continue
			}
			b := bands[u.Risk]
			if b == nil {
				b = &HandoverBandCount{Band: u.Risk}
				bands[u.Risk] = b
			}
			b.Customers++
			if f != nil && !counted[u.Cell] {
				counted[u.Cell] = true
				b.Comparables += f.dissolved.Trials
			}
		}
		hg := HandoverGroup{Kind: g.Kind, ID: g.ID, Name: g.Name, Customers: len(g.Units), Unmatched: len(g.Units) - len(matched),
			RiskBands: []HandoverBandCount{}, Effects: handoverEffects(matched, control)}
		for _, band := range Bands {
			if b := bands[band]; b != nil {
				hg.RiskBands = append(hg.RiskBands, *b)
			}
		}
		r.Groups[gi] = hg
		for i := range r.Groups[gi].Effects {
			e := &r.Groups[gi].Effects[i]
			if e.PValue != nil {
				ps, tested, worse = append(ps, *e.PValue), append(tested, e), append(worse, handoverMetrics[i].worse)
			}
		}
	}
	for i, adj := range analytics.Holm(ps) {
		e := tested[i]
		e.AdjustedP = &adj
		e.Hurt = adj < OfferAlpha && *e.Difference*worse[i] > 0
	}
	for gi := range r.Groups {
		g := &r.Groups[gi]
		for i := range g.Effects {
			if e := &g.Effects[i]; e.Hurt {
				e.Verdict = handoverVerdict(g, e)
				r.Hurts = append(r.Hurts, e.Verdict)
			}
		}
	}
	switch {
	case len(groups) == 0 || len(groups[0].Units) == 0:
		r.Summary = "No handover in the period has had its 90 days after yet."
	case r.Groups[0].Unmatched == r.Groups[0].Customers:
		r.Summary = "No handed customer had comparable customers who shared their day and stage, so nothing could be compared."
		if match.RiskBand {
			r.Summary = "No handed customer had comparable customers who shared their day, stage and risk band, so nothing could be compared."
		}
	case len(r.Hurts) == 0:
		r.Summary = "No sign that handovers in the period hurt customers: no figure is significantly worse than for comparable customers who kept their owner."
	default:
		r.Summary = fmt.Sprintf("Handovers hurt customers in %d of the figures; see below.", len(r.Hurts))
	}
	return r
}

// handoverEffects works out each figure for one group's units. A figure
// compares the units whose cell has the comparable customers' estimate of
// it (two or more of them, with moments or ratings in both windows for a
// rate or a rating); Compared says how many that was.
func handoverEffects(units []HandoverUnit, control map[string]*cellFigures) []HandoverEffect {
	out := make([]HandoverEffect, len(handoverMetrics))
	for i, m := range handoverMetrics {
		controlOf := func(cell string) analytics.Estimate {
			if m.key == "dissolution" {
				return proportionEstimate(control[cell])
			}
			if f := control[cell]; f != nil {
				return f.change(m.key).EstimateOf()
			}
			return analytics.Estimate{}
		}
		var compared []HandoverUnit
		for _, u := range units {
			if controlOf(u.Cell).OK {
				compared = append(compared, u)
			}
		}
		handed := figuresOfUnits(compared)
		cells := slices.Sorted(maps.Keys(handed))
		controls, weights := make([]analytics.Estimate, len(cells)), make([]float64, len(cells))
		for k, cell := range cells {
			controls[k], weights[k] = controlOf(cell), float64(handed[cell].dissolved.Trials)/float64(len(compared))
		}
		all := &cellFigures{}
		for _, u := range compared {
			all.rating = all.rating.Add(u.RatingSumBefore, float64(u.RatedBefore), u.RatingSumAfter, float64(u.RatedAfter))
			all.magic = all.magic.Add(float64(u.MagicBefore), float64(u.MomentsBefore), float64(u.MagicAfter), float64(u.MomentsAfter))
			all.misery = all.misery.Add(float64(u.MiseryBefore), float64(u.MomentsBefore), float64(u.MiseryAfter), float64(u.MomentsAfter))
			all.dissolved.Trials++
			if u.Dissolved {
				all.dissolved.Successes++
			}
		}
		e := HandoverEffect{Key: m.key, Name: m.name, Unit: m.unit, Compared: len(compared)}
		c := analytics.Weighted(controls, weights)
		if c.OK {
			cv := c.Value
			e.ComparableChange = &cv
		}
		var est analytics.Estimate
		if m.key == "dissolution" {
			if all.dissolved.Trials > 0 {
				v := all.dissolved.Rate()
				e.After = &v
				est = proportionEstimate(all).Minus(c)
			}
		} else {
			ch := all.change(m.key)
			if ch.Before.OK() {
				v := ch.Before.Value()
				e.Before = &v
			}
			if ch.After.OK() {
				v := ch.After.Value()
				e.After = &v
			}
			est = ch.EstimateOf().Minus(c)
		}
		if cmp := est.Compare(1 - OfferAlpha); cmp.OK {
			d, lo, hi, p := cmp.Difference, cmp.Interval.Lo, cmp.Interval.Hi, cmp.PValue
			e.Difference, e.Low, e.High, e.PValue = &d, &lo, &hi, &p
		}
		out[i] = e
	}
	return out
}

// proportionEstimate is a share with its binomial variance, as an estimate
// to combine across cells; nil figures give none.
func proportionEstimate(f *cellFigures) analytics.Estimate {
	if f == nil || f.dissolved.Trials < 2 {
		return analytics.Estimate{}
	}
	n := float64(f.dissolved.Trials)
	p := f.dissolved.Rate()
	// At 0 or 1 the plug-in variance is 0; half an event keeps it honest.
	pv := math.Max(p, 0.5/n)
	pv = math.Min(pv, 1-0.5/n)
	return analytics.Estimate{Value: p, Variance: pv * (1 - pv) / n, DF: n - 1, OK: true}
}

func handoverVerdict(g *HandoverGroup, e *HandoverEffect) string {
	who := "Handovers"
	switch g.Kind {
	case "team":
		who = "Handovers to the " + g.Name + " team"
	case "person":
		who = "Handovers to " + g.Name
	}
	what := "fell"
	if *e.Difference > 0 {
		what = "rose"
	}
	if e.Key == "dissolution" {
		return fmt.Sprintf("%s hurt: %s of their %d customers dissolved within 90 days, %s more than comparable customers who kept their owner (95%% interval %s to %s).",
			who, formatOfferValue("rate", *e.After, false), e.Compared, formatOfferValue("rate", *e.Difference, true),
			formatOfferValue("rate", *e.Low, true), formatOfferValue("rate", *e.High, true))
	}
	return fmt.Sprintf("%s hurt: the %s of their %d customers %s by %s more than for comparable customers who kept their owner (95%% interval %s to %s).",
		who, e.Name, e.Compared, what, formatOfferValue(e.Unit, math.Abs(*e.Difference), true),
		formatOfferValue(e.Unit, *e.Low, true), formatOfferValue(e.Unit, *e.High, true))
}
