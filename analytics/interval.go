package analytics

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Level95 is the confidence level used where the caller does not choose one.
const Level95 = 0.95

// Interval is a closed confidence interval [Lo, Hi].
type Interval struct {
	Lo, Hi float64
}

// Contains reports whether x lies in the interval, so callers and tests need not repeat the bounds check.
func (iv Interval) Contains(x float64) bool { return iv.Lo <= x && x <= iv.Hi }

// Clamp narrows the interval to [lo, hi]: a t interval for CSAT from two
// ratings can reach below 1 or above 5, and a report should not show
// ratings that cannot exist.
func (iv Interval) Clamp(lo, hi float64) Interval {
	return Interval{Lo: math.Min(math.Max(iv.Lo, lo), hi), Hi: math.Max(math.Min(iv.Hi, hi), lo)}
}

// Width is Hi − Lo; the UI uses it to grey out estimates too vague to act on.
func (iv Interval) Width() float64 { return iv.Hi - iv.Lo }

// Test names the hypothesis test behind a p-value, so reports can state it.
type Test string

// The tests this package runs; the values are stable and machine-readable.
const (
	TestNone   Test = ""             // no test was possible (too little data)
	TestZ      Test = "z_test"       // pooled two-proportion z-test
	TestFisher Test = "fisher_exact" // Fisher's exact test on the 2×2 table
	TestT      Test = "t_test"       // one-sample Student t-test
	TestWelchT Test = "welch_t_test" // two-sample t-test without equal variances
)

// zQuantile returns the two-sided normal critical value for a confidence
// level, e.g. 1.959964 for 0.95; ok is false for a level outside (0, 1).
func zQuantile(level float64) (float64, bool) {
	if !(level > 0 && level < 1) {
		return 0, false
	}
	return distuv.UnitNormal.Quantile(1 - (1-level)/2), true
}

// tQuantile returns the two-sided Student t critical value with df degrees of
// freedom (df may be fractional, as in Welch's test).
func tQuantile(level, df float64) (float64, bool) {
	if !(level > 0 && level < 1) || !(df > 0) || math.IsInf(df, 0) {
		return 0, false
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(1 - (1-level)/2), true
}

// tCDF is the Student t distribution function; for a zero or negative df it
// is undefined and callers must not ask.
func tCDF(x, df float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.CDF(x)
}

// clamp01 keeps a probability inside [0, 1] and maps NaN to 1, the value that
// never suggests significance.
func clamp01(p float64) float64 {
	switch {
	case math.IsNaN(p):
		return 1
	case p < 0:
		return 0
	case p > 1:
		return 1
	}
	return p
}

// clampTo narrows an interval to [lo, hi] and widens it to contain est, which
// rounding can otherwise leave a hair outside.
func clampTo(iv Interval, lo, hi, est float64) Interval {
	iv.Lo = math.Max(lo, math.Min(iv.Lo, est))
	iv.Hi = math.Min(hi, math.Max(iv.Hi, est))
	return iv
}
