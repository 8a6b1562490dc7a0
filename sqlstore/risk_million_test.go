package sqlstore_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestRiskRefitAtScale loads a firm of RAPPORT_RISK_CUSTOMERS customers
// (a million, say) with a few moments each and their past dissolutions,
// and times a refit of the risk model on each database while a moment is
// recorded every 20 ms, as docs/performance.md reports. It runs only when
// asked: loading a million customers takes minutes.
func TestRiskRefitAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("RAPPORT_RISK_CUSTOMERS"))
	if n <= 0 {
		t.Skip("set RAPPORT_RISK_CUSTOMERS to the number of customers to refit at, e.g. 1000000")
	}
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := &store{backend: b.Name, dsn: b.DSN(t), clock: testdb.NewClock(epoch)}
			s.open(t)
			s.raw = testdb.SQL(t, s.dsn)
			start := time.Now()
			moments, dissolved := loadBulkFirm(t, s, n)
			t.Logf("%s: loaded %d customers, %d moments, %d dissolutions in %v", b.Name, n, moments, dissolved, time.Since(start).Round(time.Second))

			var someone string
			if err := s.raw.QueryRow(`SELECT id FROM customers WHERE stage <> 'dissolution' ORDER BY id LIMIT 1`).Scan(&someone); err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			recorded := make(chan []time.Duration)
			go recordMeanwhile(ctx, t, s, someone, stop, recorded)
			start = time.Now()
			tr, err := sqlstore.NewRiskService(s.db).RefitRisk(ctx)
			took := time.Since(start)
			close(stop)
			during := <-recorded
			if err != nil {
				t.Fatalf("RefitRisk = %v", err)
			}
			slowest := slices.Max(append(during, 0))
			t.Logf("%s: refit at %d customers took %v (%d customer-dates, %d dissolutions; AUC %s, baseline %s); %d moments recorded meanwhile, the slowest in %v",
				b.Name, n, took.Round(time.Second), tr.Model.Examples, tr.Model.Events, pct(tr.AUC), pct(tr.BaselineAUC), len(during), slowest.Round(time.Millisecond))
			if tr.Model.Kind != "fitted" {
				t.Errorf("model %s (%s); want fitted", tr.Model.Kind, tr.Model.Note)
			}
			if slowest > 2*time.Second {
				t.Errorf("the slowest moment recorded during the refit took %v; want recording to go on (within 2 s)", slowest)
			}
		})
	}
}

// recordMeanwhile records a moment for the customer every 20 ms until stop
// closes, and then sends how long each took.
func recordMeanwhile(ctx context.Context, t *testing.T, s *store, customer string, stop chan struct{}, took chan<- []time.Duration) {
	var out []time.Duration
	for {
		select {
		case <-stop:
			took <- out
			return
		case <-time.After(20 * time.Millisecond):
		}
		start := time.Now()
		_, err := s.moments.RecordMoment(ctx, &rapport.Moment{CustomerID: customer, Touchpoint: "query", Channel: rapport.ChannelPhone, OccurredAt: s.clock.Now()})
		if err != nil {
			t.Errorf("RecordMoment during the refit = %v", err)
		}
		out = append(out, time.Since(start))
	}
}

// loadBulkFirm writes a firm of n customers straight into the tables, as a
// bulk load does: each joined in the two years before now, has a few
// moments, and may have drifted away or dissolved, with a hazard of
// dissolving that rises with misery, low satisfaction and drift. Every
// customer has a row of figures, as after measuring, due in 30 days. It
// returns how many moments and dissolutions it wrote.
func loadBulkFirm(t *testing.T, s *store, n int) (moments, dissolved int) {
	ctx := context.Background()
	end := s.clock.Now()
	day := func(d float64) time.Time { return end.Add(time.Duration(d * float64(24*time.Hour))) }
	r := rand.New(rand.NewPCG(11, 13))
	l := s.db.Loader()
	defer l.Close()
	for i := range n {
		joined := -720 + 620*r.Float64()
		sat := r.NormFloat64()
		drift := math.Inf(1)
		if r.Float64() < 0.3 {
			drift = joined + (0-joined)*r.Float64()
		}
		id := fmt.Sprintf("c%07d", i)
		var ms []*rapport.Moment
		gone, lastMisery := math.Inf(1), math.Inf(-1)
		for d := joined; d < -1; d++ {
			rate := 0.008
			if d >= drift {
				rate = 0.001
			}
			if r.Float64() < rate {
				misery := r.Float64() < 1/(1+math.Exp(2.2+0.9*sat))
				rating := max(1, min(5, int(math.Round(4+0.7*sat+0.4*r.NormFloat64()-1.8*boolF(misery)))))
				m := &rapport.Moment{ID: fmt.Sprintf("%s-m%d", id, len(ms)), CustomerID: id, Touchpoint: simTouchpoints[r.IntN(len(simTouchpoints))],
					Channel: rapport.ChannelPhone, OccurredAt: day(d + 0.5), RecordedAt: day(d + 0.5), Rating: ptr(rating)}
				m.Outcome, m.OutcomeSource = rapport.DeriveOutcome("", m.Rating)
				if misery {
					m.Outcome, lastMisery = rapport.OutcomeMisery, d
				}
				ms = append(ms, m)
			}
			eta := -0.6*sat + 1.6*boolF(d >= drift) + 1.2*math.Max(0, 1-(d-lastMisery)/90)
			if r.Float64() < simBaseHazard*math.Exp(eta) {
				gone = d + 0.9
				break
			}
		}
		stage := rapport.Stage(rapport.StageAwareness)
		if !math.IsInf(gone, 1) {
			stage = rapport.StageDissolution
		}
		if err := l.AddCustomer(ctx, &rapport.Customer{ID: id, Name: "Customer " + id, Kind: "person", Stage: stage, CreatedAt: day(joined), UpdatedAt: day(joined)}); err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if err := l.AddMoment(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		moments += len(ms)
		if stage == rapport.StageDissolution {
			dissolved++
			for k, ch := range []rapport.StageChange{
				{From: "", To: rapport.StageAwareness, Reason: "joined", ChangedAt: day(joined)},
				{From: rapport.StageAwareness, To: rapport.StageDissolution, Reason: "left", DissolutionReason: rapport.DissolutionLowVolume, ChangedAt: day(gone)},
			} {
				ch.ID, ch.CustomerID, ch.ChangedBy = fmt.Sprintf("%s-s%d", id, k), id, "import"
				if err := l.AddStageChange(ctx, &ch); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.raw.Exec(`INSERT INTO customer_measures (customer_id, health, risk, computed_at, due_at, created_at, stage)
		SELECT id, 50, 5, $1, $2, created_at, stage FROM customers`, end.UnixMicro(), end.AddDate(0, 0, 30).UnixMicro()); err != nil {
		t.Fatal(err)
	}
	return moments, dissolved
}
