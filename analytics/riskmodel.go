package analytics

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// RiskHorizonDays is the horizon of dissolution risk: the chance that the
// relationship dissolves within the next 90 days.
const RiskHorizonDays = 90

// Shrinkage of means over few observations: a customer's mean rating (or
// effort) is worked out as if they had also given ShrinkRatings answers
// at the firm's usual value, so two ratings move it little and twenty a lot.
const ShrinkRatings = 1

// The features of the risk model, each a plain figure of the customer as of
// a date. Misery has one more feature per touchpoint, after these.
const (
	featSilence           = iota // log(1 + days since the latest moment, or since joining)
	featSilenceLong              // the same days over 100, up to two years: a long silence weighs more than its log
	featNeverMoment              // 1 when the customer has had no moment at all
	featMoments90                // log(1 + moments in 90 days)
	featRating                   // shrunk mean rating over 90 days, less the firm's usual rating
	featRatingTrend              // shrunk mean rating over 90 days less that of the 90 days before
	featRating365                // shrunk mean rating over 365 days, less the firm's usual rating
	featCalmRating365            // the same of moments that were not misery
	featMagic90                  // log(1 + magic moments in 90 days)
	featEffort                   // shrunk mean effort over 90 days, less the firm's usual effort
	featProducts                 // products held now, up to 5
	featGivenUp                  // holdings given up (ended), up to 5
	featPurchases                // log(1 + moments with revenue in 365 days)
	featReferrals                // 1 when they have referred a customer
	featTenure                   // log(1 + days as a customer)
	featExploration              // 1 in the exploration stage (awareness is the reference)
	featExpansion                // 1 in expansion
	featCommitment               // 1 in commitment
	featCasesOpen                // log(1 + recovery cases still open)
	featCasesRecovered           // log(1 + cases of the last 90 days resolved and recovered)
	featCasesNotRecovered        // log(1 + cases of the last 90 days resolved and followed by misery again)
	featBrokenPromises           // log(1 + promises broken in 365 days)
	featMiseryElsewhere          // fresh misery at touchpoints without a feature of their own
	numBaseFeatures
)

// RiskFeatureNames names the model's features, as docs/risk.md and the API
// name them; misery features are "misery:" and the touchpoint's key.
var RiskFeatureNames = [numBaseFeatures]string{
	"silence", "silence_long", "never_in_touch", "moments_90d", "rating_90d", "rating_trend", "rating_365d", "calm_rating_365d", "magic_90d", "effort_90d",
	"products", "products_given_up", "purchases_365d",
	"referred", "tenure", "stage_exploration", "stage_expansion", "stage_commitment",
	"cases_open", "cases_recovered_90d", "cases_not_recovered_90d", "promises_broken_365d", "misery_elsewhere",
}

// RiskModel is a logistic model of dissolution within RiskHorizonDays:
// log-odds = Intercept + Σ Coef·feature. Means are the features of the
// firm's average customer, from whom each factor's contribution is counted.
type RiskModel struct {
	// Fitted is false for the prior that stands in until the firm has
	// enough history.
	Fitted bool `json:"fitted"`
	// Features are the names of the base features the model was fitted
	// with, in order; a model fitted with others cannot score.
	Features  []string `json:"features"`
	Intercept float64  `json:"intercept"`
	// Touchpoints are the keys of the touchpoints with a misery feature,
	// after the base features in Coef and Means.
	Touchpoints []string  `json:"touchpoints"`
	Coef        []float64 `json:"coef"`
	Means       []float64 `json:"means"`
	// RatingCentre and EffortCentre are the firm's usual rating and
	// effort, towards which a customer's few answers are shrunk.
	RatingCentre float64 `json:"rating_centre"`
	EffortCentre float64 `json:"effort_centre"`
	// Lambda is the strength of the ridge penalty the fit used.
	Lambda float64 `json:"lambda"`
}

