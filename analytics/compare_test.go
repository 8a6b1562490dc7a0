package analytics

import (
	"math"
	"testing"
)

func TestNewcombeExamples(t *testing.T) {
	// Newcombe (1998), "Interval estimation for the difference between
	// independent proportions: comparison of eleven methods", Statistics in
	// Medicine 17, Table II, method 10 (hybrid score, no continuity correction).
	for _, tc := range []struct {
		a, b Proportion
		want Interval
	}{
		{Proportion{56, 70}, Proportion{48, 80}, Interval{0.0524, 0.3339}},
		{Proportion{9, 10}, Proportion{3, 10}, Interval{0.1705, 0.8090}},
		{Proportion{6, 7}, Proportion{2, 7}, Interval{0.0582, 0.8062}},
		{Proportion{5, 56}, Proportion{0, 29}, Interval{-0.0381, 0.1926}},
		{Proportion{0, 10}, Proportion{0, 20}, Interval{-0.1611, 0.2775}},
		{Proportion{0, 10}, Proportion{0, 10}, Interval{-0.2775, 0.2775}},
		{Proportion{10, 10}, Proportion{0, 20}, Interval{0.6791, 1}},
		{Proportion{10, 10}, Proportion{0, 10}, Interval{0.6075, 1}},
	} {
		c := CompareProportions(tc.a, tc.b, 0.95)
		if !c.OK {
			t.Errorf("CompareProportions(%v, %v) not ok", tc.a, tc.b)
			continue
		}
		checkInterval(t, "Newcombe", c.Interval, tc.want, 5e-5)
		if want := tc.a.Rate() - tc.b.Rate(); c.Difference != want {
			t.Errorf("Difference = %v; want %v", c.Difference, want)
		}
	}
}

func TestZTestWorkedExample(t *testing.T) {
	// 56/70 vs 48/80, by hand: pooled p̄ = 104/150 = 0.693333,
	// se = sqrt(0.693333 · 0.306667 · (1/70 + 1/80)) = 0.0754669,
	// z = 0.2/0.0754669 = 2.650172, two-sided p = erfc(z/√2) = 0.0080451.
	c := CompareProportions(Proportion{56, 70}, Proportion{48, 80}, 0.95)
	if c.Test != TestZ {
		t.Errorf("Test = %q; want %q (smallest expected count 24.5)", c.Test, TestZ)
	}
	if !near(c.PValue, 0.0080451, 1e-6) || !near(c.PGreater, 0.0040225, 1e-6) {
		t.Errorf("p = %.7f, p(>) = %.7f; want 0.0080451, 0.0040225", c.PValue, c.PGreater)
	}
	if !near(c.PLess, 1-0.0040225, 1e-6) {
		t.Errorf("p(<) = %.7f; want %.7f", c.PLess, 1-0.0040225)
	}
}

func TestFisherWorkedExamples(t *testing.T) {
	// Fisher's tea-tasting table [[3,1],[1,3]]: with margins 4,4 / 4,4 the
	// count X in the top-left cell has P(X = 0..4) = (1, 16, 36, 16, 1)/70.
	less, greater, two := fisher(Proportion{3, 4}, Proportion{1, 4})
	for _, g := range []struct {
		name      string
		got, want float64
	}{
		{"P(X ≤ 3)", less, 69.0 / 70},
		{"P(X ≥ 3)", greater, 17.0 / 70},
		{"two-sided", two, 34.0 / 70},
	} {
		if !near(g.got, g.want, 1e-12) {
			t.Errorf("tea %s = %.12f; want %.12f", g.name, g.got, g.want)
		}
	}

	// [[1,9],[11,3]] (dieting by sex, the usual textbook table): X has
	// P(X = x) = C(12,x)·C(12,10−x)/C(24,10), C(24,10) = 1961256, so
	// P(X ≤ 1) = (66 + 12·220)/1961256 = 2706/1961256 = 0.0013797281, and the
	// two-sided p adds the equally likely mirror tables X = 9, 10: 0.0027594562.
	less, _, two = fisher(Proportion{1, 10}, Proportion{11, 14})
	if !near(less, 0.0013797281, 1e-9) || !near(two, 0.0027594562, 1e-9) {
		t.Errorf("diet one-sided = %.10f, two-sided = %.10f; want 0.0013797281, 0.0027594562", less, two)
	}

	// Huge trials with few successes: 1 of a billion vs 5 of a billion is
	// six events split evenly by chance, X ~ Binomial(6, ½) to 1e-9, so
	// P(X ≤ 1) = (1 + 6)/64.
	c := CompareProportions(Proportion{1, 1e9}, Proportion{5, 1e9}, 0.95)
	if c.Test != TestFisher || !near(c.PLess, 7.0/64, 1e-8) {
		t.Errorf("1/1e9 vs 5/1e9: %s p(<) = %.10f; want fisher_exact %.10f", c.Test, c.PLess, 7.0/64)
	}

	// A table with one possible arrangement: nothing to test.
	if l, g, tw := fisher(Proportion{0, 5}, Proportion{0, 7}); l != 1 || g != 1 || tw != 1 {
		t.Errorf("no successes: fisher = %v %v %v; want 1 1 1", l, g, tw)
	}
}

