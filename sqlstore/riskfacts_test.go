package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestRecoveryFactsAsOf checks that the risk model reads a customer's cases
// and promises as they stood at a past date: a case resolved later was open
// then, a resolved case counts as recovered only once a moment that is not
// misery followed it, cases older than 90 days no longer count unless still
// open, and a promise counts as broken from the day it broke.
func TestRecoveryFactsAsOf(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		day := 24 * time.Hour
		ada := s.customer(t, &rapport.Customer{Name: "Ada"})
		grace := s.customer(t, &rapport.Customer{Name: "Grace"})
		s.record(t, s.misery(ada.ID, "complaint"))
		s.record(t, s.misery(grace.ID, "service"))
		promise := &rapport.Promise{CustomerID: grace.ID, Text: "Call back with the refund", DueAt: epoch.Add(2 * day)}
		promises := sqlstore.NewPromiseService(s.db)
		if err := promises.CreatePromise(ctx, promise); err != nil {
			t.Fatal(err)
		}

		s.clock.Add(day) // epoch + 1 day: Ada's case is resolved
		c := s.cases(t, rapport.CaseFilter{CustomerID: ada.ID})[0]
		status, resolution := rapport.CaseResolved, "Refunded the delivery"
		if _, err := sqlstore.NewRecoveryService(s.db).UpdateCase(ctx, c.ID, rapport.CaseUpdate{Status: &status, Resolution: &resolution}); err != nil {
			t.Fatal(err)
		}
		s.clock.Add(2 * day) // epoch + 3 days: she is back, and content; Grace's promise broke
		s.record(t, s.moment(ada.ID))
		if _, err := promises.SetPromiseStatus(ctx, promise.ID, rapport.PromiseBroken); err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			at          time.Time
			ada, grace  analytics.RecoveryFacts
			description string
		}{
			{epoch.Add(12 * time.Hour), analytics.RecoveryFacts{OpenCases: 1}, analytics.RecoveryFacts{OpenCases: 1}, "both cases open"},
			{epoch.Add(2 * day), analytics.RecoveryFacts{}, analytics.RecoveryFacts{OpenCases: 1}, "Ada's case resolved, no moment since"},
			{epoch.Add(3 * day), analytics.RecoveryFacts{Recovered: 1}, analytics.RecoveryFacts{OpenCases: 2, BrokenPromises: 1}, "Ada recovered; Grace's promise broke and opened a case"},
			{epoch.Add(100 * day), analytics.RecoveryFacts{}, analytics.RecoveryFacts{OpenCases: 2, BrokenPromises: 1}, "Ada's case older than 90 days; Grace's still open"},
			{epoch.Add(400 * day), analytics.RecoveryFacts{}, analytics.RecoveryFacts{OpenCases: 2}, "the broken promise older than 365 days"},
		} {
			got, err := sqlstore.RecoveryFactsAsOf(ctx, s.db, []string{ada.ID, grace.ID}, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if *got[ada.ID] != tc.ada || *got[grace.ID] != tc.grace {
				t.Errorf("%s: Ada %+v, Grace %+v; want %+v and %+v", tc.description, *got[ada.ID], *got[grace.ID], tc.ada, tc.grace)
			}
		}
		// Today, scoring reads the cases open now by their status: the same
		// as reading them as of now.
		now, err := sqlstore.RecoveryFactsNow(ctx, s.db, []string{ada.ID, grace.ID})
		if err != nil {
			t.Fatal(err)
		}
		asOf, err := sqlstore.RecoveryFactsAsOf(ctx, s.db, []string{ada.ID, grace.ID}, s.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{ada.ID, grace.ID} {
			if *now[id] != *asOf[id] || *now[id] == (analytics.RecoveryFacts{}) && id == grace.ID {
				t.Errorf("customer %s today: %+v as scoring reads it, %+v as of now", id, *now[id], *asOf[id])
			}
		}
	})
}

// TestRiskModelOfOtherFeaturesWaitsForRefit checks that a model stored by
// a version of Rapport that worked out other features does not score:
// the prior stands in, labelled so, and the model is due to be refitted.
func TestRiskModelOfOtherFeaturesWaitsForRefit(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		_, err := s.raw.Exec(`INSERT INTO risk_models (name, model, fitted_at, track_record) VALUES ('current', $1, $2, '{}')`,
			`{"model": {"fitted": true, "features": ["silence", "silence_long"], "coef": [0.5, 0.1], "means": [3, 0.4]}, "info": {}}`,
			s.clock.Now().UnixMicro())
		if err != nil {
			t.Fatal(err)
		}
		due, err := sqlstore.NewRiskService(s.db).RiskDue(ctx)
		if err != nil || !due {
			t.Errorf("RiskDue = %v, %v; want true for a model of other features", due, err)
		}
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		h, err := sqlstore.NewHealthService(s.db).CustomerHealth(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.RiskFactors) == 0 || !strings.Contains(h.RiskFactors[0].Text, "prior") {
			t.Errorf("risk factors %+v; want the prior's, labelled so", h.RiskFactors)
		}
	})
}
