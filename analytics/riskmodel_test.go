package analytics

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// simulatedFacts draws a customer whose true log-odds of dissolving is
// known: silence and misery at "claims" raise it, ratings and products
// lower it, misery at "greeting" does nothing.
func simulatedFacts(r *rand.Rand) (RelationshipFacts, float64) {
	f := RelationshipFacts{TenureDays: 30 + 1000*r.Float64(), HasMoment: true, Stage: "exploration"}
	f.SilentDays = r.ExpFloat64() * 40
	f.Moments90 = r.IntN(6)
	if n := r.IntN(4); n > 0 {
		f.Rated90, f.Rating90 = n, float64(1+r.IntN(5))
	}
	f.Products = r.IntN(4)
	eta := -3 + 0.6*math.Log1p(f.SilentDays)/math.Log1p(40) - 0.4*float64(f.Products)
	if f.Rated90 > 0 {
		eta -= 0.3 * (f.Rating90 - 3)
	}
	for _, key := range []string{"claims", "greeting"} {
		if r.Float64() < 0.2 {
			g := MiseryGroup{Key: key, Touchpoint: strings.ToUpper(key[:1]) + key[1:], N: 1, LatestDaysAgo: 90 * r.Float64()}
			g.SumDaysAgo = g.LatestDaysAgo
			f.Misery = append(f.Misery, g)
			if key == "claims" {
				eta += 1.5 * g.Fresh()
			}
		}
	}
	return f, eta
}

// TestFitRiskModelRecoversTheTruth fits the model on customers drawn with a
// known truth and checks that it finds misery at claims harmful, misery at
// the greeting harmless, and predicts within a few points of the truth.
func TestFitRiskModelRecoversTheTruth(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var examples []RiskExample
	for range 20000 {
		f, eta := simulatedFacts(r)
		examples = append(examples, RiskExample{Facts: f, Dissolved: r.Float64() < sigmoid(eta)})
	}
	m, err := FitRiskModel(examples, []string{"claims", "greeting"}, 10)
	if err != nil {
		t.Fatalf("FitRiskModel = %v", err)
	}
	claims, greeting := m.Coef[numBaseFeatures], m.Coef[numBaseFeatures+1]
	t.Logf("misery coefficient at claims %.2f (truth 1.5), at the greeting %.2f (truth 0); products %.2f (truth -0.4)", claims, greeting, m.Coef[featProducts])
	if math.Abs(claims-1.5) > 0.3 || math.Abs(greeting) > 0.3 {
		t.Errorf("misery coefficients claims %.2f, greeting %.2f; want about 1.5 and 0", claims, greeting)
	}
	if math.Abs(m.Coef[featProducts]+0.4) > 0.1 {
		t.Errorf("products coefficient %.2f; want about -0.4", m.Coef[featProducts])
	}
	// The model shrinks few ratings towards the usual one where the truth
	// does not, so it cannot match every customer; on average it must.
	var gap float64
	const n = 2000
	for range n {
		f, eta := simulatedFacts(r)
		gap += math.Abs(m.Probability(f)-sigmoid(eta)) / n
	}
	t.Logf("mean gap between fitted and true chance %.4f", gap)
	if gap > 0.015 {
		t.Errorf("mean gap between fitted and true chance %.3f; want at most 0.015", gap)
	}
}

// TestFitRiskModelNeedsBothOutcomes refuses to fit when nobody, or
// everybody, dissolved.
func TestFitRiskModelNeedsBothOutcomes(t *testing.T) {
	examples := []RiskExample{{Dissolved: false}, {Dissolved: false}}
	if _, err := FitRiskModel(examples, nil, 1); err != ErrTooLittleHistory {
		t.Errorf("FitRiskModel(no dissolution) = %v; want ErrTooLittleHistory", err)
	}
}

