package analytics

import "math"

// Proportion is a count of successes (e.g. magic moments) out of trials (moments).
type Proportion struct {
	Successes, Trials int
}

// Valid reports whether the counts make sense; every function treats an invalid
// proportion like an empty one rather than computing nonsense from it.
func (p Proportion) Valid() bool {
	return p.Trials >= 0 && p.Successes >= 0 && p.Successes <= p.Trials
}

// empty reports whether there is nothing to estimate from.
func (p Proportion) empty() bool { return !p.Valid() || p.Trials == 0 }

// Rate is Successes/Trials, and 0 when there are no trials (check Trials, or
// the ok of Wilson, before showing it: 0 of 0 is "unknown", not "never").
func (p Proportion) Rate() float64 {
	if p.empty() {
		return 0
	}
	return float64(p.Successes) / float64(p.Trials)
}

// Add returns the pooled proportion, so weekly buckets can be summed into a window.
func (p Proportion) Add(q Proportion) Proportion {
	return Proportion{Successes: p.Successes + q.Successes, Trials: p.Trials + q.Trials}
}

// Wilson returns the Wilson score interval at the given confidence level
// (0.95 for 95%); ok is false when there are no trials, the counts are
// invalid, or the level is outside (0, 1), and the interval is then zero.
func (p Proportion) Wilson(level float64) (Interval, bool) {
	z, ok := zQuantile(level)
	if !ok || p.empty() {
		return Interval{}, false
	}
	return wilson(p, z), true
}

// wilson is the score interval for a known critical value z: the set of rates
// π for which |p̂ − π| ≤ z·sqrt(π(1−π)/n), solved as a quadratic in π.
func wilson(p Proportion, z float64) Interval {
	n := float64(p.Trials)
	ph := p.Rate()
	z2 := z * z
	denom := 1 + z2/n
	centre := (ph + z2/(2*n)) / denom
	half := z / denom * math.Sqrt(ph*(1-ph)/n+z2/(4*n*n))
	iv := clampTo(Interval{Lo: centre - half, Hi: centre + half}, 0, 1, ph)
	// The bounds are exactly 0 or 1 at the extremes; keep them so rather than
	// showing a rounding residue like 1e-17.
	if p.Successes == 0 {
		iv.Lo = 0
	}
	if p.Successes == p.Trials {
		iv.Hi = 1
	}
	return iv
}
