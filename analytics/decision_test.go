package analytics

import (
	"strings"
	"testing"
)

func arm(key string, magic, moments int) Arm {
	return Arm{Key: key, Magic: Proportion{magic, moments}}
}

func TestWinner(t *testing.T) {
	for _, tc := range []struct {
		name    string
		arms    []Arm
		min     int
		winner  string
		reason  Reason
		pairs   int
		mention string // the message must name this
	}{
		// z by hand: 60/100 vs 30/100 → z = 4.264, p = 1.0e-5; vs 35/100 →
		// z = 3.540, p = 2.0e-4. Doubled and Holm-adjusted: 4.0e-5 and 4.0e-4.
		{"clear winner", []Arm{arm("warm", 60, 100), arm("script", 30, 100), arm("brief", 35, 100)},
			30, "warm", ReasonSignificant, 2, `"warm"`},
		// 50/100 vs 36/100: z = 2.000, one-sided p = 0.0228, doubled 0.0455.
		{"two arms", []Arm{arm("a", 50, 100), arm("b", 36, 100)},
			30, "a", ReasonSignificant, 1, `"a"`},
		// 50/100 vs 37/100: z = 1.854, one-sided p = 0.0319 < 0.05, but the
		// leader was chosen after seeing the data: doubled, 0.0637 ≥ 0.05.
		{"leader chosen from data", []Arm{arm("a", 50, 100), arm("b", 37, 100)},
			30, "", ReasonNoSignificantDifference, 1, `"b"`},
		// Against two arms at 36/100 Holm doubles the smaller 0.0455: 0.0911.
		{"Holm withholds", []Arm{arm("a", 50, 100), arm("b", 36, 100), arm("c", 36, 100)},
			30, "", ReasonNoSignificantDifference, 2, `"a"`},
		// 50/100 vs 33/100: z = 2.440, p = 0.00735, doubled 0.0147; Holm 0.0294.
		{"Holm passes", []Arm{arm("a", 50, 100), arm("b", 33, 100), arm("c", 33, 100)},
			30, "a", ReasonSignificant, 2, `"a"`},
		// Beats one clearly but not the other (60 vs 55: p = 0.237): no winner.
		{"beats only some", []Arm{arm("a", 60, 100), arm("b", 30, 100), arm("c", 55, 100)},
			30, "", ReasonNoSignificantDifference, 2, `"c"`},
		{"tie at the top", []Arm{arm("a", 40, 100), arm("b", 40, 100)},
			30, "", ReasonNoSignificantDifference, 1, "40.0%"},
		// Fisher, by hand: 5/5 vs 0/5, P(all five magic in a) = 1/C(10,5) =
		// 1/252 = 0.00397, doubled 0.0079.
		{"tiny but decisive", []Arm{arm("a", 5, 5), arm("b", 0, 5)},
			5, "a", ReasonSignificant, 1, `"a"`},
		{"tiny, below minimum", []Arm{arm("a", 5, 5), arm("b", 0, 5)},
			30, "", ReasonTooFewMoments, 0, `"a" has 5`},
		{"one response", []Arm{arm("a", 50, 100)}, 30, "", ReasonTooFewMoments, 0, "two responses"},
		{"no responses", nil, 30, "", ReasonTooFewMoments, 0, "two responses"},
		{"untried response", []Arm{arm("a", 50, 100), arm("new", 0, 0)},
			0, "", ReasonTooFewMoments, 0, `"new" has 0`},
		{"impossible counts", []Arm{arm("a", 5, 4), arm("b", 1, 4)}, 1, "", ReasonInvalidInput, 0, `"a"`},
	} {
		d := Winner(tc.arms, 0.05, tc.min)
		if d.Winner != tc.winner || d.Reason != tc.reason || len(d.Pairs) != tc.pairs {
			t.Errorf("%s: Winner = %q, reason %q, %d pairs; want %q, %q, %d (%s)",
				tc.name, d.Winner, d.Reason, len(d.Pairs), tc.winner, tc.reason, tc.pairs, d.Message)
		}
		if !strings.Contains(d.Message, tc.mention) {
			t.Errorf("%s: message %q does not mention %s", tc.name, d.Message, tc.mention)
		}
	}
}