// TestScoresAreTheModelsOwn checks that risk is the model's chance in
// points, that the factors add up to it, that each factor has the sign of
// its effect, and that health reads the same model the other way.
func TestScoresAreTheModelsOwn(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var examples []RiskExample
	for range 20000 {
		f, eta := simulatedFacts(r)
		examples = append(examples, RiskExample{Facts: f, Dissolved: r.Float64() < sigmoid(eta)})
	}
	m, err := FitRiskModel(examples, []string{"claims", "greeting"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, model := range []*RiskModel{m, PriorRiskModel()} {
		for range 200 {
			f, _ := simulatedFacts(r)
			risk, health := model.Scores(f)
			if want := int(math.Round(100 * model.Probability(f))); risk.Value != want {
				t.Fatalf("risk %d; want the model's chance, %d", risk.Value, want)
			}
			sum := 0
			for _, fc := range risk.Factors {
				sum += fc.Points
			}
			if sum != risk.Value {
				t.Fatalf("risk factors %+v add up to %d; want %d", risk.Factors, sum, risk.Value)
			}
			if !strings.HasPrefix(risk.Factors[0].Text, "the firm's average customer") {
				t.Errorf("first factor %q; want the average customer", risk.Factors[0].Text)
			}
			if model.Fitted == strings.Contains(risk.Factors[0].Text, "prior") {
				t.Errorf("fitted %v, first factor %q: the prior must be labelled, and only the prior", model.Fitted, risk.Factors[0].Text)
			}
			// Health goes the other way from risk, factor by factor.
			hp := map[string]int{}
			for _, fc := range health.Factors {
				hp[fc.Text] = fc.Points
			}
			for _, fc := range risk.Factors[1:] {
				if h, ok := hp[fc.Text]; ok && h*fc.Points > 0 {
					t.Errorf("factor %q: risk %+d and health %+d; want opposite signs", fc.Text, fc.Points, h)
				}
			}
		}
	}
	// A misery at the harmless greeting claims nothing it does not add.
	f := RelationshipFacts{TenureDays: 400, HasMoment: true, SilentDays: 3, Stage: "exploration",
		Misery: []MiseryGroup{{Key: "greeting", Touchpoint: "Greeting", N: 1, LatestDaysAgo: 2, SumDaysAgo: 2}}}
	risk, _ := m.Scores(f)
	if c := m.Coef[numBaseFeatures+1]; math.Abs(c) > 0.1 {
		t.Fatalf("misery at the greeting fitted at %.2f; want about 0", c)
	}
	for _, fc := range risk.Factors {
		if strings.Contains(fc.Text, "Greeting") && fc.Points > 1 {
			t.Errorf("misery at the greeting, fitted as harmless (%.2f), adds %d points", m.Coef[numBaseFeatures+1], fc.Points)
		}
	}
}

// TestRiskOfDissolved is 100, and health 0.
func TestRiskOfDissolved(t *testing.T) {
	risk, health := PriorRiskModel().Scores(RelationshipFacts{Dissolved: true})
	if risk.Value != 100 || health.Value != 0 {
		t.Errorf("dissolved: risk %d, health %d; want 100 and 0", risk.Value, health.Value)
	}
}

// TestCalibration splits ranked predictions into equal bins.
func TestCalibration(t *testing.T) {
	p := []float64{0.9, 0.1, 0.2, 0.8}
	y := []bool{true, false, true, true}
	got := Calibration(p, y, 2)
	want := []CalibrationBin{{2, 0.15, 0.5}, {2, 0.85, 1}}
	near := func(a, b CalibrationBin) bool {
		return a.N == b.N && math.Abs(a.Predicted-b.Predicted) < 1e-9 && math.Abs(a.Observed-b.Observed) < 1e-9
	}
	if len(got) != 2 || !near(got[0], want[0]) || !near(got[1], want[1]) {
		t.Errorf("Calibration = %+v; want %+v", got, want)
	}
}

// BenchmarkScoreCustomer scores one customer with a fitted model: it must
// take well under a millisecond.
func BenchmarkScoreCustomer(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	var examples []RiskExample
	for range 3000 {
		f, eta := simulatedFacts(r)
		examples = append(examples, RiskExample{Facts: f, Dissolved: r.Float64() < sigmoid(eta)})
	}
	tps := []string{"claims", "greeting"}
	for i := range 30 {
		tps = append(tps, "tp"+string(rune('a'+i)))
	}
	m, err := FitRiskModel(examples, tps, 10)
	if err != nil {
		b.Fatal(err)
	}
	f, _ := simulatedFacts(r)
	b.ResetTimer()
	for b.Loop() {
		m.Scores(f)
	}
}

// TestRecoveryInTheModel fits the model on customers whose unrecovered
// cases and broken promises raise their chance of dissolving and whose
// recovered cases do not: the fit finds so, a customer's explanation names
// their cases and promises with the points the model gives them, and a
// customer whose cases were not read is scored as the average customer on
// them, with no such factor.
func TestRecoveryInTheModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var examples []RiskExample
	for range 20000 {
		f, eta := simulatedFacts(r)
		rec := &RecoveryFacts{Recovered: r.IntN(2) * r.IntN(2), NotRecovered: r.IntN(2) * r.IntN(2), BrokenPromises: r.IntN(2) * r.IntN(2)}
		f.Recovery = rec
		eta += 1.0*float64(rec.NotRecovered) + 0.7*float64(rec.BrokenPromises)
		examples = append(examples, RiskExample{Facts: f, Dissolved: r.Float64() < sigmoid(eta)})
	}
	m, err := FitRiskModel(examples, []string{"claims", "greeting"}, 10)
	if err != nil {
		t.Fatalf("FitRiskModel = %v", err)
	}
	// One case or promise is log(2) on the features' scale.
	notRec, rec, broken := m.Coef[featCasesNotRecovered]*math.Ln2, m.Coef[featCasesRecovered]*math.Ln2, m.Coef[featBrokenPromises]*math.Ln2
	t.Logf("one case not recovered %.2f (truth 1.0), recovered %.2f (truth 0), a broken promise %.2f (truth 0.7)", notRec, rec, broken)
	if math.Abs(notRec-1) > 0.25 || math.Abs(rec) > 0.25 || math.Abs(broken-0.7) > 0.25 {
		t.Errorf("effects of a case not recovered %.2f, recovered %.2f, a broken promise %.2f; want about 1.0, 0 and 0.7", notRec, rec, broken)
	}

	f, _ := simulatedFacts(r)
	f.Recovery = &RecoveryFacts{NotRecovered: 1, BrokenPromises: 2}
	risk, _ := m.Scores(f)
	cases, promises := factorPoints(risk, "1 case of 90 days not recovered"), factorPoints(risk, "2 promises to them broken in 365 days")
	if cases <= 0 || promises <= 0 {
		t.Errorf("factors %+v; want the unrecovered case and the broken promises each adding points", risk.Factors)
	}
	f.Recovery = nil
	unread, _ := m.Scores(f)
	for _, fa := range unread.Factors {
		if strings.Contains(fa.Text, "case") || strings.Contains(fa.Text, "promise") {
			t.Errorf("cases not read, yet a factor %q of %d points", fa.Text, fa.Points)
		}
	}
	if unread.Value >= risk.Value {
		t.Errorf("risk %d with the cases not read, %d with an unrecovered case and two broken promises; want it lower", unread.Value, risk.Value)
	}
}

// factorPoints are the points of the factor whose text is text, or 0.
func factorPoints(s Score, text string) int {
	for _, f := range s.Factors {
		if f.Text == text {
			return f.Points
		}
	}
	return 0
}

// TestRating365Words says what the year's ratings were, and those given
// when nothing went wrong only where misery lowered some.
func TestRating365Words(t *testing.T) {
	for _, c := range []struct {
		f    RelationshipFacts
		want string
	}{
		{RelationshipFacts{}, "no rating in 365 days"},
		{RelationshipFacts{Rated365: 4, Rating365: 4.5, RatedCalm365: 4, RatingCalm365: 4.5}, "mean rating 4.5 over 365 days (4 ratings)"},
		{RelationshipFacts{Rated365: 2, Rating365: 2, RatedCalm365: 0}, "mean rating 2 over 365 days (2 ratings, each after misery)"},
		{RelationshipFacts{Rated365: 5, Rating365: 3.6, RatedCalm365: 3, RatingCalm365: 4.667}, "mean rating 3.6 over 365 days (5 ratings), 4.7 when nothing went wrong"},
	} {
		if got := rating365Text(&c.f); got != c.want {
			t.Errorf("rating365Text(%+v) = %q; want %q", c.f, got, c.want)
		}
	}
}
