package analytics

import (
	"cmp"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Everyone is the group of all customers: a touchpoint's figures over
// everyone who met it.
const Everyone = ""

// Group is what one group of customers (those who share a like, a dislike,
// a stage…) met at a touchpoint: each response's magic count among them.
type Group struct {
	Name string
	Arms []Arm
}

// PersonalInput is everything Personal weighs for one customer at one touchpoint.
type PersonalInput struct {
	// Overall is every active response over all customers.
	Overall []Arm
	// Groups are every group's counts at the touchpoint; they set how far
	// one group's rate may stray from the overall one.
	Groups []Group
	// Member names the groups this customer belongs to.
	Member []string
	// Own is the customer's own past moments with each response.
	Own []Arm
	// Alpha is the error rate of a claim that one response is best for
	// customers like this one, across every group tried.
	Alpha float64
	// MinTrials is the fewest moments each response needs within a group
	// before that group is tested.
	MinTrials int
}

// PersonalEstimate is one response's chance of magic for customers like
// this one.
type PersonalEstimate struct {
	Key string
	// Rate and Interval are the shrunk estimate for the basis group: the
	// posterior mean and 95% credible interval.
	Rate     float64
	Interval Interval
	// Personal is Rate moved by the customer's own moments with the
	// response; it ranks the responses.
	Personal float64
	Group    Proportion // the basis group's raw counts
	Overall  Proportion // everyone's raw counts
	Own      Proportion // the customer's own moments
	Strength float64    // how many moments' worth the overall rate weighs in the group's estimate
}

// PersonalResult is the verdict of Personal.
type PersonalResult struct {
	// Group is the basis of the estimates: the group whose evidence is
	// strongest, when a response is clearly best within it, else Everyone.
	Group string
	// Winner is the response clearly best for Group; "" when no group the
	// customer belongs to has one.
	Winner string
	// PValue is the winner's Holm-adjusted p-value over the customer's
	// groups (1 when no test could run); Winner is set exactly when it is
	// below Alpha.
	PValue float64
	// Estimates are every response, best for this customer first.
	Estimates []PersonalEstimate
}

// OwnWeight is how many moments' worth a group's estimate weighs against
// the customer's own moments with a response: a customer's own two
// miseries move the estimate, without overruling a group of hundreds.
const OwnWeight = 10

// Prior strengths are kept between these: never so weak that a handful of
// moments in a group decides, never so strong that no group can differ.
const (
	minStrength = 2
	maxStrength = 1000
)

// Personal estimates each response's chance of magic for customers like
// this one and decides whether one is clearly best for them.
//
// The estimate is a hierarchical Beta-binomial: each response's rate within
// a group is drawn around its overall rate, Beta(κ·p, κ·(1−p)), where κ (the
// prior strength) is estimated from how much the groups' rates differ beyond
// what chance gives (a method-of-moments fit over every group). A group with
// few moments keeps close to the overall rate; a large one speaks for
// itself. The customer's own moments then move the group's estimate as
// OwnWeight moments would be moved.
//
// The claim is a test, not an estimate: in each group the customer belongs
// to, Winner asks whether one response beats every other (its own Holm
// correction over the pairs), and Holm's correction over the customer's
// groups keeps the chance of any false claim at most Alpha.
func Personal(in PersonalInput) PersonalResult {
	res := PersonalResult{Group: Everyone, PValue: 1}
	groups := map[string]Group{}
	for _, g := range in.Groups {
		groups[g.Name] = g
	}
	res.Group, res.Winner, res.PValue = bestGroup(in, groups)
	basis := countsOf(groups[res.Group].Arms)
	if res.Group == Everyone {
		basis = countsOf(in.Overall)
	}
	own := countsOf(in.Own)
	for _, a := range in.Overall {
		e := PersonalEstimate{Key: a.Key, Overall: a.Magic, Group: basis[a.Key], Own: own[a.Key]}
		prior := smoothed(a.Magic)
		if res.Group != Everyone {
			e.Strength = strength(a.Key, prior, in.Groups)
		}
		alpha := e.Strength*prior + float64(e.Group.Successes) + boolf(e.Strength == 0)
		beta := e.Strength*(1-prior) + float64(e.Group.Trials-e.Group.Successes) + boolf(e.Strength == 0)
		e.Rate = alpha / (alpha + beta)
		e.Interval = betaInterval(alpha, beta)
		e.Personal = (OwnWeight*e.Rate + float64(e.Own.Successes)) / float64(OwnWeight+e.Own.Trials)
		res.Estimates = append(res.Estimates, e)
	}
	slices.SortStableFunc(res.Estimates, func(x, y PersonalEstimate) int {
		if x.Key == res.Winner || y.Key == res.Winner {
			return cmp.Compare(boolf(y.Key == res.Winner), boolf(x.Key == res.Winner))
		}
		return cmp.Compare(y.Personal, x.Personal)
	})
	return res
}

// bestGroup tests each of the customer's groups for a clearly best
// response and returns the group whose claim says most (see below), its
// winner when its Holm-adjusted p-value is below alpha, and that p-value.
func bestGroup(in PersonalInput, groups map[string]Group) (string, string, float64) {
	type tried struct {
		name   string
		winner string
		n      int
	}
	var ts []tried
	var ps []float64
	for _, name := range in.Member {
		g, ok := groups[name]
		if !ok || name == Everyone {
			continue
		}
		d := Winner(fillArms(in.Overall, g.Arms), in.Alpha, in.MinTrials)
		p := 1.0
		if len(d.Pairs) > 0 {
			p = 0
			for _, pt := range d.Pairs {
				p = math.Max(p, pt.Adjusted)
			}
		}
		lead := ""
		if len(d.Pairs) > 0 {
			lead = d.Pairs[0].Leader
		}
		n := 0
		for _, a := range g.Arms {
			n += a.Magic.Trials
		}
		ts = append(ts, tried{name, lead, n})
		ps = append(ps, p)
	}
	if len(ts) == 0 {
		return Everyone, "", 1
	}
	adj := Holm(ps)
	// Among the groups with a claim, one whose winner differs from
	// everyone's says most about this customer: a large group that merely
	// mirrors everyone would otherwise drown it. Holm's correction covers
	// every group, so choosing among the significant ones keeps the error
	// rate.
	overall := Winner(in.Overall, in.Alpha, in.MinTrials).Winner
	better := func(i, j int) bool {
		si, sj := adj[i] < in.Alpha, adj[j] < in.Alpha
		if si != sj {
			return si
		}
		if di, dj := si && ts[i].winner != overall, sj && ts[j].winner != overall; di != dj {
			return di
		}
		return adj[i] < adj[j] || (adj[i] == adj[j] && ts[i].n > ts[j].n)
	}
	best := 0
	for i := range ts {
		if better(i, best) {
			best = i
		}
	}
	if adj[best] >= in.Alpha || !validAlpha(in.Alpha) {
		return Everyone, "", adj[best]
	}
	return ts[best].name, ts[best].winner, adj[best]
}

// fillArms gives every overall response its count within a group, zero
// where the group never met it, so that an untried response stops a claim.
func fillArms(overall, group []Arm) []Arm {
	have := countsOf(group)
	out := make([]Arm, len(overall))
	for i, a := range overall {
		out[i] = Arm{Key: a.Key, Magic: have[a.Key]}
	}
	return out
}

func countsOf(arms []Arm) map[string]Proportion {
	m := make(map[string]Proportion, len(arms))
	for _, a := range arms {
		m[a.Key] = m[a.Key].Add(a.Magic)
	}
	return m
}

// smoothed is the overall rate with one magic and one other moment added,
// so a response nobody has used yet is taken as a coin toss, not as never.
func smoothed(p Proportion) float64 {
	if !p.Valid() {
		return 0.5
	}
	return (float64(p.Successes) + 1) / (float64(p.Trials) + 2)
}

// strength estimates κ for one response from how its rate varies across
// groups: the expected weighted squared deviation of the groups' rates is
// p(1−p)·[(G−1) + ρ·(N − Σn²/N)] with ρ = 1/(κ+1) the share of variance
// between groups; solving for ρ gives κ. No excess variance gives the
// largest strength (every group keeps to the overall rate).
func strength(key string, p float64, groups []Group) float64 {
	var n, n2, sw float64
	var g int
	for _, gr := range groups {
		if gr.Name == Everyone {
			continue
		}
		c := countsOf(gr.Arms)[key]
		if c.Trials == 0 || !c.Valid() {
			continue
		}
		ni := float64(c.Trials)
		d := c.Rate() - p
		sw += ni * d * d
		n += ni
		n2 += ni * ni
		g++
	}
	if g < 2 || p <= 0 || p >= 1 {
		return maxStrength
	}
	denom := p * (1 - p) * (n - n2/n)
	if denom <= 0 {
		return maxStrength
	}
	rho := (sw - float64(g-1)*p*(1-p)) / denom
	if rho <= 0 {
		return maxStrength
	}
	return math.Min(maxStrength, math.Max(minStrength, 1/rho-1))
}

// betaInterval is the central 95% of Beta(a, b).
func betaInterval(a, b float64) Interval {
	d := distuv.Beta{Alpha: a, Beta: b}
	return Interval{Lo: d.Quantile(0.025), Hi: d.Quantile(0.975)}
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
