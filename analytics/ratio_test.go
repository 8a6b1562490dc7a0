package analytics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// unitRates draws n customers, each with a magic chance of their own around
// p (so one customer's moments go together) and a few moments, before and
// after; after, their chance moves by shift.
func unitRates(rnd *rand.Rand, n int, p, shift float64, add func(numB, denB, numA, denA float64)) {
	for range n {
		own := math.Min(0.95, math.Max(0.02, p+0.15*rnd.NormFloat64()))
		count := func(chance float64) (float64, float64) {
			m := 1 + rnd.IntN(8)
			x := 0
			for range m {
				if rnd.Float64() < chance {
					x++
				}
			}
			return float64(x), float64(m)
		}
		xb, nb := count(own)
		xa, na := count(math.Min(1, math.Max(0, own+shift)))
		add(xb, nb, xa, na)
	}
}

// TestRatioChangeCoverage checks over many simulated groups that the 95%
// interval of a before-and-after change holds the true change about 95% of
// the time, with the pairing of each customer's before and after kept.
func TestRatioChangeCoverage(t *testing.T) {
	const runs = 1000
	covered := 0
	rnd := rand.New(rand.NewPCG(1, 2))
	for range runs {
		var c RatioChange
		unitRates(rnd, 120, 0.3, -0.1, func(xb, nb, xa, na float64) { c = c.Add(xb, nb, xa, na) })
		cmp := c.EstimateOf().Compare(Level95)
		// The truth: the clamp moves a few customers' shift; close to −0.1.
		if cmp.OK && cmp.Interval.Contains(-0.1) {
			covered++
		}
	}
	rate := float64(covered) / runs
	t.Logf("the 95%% interval held the change in %.1f%% of %d groups", 100*rate, runs)
	if rate < 0.92 || rate > 0.98 {
		t.Errorf("coverage %.3f; want about 0.95", rate)
	}
}

// TestRatioDifferenceCoverage checks the same of CompareRatios, two
// independent groups.
func TestRatioDifferenceCoverage(t *testing.T) {
	const runs = 1000
	covered, falseAlarms := 0, 0
	rnd := rand.New(rand.NewPCG(3, 4))
	for range runs {
		var a, b Ratio
		unitRates(rnd, 150, 0.3, 0, func(x, n, _, _ float64) { a = a.Add(x, n) })
		unitRates(rnd, 60, 0.3, 0, func(x, n, _, _ float64) { b = b.Add(x, n) })
		c := CompareRatios(a, b, Level95)
		if c.Interval.Contains(0) {
			covered++
		}
		if c.PValue < 0.05 {
			falseAlarms++
		}
	}
	t.Logf("no difference: interval held 0 in %d of %d; p < 0.05 in %d", covered, runs, falseAlarms)
	if covered < 920 || falseAlarms > 80 {
		t.Errorf("covered %d, false alarms %d of %d; want about 950 and 50", covered, falseAlarms, runs)
	}
}

func TestWeightedEstimate(t *testing.T) {
	e := Weighted([]Estimate{{Value: 1, Variance: 4, DF: 10, OK: true}, {Value: 3, Variance: 1, DF: 5, OK: true}}, []float64{0.25, 0.75})
	// Satterthwaite: (0.25 + 0.5625)² / (0.25²/10 + 0.5625²/5).
	if e.Value != 2.5 || e.Variance != 0.25*0.25*4+0.75*0.75*1 || !near(e.DF, 0.8125*0.8125/(0.25*0.25/10+0.5625*0.5625/5), 1e-9) {
		t.Errorf("Weighted = %+v; want df %.3f", e, 0.8125*0.8125/(0.25*0.25/10+0.5625*0.5625/5))
	}
	// A stratum of little weight and few degrees of freedom narrows the
	// whole's little.
	small := Weighted([]Estimate{{Value: 0, Variance: 0.01, DF: 300, OK: true}, {Value: 0, Variance: 0.2, DF: 1, OK: true}}, []float64{0.99, 0.01})
	if small.DF < 250 {
		t.Errorf("Weighted df with a tiny stratum of 2 = %.1f; want near 300", small.DF)
	}
	if d := (Estimate{Value: 3, Variance: 1, DF: 10, OK: true}).Minus(Estimate{Value: 1, Variance: 1, DF: 10, OK: true}); d.Value != 2 || d.Variance != 2 || !near(d.DF, 20, 1e-9) {
		t.Errorf("Minus = %+v; want 2, variance 2, df 20", d)
	}
	if w := Weighted([]Estimate{{OK: true}, {}}, []float64{0.5, 0.5}); w.OK {
		t.Error("a stratum without an estimate gave one")
	}
}
