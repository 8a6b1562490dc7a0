package sqlstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
	"github.com/rapport-crm/rapport/demo"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestRiskPredictsDissolution validates the risk score on the demo firm:
// customers are scored as their figures stood at a cutoff 90 (and 60) days
// before the end of the firm's year, with the model fitted as of the cutoff
// on what was known then, and the ranking is compared with who went on to
// dissolve in the days held back. The area under the ROC curve is the probability
// that a customer who dissolved was ranked riskier than one who did not.
func TestRiskPredictsDissolution(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo firm takes seconds to make")
	}
	t.Parallel()
	ctx := context.Background()
	end := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "demo.db")
	db, err := sqlstore.Open(ctx, path, func() time.Time { return end })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Populate(ctx, db, demo.Config{Seed: 7, Now: end}); err != nil {
		t.Fatalf("Populate = %v", err)
	}
	db.Close()
	inferStagesOnDemo(t, path, end)
	for _, horizon := range []int{90, 60} {
		auc, customers, dissolved, healthAUC := backtestRisk(t, path, end, horizon)
		t.Logf("risk score ROC AUC on the demo firm = %.3f over %d days held back (ranking by low health instead: %.3f): %d customers active at the cutoff, %d of them dissolved after it",
			auc, horizon, healthAUC, customers, dissolved)
		if auc < 0.7 {
			t.Errorf("risk ROC AUC over %d days = %.3f; want at least 0.7", horizon, auc)
		}
	}
}

// backtestRisk scores the customers of the firm in path as they stood
// horizon days before end and measures how well risk ranks those who then
// dissolved: the area under the ROC curve, for risk and for low health.
func backtestRisk(t *testing.T, path string, end time.Time, horizon int) (auc float64, customers, dissolvedAfter int, healthAUC float64) {
	ctx := context.Background()
	cutoff := end.Add(-time.Duration(horizon) * 24 * time.Hour)
	// Everything from here on sees the world as it was at the cutoff.
	db, err := sqlstore.Open(ctx, path, func() time.Time { return cutoff })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tr, err := sqlstore.NewRiskService(db).RefitRisk(ctx)
	if err != nil {
		t.Fatalf("RefitRisk = %v", err)
	}
	t.Logf("risk model at the cutoff: %s, %d customer-dates, %d dissolutions; held back before the cutoff: AUC %s against the baseline's %s",
		tr.Model.Kind, tr.Model.Examples, tr.Model.Events, pct(tr.AUC), pct(tr.BaselineAUC))
	scores, err := sqlstore.NewHealthService(db).ScoreAsOf(ctx, cutoff)
	if err != nil {
		t.Fatalf("ScoreAsOf = %v", err)
	}

	raw := testdb.SQL(t, path)
	dissolved := map[string]bool{}
	rows, err := raw.Query(`SELECT customer_id FROM stage_changes WHERE to_stage = 'dissolution' AND changed_at > ? AND changed_at <= ?`,
		cutoff.UnixMicro(), end.UnixMicro())
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		dissolved[id] = true
	}
	rows.Close()

	var risk, health []float64
	var positive []bool
	for _, s := range scores {
		if s.Stage == rapport.StageDissolution {
			continue // gone already at the cutoff
		}
		risk = append(risk, float64(s.Risk))
		health = append(health, float64(-s.Health))
		positive = append(positive, dissolved[s.CustomerID])
		if dissolved[s.CustomerID] {
			dissolvedAfter++
		}
	}
	auc, ok := analytics.AUC(risk, positive)
	if !ok {
		t.Fatalf("AUC over %d customers, %d dissolved: no answer", len(risk), dissolvedAfter)
	}
	healthAUC, _ = analytics.AUC(health, positive)
	return auc, len(risk), dissolvedAfter, healthAUC
}

func pct(p *float64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprintf("%.3f", *p)
}

// inferStagesOnDemo runs the stage rules over every customer of the demo
// firm, as the sweep would, and checks that they give a believable spread of
// stages that mostly agrees with the demo's own story.
func inferStagesOnDemo(t *testing.T, path string, end time.Time) {
	ctx := context.Background()
	raw := testdb.SQL(t, path)
	stages := func() map[string]int {
		out := map[string]int{}
		rows, err := raw.Query(`SELECT stage, COUNT(*) FROM customers GROUP BY stage`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var stage string
			var n int
			if err := rows.Scan(&stage, &n); err != nil {
				t.Fatal(err)
			}
			out[stage] = n
		}
		return out
	}
	before := stages()
	// A copy, so the backtests see the demo as generated.
	copyPath := filepath.Join(t.TempDir(), "inferred.db")
	if _, err := raw.Exec(`VACUUM INTO '` + copyPath + `'`); err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(ctx, copyPath, func() time.Time { return end })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	copyRaw := testdb.SQL(t, copyPath)
	if _, err := copyRaw.Exec(`UPDATE customer_measures SET due_at = 0`); err != nil {
		t.Fatal(err)
	}
	res, err := sqlstore.NewHealthService(db).Sweep(ctx)
	if err != nil {
		t.Fatalf("Sweep = %v", err)
	}
	raw = copyRaw
	after := stages()
	total := 0
	for _, n := range after {
		total += n
	}
	proposals := map[string]int{}
	rows, err := raw.Query(`SELECT proposed_stage, COUNT(*) FROM customer_stages WHERE proposed_stage <> '' GROUP BY proposed_stage`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var stage string
		var n int
		if err := rows.Scan(&stage, &n); err != nil {
			t.Fatal(err)
		}
		proposals[stage] = n
	}
	rows.Close()
	t.Logf("stage rules on the demo firm: %d customers, %d moved on, %d proposals %v; stages as generated %v, after the rules %v",
		res.Customers, res.StagesApplied, res.Proposals, proposals, before, after)
	for _, stage := range rapport.StageValues() {
		if after[stage] < total/50 {
			t.Errorf("after the rules %d customers are in %s; want at least 2%% of %d", after[stage], stage, total)
		}
	}
	if res.StagesApplied > total/5 {
		t.Errorf("the rules moved %d of %d customers; want them to agree with the demo's story for most", res.StagesApplied, total)
	}
}
