package analytics

import (
	"fmt"
	"math"
)

// Mean holds running aggregates of a measure (e.g. CSAT ratings): the store
// keeps N, Sum and SumSquares current as moments arrive, and hands them in.
type Mean struct {
	N          int
	Sum        float64
	SumSquares float64
}

// MeanOf aggregates values; handy in tests and for small in-memory sets.
func MeanOf(xs ...float64) Mean {
	var m Mean
	for _, x := range xs {
		m = m.Add(x)
	}
	return m
}

// Add returns the aggregates with one more value.
func (m Mean) Add(x float64) Mean {
	return Mean{N: m.N + 1, Sum: m.Sum + x, SumSquares: m.SumSquares + x*x}
}

// Merge returns the aggregates of both sets, so weekly buckets sum into a window.
func (m Mean) Merge(o Mean) Mean {
	return Mean{N: m.N + o.N, Sum: m.Sum + o.Sum, SumSquares: m.SumSquares + o.SumSquares}
}

// valid reports whether the aggregates can be used; NaN or infinite sums from a
// corrupt row must not turn into NaN on a report.
func (m Mean) valid() bool {
	return m.N > 0 && !math.IsNaN(m.Sum) && !math.IsInf(m.Sum, 0) &&
		!math.IsNaN(m.SumSquares) && !math.IsInf(m.SumSquares, 0)
}

// Value is the arithmetic mean, and 0 when there are no values (check N first).
func (m Mean) Value() float64 {
	if !m.valid() {
		return 0
	}
	return m.Sum / float64(m.N)
}

// Variance is the sample variance (divisor N−1), and 0 when N < 2.
//
// It is computed from the aggregates as (SumSquares − Sum²/N)/(N−1). That
// shortcut can cancel badly for values far from zero with a tiny spread, but
// ratings are small integers whose sums stay exact in float64 far beyond
// 50 million moments; the result is floored at 0 and a residue below 1e-12 of
// SumSquares is treated as exactly 0, so all-equal values give a spread of 0.
func (m Mean) Variance() float64 {
	if !m.valid() || m.N < 2 {
		return 0
	}
	n := float64(m.N)
	ss := m.SumSquares - m.Sum*m.Sum/n
	if ss <= 1e-12*math.Abs(m.SumSquares) {
		return 0
	}
	return ss / (n - 1)
}

// StdDev is the sample standard deviation, and 0 when N < 2.
func (m Mean) StdDev() float64 { return math.Sqrt(m.Variance()) }

// StdErr is the standard error of the mean, StdDev/√N, and 0 when N < 2.
func (m Mean) StdErr() float64 {
	if !m.valid() || m.N < 2 {
		return 0
	}
	return m.StdDev() / math.Sqrt(float64(m.N))
}

// Interval is the Student t confidence interval mean ± t(level, N−1)·StdErr;
// ok is false below two values (one value says nothing about spread) or for a
// level outside (0, 1). When all values are equal the interval is the single
// point [mean, mean]: the t method has no other answer, so pair it with a
// minimum sample size before acting on it.
func (m Mean) Interval(level float64) (Interval, bool) {
	if !m.valid() || m.N < 2 {
		return Interval{}, false
	}
	t, ok := tQuantile(level, float64(m.N-1))
	if !ok {
		return Interval{}, false
	}
	mean, half := m.Value(), t*m.StdErr()
	return Interval{Lo: mean - half, Hi: mean + half}, true
}

// TargetCheck is the verdict of BelowTarget.
type TargetCheck struct {
	Below   bool    // mean significantly below the target
	Reason  Reason  // why Below is what it is
	Message string  // one sentence for people
	Mean    float64 // observed mean
	Target  float64
	N       int
	T       float64 // t statistic; 0 when no test ran or all values are equal
	PValue  float64 // one-sided p for "mean < target"; 1 when no test ran
	Test    Test
}

