package sqlstore_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// firmMix is how a simulated firm's customers leave: misery at some
// touchpoints drives the complaining leavers away, while silent leavers
// drift off without a word, going quiet first.
type firmMix struct {
	name string
	// miseryEffect is what fresh misery at each touchpoint adds to the
	// daily log-hazard of dissolving; touchpoints missing add nothing.
	miseryEffect map[string]float64
	// drifters is the share of customers who at some point disengage.
	drifters float64
}

var firmMixes = []firmMix{
	{"mostly complaining leavers", map[string]float64{"service": 1.6, "complaint": 1.1}, 0.15},
	{"mostly silent leavers", map[string]float64{"service": 0.8}, 0.5},
	{"an even mix", map[string]float64{"service": 1.2, "complaint": 0.7}, 0.3},
}

// simCustomers is how many customers a simulated firm has had.
const simCustomers = 2500

// simTouchpoints are the default catalogue's touchpoints the firm's
// moments happen at.
var simTouchpoints = []string{"service", "complaint", "purchase", "query"}

// simCustomer is one simulated customer and the truth about them.
type simCustomer struct {
	ext      string
	joined   float64 // day, relative to the end (negative)
	z        float64 // their own propensity to leave, never seen
	sat      float64 // satisfaction, seen only through ratings and misery
	drift    float64 // day they disengage; +Inf if never
	moments  []simMoment
	gone     float64 // day they dissolved; +Inf if they did not
	complain bool
}

type simMoment struct {
	day        float64
	touchpoint string
	misery     bool
	rating     int // 0 when none
}

func boolF(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// The truth of every simulated firm: a base daily hazard of dissolving
// (about 4% over 90 days), what satisfaction takes off its log and what
// drifting away adds; each customer's own propensity is never seen.
const (
	simBaseHazard  = 0.0005
	simSatEffect   = 0.6
	simDriftEffect = 1.6
	simPropensity  = 0.25
)

// Moments happen on a day with this chance, before and after drifting
// away.
const simRate, simDriftedRate = 0.06, 0.004

// simMiseryChance is the chance a moment is misery for a customer of
// satisfaction sat.
func simMiseryChance(sat float64) float64 { return 1 / (1 + math.Exp(2.2+0.9*sat)) }

// simRatingMean is the rating a customer of satisfaction sat gives on
// average, before rounding, after a moment that was misery or not; each
// rating strays from it by simRatingNoise (a standard deviation).
func simRatingMean(sat float64, misery bool) float64 { return 4 + 0.7*sat - 1.8*boolF(misery) }

const simRatingNoise = 0.4

// hazard is the customer's true daily hazard at day d, knowing everything
// up to day d.
func (c *simCustomer) hazard(mix firmMix, d float64) float64 {
	eta := c.z - simSatEffect*c.sat
	if d >= c.drift {
		eta += simDriftEffect
	}
	for _, m := range c.moments {
		if m.misery && m.day <= d && d-m.day < 90 {
			eta += mix.miseryEffect[m.touchpoint] * (1 - (d-m.day)/90)
		}
	}
	return simBaseHazard * math.Exp(eta)
}

// truth is the chance the customer dissolves within 90 days after day t,
// knowing everything about them up to t (no future misery): the best any
// model could do from the data of day t.
func (c *simCustomer) truth(mix firmMix, t float64) float64 {
	var cum float64
	for d := 1; d <= 90; d++ {
		day := t + float64(d)
		eta := c.z - simSatEffect*c.sat
		if t >= c.drift {
			eta += simDriftEffect
		}
		for _, m := range c.moments {
			if m.misery && m.day <= t && day-m.day < 90 {
				eta += mix.miseryEffect[m.touchpoint] * (1 - (day-m.day)/90)
			}
		}
		cum += simBaseHazard * math.Exp(eta)
	}
	return 1 - math.Exp(-cum)
}

// simulateFirm lives n customers day by day, joining over the two years
// before the end.
func simulateFirm(seed uint64, mix firmMix, n int) []*simCustomer {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]*simCustomer, n)
	for i := range out {
		c := &simCustomer{ext: fmt.Sprintf("sim-%d", i), joined: -720 + 620*r.Float64(), z: simPropensity * r.NormFloat64(),
			sat: r.NormFloat64(), drift: math.Inf(1), gone: math.Inf(1)}
		if r.Float64() < mix.drifters {
			c.drift = c.joined + (0-c.joined)*r.Float64()
		}
		for d := c.joined; d < -1; d++ {
			rate := simRate
			if d >= c.drift {
				rate = simDriftedRate
			}
			if r.Float64() < rate {
				m := simMoment{day: d + 0.2 + 0.5*r.Float64(), touchpoint: simTouchpoints[r.IntN(len(simTouchpoints))]}
				m.misery = r.Float64() < simMiseryChance(c.sat)
				// Fewer answer a survey after a bad moment than after a good one.
				if answers := 0.7 - 0.3*boolF(m.misery); r.Float64() < answers {
					v := simRatingMean(c.sat, m.misery) + simRatingNoise*r.NormFloat64()
					m.rating = max(1, min(5, int(math.Round(v))))
				}
				c.moments = append(c.moments, m)
			}
			if r.Float64() < c.hazard(mix, d+0.8) {
				c.gone = d + 0.9
				c.complain = d < c.drift
				break
			}
		}
		out[i] = c
	}
	return out
}

