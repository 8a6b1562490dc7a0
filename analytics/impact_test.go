package analytics

import (
	"math"
	"testing"
)

func TestImpactWorkedExample(t *testing.T) {
	// 30 of 100 customers dissolved after misery, 10 of 100 after other
	// outcomes. RR = 0.3/0.1 = 3; Katz: se(ln RR) = sqrt(1/30 − 1/100 + 1/10 −
	// 1/100) = 0.336650, so 3·exp(±1.959964·0.336650) = (1.550830, 5.803345).
	// Pooled z by hand: p̄ = 0.2, se = sqrt(0.2·0.8·0.02) = 0.0565685,
	// z = 3.535534, two-sided p = erfc(z/√2) = 4.0695e-4.
	im := Impact(Proportion{30, 100}, Proportion{10, 100})
	if !im.OK || im.Test != TestZ {
		t.Fatalf("Impact = %+v; want ok, z-test", im)
	}
	if !near(im.RiskDifference, 0.2, 1e-12) || !near(im.RelativeRisk, 3, 1e-12) {
		t.Errorf("RD = %v, RR = %v; want 0.2, 3", im.RiskDifference, im.RelativeRisk)
	}
	se := math.Sqrt(1.0/30 - 1.0/100 + 1.0/10 - 1.0/100)
	checkInterval(t, "RR", im.RelativeRiskInterval, Interval{3 * math.Exp(-z975*se), 3 * math.Exp(z975*se)}, 1e-6)
	checkInterval(t, "RR (rounded)", im.RelativeRiskInterval, Interval{1.5508, 5.8033}, 5e-5)
	if !near(im.PValue, math.Erfc(3.5355339/math.Sqrt2), 1e-8) || !near(im.PValue, 4.0695e-4, 1e-7) {
		t.Errorf("p = %g; want 4.0695e-4", im.PValue)
	}
	want := CompareProportions(Proportion{30, 100}, Proportion{10, 100}, 0.95).Interval
	if im.RiskDifferenceInterval != want {
		t.Errorf("RD interval = %v; want the Newcombe interval %v", im.RiskDifferenceInterval, want)
	}
}

func TestImpactEdges(t *testing.T) {
	if im := Impact(Proportion{}, Proportion{3, 10}); im.OK || im.PValue != 1 || im.RelativeRisk != 1 {
		t.Errorf("no exposed customers: %+v; want not ok, p 1, RR 1", im)
	}
	// No events in the unexposed group: RR would be infinite, the 0.5
	// correction makes it (5.5/11)/(0.5/21) = 21.
	im := Impact(Proportion{5, 10}, Proportion{0, 20})
	if !near(im.RelativeRisk, 21, 1e-9) || im.Test != TestFisher {
		t.Errorf("zero cell: RR = %v (%s); want 21 by Fisher", im.RelativeRisk, im.Test)
	}
	se := math.Sqrt(1/5.5 - 1.0/11 + 1/0.5 - 1.0/21)
	checkInterval(t, "zero-cell RR", im.RelativeRiskInterval, Interval{21 * math.Exp(-z975*se), 21 * math.Exp(z975*se)}, 1e-6)
	// No events anywhere: RR (0.5/11)/(0.5/21) = 21/11, no difference.
	im = Impact(Proportion{0, 10}, Proportion{0, 20})
	if !near(im.RelativeRisk, 21.0/11, 1e-12) || im.PValue != 1 || im.RiskDifference != 0 {
		t.Errorf("no events: RR %v, p %v, RD %v; want 21/11, 1, 0", im.RelativeRisk, im.PValue, im.RiskDifference)
	}
	// Everyone dissolved on both sides: RR exactly 1 with no spread.
	im = Impact(Proportion{10, 10}, Proportion{20, 20})
	if im.RelativeRisk != 1 || im.RelativeRiskInterval != (Interval{1, 1}) {
		t.Errorf("all events: RR %v %v; want 1 [1, 1]", im.RelativeRisk, im.RelativeRiskInterval)
	}
}