// PriorRiskModel is the model that stands in before the firm has enough
// history of its own: round numbers on the log-odds scale, set by hand from
// what customer studies generally find, documented in docs/risk.md. It says
// a typical customer dissolves about 5% of the time in 90 days.
func PriorRiskModel() *RiskModel {
	m := &RiskModel{Intercept: math.Log(0.05 / 0.95), RatingCentre: 4, EffortCentre: 3, Features: RiskFeatureNames[:],
		Coef: make([]float64, numBaseFeatures), Means: make([]float64, numBaseFeatures)}
	set := func(i int, coef, mean float64) { m.Coef[i], m.Means[i] = coef, mean }
	set(featSilence, 0.4, math.Log1p(45))
	set(featSilenceLong, 0.1, 0.45)
	set(featNeverMoment, 0.3, 0)
	set(featMoments90, -0.1, math.Log1p(2))
	set(featRating, -0.5, 0)
	set(featRatingTrend, -0.3, 0)
	set(featRating365, -0.2, 0)
	set(featMagic90, -0.2, 0)
	set(featEffort, 0.15, 0)
	set(featProducts, -0.15, 1)
	set(featGivenUp, 0.3, 0)
	set(featPurchases, -0.1, 0)
	set(featReferrals, -0.3, 0)
	set(featTenure, -0.1, math.Log1p(365))
	set(featCasesOpen, 0.2, 0)
	set(featCasesRecovered, -0.2, 0)
	set(featCasesNotRecovered, 0.4, 0)
	set(featBrokenPromises, 0.3, 0)
	set(featMiseryElsewhere, PriorMiseryCoef, 0)
	return m
}

// Current reports whether the model was fitted with the features this
// version of Rapport works out, so that it can score.
func (m *RiskModel) Current() bool {
	return slices.Equal(m.Features, RiskFeatureNames[:]) && len(m.Coef) == m.width() && len(m.Means) == m.width()
}

// PriorMiseryCoef is what the prior says one fresh misery moment at any
// touchpoint adds to the log-odds.
const PriorMiseryCoef = 0.5

// features fills x (of the model's length) with f's features.
func (m *RiskModel) features(f *RelationshipFacts, x []float64) {
	quiet := f.TenureDays
	if f.HasMoment {
		quiet = f.SilentDays
	}
	x[featSilence] = math.Log1p(math.Max(0, quiet))
	x[featSilenceLong] = math.Min(math.Max(0, quiet), 730) / 100
	x[featNeverMoment] = boolFeature(!f.HasMoment)
	x[featMoments90] = math.Log1p(float64(f.Moments90))
	r90 := shrink(f.Rating90, f.Rated90, m.RatingCentre)
	x[featRating] = r90 - m.RatingCentre
	x[featRatingTrend] = r90 - shrink(f.RatingPrior, f.RatedPrior, m.RatingCentre)
	x[featRating365] = shrink(f.Rating365, f.Rated365, m.RatingCentre) - m.RatingCentre
	x[featCalmRating365] = shrink(f.RatingCalm365, f.RatedCalm365, m.RatingCentre) - m.RatingCentre
	x[featMagic90] = math.Log1p(float64(f.Magic90))
	x[featEffort] = shrink(f.Effort90, f.Efforts90, m.EffortCentre) - m.EffortCentre
	x[featProducts] = math.Min(float64(f.Products), 5)
	x[featGivenUp] = math.Min(float64(max(0, f.EverHeld-f.Products)), 5)
	x[featPurchases] = math.Log1p(float64(f.Purchases365))
	x[featReferrals] = boolFeature(f.Referrals > 0)
	x[featTenure] = math.Log1p(math.Max(0, f.TenureDays))
	x[featExploration] = boolFeature(f.Stage == "exploration")
	x[featExpansion] = boolFeature(f.Stage == "expansion")
	x[featCommitment] = boolFeature(f.Stage == "commitment")
	recoveryFeatures(f.Recovery, m.Means, x)
	x[featMiseryElsewhere] = 0
	for i := range m.Touchpoints {
		x[numBaseFeatures+i] = 0
	}
	for _, g := range f.Misery {
		if i, ok := slices.BinarySearch(m.Touchpoints, g.Key); ok {
			x[numBaseFeatures+i] = g.Fresh()
		} else {
			x[featMiseryElsewhere] += g.Fresh()
		}
	}
}

