package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
	"github.com/rapport-crm/rapport/sqlstore"
)

// wantFactors checks that a score's factors add up to total, and that each
// named factor is there with points of the sign given.
func wantFactors(t *testing.T, what string, total int, factors []rapport.Factor, sign int, texts ...string) {
	t.Helper()
	sum := 0
	for _, f := range factors {
		sum += f.Points
	}
	if sum != total {
		t.Errorf("%s factors %s add up to %d; want %d", what, show(factors), sum, total)
	}
	for _, text := range texts {
		i := slices.IndexFunc(factors, func(f rapport.Factor) bool { return f.Text == text })
		if i < 0 {
			t.Errorf("%s factors %s; want %q", what, show(factors), text)
			continue
		}
		if factors[i].Points*sign <= 0 {
			t.Errorf("%s factor %q has %d points; want them of sign %+d", what, text, factors[i].Points, sign)
		}
	}
}

// TestCustomerHealth checks the measures, scores and factors of one
// customer as moments arrive and time passes.
func TestCustomerHealth(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		r.products(t, "motor", "home")
		ada := s.customer(t, &rapport.Customer{Name: "Ada"})
		r.hold(t, ada.ID, "motor")
		r.hold(t, ada.ID, "home")

		at := func(days int) time.Time { return epoch.Add(-time.Duration(days) * 24 * time.Hour) }
		for _, m := range []*rapport.Moment{
			{Touchpoint: "service", OccurredAt: at(9), Rating: ptr(1), Revenue: 0, Cost: 40},
			{Touchpoint: "complaint", OccurredAt: at(20), Outcome: rapport.OutcomeMisery, Cost: 12},
			{Touchpoint: "purchase", OccurredAt: at(45), Rating: ptr(5), Revenue: 300, Cost: 8},
			{Touchpoint: "query", OccurredAt: at(120), Rating: ptr(4), Cost: 3},
			{Touchpoint: "query", OccurredAt: at(130), Rating: ptr(5), Cost: 3},
			{Touchpoint: "query", OccurredAt: at(400), Rating: ptr(2), Cost: 3},
		} {
			m.CustomerID, m.Channel = ada.ID, rapport.ChannelPhone
			s.record(t, m)
		}
		h, err := r.health.CustomerHealth(ctx, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		mean90, prior := 3.0, 4.5
		last := at(9)
		want := rapport.CustomerMeasures{Moments30d: 2, Moments90d: 3, Moments365d: 5, Rated90d: 2, Rating90d: &mean90,
			RatingPrior90d: &prior, Magic90d: 1, Misery30d: 2, Misery90d: 2, Holdings: 2, Revenue365d: 300, Cost365d: 66,
			LastMomentAt: &last}
		if show(h.Measures) != show(want) {
			t.Errorf("measures =\n%s\nwant\n%s", show(h.Measures), show(want))
		}
		// No model is fitted yet: the prior scores her, and says so; each
		// misery moment is a factor of its own that raises risk and lowers
		// health, and the factors add up to the score.
		wantFactors(t, "risk", h.Risk, h.RiskFactors, +1,
			"the firm's average customer (prior, not yet fitted to the firm's history)",
			"a misery moment at Service visit in 90 days, the latest 9 days ago",
			"a misery moment at Handling a complaint in 90 days, the latest 20 days ago")
		wantFactors(t, "health", h.Health-50, h.HealthFactors[1:], -1,
			"a misery moment at Service visit in 90 days, the latest 9 days ago",
			"a misery moment at Handling a complaint in 90 days, the latest 20 days ago")
		if !h.ComputedAt.Equal(epoch) || h.Stage != rapport.StageExpansion {
			t.Errorf("computed at %v in stage %s; want %v in expansion", h.ComputedAt, h.Stage, epoch)
		}

		// A year later, with nothing in between, the sweep finds her silent.
		s.clock.Add(200 * 24 * time.Hour)
		if _, err := r.health.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		before := h.Risk
		h, _ = r.health.CustomerHealth(ctx, ada.ID)
		silence := "silent for 209 days"
		if h.Measures.Moments90d != 0 || h.Measures.Moments365d != 5 || !slices.ContainsFunc(h.RiskFactors, func(f rapport.Factor) bool {
			return f.Text == silence && f.Points > 0
		}) {
			t.Errorf("after 200 silent days: risk %d %s, measures %s; want a factor %q raising it", h.Risk, show(h.RiskFactors), show(h.Measures), silence)
		}
		t.Logf("risk with fresh misery %d, after 200 silent days %d", before, h.Risk)

		// A new customer is measured as they are added, so that segments
		// see them; one never measured (added by a bulk load, or before
		// measures existed) is measured when asked for.
		bo := s.customer(t, &rapport.Customer{Name: "Bo"})
		if n := s.count(t, "customer_measures", "customer_id = '"+bo.ID+"' AND stage = '"+string(bo.Stage)+"'"); n != 1 || bo.Stage == "" {
			t.Fatalf("a new customer in stage %q has %d measures rows in that stage; want 1", bo.Stage, n)
		}
		if _, err := s.raw.Exec(`DELETE FROM customer_measures WHERE customer_id = '` + bo.ID + `'`); err != nil {
			t.Fatal(err)
		}
		wantRisk, wantHealth := analytics.PriorRiskModel().Scores(analytics.RelationshipFacts{Stage: string(bo.Stage)})
		if h, err := r.health.CustomerHealth(ctx, bo.ID); err != nil || h.Risk != wantRisk.Value || h.Health != wantHealth.Value {
			t.Errorf("CustomerHealth(new) = %s, %v; want risk %d, health %d", show(h), err, wantRisk.Value, wantHealth.Value)
		}
		// The sweep finds a customer never measured, too.
		if _, err := s.raw.Exec(`DELETE FROM customer_measures WHERE customer_id = '` + bo.ID + `'`); err != nil {
			t.Fatal(err)
		}
		if res, err := r.health.Sweep(ctx); err != nil || res.Customers < 1 || s.count(t, "customer_measures", "customer_id = '"+bo.ID+"'") != 1 {
			t.Errorf("Sweep = %+v, %v; want Bo measured again", res, err)
		}
		_, err = r.health.CustomerHealth(ctx, "01NOSUCHCUSTOMER0000000000")
		wantCode(t, "CustomerHealth(unknown)", err, rapport.ENOTFOUND)
	})
}

