package analytics

import (
	"math"
	"testing"
)

// finite fails the test if any value is NaN or infinite: everything this
// package returns ends up in JSON, which has no spelling for either.
func finite(t *testing.T, what string, xs ...float64) {
	t.Helper()
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Fatalf("%s: got %v", what, xs)
		}
	}
}

// inside fails the test unless lo ≤ iv.Lo ≤ est ≤ iv.Hi ≤ hi.
func inside(t *testing.T, what string, iv Interval, est, lo, hi float64) {
	t.Helper()
	finite(t, what, iv.Lo, iv.Hi, est)
	if !(lo <= iv.Lo && iv.Lo <= est && est <= iv.Hi && iv.Hi <= hi) {
		t.Fatalf("%s: estimate %v, interval %v, bounds [%v, %v]", what, est, iv, lo, hi)
	}
}

// prob fails the test unless p is a probability.
func prob(t *testing.T, what string, ps ...float64) {
	t.Helper()
	for _, p := range ps {
		finite(t, what, p)
		if p < 0 || p > 1 {
			t.Fatalf("%s: p = %v", what, p)
		}
	}
}

func FuzzProportions(f *testing.F) {
	f.Add(uint32(0), uint32(0), uint32(0), uint32(0), uint16(950))
	f.Add(uint32(81), uint32(263), uint32(15), uint32(148), uint16(950))
	f.Add(uint32(5), uint32(5), uint32(0), uint32(5), uint16(990))
	f.Add(uint32(1), uint32(1_000_000_000), uint32(5), uint32(1_000_000_000), uint16(950))
	f.Add(uint32(4_000_000_000), uint32(4_000_000_000), uint32(3), uint32(4_000_000_000), uint16(1))
	f.Fuzz(func(t *testing.T, s1, n1, s2, n2 uint32, lvl uint16) {
		a := Proportion{int(s1 % (n1 + 1)), int(n1)}
		if n1 == math.MaxUint32 {
			a.Successes = int(s1)
		}
		b := Proportion{int(s2 % (n2 + 1)), int(n2)}
		if n2 == math.MaxUint32 {
			b.Successes = int(s2)
		}
		level := (float64(lvl%999) + 1) / 1000 // 0.001 … 0.999

		for _, p := range []Proportion{a, b} {
			iv, ok := p.Wilson(level)
			if ok != (p.Trials > 0) {
				t.Fatalf("%v.Wilson ok = %v", p, ok)
			}
			if ok {
				inside(t, "Wilson", iv, p.Rate(), 0, 1)
			}
		}

		c := CompareProportions(a, b, level)
		prob(t, "CompareProportions", c.PValue, c.PGreater, c.PLess)
		if c.OK {
			inside(t, "Newcombe", c.Interval, c.Difference, -1, 1)
			if c.Test != TestZ && c.Test != TestFisher {
				t.Fatalf("test %q", c.Test)
			}
		}

		im := Impact(a, b)
		prob(t, "Impact", im.PValue)
		finite(t, "Impact", im.RiskDifference, im.RelativeRisk, im.ExposedRate, im.UnexposedRate)
		if im.OK {
			inside(t, "Impact RD", im.RiskDifferenceInterval, im.RiskDifference, -1, 1)
			inside(t, "Impact RR", im.RelativeRiskInterval, im.RelativeRisk, 0, math.MaxFloat64)
			finite(t, "PriorityScore", PriorityScore(float64(n1), im))
		}

		dc := Decayed(a, b, 0.05, 1)
		prob(t, "Decayed", dc.PValue)
		if dc.Decayed && dc.CurrentRate >= dc.BaselineRate {
			t.Fatalf("decayed while the rate did not fall: %+v", dc)
		}

		d := Winner([]Arm{{Key: "a", Magic: a}, {Key: "b", Magic: b}}, 0.05, 1)
		for _, p := range d.Pairs {
			prob(t, "Winner", p.PValue, p.Adjusted)
			finite(t, "Winner", p.Difference, p.Interval.Lo, p.Interval.Hi)
		}
		if d.Winner != "" && (d.Reason != ReasonSignificant || a.Rate() == b.Rate()) {
			t.Fatalf("winner %q from equal rates or wrong reason: %+v", d.Winner, d)
		}
		if d.Message == "" {
			t.Fatal("empty message")
		}

		n := NPS{Promoters: int(s1 % 100_000), Passives: int(n1 % 100_000), Detractors: int(s2 % 100_000)}
		if iv, ok := n.Interval(level); ok {
			inside(t, "NPS", iv, n.Score(), -100, 100)
		} else if n.Total() > 0 {
			t.Fatalf("NPS %+v: no interval", n)
		}
	})
}

func FuzzMean(f *testing.F) {
	f.Add([]byte{}, 1.0)
	f.Add([]byte{5}, 4.0)
	f.Add([]byte{3, 3, 3, 3}, 3.0)
	f.Add([]byte{1, 5, 2, 4, 3}, 4.5)
	f.Fuzz(func(t *testing.T, data []byte, target float64) {
		if math.IsNaN(target) || math.IsInf(target, 0) {
			target = 4
		}
		var m Mean
		for _, b := range data {
			m = m.Add(float64(b%7 + 1)) // effort scores 1–7
		}
		finite(t, "Mean", m.Value(), m.Variance(), m.StdDev(), m.StdErr())
		if iv, ok := m.Interval(0.95); ok {
			// A t interval may reach past the scale; clamped, it must not.
			inside(t, "Mean interval", iv, m.Value(), -math.MaxFloat64, math.MaxFloat64)
			inside(t, "Mean interval clamped", iv.Clamp(1, 7), m.Value(), 1, 7)
		} else if m.N >= 2 {
			t.Fatalf("N = %d: no interval", m.N)
		}
		c := BelowTarget(m, target, 0.05, 2)
		prob(t, "BelowTarget", c.PValue)
		finite(t, "BelowTarget", c.T)
		if c.Below && m.Value() >= target {
			t.Fatalf("below target %v with mean %v", target, m.Value())
		}
		half := len(data) / 2
		a, b := MeanOf(), MeanOf()
		for i, x := range data {
			if i < half {
				a = a.Add(float64(x))
			} else {
				b = b.Add(float64(x))
			}
		}
		mc := CompareMeans(a, b, 0.95)
		prob(t, "CompareMeans", mc.PValue, mc.PGreater, mc.PLess)
		finite(t, "CompareMeans", mc.Difference, mc.DF, mc.Interval.Lo, mc.Interval.Hi)
		if mc.OK && !mc.Interval.Contains(mc.Difference) {
			t.Fatalf("difference %v outside %v", mc.Difference, mc.Interval)
		}
	})
}
