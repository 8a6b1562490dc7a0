package analytics

import "math"

// TestDeltaT is the test of a difference between two ratios of sums, with
// the delta method's standard errors.
const TestDeltaT Test = "delta_t_test"

// Ratio holds running aggregates of a ratio of sums over units, such as the
// magic rate of a group of customers: magic moments over moments, each
// customer one unit. Keeping the units whole matters: one customer's
// moments go together, so treating moments as independent trials would
// make the interval too narrow.
type Ratio struct {
	N                      int
	Num, Den               float64
	NumSquares, DenSquares float64
	NumDen                 float64
}

// Add returns the aggregates with one more unit, whose numerator is num and
// denominator den.
func (r Ratio) Add(num, den float64) Ratio {
	return Ratio{N: r.N + 1, Num: r.Num + num, Den: r.Den + den, NumSquares: r.NumSquares + num*num,
		DenSquares: r.DenSquares + den*den, NumDen: r.NumDen + num*den}
}

// Value is Num/Den, and 0 when Den is 0 (check OK first).
func (r Ratio) Value() float64 {
	if !r.ok() {
		return 0
	}
	return r.Num / r.Den
}

// ok reports whether a ratio and its variance can be worked out: two units
// or more, something in the denominator, and finite sums.
func (r Ratio) ok() bool {
	for _, x := range []float64{r.Num, r.Den, r.NumSquares, r.DenSquares, r.NumDen} {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return r.N >= 2 && r.Den > 0
}

// OK reports whether the ratio has a value and a standard error.
func (r Ratio) OK() bool { return r.ok() }

// Variance is the delta-method (linearisation) variance of the ratio:
// with residuals e = num − R·den for each unit,
//
//	Var(R) ≈ Σe² / (n(n−1)·d̄²), d̄ = Den/n
//
// where Σe² = NumSquares − 2R·NumDen + R²·DenSquares.
func (r Ratio) Variance() float64 {
	if !r.ok() {
		return 0
	}
	n := float64(r.N)
	rv := r.Value()
	ss := r.NumSquares - 2*rv*r.NumDen + rv*rv*r.DenSquares
	if ss <= 1e-12*math.Abs(r.NumSquares) {
		return 0
	}
	dbar := r.Den / n
	return ss / (n * (n - 1) * dbar * dbar)
}

// CompareRatios compares two ratios of sums from independent groups of
// units: the difference a − b, its interval with the delta method's
// standard errors, and the test's p-values. The critical values are
// Student's t with one fewer degree of freedom than the smaller group has
// units rather than the normal's, which the delta method would take: with a
// few hundred units its intervals are otherwise a little too narrow. Without two units and a
// denominator on each side OK is false and every p-value is 1.
func CompareRatios(a, b Ratio, level float64) Comparison {
	c := Comparison{PValue: 1, PGreater: 1, PLess: 1}
	if !a.ok() || !b.ok() {
		return c
	}
	df := float64(min(a.N, b.N) - 1)
	q, ok := tQuantile(level, df)
	if !ok {
		return c
	}
	c.OK, c.Test = true, TestDeltaT
	c.Difference = a.Value() - b.Value()
	se := math.Sqrt(a.Variance() + b.Variance())
	if se == 0 {
		c.Interval = Interval{Lo: c.Difference, Hi: c.Difference}
		switch {
		case c.Difference > 0:
			c.PValue, c.PGreater = 0, 0
		case c.Difference < 0:
			c.PValue, c.PLess = 0, 0
		}
		return c
	}
	c.Interval = Interval{Lo: c.Difference - q*se, Hi: c.Difference + q*se}
	stat := c.Difference / se
	c.PGreater, c.PLess = 1-tCDF(stat, df), tCDF(stat, df)
	c.PValue = math.Min(1, 2*math.Min(c.PGreater, c.PLess))
	return c
}
