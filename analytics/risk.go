package analytics

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// RelationshipFacts are what a customer's health and dissolution risk are
// worked out from, as of one moment.
type RelationshipFacts struct {
	Dissolved bool
	// TenureDays is how long they have been a customer.
	TenureDays float64
	// SilentDays is the time since their latest moment; HasMoment is false
	// when they have had none.
	SilentDays float64
	HasMoment  bool
	Moments90  int
	// Rated90 ratings with mean Rating90 in the last 90 days; RatedPrior
	// with mean RatingPrior in the 90 days before those.
	Rated90     int
	Rating90    float64
	RatedPrior  int
	RatingPrior float64
	Magic90     int
	// Misery are the misery moments of the last 90 days, by touchpoint.
	Misery []MiseryGroup
	// Products is how many different products they hold; EverHeld how many
	// holdings they ever had.
	Products  int
	EverHeld  int
	Referrals int
}

// MiseryGroup is a customer's misery moments at one touchpoint within the
// horizon, and what misery there is measured to do. Each moment weighs less
// the older it is, in a straight line, so the group's weight follows from
// how many there are and how long ago they were, added up: a customer with
// a thousand misery moments costs as little to score as one with one.
type MiseryGroup struct {
	Touchpoint string // its name, for the explanation
	N          int
	// LatestDaysAgo is how long ago the latest was; SumDaysAgo adds up how
	// long ago each was.
	LatestDaysAgo, SumDaysAgo float64
	// Weight is the measured extra chance of dissolving within 90 days after
	// misery at the touchpoint (the impact's risk difference), or
	// DefaultMiseryWeight when it is not Measured yet.
	Weight   float64
	Measured bool
}

// ScoreFactor is one reason a score moved and by how many points.
type ScoreFactor struct {
	Text   string
	Points int
}

// Score is a 0–100 score with the factors that made it. The factors' points
// add up to the score before it is clipped to 0–100.
type Score struct {
	Value   int
	Factors []ScoreFactor
}

// The weights of the risk and health scores: round numbers, chosen to be
// read; docs/relationships.md explains each and reports how well the risk
// ranks customers on the demo firm.
const (
	// RiskBase is the risk every relationship starts with.
	RiskBase = 5
	// DefaultMiseryWeight is used for misery at a touchpoint whose impact is
	// not measured yet (or with too few customers to trust), and
	// MinMiseryWeight is the least any misery counts.
	DefaultMiseryWeight = 0.05
	MinMiseryWeight     = 0.02
	// MiseryHorizonDays is how long misery weighs on risk: its weight falls
	// in a straight line to nothing after 90 days, the follow-up over which
	// impact is measured, because a customer still here late in that
	// follow-up is past most of the danger.
	MiseryHorizonDays = 90
	// SilentDays and LongSilentDays are the silences that raise risk. The
	// explanations name the threshold passed rather than the days, so that
	// they stay true from one day to the next.
	SilentDays     = 180
	LongSilentDays = 365
	// HealthBase is the health every relationship starts with.
	HealthBase = 50
)

// Risk scores how likely the relationship is to dissolve soon, 0 to 100.
// Misery dominates, each misery moment weighted by the measured impact of
// misery at its touchpoint: that weight is evidence from the firm's own
// customers. The other factors are rules of thumb, not measured, so they are
// kept small: low and falling ratings, long silence and holding nothing add
// a little; delight, three or more products and referrals take a little away.
func Risk(f RelationshipFacts) Score {
	if f.Dissolved {
		return Score{Value: 100, Factors: []ScoreFactor{{"the relationship has dissolved", 100}}}
	}
	var s scorer
	s.add(RiskBase, "every relationship can end")

	// Misery, by touchpoint, worst first: each moment weighs
	// 100·weight·(1 − days ago/horizon), so a group weighs
	// 100·weight·(n − the days ago added up/horizon).
	type group struct {
		MiseryGroup
		points float64
	}
	gs := make([]group, 0, len(f.Misery))
	for _, g := range f.Misery {
		if g.N <= 0 {
			continue
		}
		g.Weight = math.Max(g.Weight, MinMiseryWeight)
		gs = append(gs, group{g, 100 * g.Weight * (float64(g.N) - g.SumDaysAgo/MiseryHorizonDays)})
	}
	slices.SortFunc(gs, func(a, b group) int {
		return cmp.Or(cmp.Compare(b.points, a.points), strings.Compare(a.Touchpoint, b.Touchpoint))
	})
	for _, g := range gs {
		what := "a misery moment"
		if g.N > 1 {
			what = fmt.Sprintf("%d misery moments", g.N)
		}
		why := fmt.Sprintf("misery there is followed by dissolution %s points more often", spellDecimal(100*g.Weight))
		if !g.Measured {
			why = "its impact is not measured yet"
		}
		s.add(g.points, fmt.Sprintf("%s at %s in 90 days, the latest %s ago (%s)", what, g.Touchpoint, spellDays(g.LatestDaysAgo), why))
	}

	if f.Rated90 >= 2 && f.Rating90 < 3 {
		s.add((3-f.Rating90)*10, fmt.Sprintf("mean rating %s over 90 days", spellDecimal(f.Rating90)))
	}
	if drop := f.RatingPrior - f.Rating90; f.Rated90 >= 2 && f.RatedPrior >= 2 && drop >= 0.5 {
		s.add(math.Min(drop*8, 16), fmt.Sprintf("mean rating fell from %s to %s", spellDecimal(f.RatingPrior), spellDecimal(f.Rating90)))
	}
	switch {
	case f.HasMoment && f.SilentDays >= LongSilentDays:
		s.add(20, "silent for over a year")
	case f.HasMoment && f.SilentDays >= SilentDays:
		s.add(10, fmt.Sprintf("silent for over %d days", SilentDays))
	case !f.HasMoment && f.TenureDays >= SilentDays:
		s.add(10, fmt.Sprintf("no moment in over %d days as a customer", SilentDays))
	}
	switch {
	case f.Products == 0 && f.EverHeld > 0:
		s.add(15, fmt.Sprintf("holds no product now (%s before)", spellCount(f.EverHeld, "holding", "holdings")))
	case f.Products == 0 && f.TenureDays >= 90:
		s.add(5, "has never held a product")
	case f.Products >= 3:
		s.add(-3, fmt.Sprintf("holds %d products", f.Products))
	}
	if f.Magic90 > 0 {
		s.add(-math.Min(float64(f.Magic90), 4), spellCount(f.Magic90, "magic moment", "magic moments")+" in 90 days")
	}
	if f.Referrals > 0 {
		s.add(-3, "has referred "+spellCount(f.Referrals, "customer", "customers"))
	}
	return s.score()
}

