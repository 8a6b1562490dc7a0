package analytics

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// ImpactEstimate says how much a misery moment at a touchpoint changes what
// customers do next, e.g. the share who dissolve within 90 days.
type ImpactEstimate struct {
	ExposedRate            float64  // outcome rate after misery at the touchpoint
	UnexposedRate          float64  // outcome rate after other outcomes there
	RiskDifference         float64  // ExposedRate − UnexposedRate
	RiskDifferenceInterval Interval // 95% Newcombe hybrid score interval
	RelativeRisk           float64  // ExposedRate / UnexposedRate (corrected, see Impact)
	RelativeRiskInterval   Interval // 95% Katz log interval
	PValue                 float64  // two-sided, for "the rates differ"; 1 when no test ran
	Test                   Test
	OK                     bool // false when either group is empty or invalid
}

// Impact compares the outcome rate of customers who had a misery moment at a
// touchpoint (exposed: Successes = those who then dissolved, Trials = those
// with misery there) with customers whose moments there were not misery
// (unexposed). All intervals are 95%.
//
// The risk difference is what priority is built on: it counts extra
// dissolutions per misery customer, which adds up across touchpoints. Its
// interval is Newcombe's, as in CompareProportions. The relative risk is
// reported because people read "three times as likely" more easily; its
// interval is Katz's: exp(ln RR ± z·sqrt(1/a − 1/n1 + 1/c − 1/n0)). When either
// group has no outcome events the log is undefined, so 0.5 is added to each
// of the four cells (the Haldane–Anscombe correction) for both the estimate
// and its interval, which keeps them finite. The p-value is the two-sided
// z-test, or Fisher's exact test when an expected count is below 5.
func Impact(exposed, unexposed Proportion) ImpactEstimate {
	im := ImpactEstimate{PValue: 1, RelativeRisk: 1, RelativeRiskInterval: Interval{Lo: 1, Hi: 1}}
	if exposed.empty() || unexposed.empty() {
		return im
	}
	c := CompareProportions(exposed, unexposed, Level95)
	im.OK = true
	im.ExposedRate, im.UnexposedRate = exposed.Rate(), unexposed.Rate()
	im.RiskDifference, im.RiskDifferenceInterval = c.Difference, c.Interval
	im.PValue, im.Test = c.PValue, c.Test
	im.RelativeRisk, im.RelativeRiskInterval = relativeRisk(exposed, unexposed, Level95)
	return im
}

// relativeRisk returns the risk ratio a/b and its Katz log interval, with the
// Haldane–Anscombe 0.5 correction when either group has no events.
func relativeRisk(a, b Proportion, level float64) (float64, Interval) {
	z, _ := zQuantile(level)
	ea, na := float64(a.Successes), float64(a.Trials)
	eb, nb := float64(b.Successes), float64(b.Trials)
	if a.Successes == 0 || b.Successes == 0 {
		ea, na, eb, nb = ea+0.5, na+1, eb+0.5, nb+1
	}
	logRR := math.Log(ea/na) - math.Log(eb/nb)
	se := math.Sqrt(math.Max(0, 1/ea-1/na+1/eb-1/nb))
	rr := math.Exp(logRR)
	iv := Interval{Lo: math.Exp(logRR - z*se), Hi: math.Exp(logRR + z*se)}
	return rr, clampTo(iv, 0, math.MaxFloat64, rr)
}

// PriorityScore is the expected number of extra outcome events (e.g.
// dissolutions) that go with misery at a touchpoint, counted conservatively:
//
//	score = miseryVolume × max(0, lower 95% bound of the risk difference)
//
// miseryVolume is how many customers had misery there in the period being
// ranked (all touchpoints in one ranking must use the same period). Using the
// lower bound rather than the estimate means a touchpoint rises only as far as
// the evidence carries it: a tiny sample has a wide interval whose lower bound
// sits at or below 0, so it cannot top the list on luck, while a large,
// clearly harmful touchpoint keeps most of its estimate. The score is 0 when
// the impact could not be estimated.
func PriorityScore(miseryVolume float64, im ImpactEstimate) float64 {
	if !im.OK || !(miseryVolume > 0) || math.IsInf(miseryVolume, 0) {
		return 0
	}
	return miseryVolume * math.Max(0, im.RiskDifferenceInterval.Lo)
}

// PriorityInput is one touchpoint to rank.
type PriorityInput struct {
	Key          string
	Volume       int            // all moments at the touchpoint in the period; breaks ties
	MiseryVolume float64        // customers with misery there in the period
	Impact       ImpactEstimate // from Impact
	Override     int            // manual rank, 1 = top; 0 or less = none
}

// Ranked is a touchpoint's place in the priority list.
type Ranked struct {
	Key        string
	Rank       int     // 1 = manage this first
	Score      float64 // PriorityScore: conservative extra outcome events
	Expected   float64 // the same with the point estimate of the risk difference, for display
	Overridden bool    // Rank was set by hand, not by Score
}

// RankTouchpoints orders touchpoints by PriorityScore, highest first, and
// honours manual overrides: a touchpoint with Override r is placed at rank r
// (marked Overridden) and the others fill the remaining ranks in score order.
// Ties in score fall back to Expected, then Volume, then key, so the order is
// stable. Overrides that collide or point past the end keep their relative
// order and are placed as close to their wish as the list allows.
func RankTouchpoints(items []PriorityInput) []Ranked {
	type entry struct {
		Ranked
		volume, override int
	}
	var auto, manual []entry
	for _, it := range items {
		e := entry{
			Ranked: Ranked{
				Key:      it.Key,
				Score:    PriorityScore(it.MiseryVolume, it.Impact),
				Expected: expectedExtra(it.MiseryVolume, it.Impact),
			},
			volume: it.Volume,
		}
		if it.Override > 0 {
			e.Overridden, e.override = true, it.Override
			manual = append(manual, e)
		} else {
			auto = append(auto, e)
		}
	}
	slices.SortStableFunc(auto, func(x, y entry) int {
		if c := cmp.Compare(y.Score, x.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(y.Expected, x.Expected); c != 0 {
			return c
		}
		if c := cmp.Compare(y.volume, x.volume); c != 0 {
			return c
		}
		return strings.Compare(x.Key, y.Key)
	})
	slices.SortStableFunc(manual, func(x, y entry) int {
		if c := cmp.Compare(x.override, y.override); c != 0 {
			return c
		}
		return strings.Compare(x.Key, y.Key)
	})
	out := make([]Ranked, 0, len(items))
	for len(auto) > 0 || len(manual) > 0 {
		var next entry
		if len(manual) > 0 && (manual[0].override <= len(out)+1 || len(auto) == 0) {
			next, manual = manual[0], manual[1:]
		} else {
			next, auto = auto[0], auto[1:]
		}
		next.Rank = len(out) + 1
		out = append(out, next.Ranked)
	}
	return out
}

// expectedExtra is miseryVolume × the point estimate of the risk difference,
// floored at 0.
func expectedExtra(miseryVolume float64, im ImpactEstimate) float64 {
	if !im.OK || !(miseryVolume > 0) || math.IsInf(miseryVolume, 0) {
		return 0
	}
	return miseryVolume * math.Max(0, im.RiskDifference)
}