func TestWinnerPairs(t *testing.T) {
	d := Winner([]Arm{arm("b", 37, 100), arm("c", 37, 100), arm("a", 50, 100)}, 0.05, 30)
	if len(d.Pairs) != 2 {
		t.Fatalf("pairs = %d; want 2", len(d.Pairs))
	}
	for _, p := range d.Pairs {
		if p.Leader != "a" || p.Test != TestZ {
			t.Errorf("pair %+v; want leader a, z-test", p)
		}
		// One-sided p = 0.0318544 by hand (z = 1.854212); doubled for the
		// choice of leader, 0.0637088; Holm doubles the smaller of two equal
		// p-values and raises the larger to match: 0.1274175 for both.
		if !near(p.PValue, 0.0318544, 1e-6) || !near(p.Adjusted, 4*0.0318544, 4e-6) {
			t.Errorf("pair %s: p = %.7f, adjusted = %.7f; want 0.0318544, 0.1274175", p.Other, p.PValue, p.Adjusted)
		}
		if !p.Interval.Contains(p.Difference) || p.Difference != 0.13 {
			t.Errorf("pair %s: difference %v in %v; want 0.13 inside", p.Other, p.Difference, p.Interval)
		}
	}
	// Fisher's exact p for 5/5 vs 0/5 is 1/252.
	d = Winner([]Arm{arm("b", 0, 5), arm("a", 5, 5)}, 0.05, 5)
	if p := d.Pairs[0]; p.Test != TestFisher || !near(p.PValue, 1.0/252, 1e-12) {
		t.Errorf("tiny pair: %s p = %v; want fisher_exact %v", p.Test, p.PValue, 1.0/252)
	}
	// The order of the candidates does not change the verdict.
	x := Winner([]Arm{arm("warm", 60, 100), arm("script", 30, 100), arm("brief", 35, 100)}, 0.05, 30)
	y := Winner([]Arm{arm("brief", 35, 100), arm("warm", 60, 100), arm("script", 30, 100)}, 0.05, 30)
	if x.Winner != y.Winner || x.Message != y.Message {
		t.Errorf("order changed the verdict: %q vs %q", x.Message, y.Message)
	}
}

func TestDecayed(t *testing.T) {
	for _, tc := range []struct {
		name              string
		baseline, current Proportion
		min               int
		decayed           bool
		reason            Reason
		test              Test
		p, tol            float64
	}{
		// 200/500 = 40% before, 50/200 = 25% since: pooled 250/700,
		// se = sqrt(0.357143·0.642857·(1/500 + 1/200)) = 0.0400892,
		// z = −0.15/0.0400892 = −3.741657, one-sided p = 9.1405e-5.
		{"clear decay", Proportion{200, 500}, Proportion{50, 200}, 30, true, ReasonSignificant, TestZ, 9.1405e-5, 1e-8},
		// 38/100 vs 40%: z = −0.373205, p = 0.354498.
		{"small dip", Proportion{200, 500}, Proportion{38, 100}, 30, false, ReasonNoSignificantDifference, TestZ, 0.354498, 1e-6},
		{"improved", Proportion{200, 500}, Proportion{60, 100}, 30, false, ReasonNoSignificantDifference, TestZ, -1, 0},
		// Every baseline moment magic, then 15/20: the five non-magic moments
		// all falling after promotion has probability C(20,5)/C(40,5) =
		// 15504/658008 = 0.0235620 (Fisher, since 2.5 non-magic are expected).
		{"all magic before", Proportion{20, 20}, Proportion{15, 20}, 20, true, ReasonSignificant, TestFisher, 15504.0 / 658008, 1e-12},
		{"too few since", Proportion{200, 500}, Proportion{0, 10}, 30, false, ReasonTooFewMoments, TestNone, 1, 0},
		{"no baseline", Proportion{}, Proportion{10, 100}, 30, false, ReasonTooFewMoments, TestNone, 1, 0},
		{"impossible", Proportion{5, 4}, Proportion{10, 100}, 1, false, ReasonInvalidInput, TestNone, 1, 0},
	} {
		c := Decayed(tc.baseline, tc.current, 0.05, tc.min)
		if c.Decayed != tc.decayed || c.Reason != tc.reason || c.Comparison.Test != tc.test {
			t.Errorf("%s: decayed %v, reason %q, test %q; want %v, %q, %q (%s)",
				tc.name, c.Decayed, c.Reason, c.Comparison.Test, tc.decayed, tc.reason, tc.test, c.Message)
		}
		if tc.p >= 0 && !near(c.PValue, tc.p, tc.tol) {
			t.Errorf("%s: p = %.9f; want %.9f", tc.name, c.PValue, tc.p)
		}
		if c.Message == "" {
			t.Errorf("%s: no message", tc.name)
		}
		if c.Decayed && !strings.Contains(c.Message, "time to improve this standard") {
			t.Errorf("%s: message %q does not say what to do", tc.name, c.Message)
		}
	}
}

// TestWinnerNamesArms checks that the verdict names each response as
// people call it when it has a name, and by its key when not.
func TestWinnerNamesArms(t *testing.T) {
	a, b := arm("call_back", 60, 100), arm("email", 30, 100)
	a.Name = "Call back"
	if d := Winner([]Arm{a, b}, 0.05, 30); !strings.Contains(d.Message, `"Call back"`) || strings.Contains(d.Message, "call_back") {
		t.Errorf("Winner's message = %q; want the response named Call back", d.Message)
	}
	b.Magic = Proportion{58, 100}
	if d := Winner([]Arm{a, b}, 0.05, 30); !strings.Contains(d.Message, `"Call back"`) || !strings.Contains(d.Message, `"email"`) {
		t.Errorf("Winner's message = %q; want Call back and email named", d.Message)
	}
}
