package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestRecoveryFactsAgree makes random histories (moments recorded now and
// dated in the past, singly and in batches, purchases, misery, survey
// answers that change a moment's outcome, cases resolved, reopened and
// resolved as history, dissolutions dated in the past, escalation, erasure
// and deletion of customers) and finds, again and again, the recovery
// report read from the facts the cases keep equal to the report made from
// the whole history as it used to be, over several windows, and the kept
// facts and counts equal to those worked out afresh.
func TestRecoveryFactsAgree(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		for seed := range uint64(3) {
			t.Run(fmt.Sprint(seed), func(t *testing.T) { randomRecoveryHistory(t, s, seed) })
		}
	})
}

func randomRecoveryHistory(t *testing.T, s *store, seed uint64) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 19))
	recovery := sqlstore.NewRecoveryService(s.db)
	stages := sqlstore.NewStageService(s.db)
	surveys := sqlstore.NewSurveyService(s.db)
	erasure := sqlstore.NewErasureService(s.db)
	var customers []string
	newCustomer := func() {
		c := s.customer(t, &rapport.Customer{Name: fmt.Sprintf("Customer %d-%d", seed, len(customers))})
		customers = append(customers, c.ID)
	}
	for range 5 {
		newCustomer()
	}
	var unrated []string // moments a survey may still rate
	touchpoints := []string{"purchase", "purchase", "complaint", "query", "service"}
	moment := func() *rapport.Moment {
		m := s.moment(customers[r.IntN(len(customers))])
		m.Touchpoint = touchpoints[r.IntN(len(touchpoints))]
		// Now, or dated up to 120 days back, as history brought in is.
		m.OccurredAt = s.clock.Now().Add(-time.Duration(r.IntN(120*24)) * time.Hour * time.Duration(r.IntN(2)))
		switch r.IntN(4) {
		case 0:
			m.Rating = ptr(1 + r.IntN(2)) // misery
		case 1:
			m.Rating = nil
		default:
			m.Rating = ptr(3 + r.IntN(3))
		}
		return m
	}
	record := func(ms []*rapport.Moment) {
		if _, err := s.moments.RecordMoments(ctx, ms); err != nil {
			t.Fatalf("RecordMoments = %v", err)
		}
		for _, m := range ms {
			if m.Rating == nil {
				unrated = append(unrated, m.ID)
			}
		}
	}
	cases := func(status rapport.CaseStatus) []*rapport.RecoveryCase {
		return s.cases(t, rapport.CaseFilter{Status: status})
	}
	for step := range 160 {
		switch n := r.IntN(20); {
		case n < 6:
			record([]*rapport.Moment{moment()})
		case n < 8:
			var ms []*rapport.Moment
			for range 1 + r.IntN(8) {
				ms = append(ms, moment())
			}
			record(ms)
		case n < 10:
			s.clock.Add(time.Duration(1+r.IntN(72)) * time.Hour)
		case n < 12:
			if open := cases(rapport.CaseOpen); len(open) > 0 {
				c := open[r.IntN(len(open))]
				if _, err := recovery.UpdateCase(ctx, c.ID, rapport.CaseUpdate{Status: ptr(rapport.CaseResolved), Resolution: ptr("Called back")}); err != nil {
					t.Fatal(err)
				}
			}
		case n == 12:
			if done := cases(rapport.CaseResolved); len(done) > 0 {
				c := done[r.IntN(len(done))]
				if _, err := recovery.UpdateCase(ctx, c.ID, rapport.CaseUpdate{Status: ptr(rapport.CaseOpen)}); err != nil {
					t.Fatal(err)
				}
			}
		case n == 13:
			var rs []sqlstore.PastResolution
			for _, c := range cases(rapport.CaseOpen) {
				if r.IntN(2) == 0 {
					rs = append(rs, sqlstore.PastResolution{MomentID: c.MomentID, Resolution: "Refunded",
						At: c.OpenedAt.Add(time.Duration(r.IntN(96)) * time.Hour)})
				}
			}
			if _, err := recovery.ResolvePastCases(ctx, rs); err != nil {
				t.Fatal(err)
			}
		case n == 14:
			id := customers[r.IntN(len(customers))]
			history, err := stages.StageHistory(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			last := history[len(history)-1]
			in := rapport.StageInput{Stage: rapport.StageDissolution, Reason: "Left", DissolutionReason: "defected"}
			if last.To == rapport.StageDissolution {
				in = rapport.StageInput{Stage: rapport.StageExploration, Reason: "Came back"}
			}
			if span := s.clock.Now().Sub(last.ChangedAt); span > time.Hour && r.IntN(2) == 0 {
				in.ChangedAt = ptr(last.ChangedAt.Add(time.Duration(r.Int64N(int64(span - time.Minute)))).Truncate(time.Second).Add(time.Second))
			}
			if _, err := stages.SetStage(ctx, id, in); err != nil {
				t.Fatalf("SetStage(%+v) = %v", in, err)
			}
		case n == 15:
			if len(unrated) > 0 {
				i := r.IntN(len(unrated))
				id := unrated[i]
				unrated = slices.Delete(unrated, i, i+1)
				link, err := surveys.CreateSurveyLink(ctx, id, 0)
				if err != nil {
					continue // its customer has gone
				}
				if err := surveys.AnswerSurvey(ctx, link.Token, rapport.SurveyAnswer{Rating: 1 + r.IntN(5)}); err != nil {
					t.Fatal(err)
				}
			}
		case n == 16:
			if _, err := recovery.Escalate(ctx); err != nil {
				t.Fatal(err)
			}
		case n == 17:
			// An erased customer keeps their cases and takes no new moments.
			i := r.IntN(len(customers))
			if _, err := erasure.EraseCustomer(ctx, customers[i]); err != nil {
				t.Fatal(err)
			}
			customers = slices.Delete(customers, i, i+1)
			newCustomer()
		case n == 18 && step%4 == 0:
			i := r.IntN(len(customers))
			if err := s.customers.DeleteCustomer(ctx, customers[i]); err != nil {
				t.Fatal(err)
			}
			customers = slices.Delete(customers, i, i+1)
			newCustomer()
		}
		if step%20 == 19 {
			compareRecoveryFacts(t, s, step)
		}
	}
	if len(cases(rapport.CaseResolved)) == 0 {
		t.Fatal("the history resolved no case")
	}
	backfillAgrees(t, s)
	r0, err := recovery.RecoveryReport(ctx, rapport.RecoveryReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if r0.Recovered+r0.NotRecovered == 0 || r0.RecoveredGroup.Repurchased+r0.UnrecoveredGroup.Repurchased == 0 {
		t.Errorf("report = %s; want cases followed by another moment and by purchases", show(r0))
	}
}

// compareRecoveryFacts compares the report read from the kept facts with
// the report made from the whole history, over windows of whole days and of
// parts of days, and the kept facts and counts with those worked out afresh.
func compareRecoveryFacts(t *testing.T, s *store, step int) {
	t.Helper()
	ctx := context.Background()
	recovery := sqlstore.NewRecoveryService(s.db)
	now := s.clock.Now()
	day := now.Truncate(24 * time.Hour)
	for _, f := range []rapport.RecoveryReportFilter{
		{},
		{From: now.Add(-10 * 24 * time.Hour), To: now},
		{From: day.Add(-20 * 24 * time.Hour), To: day},
		{From: day.Add(-3*24*time.Hour + 5*time.Hour), To: day.Add(-24*time.Hour + 7*time.Hour)},
		{From: day.Add(-24*time.Hour + 2*time.Hour), To: day.Add(-24*time.Hour + 20*time.Hour)},
		{From: now.Add(-400 * 24 * time.Hour), To: now.Add(48 * time.Hour)},
	} {
		kept, err := recovery.RecoveryReport(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := sqlstore.RecoveryReportFromScratch(ctx, s.db, f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(kept, want) {
			t.Fatalf("after step %d, report from %s to %s = %s; from the whole history = %s", step, f.From, f.To, show(kept), show(want))
		}
	}
	const facts = `SELECT id, COALESCE(next_moment_id, ''), COALESCE(next_occurred_at, 0), COALESCE(next_outcome, ''), dissolved, repurchased FROM recovery_cases`
	const days = `SELECT day, in_time, escalated, next_outcome, dissolved, repurchased, cases FROM recovery_case_days`
	keptFacts, keptDays := tableRows(t, s, facts), tableRows(t, s, days)
	if err := sqlstore.RebuildCaseFacts(ctx, s.db); err != nil {
		t.Fatal(err)
	}
	if afresh := tableRows(t, s, facts); !slices.Equal(keptFacts, afresh) {
		t.Fatalf("after step %d, kept case facts = %q; worked out afresh = %q", step, keptFacts, afresh)
	}
	if afresh := tableRows(t, s, days); !slices.Equal(keptDays, afresh) {
		t.Fatalf("after step %d, kept counts by day = %q; counted afresh = %q", step, keptDays, afresh)
	}
}

// TestConcurrentCaseFollowUp records moments for the same customers from
// several clients at once while others resolve and reopen their cases and
// dissolve them, and finds the kept follow-up equal to one worked out
// afresh: on PostgreSQL these transactions run at once, and each holds the
// customers before it works out their cases.
func TestConcurrentCaseFollowUp(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		recovery := sqlstore.NewRecoveryService(s.db)
		stages := sqlstore.NewStageService(s.db)
		var customers []string
		for _, name := range []string{"Ada", "Ben", "Cy"} {
			customers = append(customers, s.customer(t, &rapport.Customer{Name: name}).ID)
		}
		for i := range 9 {
			m := s.misery(customers[i%3], "service")
			m.OccurredAt = s.clock.Now().Add(-time.Duration(9-i) * 24 * time.Hour)
			s.record(t, m)
		}
		s.clock.Add(time.Hour)
		open := s.cases(t, rapport.CaseFilter{})
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for client := range 4 {
			wg.Go(func() {
				for b := range 6 {
					var batch []*rapport.Moment
					for i := range 4 {
						m := s.moment(customers[(client+i)%3])
						m.Touchpoint = []string{"purchase", "query"}[(b+i)%2]
						m.OccurredAt = s.clock.Now().Add(-time.Duration(client*24+b*5+i) * time.Hour)
						m.Rating = ptr(1 + (client+b+i)%5)
						batch = append(batch, m)
					}
					if _, err := s.moments.RecordMoments(ctx, batch); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Go(func() {
			for round := range 3 {
				for _, c := range open {
					u := rapport.CaseUpdate{Status: ptr(rapport.CaseResolved), Resolution: ptr("Called back")}
					if round == 1 {
						u = rapport.CaseUpdate{Status: ptr(rapport.CaseOpen)}
					}
					if _, err := recovery.UpdateCase(ctx, c.ID, u); err != nil {
						errs <- err
						return
					}
				}
			}
		})
		wg.Go(func() {
			for _, id := range customers {
				in := rapport.StageInput{Stage: rapport.StageDissolution, Reason: "Left", DissolutionReason: "defected"}
				// The rules may move the stage at the same moment: try again.
				_, err := stages.SetStage(ctx, id, in)
				for rapport.ErrorCode(err) == rapport.ECONFLICT {
					_, err = stages.SetStage(ctx, id, in)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if r, err := recovery.RecoveryReport(ctx, rapport.RecoveryReportFilter{}); err != nil || r.Recovered+r.NotRecovered == 0 {
			t.Fatalf("RecoveryReport = %s, %v; want cases followed by another moment", show(r), err)
		}
		compareRecoveryFacts(t, s, 0)
	})
}

// backfillAgrees forgets the kept facts, works them out as migration 0092
// does for a database that had cases before they were kept, and finds the
// same facts and counts.
func backfillAgrees(t *testing.T, s *store) {
	t.Helper()
	body, err := os.ReadFile("migrations/0092_recovery_facts.sql")
	if err != nil {
		t.Fatal(err)
	}
	_, backfill, ok := strings.Cut(string(body), "-- The cases already kept")
	if !ok {
		t.Fatal("migration 0092 has no backfill")
	}
	_, backfill, _ = strings.Cut(backfill, "\n")
	const facts = `SELECT id, COALESCE(next_moment_id, ''), COALESCE(next_occurred_at, 0), COALESCE(next_outcome, ''), dissolved, repurchased FROM recovery_cases`
	const days = `SELECT day, in_time, escalated, next_outcome, dissolved, repurchased, cases FROM recovery_case_days`
	keptFacts, keptDays := tableRows(t, s, facts), tableRows(t, s, days)
	if _, err := s.raw.Exec(`UPDATE recovery_cases SET next_moment_id = NULL, next_occurred_at = NULL, next_outcome = NULL, dissolved = 0, repurchased = 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.raw.Exec(`DELETE FROM recovery_case_days`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.raw.Exec(backfill); err != nil {
		t.Fatal(err)
	}
	if got := tableRows(t, s, facts); !slices.Equal(keptFacts, got) {
		t.Errorf("case facts worked out by the migration = %q; kept = %q", got, keptFacts)
	}
	if got := tableRows(t, s, days); !slices.Equal(keptDays, got) {
		t.Errorf("counts by day made by the migration = %q; kept = %q", got, keptDays)
	}
}
