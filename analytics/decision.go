package analytics

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Reason says, in a stable machine-readable word, why a decision came out as it did.
type Reason string

// The reasons a decision can give; the UI translates them, the Message explains them.
const (
	ReasonSignificant             Reason = "significant"               // the test found the effect
	ReasonNoSignificantDifference Reason = "no_significant_difference" // enough data, no proven effect
	ReasonTooFewMoments           Reason = "too_few_moments"           // not enough data to test at all
	ReasonInvalidInput            Reason = "invalid_input"             // bad counts or settings from the caller
)

// Arm is one alternative response to a touchpoint with its magic count.
type Arm struct {
	Key   string
	Name  string     // what people call it in messages; the key when empty
	Magic Proportion // magic moments out of moments that used the response
}

// label is the arm's name for people.
func (a Arm) label() string {
	if a.Name != "" {
		return a.Name
	}
	return a.Key
}

// PairTest is one comparison behind a Winner decision: Leader against Other.
type PairTest struct {
	Leader     string
	Other      string
	Difference float64  // leader's magic rate − other's
	Interval   Interval // 95% Newcombe interval for the difference
	PValue     float64  // one-sided p for "leader's rate is higher"
	Adjusted   float64  // 2·PValue (the leader was chosen from the data), then Holm over all pairs; compare with alpha
	Test       Test
}

// Decision is the verdict of Winner.
type Decision struct {
	Winner  string     // key of the winning response; "" when there is none
	Reason  Reason     // ReasonSignificant exactly when Winner is set
	Message string     // one sentence for people
	Alpha   float64    // the significance level used
	Pairs   []PairTest // the leader against each other arm; empty when no test ran
}

// validAlpha reports whether alpha is a usable significance level.
func validAlpha(alpha float64) bool { return alpha > 0 && alpha < 1 }

// Winner decides whether one response delights more often than every other.
//
// The leader is the arm with the highest magic rate (ties broken by more
// moments, then by key, only to make the order deterministic). It is declared
// the winner only when, for every other arm, the one-sided test "the leader's
// rate is higher" (z-test, or Fisher's exact test for small counts) stays
// below alpha after adjustment. Requiring every comparison to succeed is what
// "better than every other response" means.
//
// Two adjustments keep the verdict honest. First, the direction of each test
// was picked by looking at the data (the leader is whichever arm came out
// ahead), so between two equally good responses a one-sided test at alpha
// would crown one of them 2·alpha of the time; each one-sided p-value is
// therefore doubled, which for the z-test is exactly the two-sided p-value.
// Second, the k−1 doubled p-values are Holm-adjusted, so that having many
// responses to beat does not give chance many opportunities.
//
// Fewer than two arms, or any arm with fewer than minTrials moments (at least
// 1), gives ReasonTooFewMoments and no Pairs: a comparison with a response
// nobody has tried yet would be decided by the one that has been tried.
func Winner(candidates []Arm, alpha float64, minTrials int) Decision {
	d := Decision{Alpha: alpha}
	if reason, msg := checkArms(candidates, alpha, max(minTrials, 1)); reason != "" {
		d.Reason, d.Message = reason, msg
		return d
	}
	arms := rankArms(candidates)
	lead := arms[0]
	worst := d.testLeader(arms)
	runnerUp := arms[1]
	if worst < alpha {
		d.Winner = lead.Key
		d.Reason = ReasonSignificant
		d.Message = fmt.Sprintf("Response %q delights more often than every other response: magic rate %s against at most %s for the rest (largest adjusted %s).",
			lead.label(), pct(lead.Magic.Rate()), pct(runnerUp.Magic.Rate()), sig(worst, alpha))
		return d
	}
	// Name the arm the leader is least clearly ahead of: the largest adjusted
	// p-value is what stops the verdict.
	weak := 0
	for i, p := range d.Pairs {
		if p.Adjusted > d.Pairs[weak].Adjusted {
			weak = i
		}
	}
	other := arms[weak+1]
	d.Reason = ReasonNoSignificantDifference
	d.Message = fmt.Sprintf("No response is significantly better than all the others: the best, %q at %s magic, is not proven better than %q at %s (adjusted %s).",
		lead.label(), pct(lead.Magic.Rate()), other.label(), pct(other.Magic.Rate()), sig(worst, alpha))
	return d
}

// checkArms says why the candidates cannot be compared, if they cannot: a
// bad significance level, impossible counts, fewer than two responses, or
// one with fewer than need moments. It returns "" when they can.
func checkArms(candidates []Arm, alpha float64, need int) (Reason, string) {
	if !validAlpha(alpha) {
		return ReasonInvalidInput, "The significance level must be between 0 and 1."
	}
	for _, a := range candidates {
		if !a.Magic.Valid() {
			return ReasonInvalidInput, fmt.Sprintf("Response %q has impossible counts: %d magic moments out of %d.",
				a.label(), a.Magic.Successes, a.Magic.Trials)
		}
	}
	if len(candidates) < 2 {
		return ReasonTooFewMoments, "There is nothing to compare: a winner needs at least two responses with moments."
	}
	var short []string
	for _, a := range candidates {
		if a.Magic.Trials < need {
			short = append(short, fmt.Sprintf("%q has %d", a.label(), a.Magic.Trials))
		}
	}
	if len(short) > 0 {
		return ReasonTooFewMoments, fmt.Sprintf("Too few moments to compare: %s; each response needs at least %d.",
			strings.Join(short, ", "), need)
	}
	return "", ""
}