// recoveryFeatures fills the features of cases and promises; when they
// were not read, the average customer's (means) stand in, so they add
// nothing (none while fitting, before there are means).
func recoveryFeatures(r *RecoveryFacts, means, x []float64) {
	if r == nil {
		for _, i := range []int{featCasesOpen, featCasesRecovered, featCasesNotRecovered, featBrokenPromises} {
			x[i] = 0
			if i < len(means) {
				x[i] = means[i]
			}
		}
		return
	}
	x[featCasesOpen] = math.Log1p(float64(r.OpenCases))
	x[featCasesRecovered] = math.Log1p(float64(r.Recovered))
	x[featCasesNotRecovered] = math.Log1p(float64(r.NotRecovered))
	x[featBrokenPromises] = math.Log1p(float64(r.BrokenPromises))
}

func boolFeature(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// shrink is a mean of n answers pulled towards centre as if ShrinkRatings
// more answers had been at centre.
func shrink(mean float64, n int, centre float64) float64 {
	if n <= 0 {
		return centre
	}
	return (mean*float64(n) + centre*ShrinkRatings) / float64(n+ShrinkRatings)
}

// Fresh is the misery at the touchpoint weighted by how recent it is: each
// moment counts 1 when it has just happened, falling in a straight line to
// nothing after RiskHorizonDays.
func (g MiseryGroup) Fresh() float64 {
	return math.Max(0, float64(g.N)-g.SumDaysAgo/RiskHorizonDays)
}

func (m *RiskModel) width() int { return numBaseFeatures + len(m.Touchpoints) }

// logOdds is the model's log-odds of dissolution for features x.
func (m *RiskModel) logOdds(x []float64) float64 {
	eta := m.Intercept
	for i, c := range m.Coef {
		eta += c * x[i]
	}
	return eta
}

// Probability is the model's chance that the relationship dissolves within
// RiskHorizonDays.
func (m *RiskModel) Probability(f RelationshipFacts) float64 {
	if f.Dissolved {
		return 1
	}
	x := make([]float64, m.width())
	m.features(&f, x)
	return sigmoid(m.logOdds(x))
}

func sigmoid(eta float64) float64 { return 1 / (1 + math.Exp(-eta)) }

// HealthPointsPerLogOdds is how many points of health a change of one in
// the log-odds of dissolving is worth: doubling the odds takes about 9 off.
const HealthPointsPerLogOdds = 12.5

// Scores are a customer's risk and health with their factors, both read
// from the same model.
func (m *RiskModel) Scores(f RelationshipFacts) (risk, health Score) {
	if f.Dissolved {
		return Score{Value: 100, Factors: []ScoreFactor{{"the relationship has dissolved", 100}}},
			Score{Value: 0, Factors: []ScoreFactor{{"the relationship has dissolved", 0}}}
	}
	x := make([]float64, m.width())
	m.features(&f, x)
	eta := m.logOdds(x)
	// The average customer, from whom contributions are counted.
	etaMean := m.logOdds(m.Means)
	groups := m.contributions(&f, x)
	total := 0.0
	for _, g := range groups {
		total += g.logOdds
	}
	p, pMean := sigmoid(eta), sigmoid(etaMean)
	// Risk points: the change from the average customer's chance to this
	// customer's, shared among the factors in proportion to what each adds
	// to the log-odds (the chance's secant slope), so that the points add
	// up exactly and each keeps the sign of its own effect.
	slope := 0.0
	if math.Abs(total) > 1e-12 {
		slope = 100 * (p - pMean) / total
	} else {
		slope = 100 * pMean * (1 - pMean)
	}
	base := "the firm's average customer"
	if !m.Fitted {
		base += " (prior, not yet fitted to the firm's history)"
	}
	riskParts := []part{{base, 100 * pMean}}
	healthParts := []part{{base, 50}}
	for _, g := range groups {
		riskParts = append(riskParts, part{g.text, slope * g.logOdds})
		healthParts = append(healthParts, part{g.text, -HealthPointsPerLogOdds * g.logOdds})
	}
	return sumParts(riskParts, 100*p), sumParts(healthParts, 50-HealthPointsPerLogOdds*(eta-etaMean))
}

type part struct {
	text   string
	points float64
}

// sumParts rounds each part to whole points so that they add up to the
// rounded total (largest remainders take the odd point), leaves out parts
// that round to nothing, and clips the score to 0–100.
func sumParts(parts []part, total float64) Score {
	want := int(math.Round(total))
	rounded := make([]int, len(parts))
	sum := 0
	for i, p := range parts {
		rounded[i] = int(math.Round(p.points))
		sum += rounded[i]
	}
	for sum != want {
		step := 1
		if sum > want {
			step = -1
		}
		best, bestGap := -1, -1.0
		for i, p := range parts {
			// The part whose rounding moved it furthest from its value the
			// other way takes the point.
			gap := (p.points - float64(rounded[i])) * float64(step)
			if gap > bestGap {
				best, bestGap = i, gap
			}
		}
		rounded[best] += step
		sum += step
	}
	s := Score{Value: max(0, min(100, want))}
	for i, p := range parts {
		if rounded[i] != 0 {
			s.Factors = append(s.Factors, ScoreFactor{Text: p.text, Points: rounded[i]})
		}
	}
	return s
}

// contribution is one factor the customer is told of: what its features
// add to the log-odds against the average customer.
type contribution struct {
	text    string
	logOdds float64
}

// contributions groups the features into the factors a person reads, each
// with what the model says it adds, largest first; those that add nothing
// are left out.
func (m *RiskModel) contributions(f *RelationshipFacts, x []float64) []contribution {
	c := func(idx ...int) float64 {
		s := 0.0
		for _, i := range idx {
			s += m.Coef[i] * (x[i] - m.Means[i])
		}
		return s
	}
	var out []contribution
	add := func(text string, v float64) {
		if math.Abs(v) > 1e-9 {
			out = append(out, contribution{text, v})
		}
	}
	add(contactText(f), c(featSilence, featSilenceLong, featNeverMoment, featMoments90))
	add(ratingText(f), c(featRating))
	add(rating365Text(f), c(featRating365, featCalmRating365))
	if f.Rated90 > 0 && f.RatedPrior > 0 {
		add(fmt.Sprintf("mean rating %s over 90 days against %s in the 90 before", spellDecimal(f.Rating90), spellDecimal(f.RatingPrior)), c(featRatingTrend))
	} else {
		add("no rating trend to go on", c(featRatingTrend))
	}
	add(spellCount(f.Magic90, "magic moment", "magic moments")+" in 90 days", c(featMagic90))
	if f.Efforts90 > 0 {
		add(fmt.Sprintf("mean effort %s over 90 days (%s)", spellDecimal(f.Effort90), spellCount(f.Efforts90, "answer", "answers")), c(featEffort))
	} else {
		add("no effort given in 90 days", c(featEffort))
	}
	add(holdingText(f), c(featProducts, featGivenUp))
	add(spellCount(f.Purchases365, "purchase", "purchases")+" in 365 days", c(featPurchases))
	if f.Referrals > 0 {
		add("has referred "+spellCount(f.Referrals, "customer", "customers"), c(featReferrals))
	} else {
		add("has referred no one", c(featReferrals))
	}
	add(fmt.Sprintf("%s as a customer, in %s", spellDays(f.TenureDays), stageName(f.Stage)), c(featTenure, featExploration, featExpansion, featCommitment))
	if r := f.Recovery; r != nil {
		add(casesText(r), c(featCasesOpen, featCasesRecovered, featCasesNotRecovered))
		add(spellCount(r.BrokenPromises, "promise", "promises")+" to them broken in 365 days", c(featBrokenPromises))
	}
	// Misery: each touchpoint where the customer met some is a factor;
	// the rest (the average customer meets a little) make one more.
	rest := c(featMiseryElsewhere)
	for i := range m.Touchpoints {
		j := numBaseFeatures + i
		rest += m.Coef[j] * (x[j] - m.Means[j])
	}
	for _, g := range f.Misery {
		if g.N <= 0 {
			continue
		}
		j := featMiseryElsewhere
		if i, ok := slices.BinarySearch(m.Touchpoints, g.Key); ok {
			j = numBaseFeatures + i
		}
		// The touchpoint's share of the feature, against a mean of none.
		v := m.Coef[j] * g.Fresh()
		if j != featMiseryElsewhere {
			v -= m.Coef[j] * m.Means[j]
		} else if x[j] > 0 {
			v -= m.Coef[j] * m.Means[j] * g.Fresh() / x[j]
		}
		rest -= v
		what := "a misery moment"
		if g.N > 1 {
			what = fmt.Sprintf("%d misery moments", g.N)
		}
		add(fmt.Sprintf("%s at %s in 90 days, the latest %s ago", what, g.Touchpoint, spellDays(g.LatestDaysAgo)), v)
	}
	if len(f.Misery) == 0 {
		add("no misery in 90 days", rest)
	} else {
		add("no misery in 90 days elsewhere", rest)
	}
	slices.SortStableFunc(out, func(a, b contribution) int {
		return -cmpFloat(math.Abs(a.logOdds), math.Abs(b.logOdds))
	})
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func contactText(f *RelationshipFacts) string {
	switch {
	case !f.HasMoment:
		return fmt.Sprintf("no moment in %s as a customer", spellDays(f.TenureDays))
	case f.Moments90 > 0:
		return fmt.Sprintf("%s in 90 days, the latest %s ago", spellCount(f.Moments90, "moment", "moments"), spellDays(f.SilentDays))
	}
	return fmt.Sprintf("silent for %s", spellDays(f.SilentDays))
}

func casesText(r *RecoveryFacts) string {
	var parts []string
	if r.OpenCases > 0 {
		parts = append(parts, spellCount(r.OpenCases, "recovery case", "recovery cases")+" open")
	}
	if r.Recovered > 0 {
		parts = append(parts, spellCount(r.Recovered, "case", "cases")+" of 90 days recovered")
	}
	if r.NotRecovered > 0 {
		parts = append(parts, spellCount(r.NotRecovered, "case", "cases")+" of 90 days not recovered")
	}
	if len(parts) == 0 {
		return "no recovery case open, none recovered or not in 90 days"
	}
	return strings.Join(parts, ", ")
}

// rating365Text says what the customer's ratings of the year were, and
// those given when nothing went wrong where misery lowered some.
func rating365Text(f *RelationshipFacts) string {
	switch {
	case f.Rated365 == 0:
		return "no rating in 365 days"
	case f.RatedCalm365 == f.Rated365:
		return fmt.Sprintf("mean rating %s over 365 days (%s)", spellDecimal(f.Rating365), spellCount(f.Rated365, "rating", "ratings"))
	case f.RatedCalm365 == 0:
		return fmt.Sprintf("mean rating %s over 365 days (%s, each after misery)", spellDecimal(f.Rating365), spellCount(f.Rated365, "rating", "ratings"))
	}
	return fmt.Sprintf("mean rating %s over 365 days (%s), %s when nothing went wrong", spellDecimal(f.Rating365),
		spellCount(f.Rated365, "rating", "ratings"), spellDecimal(f.RatingCalm365))
}

func ratingText(f *RelationshipFacts) string {
	if f.Rated90 == 0 {
		return "no rating in 90 days"
	}
	return fmt.Sprintf("mean rating %s over 90 days (%s)", spellDecimal(f.Rating90), spellCount(f.Rated90, "rating", "ratings"))
}

func holdingText(f *RelationshipFacts) string {
	given := max(0, f.EverHeld-f.Products)
	switch {
	case given > 0:
		return fmt.Sprintf("holds %s, gave up %s", spellCount(f.Products, "product", "products"), spellCount(given, "holding", "holdings"))
	}
	return "holds " + spellCount(f.Products, "product", "products")
}

func stageName(stage string) string {
	if stage == "" {
		return "no stage"
	}
	return stage
}

// RiskExample is a customer as they stood at a date, and whether they
// dissolved within RiskHorizonDays after it.
type RiskExample struct {
	Facts     RelationshipFacts
	Dissolved bool
}

// ErrTooLittleHistory is returned by FitRiskModel when there are too few
// examples or dissolutions to fit a model on.
var ErrTooLittleHistory = errors.New("too little history to fit")

// Fit fits a ridge-penalised logistic regression of dissolution on the
// examples' features by Newton–Raphson (iteratively reweighted least
// squares). Features are standardised first, so that lambda shrinks each
// effect alike towards none: a touchpoint whose misery few customers met
// keeps a coefficient near zero unless the data clearly say otherwise.
// touchpoints are the keys that get a misery feature.
func FitRiskModel(examples []RiskExample, touchpoints []string, lambda float64) (*RiskModel, error) {
	events := 0
	for _, e := range examples {
		if e.Dissolved {
			events++
		}
	}
	if events == 0 || events == len(examples) {
		return nil, ErrTooLittleHistory
	}
	m := &RiskModel{Fitted: true, Lambda: lambda, Features: RiskFeatureNames[:], Touchpoints: slices.Sorted(slices.Values(slices.Compact(slices.Sorted(slices.Values(touchpoints)))))}
	m.RatingCentre, m.EffortCentre = centres(examples)
	p := m.width()
	n := len(examples)
	x := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	row := make([]float64, p)
	for i := range examples {
		m.features(&examples[i].Facts, row)
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("fitting the risk model: feature %s is %v for an example", m.FeatureName(j), v)
			}
		}
		x.SetRow(i, row)
		y[i] = boolFeature(examples[i].Dissolved)
	}
	mean, sd := make([]float64, p), make([]float64, p)
	for j := range p {
		col := mat.Col(nil, j, x)
		var s, ss float64
		for _, v := range col {
			s += v
		}
		mean[j] = s / float64(n)
		for _, v := range col {
			ss += (v - mean[j]) * (v - mean[j])
		}
		sd[j] = math.Sqrt(ss / float64(n))
		switch {
		case sd[j] < 1e-9:
			sd[j] = 0 // a constant feature: left out of the fit
		case j >= featMiseryElsewhere:
			// Misery is penalised per fresh misery moment rather than per
			// standard deviation: misery at a touchpoint few customers
			// meet has a tiny deviation, and standardising would let its
			// effect grow without bound on a handful of customers.
			sd[j] = 1
		}
	}
	z := mat.NewDense(n, p+1, nil)
	for i := range n {
		z.Set(i, 0, 1)
		for j := range p {
			if sd[j] > 0 {
				z.Set(i, j+1, (x.At(i, j)-mean[j])/sd[j])
			}
		}
	}
	beta, err := newtonLogistic(z, y, lambda, float64(events)/float64(n))
	if err != nil {
		return nil, err
	}
	m.Coef, m.Means = make([]float64, p), mean
	m.Intercept = beta[0]
	for j := range p {
		if sd[j] > 0 {
			m.Coef[j] = beta[j+1] / sd[j]
			m.Intercept -= m.Coef[j] * mean[j]
		}
	}
	return m, nil
}

