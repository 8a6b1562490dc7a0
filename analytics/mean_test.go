package analytics

import (
	"math"
	"testing"
)

// ratings is a worked sample: n = 10, Σx = 39, Σx² = 161, so the mean is 3.9
// and the sample variance (161 − 39²/10)/9 = 8.9/9 = 0.988889.
var ratings = []float64{4, 5, 3, 4, 5, 2, 4, 3, 5, 4}

func TestMeanWorkedExample(t *testing.T) {
	m := MeanOf(ratings...)
	if m != (Mean{N: 10, Sum: 39, SumSquares: 161}) {
		t.Fatalf("MeanOf = %+v; want {10 39 161}", m)
	}
	if got := m.Value(); !near(got, 3.9, 1e-12) {
		t.Errorf("Value = %v; want 3.9", got)
	}
	if got := m.Variance(); !near(got, 8.9/9, 1e-12) {
		t.Errorf("Variance = %v; want %v", got, 8.9/9)
	}
	// se = sqrt(0.988889/10) = 0.314466; t(0.975; 9) = 2.262157 from tables:
	// 3.9 ± 0.711371 = (3.188629, 4.611371).
	iv, ok := m.Interval(0.95)
	if !ok {
		t.Fatal("Interval not ok")
	}
	se := math.Sqrt(8.9 / 9 / 10)
	checkInterval(t, "t interval", iv, Interval{3.9 - 2.262157*se, 3.9 + 2.262157*se}, 1e-6)
	checkInterval(t, "t interval (rounded)", iv, Interval{3.1886, 4.6114}, 5e-5)
}

func TestMeanEdges(t *testing.T) {
	var empty Mean
	if _, ok := empty.Interval(0.95); ok || empty.Value() != 0 || empty.StdDev() != 0 {
		t.Errorf("empty mean: value %v, sd %v, interval ok %v; want 0, 0, false", empty.Value(), empty.StdDev(), ok)
	}
	one := MeanOf(4)
	if _, ok := one.Interval(0.95); ok || one.Value() != 4 || one.StdDev() != 0 || one.StdErr() != 0 {
		t.Errorf("one value: mean %v, sd %v, interval ok %v; want 4, 0, false", one.Value(), one.StdDev(), ok)
	}
	// All equal, including values that are not exact in binary: the spread is
	// exactly 0 and the interval is the point itself.
	for _, x := range []float64{5, 0.1, 3.3} {
		m := Mean{}
		for range 1000 {
			m = m.Add(x)
		}
		if sd := m.StdDev(); sd != 0 {
			t.Errorf("1000 × %v: StdDev = %g; want 0", x, sd)
		}
		iv, ok := m.Interval(0.95)
		if !ok || iv.Lo != iv.Hi || !near(iv.Lo, x, 1e-12) {
			t.Errorf("1000 × %v: Interval = %v, %v; want the point %v", x, iv, ok, x)
		}
	}
	// Two ratings far apart: sd = √8, se = 2 and t(0.975; 1) = 12.706, so the
	// interval 3 ± 25.41 runs far off the 1–5 scale; Clamp brings it back.
	iv, _ := MeanOf(1, 5).Interval(0.95)
	if iv.Lo > 1 || iv.Hi < 5 {
		t.Errorf("MeanOf(1, 5).Interval = %v; want wider than the scale", iv)
	}
	if got := iv.Clamp(1, 5); got != (Interval{1, 5}) {
		t.Errorf("Clamp(1, 5) = %v; want [1, 5]", got)
	}
	// Corrupt aggregates behave as empty, not as NaN.
	bad := Mean{N: 3, Sum: math.NaN(), SumSquares: 1}
	if v := bad.Value(); v != 0 {
		t.Errorf("NaN sum: Value = %v; want 0", v)
	}
	// Huge: 10 million each of the ratings 1..5. Mean 3, variance
	// 10⁷·(4+1+0+1+4)/(5·10⁷ − 1) = 10⁸/49999999.
	huge := Mean{N: 50_000_000, Sum: 1.5e8, SumSquares: 5.5e8}
	if !near(huge.Value(), 3, 1e-12) || !near(huge.Variance(), 1e8/49999999, 1e-12) {
		t.Errorf("huge: mean %v, variance %v; want 3, %v", huge.Value(), huge.Variance(), 1e8/49999999)
	}
	iv, _ = huge.Interval(0.95)
	half := z975 * math.Sqrt(1e8/49999999/5e7)
	checkInterval(t, "huge", iv, Interval{3 - half, 3 + half}, 1e-7)
	// Merge is the same as adding the values.
	if got, want := MeanOf(1, 2).Merge(MeanOf(3)), MeanOf(1, 2, 3); got != want {
		t.Errorf("Merge = %+v; want %+v", got, want)
	}
}