func TestCompareProportionsChoosesTest(t *testing.T) {
	for _, tc := range []struct {
		a, b Proportion
		want Test
	}{
		{Proportion{3, 4}, Proportion{1, 4}, TestFisher},       // expected 2
		{Proportion{5, 5}, Proportion{0, 5}, TestFisher},       // expected 2.5
		{Proportion{10, 100}, Proportion{0, 100}, TestZ},       // expected 5: not below
		{Proportion{9, 100}, Proportion{0, 100}, TestFisher},   // expected 4.5
		{Proportion{56, 70}, Proportion{48, 80}, TestZ},        // expected 24.5
		{Proportion{100, 100}, Proportion{50, 50}, TestFisher}, // expected 0
	} {
		if got := CompareProportions(tc.a, tc.b, 0.95).Test; got != tc.want {
			t.Errorf("CompareProportions(%v, %v).Test = %q; want %q", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCompareProportionsEdges(t *testing.T) {
	for _, tc := range []struct{ a, b Proportion }{
		{Proportion{}, Proportion{3, 10}},
		{Proportion{3, 10}, Proportion{}},
		{Proportion{11, 10}, Proportion{3, 10}},
	} {
		c := CompareProportions(tc.a, tc.b, 0.95)
		if c.OK || c.PValue != 1 || c.PGreater != 1 || c.PLess != 1 {
			t.Errorf("CompareProportions(%v, %v) = %+v; want not ok with p-values 1", tc.a, tc.b, c)
		}
	}
	// Identical all-success groups: no evidence either way.
	c := CompareProportions(Proportion{50, 50}, Proportion{80, 80}, 0.95)
	if c.PValue != 1 || c.Difference != 0 {
		t.Errorf("50/50 vs 80/80: p = %v, d = %v; want 1, 0", c.PValue, c.Difference)
	}
	// Huge counts, z-test by hand: 0.6 vs 0.5998 over 5e7 each,
	// p̄ = 0.5999, se = sqrt(p̄(1−p̄)·2/5e7) = 9.79878e-5, z = 2.041156,
	// one-sided p = 0.0206176.
	c = CompareProportions(Proportion{30_000_000, 50_000_000}, Proportion{29_990_000, 50_000_000}, 0.95)
	if c.Test != TestZ || !near(c.PGreater, 0.0206176, 1e-6) {
		t.Errorf("huge: %s p(>) = %.7f; want z_test 0.0206176", c.Test, c.PGreater)
	}
	// Overwhelming evidence gives a tiny but real p-value, never NaN.
	c = CompareProportions(Proportion{40_000_000, 50_000_000}, Proportion{10_000_000, 50_000_000}, 0.95)
	if math.IsNaN(c.PValue) || c.PValue > 1e-300 {
		t.Errorf("overwhelming: p = %g; want 0 or denormal-small, not NaN", c.PValue)
	}
}

func TestHolm(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    []float64
		want []float64
	}{
		// By hand: sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06,
		// 0.04·1 = 0.04 → raised to 0.06 to keep the order.
		{"textbook", []float64{0.01, 0.04, 0.03, 0.005}, []float64{0.03, 0.06, 0.06, 0.02}},
		{"single", []float64{0.03}, []float64{0.03}},
		{"empty", nil, []float64{}},
		{"capped", []float64{0.6, 0.7}, []float64{1, 1}},
		{"ties", []float64{0.02, 0.02}, []float64{0.04, 0.04}},
		{"nan is 1", []float64{math.NaN(), 0.01}, []float64{1, 0.02}},
	} {
		got := Holm(tc.p)
		if len(got) != len(tc.want) {
			t.Errorf("Holm(%s) = %v; want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if !near(got[i], tc.want[i], 1e-12) {
				t.Errorf("Holm(%s) = %v; want %v", tc.name, got, tc.want)
				break
			}
		}
	}
}