// newtonLogistic maximises the ridge-penalised log-likelihood; column 0 of
// z is the intercept and is not penalised. base is the events' share, where
// the intercept starts.
func newtonLogistic(z *mat.Dense, y []float64, lambda, base float64) ([]float64, error) {
	n, k := z.Dims()
	beta := make([]float64, k)
	beta[0] = math.Log(base / (1 - base))
	grad := mat.NewVecDense(k, nil)
	hess := mat.NewSymDense(k, nil)
	row := make([]float64, k)
	for iter := 0; iter < 50; iter++ {
		g := make([]float64, k)
		h := make([]float64, k*k)
		for i := range n {
			mat.Row(row, i, z)
			eta := 0.0
			for j, v := range row {
				eta += v * beta[j]
			}
			p := sigmoid(eta)
			w, r := p*(1-p), y[i]-p
			for a, va := range row {
				if va == 0 {
					continue
				}
				g[a] += va * r
				wa := w * va
				for b := a; b < k; b++ {
					h[a*k+b] += wa * row[b]
				}
			}
		}
		for a := range k {
			// The intercept is barely penalised: only enough to keep the
			// information matrix invertible when some feature separates
			// who dissolved from who stayed perfectly.
			pen := lambda
			if a == 0 {
				pen = 1e-6
			}
			g[a] -= pen * beta[a]
			h[a*k+a] += pen
			grad.SetVec(a, g[a])
			for b := a; b < k; b++ {
				hess.SetSym(a, b, h[a*k+b])
			}
		}
		var chol mat.Cholesky
		if !chol.Factorize(hess) {
			return nil, errors.New("fitting the risk model: the information matrix is not positive definite")
		}
		var step mat.VecDense
		if err := chol.SolveVecTo(&step, grad); err != nil {
			return nil, fmt.Errorf("fitting the risk model: %w", err)
		}
		// A step longer than maxStep is shortened, so that a near
		// separation cannot throw the estimate far in one iteration.
		const maxStep = 5
		largest := 0.0
		for j := range k {
			largest = math.Max(largest, math.Abs(step.AtVec(j)))
		}
		scale := 1.0
		if largest > maxStep {
			scale = maxStep / largest
		}
		for j := range k {
			beta[j] += scale * step.AtVec(j)
		}
		if largest < 1e-7 {
			return beta, nil
		}
	}
	return beta, nil
}