func TestPriorityScore(t *testing.T) {
	// Big and clear: 300/1000 vs 1000/10000 has a Newcombe lower bound of
	// 0.171755; with 120 misery customers in the period that is 20.61 extra
	// dissolutions at least, 24 by the point estimate.
	big := Impact(Proportion{300, 1000}, Proportion{1000, 10000})
	if got := PriorityScore(120, big); !near(got, 120*0.1717547, 1e-4) {
		t.Errorf("PriorityScore(big) = %v; want %v", got, 120*0.1717547)
	}
	// Tiny and dramatic: 1/2 vs 10/100 estimates 0.4 but its lower bound is
	// −0.0122, so it scores 0 however many misery customers there are.
	tiny := Impact(Proportion{1, 2}, Proportion{10, 100})
	if !near(tiny.RiskDifferenceInterval.Lo, -0.0122320, 1e-6) {
		t.Errorf("tiny lower bound = %v; want -0.0122320", tiny.RiskDifferenceInterval.Lo)
	}
	if got := PriorityScore(1000, tiny); got != 0 {
		t.Errorf("PriorityScore(tiny) = %v; want 0", got)
	}
	if got := PriorityScore(100, ImpactEstimate{}); got != 0 {
		t.Errorf("PriorityScore(no estimate) = %v; want 0", got)
	}
	if got := PriorityScore(math.Inf(1), big); got != 0 {
		t.Errorf("PriorityScore(+Inf) = %v; want 0", got)
	}
}

func TestRankTouchpoints(t *testing.T) {
	big := Impact(Proportion{300, 1000}, Proportion{1000, 10000}) // lower 0.1718
	mid := Impact(Proportion{150, 500}, Proportion{1000, 10000})  // lower 0.1610
	tiny := Impact(Proportion{1, 2}, Proportion{10, 100})         // lower < 0
	none := Impact(Proportion{10, 100}, Proportion{100, 1000})    // estimate 0
	items := []PriorityInput{
		{Key: "greeting", Volume: 900, MiseryVolume: 10, Impact: none},
		{Key: "complaint", Volume: 400, MiseryVolume: 100, Impact: big},
		{Key: "delivery", Volume: 800, MiseryVolume: 100, Impact: mid},
		{Key: "offer", Volume: 50, MiseryVolume: 100, Impact: tiny},
	}
	keys := func(r []Ranked) []string {
		var out []string
		for _, x := range r {
			out = append(out, x.Key)
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		overrides map[string]int
		want      []string
		manual    []string
	}{
		// The tiny touchpoint's big estimate (40 extra) must not beat the
		// evidenced ones; between the two scoring 0, the point estimate decides.
		{"by data", nil, []string{"complaint", "delivery", "offer", "greeting"}, nil},
		{"override to top", map[string]int{"greeting": 1}, []string{"greeting", "complaint", "delivery", "offer"}, []string{"greeting"}},
		{"override in place", map[string]int{"delivery": 2}, []string{"complaint", "delivery", "offer", "greeting"}, []string{"delivery"}},
		{"override past the end", map[string]int{"complaint": 99}, []string{"delivery", "offer", "greeting", "complaint"}, []string{"complaint"}},
		{"colliding overrides", map[string]int{"offer": 1, "greeting": 1}, []string{"greeting", "offer", "complaint", "delivery"}, []string{"greeting", "offer"}},
	} {
		in := make([]PriorityInput, len(items))
		copy(in, items)
		for i := range in {
			in[i].Override = tc.overrides[in[i].Key]
		}
		got := RankTouchpoints(in)
		if g := keys(got); !equalStrings(g, tc.want) {
			t.Errorf("%s: order %v; want %v", tc.name, g, tc.want)
			continue
		}
		manual := map[string]bool{}
		for _, k := range tc.manual {
			manual[k] = true
		}
		for i, r := range got {
			if r.Rank != i+1 {
				t.Errorf("%s: %s has rank %d at position %d", tc.name, r.Key, r.Rank, i+1)
			}
			if r.Overridden != manual[r.Key] {
				t.Errorf("%s: %s overridden = %v; want %v", tc.name, r.Key, r.Overridden, manual[r.Key])
			}
		}
	}
	if got := RankTouchpoints(nil); len(got) != 0 {
		t.Errorf("RankTouchpoints(nil) = %v; want empty", got)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