// Health scores how well the relationship is doing, 0 to 100: ratings,
// delight, how often the customer is in touch, breadth of products and
// referrals raise it; misery, falling ratings and silence lower it.
func Health(f RelationshipFacts) Score {
	if f.Dissolved {
		return Score{Value: 0, Factors: []ScoreFactor{{"the relationship has dissolved", 0}}}
	}
	var s scorer
	s.add(HealthBase, "every relationship starts here")
	if f.Rated90 > 0 {
		s.add((f.Rating90-3.5)*16, fmt.Sprintf("mean rating %s over 90 days", spellDecimal(f.Rating90)))
	}
	if change := f.Rating90 - f.RatingPrior; f.Rated90 >= 2 && f.RatedPrior >= 2 && math.Abs(change) >= 0.5 {
		verb := "rose"
		if change < 0 {
			verb = "fell"
		}
		s.add(math.Max(-12, math.Min(12, change*6)), fmt.Sprintf("mean rating %s from %s to %s", verb, spellDecimal(f.RatingPrior), spellDecimal(f.Rating90)))
	}
	if f.Magic90 > 0 {
		s.add(math.Min(4*float64(f.Magic90), 16), spellCount(f.Magic90, "magic moment", "magic moments")+" in 90 days")
	}
	n := 0
	for _, g := range f.Misery {
		n += g.N
	}
	if n > 0 {
		s.add(-math.Min(6*float64(n), 30), spellCount(n, "misery moment", "misery moments")+" in 90 days")
	}
	switch {
	case f.Moments90 >= 3:
		s.add(6, fmt.Sprintf("%d moments in 90 days", f.Moments90))
	case f.HasMoment && f.SilentDays >= SilentDays:
		s.add(-15, fmt.Sprintf("silent for over %d days", SilentDays))
	case !f.HasMoment && f.TenureDays >= SilentDays:
		s.add(-15, fmt.Sprintf("no moment in over %d days as a customer", SilentDays))
	}
	switch {
	case f.Products >= 2:
		s.add(math.Min(5*float64(f.Products-1), 15), fmt.Sprintf("holds %d products", f.Products))
	case f.Products == 0 && f.EverHeld > 0:
		s.add(-15, "holds no product now")
	}
	if f.Referrals > 0 {
		s.add(6, "has referred "+spellCount(f.Referrals, "customer", "customers"))
	}
	return s.score()
}

// scorer adds up factors, each rounded to whole points; factors that round
// to nothing are left out.
type scorer struct {
	total   int
	factors []ScoreFactor
}

func (s *scorer) add(points float64, text string) {
	p := int(math.Round(points))
	if p == 0 {
		return
	}
	s.total += p
	s.factors = append(s.factors, ScoreFactor{Text: text, Points: p})
}

func (s *scorer) score() Score {
	return Score{Value: max(0, min(100, s.total)), Factors: s.factors}
}

func spellDays(d float64) string {
	n := int(math.Floor(d))
	if n < 1 {
		return "less than a day"
	}
	return spellCount(n, "day", "days")
}

func spellCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// spellDecimal writes x with one decimal, dropping a trailing ".0".
func spellDecimal(x float64) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", x), ".0")
}
