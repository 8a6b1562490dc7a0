package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

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
		factor := func(text string, points int) rapport.Factor { return rapport.Factor{Text: text, Points: points} }
		// Neither touchpoint's impact is measured, so misery weighs the default 5 points.
		wantRisk := []rapport.Factor{factor("every relationship can end", 5),
			factor("a misery moment at Service visit in 90 days, the latest 9 days ago (its impact is not measured yet)", 5),
			factor("a misery moment at Handling a complaint in 90 days, the latest 20 days ago (its impact is not measured yet)", 4),
			factor("mean rating fell from 4.5 to 3", 12),
			factor("1 magic moment in 90 days", -1)}
		if h.Risk != 25 || !slices.Equal(h.RiskFactors, wantRisk) {
			t.Errorf("risk = %d %s; want 25 %s", h.Risk, show(h.RiskFactors), show(wantRisk))
		}
		wantHealth := []rapport.Factor{factor("every relationship starts here", 50), factor("mean rating 3 over 90 days", -8),
			factor("mean rating fell from 4.5 to 3", -9), factor("1 magic moment in 90 days", 4), factor("2 misery moments in 90 days", -12),
			factor("3 moments in 90 days", 6), factor("holds 2 products", 5)}
		if h.Health != 36 || !slices.Equal(h.HealthFactors, wantHealth) {
			t.Errorf("health = %d %s; want 36 %s", h.Health, show(h.HealthFactors), show(wantHealth))
		}
		if !h.ComputedAt.Equal(epoch) || h.Stage != rapport.StageExpansion {
			t.Errorf("computed at %v in stage %s; want %v in expansion", h.ComputedAt, h.Stage, epoch)
		}

		// A year later, with nothing in between, the sweep finds her silent.
		s.clock.Add(200 * 24 * time.Hour)
		if _, err := r.health.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		h, _ = r.health.CustomerHealth(ctx, ada.ID)
		if h.Measures.Moments90d != 0 || h.Measures.Moments365d != 5 || h.Risk != 15 ||
			!slices.Contains(h.RiskFactors, rapport.Factor{Text: "silent for over 180 days", Points: 10}) {
			t.Errorf("after 200 silent days: risk %d %s, measures %s; want 15 with silence", h.Risk, show(h.RiskFactors), show(h.Measures))
		}

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
		if h, err := r.health.CustomerHealth(ctx, bo.ID); err != nil || h.Risk != 5 || h.Health != 50 {
			t.Errorf("CustomerHealth(new) = %s, %v; want risk 5, health 50", show(h), err)
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