// rankArms orders the arms best first: by magic rate, then by more moments,
// then by key.
func rankArms(candidates []Arm) []Arm {
	arms := slices.Clone(candidates)
	slices.SortStableFunc(arms, func(x, y Arm) int {
		// Compare rates by cross-multiplication so equal rates from different
		// counts (1/2 and 2/4) tie exactly.
		if c := cmp.Compare(
			float64(y.Magic.Successes)*float64(x.Magic.Trials),
			float64(x.Magic.Successes)*float64(y.Magic.Trials)); c != 0 {
			return c
		}
		if c := cmp.Compare(y.Magic.Trials, x.Magic.Trials); c != 0 {
			return c
		}
		return strings.Compare(x.Key, y.Key)
	})
	return arms
}

// testLeader tests the leader against each other arm (one-sided, doubled,
// then Holm-adjusted across the pairs), records the pairs, and returns the
// largest adjusted p-value: the leader wins only if that is below alpha.
func (d *Decision) testLeader(arms []Arm) float64 {
	lead := arms[0]
	raw := make([]float64, 0, len(arms)-1)
	for _, o := range arms[1:] {
		c := CompareProportions(lead.Magic, o.Magic, Level95)
		d.Pairs = append(d.Pairs, PairTest{
			Leader: lead.Key, Other: o.Key, Difference: c.Difference,
			Interval: c.Interval, PValue: c.PGreater, Test: c.Test,
		})
		raw = append(raw, c.PGreater)
	}
	for i, p := range raw {
		raw[i] = math.Min(1, 2*p)
	}
	worst := 0.0
	for i, p := range Holm(raw) {
		d.Pairs[i].Adjusted = p
		worst = math.Max(worst, p)
	}
	return worst
}

// DecayCheck is the verdict of Decayed.
type DecayCheck struct {
	Decayed      bool       // the magic rate since promotion is significantly lower
	Reason       Reason     // why Decayed is what it is
	Message      string     // one sentence for people
	BaselineRate float64    // magic rate before promotion
	CurrentRate  float64    // magic rate since promotion
	Comparison   Comparison // current − baseline, with interval and p-values
	PValue       float64    // one-sided p for "current rate is lower"; 1 when no test ran
}

// Decayed asks whether a service standard's magic rate since promotion is
// significantly below its baseline: a one-sided test (z-test, or Fisher's
// exact test for small counts) of current < baseline at level alpha. Both
// periods need at least minTrials moments (at least 1); otherwise the answer
// is "not decayed" with ReasonTooFewMoments, because a few unlucky moments
// right after a promotion are no evidence.
func Decayed(baseline, current Proportion, alpha float64, minTrials int) DecayCheck {
	c := DecayCheck{BaselineRate: baseline.Rate(), CurrentRate: current.Rate(), PValue: 1}
	if !validAlpha(alpha) || !baseline.Valid() || !current.Valid() {
		c.Reason = ReasonInvalidInput
		c.Message = "The decay check needs valid counts and a significance level between 0 and 1."
		return c
	}
	need := max(minTrials, 1)
	if baseline.Trials < need || current.Trials < need {
		c.Reason = ReasonTooFewMoments
		c.Message = fmt.Sprintf("Too few moments to judge decay: %d before promotion and %d since; each period needs at least %d.",
			baseline.Trials, current.Trials, need)
		return c
	}
	c.Comparison = CompareProportions(current, baseline, Level95)
	c.PValue = c.Comparison.PLess
	c.Decayed = c.PValue < alpha
	if c.Decayed {
		c.Reason = ReasonSignificant
		c.Message = fmt.Sprintf("The magic rate fell from %s (%d moments before promotion) to %s (%d moments since); one-sided %s: the delight has become a basic expectation, time to improve this standard.",
			pct(c.BaselineRate), baseline.Trials, pct(c.CurrentRate), current.Trials, sig(c.PValue, alpha))
		return c
	}
	c.Reason = ReasonNoSignificantDifference
	c.Message = fmt.Sprintf("The magic rate is %s since promotion (%d moments) against %s before (%d moments); not significantly lower (one-sided %s).",
		pct(c.CurrentRate), current.Trials, pct(c.BaselineRate), baseline.Trials, sig(c.PValue, alpha))
	return c
}

// pct formats a rate as a percentage with one decimal, as reports show it.
func pct(r float64) string { return strconv.FormatFloat(100*r, 'f', 1, 64) + "%" }

// num formats a plain number without trailing zeros.
func num(x float64) string { return strconv.FormatFloat(x, 'g', 4, 64) }

// sig states a p-value against the level, e.g. "p = 0.012, below the 0.05
// level"; tiny ones read "p < 0.0001" rather than in scientific notation.
func sig(p, alpha float64) string {
	s := "p = " + strconv.FormatFloat(p, 'g', 2, 64)
	if p < 1e-4 {
		s = "p < 0.0001"
	}
	if p < alpha {
		return s + ", below the " + num(alpha) + " level"
	}
	return s + ", not below the " + num(alpha) + " level"
}
