package rapport_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

// handoverUnits draws n customers of a cell: each with a magic and a misery
// chance of their own, moments before and after, and after the day their
// chances move by drop (magic down, misery up) and a chance to dissolve.
func handoverUnits(rnd *rand.Rand, cell string, n int, drop, dissolve float64) []rapport.HandoverUnit {
	units := make([]rapport.HandoverUnit, n)
	for i := range units {
		u := &units[i]
		u.Cell = cell
		magic := math.Min(0.9, math.Max(0.05, 0.3+0.1*rnd.NormFloat64()))
		misery := math.Min(0.5, math.Max(0.02, 0.1+0.05*rnd.NormFloat64()))
		moments := func(magic, misery float64) (m, mg, ms, rated int, sum float64) {
			m = 1 + rnd.IntN(7)
			for range m {
				x := rnd.Float64()
				r := 4
				switch {
				case x < magic:
					mg, r = mg+1, 5
				case x < magic+misery:
					ms, r = ms+1, 2
				}
				rated++
				sum += float64(r)
			}
			return
		}
		u.MomentsBefore, u.MagicBefore, u.MiseryBefore, u.RatedBefore, u.RatingSumBefore = moments(magic, misery)
		u.MomentsAfter, u.MagicAfter, u.MiseryAfter, u.RatedAfter, u.RatingSumAfter = moments(math.Max(0, magic-drop), misery+drop)
		u.Dissolved = rnd.Float64() < dissolve
	}
	return units
}