// loadSimFirm brings the firm's history in through the store, as a firm
// would through the API, oldest facts first: customers with the day they
// joined, their dissolutions dated in the past (unless dissolutions is
// false), then their moments. It returns the impact of misery measured on
// what was loaded, by touchpoint.
func loadSimFirm(t *testing.T, s *store, customers []*simCustomer, end time.Time, dissolutions bool) map[string]rapport.Impact {
	ctx := context.Background()
	day := func(d float64) time.Time {
		return end.Add(time.Duration(d * float64(24*time.Hour))).Truncate(time.Second)
	}
	imports := sqlstore.NewImportService(s.db)
	cf := &rapport.CustomerFile{}
	for i, c := range customers {
		cf.Rows = append(cf.Rows, rapport.CustomerRow{Row: i + 2, Customer: rapport.Customer{ExternalID: c.ext, Name: "Customer " + c.ext,
			Kind: "person", Stage: rapport.StageAwareness, CreatedAt: day(c.joined)}})
	}
	if res, err := imports.ImportCustomers(ctx, cf, rapport.ImportOptions{}); err != nil || res.Created != len(customers) {
		t.Fatalf("ImportCustomers = %+v, %v", res, err)
	}
	if dissolutions {
		ids := map[string]string{}
		rowsDB, err := s.raw.Query(`SELECT id, external_id FROM customers`)
		if err != nil {
			t.Fatal(err)
		}
		for rowsDB.Next() {
			var id, ext string
			if err := rowsDB.Scan(&id, &ext); err != nil {
				t.Fatal(err)
			}
			ids[ext] = id
		}
		rowsDB.Close()
		stages := sqlstore.NewStageService(s.db)
		for _, c := range customers {
			if math.IsInf(c.gone, 1) {
				continue
			}
			reason := rapport.DissolutionLowVolume
			if c.complain {
				reason = rapport.DissolutionDissatisfied
			}
			at := day(c.gone)
			_, err := stages.SetStage(ctx, ids[c.ext], rapport.StageInput{Stage: rapport.StageDissolution, Reason: "left",
				DissolutionReason: reason, ChangedAt: &at})
			if err != nil {
				t.Fatalf("SetStage(%s, dissolution at %v) = %v", c.ext, at, err)
			}
		}
	}
	var rows []rapport.MomentRow
	for _, c := range customers {
		for _, m := range c.moments {
			// The outcome is the one recorded, as a file's outcome column
			// gives it, not derived from the rating.
			mo := rapport.Moment{Touchpoint: m.touchpoint, Channel: rapport.ChannelPhone, OccurredAt: day(m.day),
				Outcome: rapport.OutcomeNeutral, OutcomeSource: rapport.OutcomeGiven}
			if m.misery {
				mo.Outcome = rapport.OutcomeMisery
			}
			if m.rating > 0 {
				mo.Rating = ptr(m.rating)
			}
			rows = append(rows, rapport.MomentRow{Row: len(rows) + 2, Moment: mo, CustomerExternalID: c.ext})
		}
	}
	for start := 0; start < len(rows); start += rapport.MaxImportRows {
		f := &rapport.MomentFile{Rows: rows[start:min(start+rapport.MaxImportRows, len(rows))]}
		if _, err := imports.ImportMoments(ctx, f, rapport.ImportOptions{}); err != nil {
			t.Fatalf("ImportMoments = %v", err)
		}
	}
	reports := sqlstore.NewReportService(s.db)
	if err := reports.RefreshImpact(ctx); err != nil {
		t.Fatalf("RefreshImpact = %v", err)
	}
	rep, err := reports.TouchpointReport(ctx, rapport.ReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]rapport.Impact{}
	for _, m := range rep.Touchpoints {
		if m.Impact != nil {
			out[m.Key] = *m.Impact
		}
	}
	return out
}

