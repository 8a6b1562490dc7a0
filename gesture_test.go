package rapport_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

// simulateGestures draws a rule's n milestones, a share held out, and
// reports on both windows as complete.
func simulateGestures(seed uint64, n int, share float64, tr offerTruth) *rapport.GestureReport {
	rnd := rand.New(rand.NewPCG(seed, 91))
	holdout := int(float64(n) * share)
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	var windows []rapport.OfferWindowUnits
	for _, days := range rapport.OfferWindows {
		t := tr
		t.moments *= float64(days) / 30
		windows = append(windows, rapport.OfferWindowUnits{Days: days, From: start, To: start.AddDate(0, 0, 30+days), Complete: true,
			Offered: simulateUnits(rnd, n-holdout, t, true), Holdout: simulateUnits(rnd, holdout, t, false)})
	}
	g := &rapport.GestureRule{Name: "Anniversary card", HoldoutShare: share}
	return rapport.NewGestureReport(g, windows, start.AddDate(0, 0, 200))
}

// TestGestureReportNoEffectNoVerdict: over many rules whose gestures change
// nothing, a report gives a verdict at most at the stated rate.
func TestGestureReportNoEffectNoVerdict(t *testing.T) {
	const rules = 600
	false_ := 0
	for seed := range uint64(rules) {
		if r := simulateGestures(seed, 800, 0.3, plainFirm); len(r.Verdicts) > 0 {
			false_++
		}
	}
	rate := float64(false_) / rules
	t.Logf("%d rules with no effect: %d reports gave a verdict (%.1f%%)", rules, false_, 100*rate)
	if limit := rapport.OfferAlpha + 3*math.Sqrt(rapport.OfferAlpha*(1-rapport.OfferAlpha)/rules); rate > limit {
		t.Errorf("false verdicts for %.1f%% of rules; want at most %.1f%%", 100*rate, 100*limit)
	}
}

// TestGestureReportFindsPlantedEffect: a 15-point rise in magic rate after
// the gesture is found, and named as the gesture's.
func TestGestureReportFindsPlantedEffect(t *testing.T) {
	tr := plainFirm
	tr.magicUp = 0.15
	const rules = 200
	found := 0
	for seed := range uint64(rules) {
		r := simulateGestures(seed, 800, 0.3, tr)
		for _, v := range r.Verdicts {
			if strings.Contains(v, "gesture customers' magic rate was higher") && strings.Contains(v, "in the gesture's favour") {
				found++
				break
			}
		}
	}
	t.Logf("planted effect found for %d of %d rules", found, rules)
	if found < rules*9/10 {
		t.Errorf("planted effect found for %d of %d rules; want at least 90%%", found, rules)
	}
}

// TestGestureReportWithoutHoldout describes and never judges.
func TestGestureReportWithoutHoldout(t *testing.T) {
	tr := plainFirm
	tr.magicUp = 0.3
	r := simulateGestures(3, 500, 0, tr)
	if len(r.Verdicts) != 0 || !strings.Contains(r.Summary, "holds nobody out") {
		t.Errorf("no holdout: summary %q, verdicts %v", r.Summary, r.Verdicts)
	}
	if m := r.Windows[1].Metrics[0]; m.Offered == nil || m.Holdout != nil {
		t.Errorf("no holdout: magic rate %v against %v; want the chosen's figure alone", m.Offered, m.Holdout)
	}
}

func TestGestureRuleValidate(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		rule  rapport.GestureRule
		field string // "" when valid
	}{
		{rapport.GestureRule{Name: "Card", Milestone: rapport.MilestoneAnniversary, Kind: rapport.OfferGift}, ""},
		{rapport.GestureRule{Name: "Tenth", Milestone: rapport.MilestoneMagicCount, Kind: rapport.OfferUpgrade, Count: 10, HoldoutShare: 0.2}, ""},
		{rapport.GestureRule{Name: "", Milestone: rapport.MilestoneAnniversary, Kind: rapport.OfferGift}, "name"},
		{rapport.GestureRule{Name: "X", Milestone: "birthday", Kind: rapport.OfferGift}, "milestone"},
		{rapport.GestureRule{Name: "X", Milestone: rapport.MilestoneAnniversary, Kind: "cash"}, "kind"},
		{rapport.GestureRule{Name: "X", Milestone: rapport.MilestoneMagicCount, Kind: rapport.OfferGift, Count: -1}, "count"},
		{rapport.GestureRule{Name: "X", Milestone: rapport.MilestoneRecovered, Kind: rapport.OfferGift, Count: 2}, "count"},
		{rapport.GestureRule{Name: "X", Milestone: rapport.MilestoneAnniversary, Kind: rapport.OfferGift, Product: "motor"}, "product"},
		{rapport.GestureRule{Name: "X", Milestone: rapport.MilestoneAnniversary, Kind: rapport.OfferGift, HoldoutShare: 0.005}, "holdout_share"},
		{rapport.GestureRule{Name: "X", Milestone: rapport.MilestoneAnniversary, Kind: rapport.OfferGift, HoldoutShare: 0.6}, "holdout_share"},
		{rapport.GestureRule{Name: "X", Milestone: rapport.MilestoneAnniversary, Kind: rapport.OfferGift, StartsAt: now.Add(48 * time.Hour)}, "starts_at"},
		{rapport.GestureRule{Name: "X", Milestone: rapport.MilestoneAnniversary, Kind: rapport.OfferGift, EndsAt: now.Add(-time.Hour)}, "ends_at"},
		{rapport.GestureRule{Name: "X", Milestone: rapport.MilestoneAnniversary, Kind: rapport.OfferGift, Cost: math.NaN()}, "cost"},
	}
	for _, tt := range tests {
		g := tt.rule
		err := g.Validate(now)
		got := ""
		if fields := rapport.ErrorFields(err); len(fields) > 0 {
			got = fields[0].Field
		} else if err != nil {
			got = err.Error()
		}
		if got != tt.field {
			t.Errorf("Validate(%s, %q) error on %q; want %q", tt.rule.Name, tt.rule.Milestone, got, tt.field)
		}
		if tt.field == "" && (g.Touchpoint != rapport.DefaultGestureTouchpoint || !g.EndsAt.Equal(now.AddDate(0, 0, rapport.DefaultGestureDays))) {
			t.Errorf("Validate(%s) defaults: touchpoint %q, ends %v", g.Name, g.Touchpoint, g.EndsAt)
		}
	}
}

func TestOrdinal(t *testing.T) {
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 100: "100th", 102: "102nd", 111: "111th"} {
		if got := rapport.Ordinal(n); got != want {
			t.Errorf("Ordinal(%d) = %q; want %q", n, got, want)
		}
	}
}

// TestSpaceMilestones: a customer's milestones within GestureSpacing of
// their previous gesture are passed over.
func TestSpaceMilestones(t *testing.T) {
	d := func(n int) time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }
	ms := []rapport.Milestone{{CustomerID: "a", At: d(10)}, {CustomerID: "b", At: d(20)}, {CustomerID: "a", At: d(50)},
		{CustomerID: "c", At: d(60)}, {CustomerID: "a", At: d(101)}}
	got := rapport.SpaceMilestones(ms, map[string]time.Time{"c": d(-40)})
	var ids []string
	for _, m := range got {
		ids = append(ids, m.CustomerID+m.At.Format("0102"))
	}
	if want := "a0111 b0121 c0302 a0412"; strings.Join(ids, " ") != want {
		t.Errorf("SpaceMilestones = %s; want %s", strings.Join(ids, " "), want)
	}
}