// simulateHandovers is a firm where Tom's customers' magic falls by drop
// (and misery rises by as much), Ann's do not, both against 600 comparable
// customers in two cells, whose own figures drift: magic falls 5 points for
// everyone after the day, which the comparison must not blame on handovers.
func simulateHandovers(seed uint64, drop float64) *rapport.HandoverReport {
	rnd := rand.New(rand.NewPCG(seed, 9))
	var comparables []rapport.HandoverUnit
	for _, cell := range []string{"d1 commitment 0", "d1 expansion 1"} {
		comparables = append(comparables, handoverUnits(rnd, cell, 300, 0.05, 0.05)...)
	}
	tom := append(handoverUnits(rnd, "d1 commitment 0", 60, 0.05+drop, 0.05), handoverUnits(rnd, "d1 expansion 1", 60, 0.05+drop, 0.05)...)
	ann := append(handoverUnits(rnd, "d1 commitment 0", 60, 0.05, 0.05), handoverUnits(rnd, "d1 expansion 1", 60, 0.05, 0.05)...)
	groups := []rapport.HandoverGroupUnits{
		{Kind: "all", Name: "Everyone", Units: append(append([]rapport.HandoverUnit{}, tom...), ann...)},
		{Kind: "person", ID: "tom", Name: "Tom Reed", Units: tom},
		{Kind: "person", ID: "ann", Name: "Ann Lee", Units: ann},
	}
	return rapport.NewHandoverReport(groups, comparables, rapport.HandoverMatch{RiskBand: true, RiskModel: "fitted"}, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
}

func handoverEffect(t *testing.T, r *rapport.HandoverReport, group, key string) rapport.HandoverEffect {
	t.Helper()
	for _, g := range r.Groups {
		if g.Name != group {
			continue
		}
		for _, e := range g.Effects {
			if e.Key == key {
				return e
			}
		}
	}
	t.Fatalf("no %s for %s", key, group)
	return rapport.HandoverEffect{}
}

// TestHandoverReportFindsPlantedDrop plants a 15-point drop in magic rate
// for one receiving person's customers, over many firms: the report names
// them with an interval that holds the drop at about the stated rate, and
// does not blame the other person, whose customers only drifted as the
// comparable customers did.
func TestHandoverReportFindsPlantedDrop(t *testing.T) {
	const firms = 200
	named, covered, blamed := 0, 0, 0
	for seed := range uint64(firms) {
		r := simulateHandovers(seed, 0.15)
		e := handoverEffect(t, r, "Tom Reed", "magic_rate")
		if e.Hurt {
			named++
			if !strings.Contains(e.Verdict, "Handovers to Tom Reed hurt") {
				t.Fatalf("verdict %q", e.Verdict)
			}
		}
		if *e.Low <= -0.15 && -0.15 <= *e.High {
			covered++
		}
		for _, key := range []string{"magic_rate", "misery_rate", "mean_rating", "dissolution"} {
			if handoverEffect(t, r, "Ann Lee", key).Hurt {
				blamed++
			}
		}
	}
	t.Logf("%d firms: Tom named in %d, interval held the drop in %d; Ann blamed in %d", firms, named, covered, blamed)
	if named < firms*9/10 {
		t.Errorf("the drop was found in %d of %d firms; want at least 90%%", named, firms)
	}
	if covered < 180 {
		t.Errorf("the interval held the planted drop in %d of %d; want about 95%%", covered, firms)
	}
	if blamed > firms*6/100 {
		t.Errorf("handovers to Ann were blamed in %d of %d firms; want at most about 5%%", blamed, firms)
	}
}

// TestHandoverReportNoDropNoBlame: when handovers change nothing (customers
// drift as comparable ones do), a report that says any handover hurt is a
// false alarm, kept at most at 5% by Holm's adjustment.
func TestHandoverReportNoDropNoBlame(t *testing.T) {
	const firms = 400
	alarms := 0
	for seed := range uint64(firms) {
		if r := simulateHandovers(5000+seed, 0); len(r.Hurts) > 0 {
			alarms++
		}
	}
	rate := float64(alarms) / firms
	t.Logf("%d firms without a drop: %d reports said handovers hurt (%.1f%%)", firms, alarms, 100*rate)
	if limit := 0.05 + 3*math.Sqrt(0.05*0.95/firms); rate > limit {
		t.Errorf("false alarms in %.1f%% of firms; want at most %.1f%%", 100*rate, 100*limit)
	}
}

// TestHandoverReportLeavesOutUnmatched: handed customers in a cell without
// two comparable customers (here the high band, which no customer who kept
// their owner shared) are left out and counted, and the rest are still
// compared; the report says what it matched on.
func TestHandoverReportLeavesOutUnmatched(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 3))
	comparables := handoverUnits(rnd, "d1 commitment low", 300, 0.05, 0.05)
	comparables = append(comparables, handoverUnits(rnd, "d1 commitment high", 1, 0.05, 0.05)...)
	low := handoverUnits(rnd, "d1 commitment low", 80, 0.05, 0.05)
	high := handoverUnits(rnd, "d1 commitment high", 7, 0.3, 0.5)
	for i := range low {
		low[i].Risk = rapport.BandLow
	}
	for i := range high {
		high[i].Risk = rapport.BandHigh
	}
	// Two of the medium band, whose three comparable customers had no
	// moment at all: their dissolution is compared, their rates cannot be.
	comparables = append(comparables, make([]rapport.HandoverUnit, 3)...)
	medium := handoverUnits(rnd, "d1 commitment medium", 2, 0.05, 0.05)
	for i := range comparables[len(comparables)-3:] {
		comparables[len(comparables)-3+i].Cell = "d1 commitment medium"
	}
	for i := range medium {
		medium[i].Risk = rapport.BandMedium
	}
	units := append(append(low, high...), medium...)
	r := rapport.NewHandoverReport([]rapport.HandoverGroupUnits{{Kind: "all", Name: "All handovers", Units: units}}, comparables,
		rapport.HandoverMatch{RiskBand: true, RiskModel: "prior", Sample: 5000}, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	g := r.Groups[0]
	if g.Customers != 89 || g.Unmatched != 7 {
		t.Errorf("%d customers, %d unmatched; want 89 and the 7 of the high band", g.Customers, g.Unmatched)
	}
	want := []rapport.HandoverBandCount{{Band: rapport.BandLow, Customers: 80, Comparables: 300},
		{Band: rapport.BandMedium, Customers: 2, Comparables: 3}, {Band: rapport.BandHigh, Customers: 7, Comparables: 1}}
	if !slices.Equal(g.RiskBands, want) {
		t.Errorf("risk bands %+v; want %+v", g.RiskBands, want)
	}
	if e := handoverEffect(t, r, "All handovers", "magic_rate"); e.Difference == nil || e.Hurt || e.Compared != 80 {
		t.Errorf("magic rate %+v; want the 80 of the low band compared, and no drop there", e)
	}
	if e := handoverEffect(t, r, "All handovers", "dissolution"); e.Difference == nil || e.Compared != 82 {
		t.Errorf("dissolution %+v; want the 82 of the low and medium bands compared", e)
	}
	if len(r.MatchedOn) != 3 || r.MatchedOn[2] != "risk_band" ||
		!strings.Contains(r.Matching, "the prior model") || !strings.Contains(r.Matching, "an even sample of 5,000 was") {
		t.Errorf("matched on %q: %q", r.MatchedOn, r.Matching)
	}
}