// TestRiskLearnsFromSimulatedFirms generates firms whose truth is known,
// loads their history through the store, refits, and checks the track
// record: the fitted risk ranks customers who went on to dissolve clearly
// above the mean-rating baseline and close to the best any model could do
// from the same data (bestFromData), and its predicted chances agree with
// what happened, decile by decile.
func TestRiskLearnsFromSimulatedFirms(t *testing.T) {
	if testing.Short() {
		t.Skip("simulated firms take seconds to load")
	}
	t.Parallel()
	var results []simResult
	for i, mix := range firmMixes {
		// Two firms of each mix, drawn with different seeds, or those
		// RAPPORT_RISK_SEEDS lists (e.g. "1,2,3,4,5,6").
		for _, seed := range simSeeds(t, uint64(i+1), uint64(i+1+len(firmMixes))) {
			backends := testdb.Backends()
			if seed > 1 {
				backends = backends[:1] // SQLite; one firm is enough on PostgreSQL
			}
			for _, b := range backends {
				t.Run(fmt.Sprintf("%s/seed %d/%s", b.Name, seed, mix.name), func(t *testing.T) {
					s := &store{backend: b.Name, dsn: b.DSN(t), clock: testdb.NewClock(epoch)}
					s.open(t)
					s.raw = testdb.SQL(t, s.dsn)
					results = append(results, checkSimFirm(t, s, seed, mix))
				})
			}
		}
	}
	// Firm by firm the gain is small where ratings alone say much, and the
	// gap to the best swings with the few hundred customers who dissolve in
	// the periods held back; over the firms both must be clear.
	var gain, gap float64
	for _, r := range results {
		gain += r.gain / float64(len(results))
		gap += r.gap / float64(len(results))
	}
	t.Logf("over %d firms, AUC on average %.3f above the mean-rating baseline and %.3f below the best from the data", len(results), gain, gap)
	if gain < 0.025 {
		t.Errorf("AUC above the baseline by %.3f on average; want at least 0.025", gain)
	}
	if gap > 0.025 {
		t.Errorf("AUC below the best from the data by %.3f on average; want at most 0.025", gap)
	}
}