func TestBelowTarget(t *testing.T) {
	m := MeanOf(ratings...)
	se := math.Sqrt(8.9 / 9 / 10)
	// Against 4.5: t = (3.9 − 4.5)/0.314466 = −1.907996 with 9 df; the
	// one-sided p is (1 − A(1.907996|9))/2 from Abramowitz & Stegun, about
	// 0.0444: below at 5%, not at 1%.
	tStat := (3.9 - 4.5) / se
	wantP := (1 - studentA(tStat, 9)) / 2
	c := BelowTarget(m, 4.5, 0.05, 5)
	if !c.Below || c.Reason != ReasonSignificant || c.Test != TestT {
		t.Errorf("vs 4.5 at 5%%: %+v; want below, significant, t_test", c)
	}
	if !near(c.T, tStat, 1e-9) || !near(c.PValue, wantP, 1e-7) || !near(c.PValue, 0.0444, 5e-4) {
		t.Errorf("vs 4.5: t = %.6f, p = %.6f; want %.6f, %.6f", c.T, c.PValue, tStat, wantP)
	}
	if c := BelowTarget(m, 4.5, 0.01, 5); c.Below || c.Reason != ReasonNoSignificantDifference {
		t.Errorf("vs 4.5 at 1%%: below = %v, reason %q; want false, %q", c.Below, c.Reason, ReasonNoSignificantDifference)
	}
	// Mean above target: nowhere near.
	if c := BelowTarget(m, 3.5, 0.05, 5); c.Below || c.PValue < 0.5 {
		t.Errorf("vs 3.5: below = %v, p = %v; want false, p > 0.5", c.Below, c.PValue)
	}

	for _, tc := range []struct {
		name   string
		m      Mean
		target float64
		minN   int
		below  bool
		reason Reason
		p      float64
	}{
		{"no ratings", Mean{}, 4, 5, false, ReasonTooFewMoments, 1},
		{"one rating", MeanOf(1), 4, 0, false, ReasonTooFewMoments, 1},
		{"under minN", MeanOf(1, 1, 2), 4, 5, false, ReasonTooFewMoments, 1},
		{"all equal under target", MeanOf(2, 2, 2, 2, 2), 4, 5, true, ReasonSignificant, 0},
		{"all equal on target", MeanOf(4, 4, 4, 4, 4), 4, 5, false, ReasonNoSignificantDifference, 1},
		{"all equal over target", MeanOf(5, 5, 5, 5, 5), 4, 5, false, ReasonNoSignificantDifference, 1},
	} {
		c := BelowTarget(tc.m, tc.target, 0.05, tc.minN)
		if c.Below != tc.below || c.Reason != tc.reason || c.PValue != tc.p || c.Message == "" {
			t.Errorf("%s: below %v, reason %q, p %v, message %q; want %v, %q, %v",
				tc.name, c.Below, c.Reason, c.PValue, c.Message, tc.below, tc.reason, tc.p)
		}
	}
	if c := BelowTarget(m, 4, 0, 5); c.Reason != ReasonInvalidInput || c.Below {
		t.Errorf("alpha 0: reason %q; want %q", c.Reason, ReasonInvalidInput)
	}
}

func TestCompareMeans(t *testing.T) {
	// Equal spreads and sizes make Welch's df an integer: a = {5,4,3,5,4} and
	// b = a − 2, each with variance 0.7; se = sqrt(0.7/5 + 0.7/5) = 0.529150,
	// df = 8, t(0.975; 8) = 2.306004: 2 ± 1.220224; t = 3.779645 and the
	// two-sided p = 1 − A(3.779645|8).
	a := MeanOf(5, 4, 3, 5, 4)
	b := MeanOf(3, 2, 1, 3, 2)
	c := CompareMeans(a, b, 0.95)
	se := math.Sqrt(0.28)
	if !c.OK || c.Test != TestWelchT || !near(c.DF, 8, 1e-9) || !near(c.Difference, 2, 1e-12) {
		t.Fatalf("CompareMeans = %+v; want ok, welch, df 8, difference 2", c)
	}
	checkInterval(t, "Welch", c.Interval, Interval{2 - 2.306004*se, 2 + 2.306004*se}, 1e-6)
	wantP := 1 - studentA(2/se, 8)
	if !near(c.PValue, wantP, 1e-9) || !near(c.PGreater, wantP/2, 1e-9) {
		t.Errorf("p = %.9f, p(>) = %.9f; want %.9f, %.9f", c.PValue, c.PGreater, wantP, wantP/2)
	}
	if c := CompareMeans(MeanOf(4), b, 0.95); c.OK || c.PValue != 1 {
		t.Errorf("one value: %+v; want not ok, p 1", c)
	}
	// Both constant: the difference is exact.
	c = CompareMeans(MeanOf(5, 5, 5), MeanOf(4, 4), 0.95)
	if !c.OK || c.PGreater != 0 || c.PLess != 1 || c.Interval != (Interval{1, 1}) {
		t.Errorf("constants: %+v; want exact difference 1", c)
	}
}
