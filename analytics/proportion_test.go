package analytics

import (
	"math"
	"testing"
)

func TestWilsonNewcombeExamples(t *testing.T) {
	// Newcombe (1998), "Two-sided confidence intervals for the single
	// proportion: comparison of seven methods", Statistics in Medicine 17,
	// Table I, method 3 (score interval without continuity correction).
	for _, tc := range []struct {
		p    Proportion
		want Interval
	}{
		{Proportion{81, 263}, Interval{0.2553, 0.3662}},
		{Proportion{15, 148}, Interval{0.0624, 0.1605}},
		{Proportion{0, 20}, Interval{0, 0.1611}},
		{Proportion{1, 29}, Interval{0.0061, 0.1718}},
		{Proportion{29, 29}, Interval{0.8830, 1}},
	} {
		iv, ok := tc.p.Wilson(0.95)
		if !ok {
			t.Errorf("%v.Wilson(0.95) not ok", tc.p)
			continue
		}
		checkInterval(t, "Wilson", iv, tc.want, 5e-5)
	}
}

func TestWilsonEdges(t *testing.T) {
	if iv, ok := (Proportion{}).Wilson(0.95); ok || iv != (Interval{}) {
		t.Errorf("0/0 Wilson = %v, %v; want zero interval, not ok", iv, ok)
	}
	if r := (Proportion{}).Rate(); r != 0 {
		t.Errorf("0/0 Rate = %v; want 0", r)
	}
	for _, bad := range []Proportion{{-1, 3}, {4, 3}, {0, -2}} {
		if _, ok := bad.Wilson(0.95); ok || bad.Valid() {
			t.Errorf("%v accepted; want invalid", bad)
		}
		if r := bad.Rate(); r != 0 {
			t.Errorf("%v.Rate() = %v; want 0", bad, r)
		}
	}
	if _, ok := (Proportion{3, 10}).Wilson(1.5); ok {
		t.Error("level 1.5 accepted")
	}

	// One trial: with z² = 3.8415 the bounds are z²/(1+z²)… worked by hand:
	// 0/1 → (0, z²/(1+z²)) = (0, 0.7935); 1/1 → (1/(1+z²), 1) = (0.2065, 1).
	z2 := z975 * z975
	iv, _ := Proportion{0, 1}.Wilson(0.95)
	checkInterval(t, "0/1", iv, Interval{0, z2 / (1 + z2)}, 1e-9)
	iv, _ = Proportion{1, 1}.Wilson(0.95)
	checkInterval(t, "1/1", iv, Interval{1 / (1 + z2), 1}, 1e-9)

	// Extremes are exact, not a rounding residue.
	for _, p := range []Proportion{{0, 7}, {0, 1 << 40}} {
		if iv, _ := p.Wilson(0.95); iv.Lo != 0 {
			t.Errorf("%v lower = %g; want exactly 0", p, iv.Lo)
		}
	}
	for _, p := range []Proportion{{7, 7}, {1 << 40, 1 << 40}} {
		if iv, _ := p.Wilson(0.95); iv.Hi != 1 {
			t.Errorf("%v upper = %g; want exactly 1", p, iv.Hi)
		}
	}

	// Huge counts: the interval is the Wald one to many digits,
	// p̂ ± z·sqrt(p̂(1−p̂)/n), here 0.6 ± 1.96·sqrt(0.24/5e7).
	p := Proportion{30_000_000, 50_000_000}
	iv, _ = p.Wilson(0.95)
	half := z975 * math.Sqrt(0.24/5e7)
	checkInterval(t, "30M/50M", iv, Interval{0.6 - half, 0.6 + half}, 1e-8)

	// Other levels: 99% is wider than 95% is wider than 80%.
	p = Proportion{12, 40}
	i80, _ := p.Wilson(0.80)
	i95, _ := p.Wilson(0.95)
	i99, _ := p.Wilson(0.99)
	if !(i80.Width() < i95.Width() && i95.Width() < i99.Width()) {
		t.Errorf("widths 80/95/99%% = %v %v %v; want increasing", i80.Width(), i95.Width(), i99.Width())
	}
}

func TestProportionAdd(t *testing.T) {
	got := Proportion{3, 10}.Add(Proportion{4, 5})
	if got != (Proportion{7, 15}) {
		t.Errorf("Add = %v; want {7 15}", got)
	}
}