// simFirmSize is how many customers the firms of TestRiskLearnsFromSimulatedFirms
// have had: RAPPORT_RISK_SIM_CUSTOMERS, or else simCustomers. Larger firms
// show how much of the gap to the best is the noise of fitting on few
// dissolutions. Beyond 20,000 a refit reads a sample of each date's
// customers, and the track record's would no longer be the simulation's.
func simFirmSize(t *testing.T) int {
	v := os.Getenv("RAPPORT_RISK_SIM_CUSTOMERS")
	if v == "" {
		return simCustomers
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 500 || n > 20_000 {
		t.Fatalf("RAPPORT_RISK_SIM_CUSTOMERS = %q; want a number of customers from 500 to 20,000", v)
	}
	return n
}

// simSeeds are the seeds RAPPORT_RISK_SEEDS lists, or else def.
func simSeeds(t *testing.T, def ...uint64) []uint64 {
	v := os.Getenv("RAPPORT_RISK_SEEDS")
	if v == "" {
		return def
	}
	var out []uint64
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			t.Fatalf("RAPPORT_RISK_SEEDS = %q: %v", v, err)
		}
		out = append(out, n)
	}
	return out
}

// TestImportedDissolutionsTeachImpact loads the same simulated firm twice,
// with and without its past dissolutions: only with them can impact see
// that misery at the service visit is followed by dissolution, and that
// misery at a query is not.
func TestImportedDissolutionsTeachImpact(t *testing.T) {
	if testing.Short() {
		t.Skip("simulated firms take seconds to load")
	}
	t.Parallel()
	mix := firmMixes[0]
	customers := simulateFirm(1, mix, simCustomers)
	impact := map[bool]map[string]rapport.Impact{}
	for _, with := range []bool{false, true} {
		s := &store{backend: "sqlite", dsn: testdb.SQLiteDSN(t), clock: testdb.NewClock(epoch)}
		s.open(t)
		s.raw = testdb.SQL(t, s.dsn)
		impact[with] = loadSimFirm(t, s, customers, s.clock.Now(), with)
	}
	for _, key := range []string{"service", "complaint", "query"} {
		b, a := impact[false][key], impact[true][key]
		t.Logf("misery at %s (true effect %.1f on the log-hazard): without the dissolutions %d/%d vs %d/%d; with them %d/%d vs %d/%d, risk difference %.3f [%.3f, %.3f]",
			key, mix.miseryEffect[key], b.ExposedEvents, b.Exposed, b.UnexposedEvents, b.Unexposed,
			a.ExposedEvents, a.Exposed, a.UnexposedEvents, a.Unexposed, a.RiskDifference, a.RiskDifferenceCI[0], a.RiskDifferenceCI[1])
		if b.ExposedEvents != 0 || b.RiskDifference != 0 {
			t.Errorf("%s without dissolutions: %+v; want nothing measured", key, b)
		}
	}
	if s := impact[true]["service"]; s.RiskDifferenceCI[0] <= 0 {
		t.Errorf("misery at service with the dissolutions: risk difference %.3f [%.3f, %.3f]; want clearly above 0", s.RiskDifference, s.RiskDifferenceCI[0], s.RiskDifferenceCI[1])
	}
	if q, s := impact[true]["query"], impact[true]["service"]; q.RiskDifference >= s.RiskDifference {
		t.Errorf("risk difference at query %.3f, at service %.3f; want the harmless query below the service visit", q.RiskDifference, s.RiskDifference)
	}
}