// centres are the mean rating and effort of the examples' customers who
// gave any, weighting each answer alike.
func centres(examples []RiskExample) (rating, effort float64) {
	var rs, rn, es, en float64
	for _, e := range examples {
		rs += e.Facts.Rating90 * float64(e.Facts.Rated90)
		rn += float64(e.Facts.Rated90)
		es += e.Facts.Effort90 * float64(e.Facts.Efforts90)
		en += float64(e.Facts.Efforts90)
	}
	rating, effort = 4, 3
	if rn > 0 {
		rating = rs / rn
	}
	if en > 0 {
		effort = es / en
	}
	return rating, effort
}

// CalibrationBin is one tenth of the customers ranked by predicted risk:
// how many, the mean predicted chance and the share that dissolved.
type CalibrationBin struct {
	N         int     `json:"n"`
	Predicted float64 `json:"predicted"`
	Observed  float64 `json:"observed"`
}

// Calibration ranks the predictions and splits them into bins of equal size
// (deciles for bins = 10), comparing the mean predicted chance in each with
// the share of positives.
func Calibration(predicted []float64, positive []bool, bins int) []CalibrationBin {
	idx := make([]int, len(predicted))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(predicted[a], predicted[b]) })
	var out []CalibrationBin
	for b := range bins {
		lo, hi := b*len(idx)/bins, (b+1)*len(idx)/bins
		if hi <= lo {
			continue
		}
		var bin CalibrationBin
		for _, i := range idx[lo:hi] {
			bin.N++
			bin.Predicted += predicted[i]
			bin.Observed += boolFeature(positive[i])
		}
		bin.Predicted /= float64(bin.N)
		bin.Observed /= float64(bin.N)
		out = append(out, bin)
	}
	return out
}

// FeatureName names the model's i-th feature.
func (m *RiskModel) FeatureName(i int) string {
	if i < numBaseFeatures {
		return RiskFeatureNames[i]
	}
	return "misery:" + m.Touchpoints[i-numBaseFeatures]
}
