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
	return deltaT(c, a.Value()-b.Value(), math.Sqrt(a.Variance()+b.Variance()), q, df)
}

// deltaT completes c for a difference with standard error se, tested with
// Student's t on df degrees of freedom, q being its two-sided quantile at
// the level asked. A difference known exactly (se 0) has an interval of
// itself and p-values of 0 on its side.
func deltaT(c Comparison, diff, se, q, df float64) Comparison {
	c.OK, c.Test, c.Difference = true, TestDeltaT, diff
	if se == 0 {
		c.Interval = Interval{Lo: diff, Hi: diff}
		switch {
		case diff > 0:
			c.PValue, c.PGreater = 0, 0
		case diff < 0:
			c.PValue, c.PLess = 0, 0
		}
		return c
	}
	c.Interval = Interval{Lo: diff - q*se, Hi: diff + q*se}
	stat := diff / se
	c.PGreater, c.PLess = 1-tCDF(stat, df), tCDF(stat, df)
	c.PValue = math.Min(1, 2*math.Min(c.PGreater, c.PLess))
	return c
}

// RatioChange holds running aggregates of a ratio of sums measured twice on
// the same units, before and after something happened to them (such as the
// magic rate of customers in the 90 days before and after a handover). The
// change is After − Before; its standard error follows the delta method
// with the pairing kept: each unit's residuals before and after move
// together, and their covariance narrows or widens the interval.
type RatioChange struct {
	Before, After Ratio
	// Cross-products of each unit's after and before sums.
	NumANumB, NumADenB, DenANumB, DenADenB float64
}

// Add returns the aggregates with one more unit: its numerator and
// denominator before, and after.
func (c RatioChange) Add(numB, denB, numA, denA float64) RatioChange {
	c.Before, c.After = c.Before.Add(numB, denB), c.After.Add(numA, denA)
	c.NumANumB += numA * numB
	c.NumADenB += numA * denB
	c.DenANumB += denA * numB
	c.DenADenB += denA * denB
	return c
}

// OK reports whether the change has a value and a standard error: two
// units or more with something in both denominators.
func (c RatioChange) OK() bool { return c.Before.ok() && c.After.ok() }

// Value is After − Before, and 0 when not OK.
func (c RatioChange) Value() float64 {
	if !c.OK() {
		return 0
	}
	return c.After.Value() - c.Before.Value()
}

// Variance is the delta-method variance of the change: with each unit's
// residuals ea = numA − Ra·denA and eb = numB − Rb·denB, scaled by the mean
// denominators, Var ≈ Σ(ea/d̄a − eb/d̄b)² / (n(n−1)).
func (c RatioChange) Variance() float64 {
	if !c.OK() {
		return 0
	}
	n := float64(c.After.N)
	ra, rb := c.After.Value(), c.Before.Value()
	da, db := c.After.Den/n, c.Before.Den/n
	saa := c.After.NumSquares - 2*ra*c.After.NumDen + ra*ra*c.After.DenSquares
	sbb := c.Before.NumSquares - 2*rb*c.Before.NumDen + rb*rb*c.Before.DenSquares
	sab := c.NumANumB - rb*c.NumADenB - ra*c.DenANumB + ra*rb*c.DenADenB
	ss := saa/(da*da) + sbb/(db*db) - 2*sab/(da*db)
	if ss <= 0 {
		return 0
	}
	return ss / (n * (n - 1))
}

// Estimate is a difference with its standard error and degrees of freedom,
// so estimates can be combined before an interval is drawn.
type Estimate struct {
	Value, Variance float64
	DF              float64
	OK              bool
}

// EstimateOf returns the change as an estimate.
func (c RatioChange) EstimateOf() Estimate {
	return Estimate{Value: c.Value(), Variance: c.Variance(), DF: float64(c.After.N - 1), OK: c.OK()}
}

// Minus returns e − o for independent estimates, with Welch and
// Satterthwaite's degrees of freedom.
func (e Estimate) Minus(o Estimate) Estimate {
	return Weighted([]Estimate{e, {Value: -o.Value, Variance: o.Variance, DF: o.DF, OK: o.OK}}, []float64{1, 1})
}

// Weighted combines independent estimates with weights (summing to 1 when
// strata are combined in the proportions of another group). Its degrees of
// freedom are Satterthwaite's, (Σ wᵢ²vᵢ)² / Σ (wᵢ²vᵢ)²/dfᵢ: a small stratum
// of little weight then narrows them little, where the fewest of any
// stratum would make the interval of the whole as wide as that stratum's.
// They lie between the fewest of any stratum and the sum of all; with no
// variance at all they are the fewest of any.
func Weighted(es []Estimate, ws []float64) Estimate {
	out := Estimate{OK: len(es) > 0}
	fewest, denom := math.Inf(1), 0.0
	for i, e := range es {
		if !e.OK {
			return Estimate{}
		}
		v := ws[i] * ws[i] * e.Variance
		out.Value += ws[i] * e.Value
		out.Variance += v
		fewest = math.Min(fewest, e.DF)
		if v > 0 {
			denom += v * v / e.DF
		}
	}
	out.DF = fewest
	if denom > 0 {
		out.DF = out.Variance * out.Variance / denom
	}
	return out
}

// Compare is the estimate's interval at level and the two-sided p-value of
// "it is 0", with Student's t on its degrees of freedom.
func (e Estimate) Compare(level float64) Comparison {
	c := Comparison{PValue: 1, PGreater: 1, PLess: 1}
	if !e.OK || !(e.DF >= 1) {
		return c
	}
	q, ok := tQuantile(level, e.DF)
	if !ok {
		return c
	}
	return deltaT(c, e.Value, math.Sqrt(e.Variance), q, e.DF)
}