// TestSurveyAnswerRemeasures checks that a survey answer, which changes a
// moment already counted, leaves the measures and daily totals as a
// rebuild would, not counting the moment twice.
func TestSurveyAnswerRemeasures(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		ada := s.customer(t, &rapport.Customer{Name: "Ada"})
		m := s.moment(ada.ID)
		m.Rating, m.Revenue = nil, 120
		s.record(t, m)
		s.record(t, s.moment(ada.ID))
		surveys := sqlstore.NewSurveyService(s.db)
		link, err := surveys.CreateSurveyLink(ctx, m.ID, 24*time.Hour)
		if err != nil {
			t.Fatalf("CreateSurveyLink = %v", err)
		}
		if err := surveys.AnswerSurvey(ctx, link.Token, rapport.SurveyAnswer{Rating: 1}); err != nil {
			t.Fatalf("AnswerSurvey = %v", err)
		}
		h, err := r.health.CustomerHealth(ctx, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		mean := 2.5
		if got := h.Measures; got.Moments90d != 2 || got.Rated90d != 2 || got.Rating90d == nil || *got.Rating90d != mean ||
			got.Misery90d != 1 || got.Revenue365d != 120 {
			t.Errorf("after the answer measures = %s; want 2 moments, 2 ratings of mean 2.5, 1 misery, revenue 120", show(got))
		}
		day := func() string {
			var moments, rated, misery, purchases int
			var ratingSum float64
			err := s.raw.QueryRow(`SELECT SUM(moments), SUM(rated), SUM(rating_sum), SUM(misery), SUM(purchases) FROM customer_day_stats
				WHERE customer_id = '`+ada.ID+`'`).Scan(&moments, &rated, &ratingSum, &misery, &purchases)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(moments, rated, ratingSum, misery, purchases)
		}
		kept := day()
		if err := s.db.RebuildCustomerMeasures(ctx); err != nil {
			t.Fatal(err)
		}
		if rebuilt := day(); kept != rebuilt || kept != "2 2 5 1 1" {
			t.Errorf("daily totals after the answer = %s; rebuilt %s; want 2 2 5 1 1", kept, rebuilt)
		}
	})
}
