package analytics

import "math"

// NPS holds the answers to "how likely are you to recommend us" (0–10):
// promoters answered 9–10, passives 7–8, detractors 0–6.
type NPS struct {
	Promoters, Passives, Detractors int
}

// Add classifies one answer into the counts; answers outside 0–10 are ignored.
func (n NPS) Add(answer int) NPS {
	switch {
	case answer >= 9 && answer <= 10:
		n.Promoters++
	case answer >= 7 && answer <= 8:
		n.Passives++
	case answer >= 0 && answer <= 6:
		n.Detractors++
	}
	return n
}

// Total is the number of answers.
func (n NPS) Total() int { return n.Promoters + n.Passives + n.Detractors }

// valid reports whether the counts can be used.
func (n NPS) valid() bool {
	return n.Promoters >= 0 && n.Passives >= 0 && n.Detractors >= 0 && n.Total() > 0
}

// Score is the Net Promoter Score, 100 × (promoters − detractors) / answers,
// on the usual −100…100 scale; 0 when there are no answers (check Total).
func (n NPS) Score() float64 {
	if !n.valid() {
		return 0
	}
	return 100 * float64(n.Promoters-n.Detractors) / float64(n.Total())
}

// Interval is a confidence interval for the score by the adjusted-Wald method
// (Rocks 2016, "Interval estimation for the Net Promoter Score", The American
// Statistician 70(4)), which performed best among the methods he compared:
// add 3 to the number of answers, ¾ to the promoters and ¾ to the detractors,
// then use the variance of a difference of two multinomial shares,
//
//	nps ± z·sqrt((p + d − (p − d)²) / n)   with p, d the adjusted shares,
//
// scaled to −100…100. The pseudo-answers keep the interval sensible for small
// samples and at the extremes, where the plain Wald interval collapses to a
// point. The result is clipped to −100…100 and, if needed, widened to contain
// Score (the adjustment pulls small samples towards 0). ok is false with no
// answers or a level outside (0, 1).
func (n NPS) Interval(level float64) (Interval, bool) {
	z, ok := zQuantile(level)
	if !ok || !n.valid() {
		return Interval{}, false
	}
	t := float64(n.Total()) + 3
	p := (float64(n.Promoters) + 0.75) / t
	d := (float64(n.Detractors) + 0.75) / t
	centre := p - d
	half := z * math.Sqrt(math.Max(0, p+d-centre*centre)/t)
	iv := Interval{Lo: 100 * (centre - half), Hi: 100 * (centre + half)}
	return clampTo(iv, -100, 100, n.Score()), true
}
