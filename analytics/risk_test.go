package analytics

import (
	"slices"
	"testing"
)

func factorTexts(s Score) []string {
	var out []string
	for _, f := range s.Factors {
		out = append(out, f.Text)
	}
	return out
}

// TestRiskExplainsItself checks scores and factors worked out by hand.
func TestRiskExplainsItself(t *testing.T) {
	tests := []struct {
		name    string
		f       RelationshipFacts
		want    int
		factors []ScoreFactor
	}{
		{"quiet, settled customer", RelationshipFacts{TenureDays: 800, HasMoment: true, SilentDays: 20, Moments90: 2, Products: 2},
			5, []ScoreFactor{{"every relationship can end", 5}}},
		{"fresh misery at a touchpoint that matters",
			RelationshipFacts{TenureDays: 800, HasMoment: true, SilentDays: 9, Products: 2,
				Misery: []MiseryGroup{{"Service visit", 2, 9, 9 + 45, 0.3, true}, {"Greeting", 1, 30, 30, 0, true}, {"Renewal", 1, 80, 80, 0.05, false}}},
			// 100·0.3·(1−9/90) = 27 plus 100·0.3·(1−45/90) = 15 is 42; the
			// greeting counts at the minimum weight: 100·0.02·(1−30/90) = 1.33.
			// A renewal misery, unmeasured: 100·0.05·(1−80/90) = 0.56.
			5 + 42 + 1 + 1,
			[]ScoreFactor{{"every relationship can end", 5},
				{"2 misery moments at Service visit in 90 days, the latest 9 days ago (misery there is followed by dissolution 30 points more often)", 42},
				{"a misery moment at Greeting in 90 days, the latest 30 days ago (misery there is followed by dissolution 2 points more often)", 1},
				{"a misery moment at Renewal in 90 days, the latest 80 days ago (its impact is not measured yet)", 1}}},
		{"unhappy and falling", RelationshipFacts{TenureDays: 400, HasMoment: true, SilentDays: 3, Rated90: 4, Rating90: 2.2, RatedPrior: 3, RatingPrior: 4, Products: 1},
			// (3−2.2)·10 = 8; fall of 1.8 · 8 = 14.4.
			5 + 8 + 14,
			[]ScoreFactor{{"every relationship can end", 5}, {"mean rating 2.2 over 90 days", 8}, {"mean rating fell from 4 to 2.2", 14}}},
		{"long silence, products lapsed", RelationshipFacts{TenureDays: 2000, HasMoment: true, SilentDays: 400, EverHeld: 2},
			5 + 20 + 15, []ScoreFactor{{"every relationship can end", 5}, {"silent for over a year", 20}, {"holds no product now (2 holdings before)", 15}}},
		{"delighted advocate", RelationshipFacts{TenureDays: 900, HasMoment: true, SilentDays: 1, Magic90: 6, Products: 3, Referrals: 2},
			0, []ScoreFactor{{"every relationship can end", 5}, {"holds 3 products", -3}, {"6 magic moments in 90 days", -4}, {"has referred 2 customers", -3}}},
		{"dissolved", RelationshipFacts{Dissolved: true, Misery: []MiseryGroup{{"Service visit", 1, 1, 1, 0.3, true}}},
			100, []ScoreFactor{{"the relationship has dissolved", 100}}},
	}
	for _, tt := range tests {
		got := Risk(tt.f)
		if got.Value != tt.want || !slices.Equal(got.Factors, tt.factors) {
			t.Errorf("%s: Risk = %d %+v;\nwant %d %+v", tt.name, got.Value, got.Factors, tt.want, tt.factors)
		}
	}
}

func TestHealthExplainsItself(t *testing.T) {
	f := RelationshipFacts{TenureDays: 900, HasMoment: true, SilentDays: 2, Moments90: 5, Rated90: 4, Rating90: 4.5,
		RatedPrior: 2, RatingPrior: 3.5, Magic90: 2, Products: 3, Referrals: 1,
		Misery: []MiseryGroup{{"Service visit", 1, 40, 40, 0.3, true}}}
	got := Health(f)
	// 50 + (4.5−3.5)·16 + rise 1·6 + 2 magic·4 − 1 misery·6 + 5 moments 6 + 3 products 10 + referral 6 = 96.
	want := []string{"every relationship starts here", "mean rating 4.5 over 90 days", "mean rating rose from 3.5 to 4.5",
		"2 magic moments in 90 days", "1 misery moment in 90 days", "5 moments in 90 days", "holds 3 products", "has referred 1 customer"}
	if got.Value != 96 || !slices.Equal(factorTexts(got), want) {
		t.Errorf("Health = %d %q; want 96 %q", got.Value, factorTexts(got), want)
	}
	sum := 0
	for _, f := range got.Factors {
		sum += f.Points
	}
	if sum != got.Value {
		t.Errorf("Health factors add up to %d; want the score %d", sum, got.Value)
	}
	if h := Health(RelationshipFacts{HasMoment: true, SilentDays: 500, Rated90: 0, EverHeld: 1, Misery: []MiseryGroup{{Touchpoint: "Complaint", N: 9, LatestDaysAgo: 1, SumDaysAgo: 9}}}); h.Value != 0 {
		t.Errorf("Health(silent, lapsed, miserable) = %d; want 0 (clipped)", h.Value)
	}
	if h := Health(RelationshipFacts{Dissolved: true}); h.Value != 0 || len(h.Factors) != 1 {
		t.Errorf("Health(dissolved) = %+v; want 0 with one factor", h)
	}
}
