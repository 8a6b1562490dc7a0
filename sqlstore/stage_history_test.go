package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

// TestDatedStageHistory brings a customer's past in: they joined two years
// ago, were dissolved a year ago with their reason, and the history keeps
// those dates. A change dated before the latest known one, or in the future,
// is refused with the field named, and changes nothing.
func TestDatedStageHistory(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		now := s.clock.Now()
		joined := now.AddDate(-2, 0, 0)
		c := s.customer(t, &rapport.Customer{Name: "Ada", CreatedAt: joined})
		if !c.CreatedAt.Equal(joined) {
			t.Fatalf("CreatedAt = %v; want the date given, %v", c.CreatedAt, joined)
		}
		at := func(d time.Time) *time.Time { return &d }
		explored := joined.AddDate(0, 3, 0)
		if _, err := r.stages.SetStage(ctx, c.ID, rapport.StageInput{Stage: rapport.StageExploration, Reason: "first policy", ChangedAt: at(explored)}); err != nil {
			t.Fatalf("SetStage(exploration, dated) = %v", err)
		}
		for _, tc := range []struct {
			name string
			when time.Time
		}{
			{"before the latest change", explored.Add(-time.Hour)},
			{"at the latest change", explored},
			{"in the future", now.Add(time.Hour)},
		} {
			_, err := r.stages.SetStage(ctx, c.ID, rapport.StageInput{Stage: rapport.StageDissolution, Reason: "left",
				DissolutionReason: rapport.DissolutionDefected, ChangedAt: at(tc.when)})
			wantCode(t, tc.name, err, rapport.EINVALID)
			if got := fieldNames(err); !slices.Equal(got, []string{"changed_at"}) {
				t.Errorf("%s: fields = %q; want changed_at", tc.name, got)
			}
		}
		dissolved := now.AddDate(-1, 0, 0)
		st, err := r.stages.SetStage(ctx, c.ID, rapport.StageInput{Stage: rapport.StageDissolution, Reason: "moved to a rival",
			DissolutionReason: rapport.DissolutionDefected, ChangedAt: at(dissolved)})
		if err != nil {
			t.Fatalf("SetStage(dissolution, dated) = %v", err)
		}
		if st.Stage != rapport.StageDissolution || !st.Since.Equal(dissolved) {
			t.Errorf("stage = %s since %v; want dissolution since %v", st.Stage, st.Since, dissolved)
		}
		h, err := r.stages.StageHistory(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range h {
			got = append(got, string(e.To)+"@"+e.ChangedAt.Format(time.DateOnly)+":"+e.DissolutionReason)
		}
		want := []string{"awareness@" + joined.Format(time.DateOnly) + ":", "exploration@" + explored.Format(time.DateOnly) + ":",
			"dissolution@" + dissolved.Format(time.DateOnly) + ":defected"}
		if !slices.Equal(got, want) {
			t.Errorf("history = %q; want %q", got, want)
		}
		// A change made now still comes after the dated ones.
		if _, err := r.stages.SetStage(ctx, c.ID, rapport.StageInput{Stage: rapport.StageExploration, Reason: "came back"}); err != nil {
			t.Fatalf("SetStage(now) = %v", err)
		}

		err = s.customers.CreateCustomer(ctx, &rapport.Customer{Name: "Later", CreatedAt: now.Add(time.Hour)})
		wantCode(t, "CreateCustomer(joining in the future)", err, rapport.EINVALID)
	})
}
