package analytics

import "math"

// fisherBelow is the expected cell count under which the z-test's normal
// approximation is not trusted and Fisher's exact test is used instead
// (the usual rule of thumb, Cochran 1954).
const fisherBelow = 5.0

// Comparison is the result of CompareProportions: a's rate minus b's.
type Comparison struct {
	Difference float64  // a.Rate() − b.Rate()
	Interval   Interval // Newcombe hybrid score interval for the difference
	PValue     float64  // two-sided
	PGreater   float64  // one-sided, alternative: a's rate is higher
	PLess      float64  // one-sided, alternative: a's rate is lower
	Test       Test     // TestZ or TestFisher, whichever produced the p-values
	OK         bool     // false when either side has no trials; p-values are then 1
}

// CompareProportions compares two rates (e.g. the magic rates of two
// responses). The interval is Newcombe's hybrid score interval; the p-values
// come from the pooled two-proportion z-test, or from Fisher's exact test when
// any expected count of the 2×2 table is below 5. Without trials on both sides
// OK is false and every p-value is 1, so nothing looks significant by accident.
func CompareProportions(a, b Proportion, level float64) Comparison {
	c := Comparison{PValue: 1, PGreater: 1, PLess: 1}
	z, ok := zQuantile(level)
	if !ok || a.empty() || b.empty() {
		return c
	}
	c.OK = true
	c.Difference = a.Rate() - b.Rate()
	c.Interval = newcombe(a, b, z)
	c.Test, c.PLess, c.PGreater, c.PValue = testProportions(a, b)
	return c
}

// newcombe is Newcombe's hybrid score interval (method 10 of Newcombe 1998):
// each rate gets its own Wilson interval (l, u), and the difference's bounds
// combine the distances from each estimate to its Wilson bounds:
//
//	lower = d − sqrt((p̂a − la)² + (ub − p̂b)²)
//	upper = d + sqrt((ua − p̂a)² + (p̂b − lb)²)
func newcombe(a, b Proportion, z float64) Interval {
	pa, pb := a.Rate(), b.Rate()
	wa, wb := wilson(a, z), wilson(b, z)
	d := pa - pb
	lo := d - math.Hypot(pa-wa.Lo, wb.Hi-pb)
	hi := d + math.Hypot(wa.Hi-pa, pb-wb.Lo)
	return clampTo(Interval{Lo: lo, Hi: hi}, -1, 1, d)
}

// testProportions picks and runs the test for a − b: Fisher's exact test when
// any expected count is below fisherBelow, the pooled z-test otherwise. It
// returns the one-sided p-values for a < b and a > b and the two-sided one.
func testProportions(a, b Proportion) (t Test, less, greater, two float64) {
	if minExpected(a, b) < fisherBelow {
		less, greater, two = fisher(a, b)
		return TestFisher, less, greater, two
	}
	less, greater, two = zTest(a, b)
	return TestZ, less, greater, two
}

// minExpected is the smallest expected cell count of the 2×2 table
// [[a.S, a.F], [b.S, b.F]] under "both rates are equal": row total × column
// total / grand total.
func minExpected(a, b Proportion) float64 {
	n := float64(a.Trials + b.Trials)
	s := float64(a.Successes + b.Successes)
	f := n - s
	rowMin := math.Min(float64(a.Trials), float64(b.Trials))
	colMin := math.Min(s, f)
	return rowMin * colMin / n
}

// zTest is the pooled two-proportion z-test without continuity correction:
// z = (p̂a − p̂b) / sqrt(p̄(1−p̄)(1/na + 1/nb)), p̄ the pooled rate. It is used
// only when every expected count is at least 5, where the normal approximation
// holds well and the continuity correction would only make it conservative.
func zTest(a, b Proportion) (less, greater, two float64) {
	na, nb := float64(a.Trials), float64(b.Trials)
	pooled := float64(a.Successes+b.Successes) / (na + nb)
	se := math.Sqrt(pooled * (1 - pooled) * (1/na + 1/nb))
	if !(se > 0) {
		return 1, 1, 1
	}
	z := (a.Rate() - b.Rate()) / se
	less = clamp01(normCDF(z))
	greater = clamp01(normCDF(-z))
	return less, greater, clamp01(2 * math.Min(less, greater))
}

// normCDF is the standard normal distribution function, written with Erfc so
// that far tails keep their precision instead of rounding 1 − Φ to 0.
func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// fisher is Fisher's exact test for the 2×2 table [[a.S, a.F], [b.S, b.F]]
// given its margins: the count of successes in a, X, is hypergeometric. It
// returns P(X ≤ x), P(X ≥ x) and the two-sided p-value, the total probability
// of tables no more likely than the one observed (the usual definition, with
// a relative tolerance of 1e-7 so that ties are not lost to rounding).
//
// Probabilities are built from the mode outwards with the ratio
// P(x+1)/P(x) = (na−x)(s−x) / ((x+1)(nb−s+x+1)), then normalised. Unlike
// differences of log-gamma values of numbers in the billions, the ratios stay
// accurate for any count, and the far tails simply underflow to 0.
func fisher(a, b Proportion) (less, greater, two float64) {
	na, nb := a.Trials, b.Trials
	s := a.Successes + b.Successes
	lo, hi := max(0, s-nb), min(s, na)
	x := a.Successes
	if lo == hi {
		return 1, 1, 1
	}
	ratio := func(k int) float64 { // P(k+1)/P(k)
		return float64(na-k) * float64(s-k) / (float64(k+1) * float64(nb-s+k+1))
	}
	mode := int(math.Floor(float64(na+1) * float64(s+1) / float64(na+nb+2)))
	mode = min(max(mode, lo), hi)
	w := make([]float64, hi-lo+1)
	w[mode-lo] = 1
	for k := mode; k < hi; k++ {
		w[k+1-lo] = w[k-lo] * ratio(k)
	}
	for k := mode; k > lo; k-- {
		w[k-1-lo] = w[k-lo] / ratio(k-1)
	}
	var total, le, ge, tw float64
	obs := w[x-lo] * (1 + 1e-7)
	for i, v := range w {
		total += v
		if lo+i <= x {
			le += v
		}
		if lo+i >= x {
			ge += v
		}
		if v <= obs {
			tw += v
		}
	}
	return clamp01(le / total), clamp01(ge / total), clamp01(tw / total)
}