// BelowTarget asks whether the true mean is below target with a one-sided
// one-sample t-test at level alpha: t = (mean − target)/StdErr with N−1
// degrees of freedom, p = P(T ≤ t). Fewer than max(minN, 2) values give
// Below = false with ReasonTooFewMoments: a touchpoint with three bad ratings
// should not raise an alert. When all values are equal the standard error is
// 0 and the p-value is taken as the limit of the test: 0 if the mean is under
// the target and 1 otherwise.
func BelowTarget(m Mean, target, alpha float64, minN int) TargetCheck {
	c := TargetCheck{Mean: m.Value(), Target: target, N: max(m.N, 0), PValue: 1}
	if !validAlpha(alpha) || math.IsNaN(target) || math.IsInf(target, 0) {
		c.Reason = ReasonInvalidInput
		c.Message = "The target check needs a finite target and a significance level between 0 and 1."
		return c
	}
	need := max(minN, 2)
	if !m.valid() || m.N < need {
		c.Reason = ReasonTooFewMoments
		c.Message = fmt.Sprintf("Too few ratings to compare with the target %s: %d so far, at least %d needed.",
			num(target), c.N, need)
		return c
	}
	c.Test = TestT
	se := m.StdErr()
	switch {
	case se > 0:
		c.T = (c.Mean - target) / se
		c.PValue = clamp01(tCDF(c.T, float64(m.N-1)))
	case c.Mean < target:
		// t would be −∞; T stays 0 so the struct encodes as JSON.
		c.PValue = 0
	}
	c.Below = c.PValue < alpha
	if c.Below {
		c.Reason = ReasonSignificant
		c.Message = fmt.Sprintf("Mean rating %s over %d ratings is significantly below the target %s (one-sided t-test, %s).",
			num(c.Mean), c.N, num(target), sig(c.PValue, alpha))
	} else {
		c.Reason = ReasonNoSignificantDifference
		c.Message = fmt.Sprintf("Mean rating %s over %d ratings is not significantly below the target %s (one-sided t-test, %s).",
			num(c.Mean), c.N, num(target), sig(c.PValue, alpha))
	}
	return c
}

// MeanComparison is the result of CompareMeans.
type MeanComparison struct {
	Difference float64  // a.Value() − b.Value()
	Interval   Interval // Welch confidence interval for the difference
	DF         float64  // Welch–Satterthwaite degrees of freedom
	PValue     float64  // two-sided
	PGreater   float64  // one-sided, alternative: a's mean is higher
	PLess      float64  // one-sided, alternative: a's mean is lower
	Test       Test
	OK         bool // false when either side has fewer than two values
}

// CompareMeans compares two means (e.g. the mean rating of two responses)
// with Welch's t-test, which does not assume the two spreads are equal:
// responses often differ in spread as much as in level. ok is false with
// fewer than two values on either side; p-values are then 1.
func CompareMeans(a, b Mean, level float64) MeanComparison {
	c := MeanComparison{PValue: 1, PGreater: 1, PLess: 1}
	if !a.valid() || !b.valid() || a.N < 2 || b.N < 2 || !(level > 0 && level < 1) {
		return c
	}
	va, vb := a.Variance()/float64(a.N), b.Variance()/float64(b.N)
	se := math.Sqrt(va + vb)
	c.Difference = a.Value() - b.Value()
	c.Test = TestWelchT
	if se == 0 {
		// Both sides constant: the difference is known exactly.
		c.Interval = Interval{Lo: c.Difference, Hi: c.Difference}
		c.DF = float64(a.N + b.N - 2)
		c.OK = true
		switch {
		case c.Difference > 0:
			c.PValue, c.PGreater = 0, 0
		case c.Difference < 0:
			c.PValue, c.PLess = 0, 0
		}
		return c
	}
	c.DF = (va + vb) * (va + vb) /
		(va*va/float64(a.N-1) + vb*vb/float64(b.N-1))
	t, ok := tQuantile(level, c.DF)
	if !ok {
		return MeanComparison{PValue: 1, PGreater: 1, PLess: 1}
	}
	c.OK = true
	c.Interval = Interval{Lo: c.Difference - t*se, Hi: c.Difference + t*se}
	stat := c.Difference / se
	c.PLess = clamp01(tCDF(stat, c.DF))
	c.PGreater = clamp01(tCDF(-stat, c.DF))
	c.PValue = clamp01(2 * math.Min(c.PLess, c.PGreater))
	return c
}