// checkSimFirm loads, refits and checks one simulated firm.
func checkSimFirm(t *testing.T, s *store, seed uint64, mix firmMix) simResult {
	ctx := context.Background()
	end := s.clock.Now()
	customers := simulateFirm(seed, mix, simFirmSize(t))
	loadSimFirm(t, s, customers, end, true)

	// Moments are recorded all through the refit, which must not hold
	// them up: it reads outside any transaction.
	var someone string
	if err := s.raw.QueryRow(`SELECT id FROM customers WHERE stage <> 'dissolution' ORDER BY id LIMIT 1`).Scan(&someone); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	recorded := make(chan []time.Duration)
	go func() {
		var took []time.Duration
		for {
			select {
			case <-done:
				recorded <- took
				return
			case <-time.After(20 * time.Millisecond):
			}
			start := time.Now()
			_, err := s.moments.RecordMoment(ctx, &rapport.Moment{CustomerID: someone, Touchpoint: "query", Channel: rapport.ChannelPhone, OccurredAt: end})
			if err != nil {
				t.Errorf("RecordMoment during the refit = %v", err)
			}
			took = append(took, time.Since(start))
		}
	}()
	started := time.Now()
	tr, err := sqlstore.NewRiskService(s.db).RefitRisk(ctx)
	close(done)
	during := <-recorded
	if err != nil {
		t.Fatalf("RefitRisk = %v", err)
	}
	slowest := slices.Max(append(during, 0))
	t.Logf("refit on %s took %v; %d moments recorded meanwhile, the slowest in %v", s.backend, time.Since(started).Round(time.Millisecond),
		len(during), slowest.Round(time.Millisecond))
	if len(during) < 5 || slowest > 2*time.Second {
		t.Errorf("during the refit %d moments were recorded, the slowest in %v; want recording to go on (5 or more, each within 2 s)", len(during), slowest)
	}
	if tr.Model.Kind != "fitted" || tr.AUC == nil {
		t.Fatalf("RefitRisk = model %s (%s), AUC %v; want a fitted model with a track record", tr.Model.Kind, tr.Model.Note, tr.AUC)
	}

	// The truth-optimal ranking on the same customers and periods.
	var truth, fromData []float64
	var positive []bool
	for _, p := range tr.Periods {
		day := p.Sub(end).Hours() / 24
		for _, c := range customers {
			if c.joined > day || c.gone <= day {
				continue
			}
			truth = append(truth, c.truth(mix, day))
			fromData = append(fromData, c.bestFromData(mix, day))
			positive = append(positive, c.gone <= day+90)
		}
	}
	best, _ := analytics.AUC(truth, positive)
	reachable, _ := analytics.AUC(fromData, positive)
	t.Logf("%s, seed %d: %d customer-dates fitted (%d dissolutions); held back %d customers, %d dissolved: AUC %.3f, baseline %.3f, best from the data %.3f, truth-optimal %.3f",
		mix.name, seed, tr.Model.Examples, tr.Model.Events, tr.Customers, tr.Dissolved, *tr.AUC, *tr.BaselineAUC, reachable, best)
	if len(truth) != tr.Customers {
		t.Errorf("track record held back %d customers; the simulation had %d active at those dates", tr.Customers, len(truth))
	}
	if *tr.AUC < *tr.BaselineAUC+0.01 {
		t.Errorf("AUC %.3f; want above the baseline's %.3f by at least 0.01", *tr.AUC, *tr.BaselineAUC)
	}
	// The truth-optimal ranking sees what no data shows; the best from the
	// data is the ceiling a model can reach, and the fit comes close to it.
	if *tr.AUC < reachable-0.035 {
		t.Errorf("AUC %.3f; want within 0.035 of the best from the data, %.3f", *tr.AUC, reachable)
	}
	if !tr.BeatsBaseline {
		t.Errorf("BeatsBaseline = false with AUC %.3f against %.3f", *tr.AUC, *tr.BaselineAUC)
	}
	for i, d := range tr.Calibration {
		// A few points, or three standard errors where a decile is small.
		tol := math.Max(0.04, 3*math.Sqrt(d.Predicted*(1-d.Predicted)/float64(d.Customers)))
		t.Logf("decile %d: %d customers, predicted %.3f, observed %.3f", i+1, d.Customers, d.Predicted, d.Observed)
		if math.Abs(d.Predicted-d.Observed) > tol {
			t.Errorf("decile %d: predicted %.3f, observed %.3f; want within %.3f", i+1, d.Predicted, d.Observed, tol)
		}
	}
	return simResult{gain: *tr.AUC - *tr.BaselineAUC, gap: reachable - *tr.AUC}
}

// simResult is how a fitted model did on a simulated firm: how far its AUC
// is above the baseline's, and how far below the best from the data.
type simResult struct{ gain, gap float64 }
