package rapport_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

// offerTruth is a simulated firm's behaviour after an offer: what each arm
// does, so the report can be checked against what is known to be true.
type offerTruth struct {
	magic, revenue    float64 // the holdout's magic chance per moment and mean revenue per purchase
	magicUp, buyUp    float64 // added for offered customers
	revenueUp         float64 // added to each offered purchase
	moments, purchase float64 // mean moments per customer; chance a customer buys
}

// simulateUnits draws n customers of one arm.
func simulateUnits(rnd *rand.Rand, n int, tr offerTruth, offered bool) []rapport.OfferUnit {
	magic, buy, rev := tr.magic, tr.purchase, tr.revenue
	if offered {
		magic, buy, rev = magic+tr.magicUp, buy+tr.buyUp, rev+tr.revenueUp
	}
	units := make([]rapport.OfferUnit, n)
	for i := range units {
		u := &units[i]
		// Customers differ: some are happier than others, so moments of one
		// customer go together and the report must treat customers as units.
		mine := math.Min(0.95, math.Max(0, magic+0.1*rnd.NormFloat64()))
		u.Moments = poissonDraw(rnd, tr.moments)
		for range u.Moments {
			if rnd.Float64() < mine {
				u.Magic++
			}
			if rnd.Float64() < 0.6 {
				u.Rated++
				r := 3 + rnd.IntN(2)
				if rnd.Float64() < mine {
					r = 5
				}
				u.RatingSum += float64(r)
			}
			u.Cost += 2 + rnd.Float64()
		}
		if rnd.Float64() < buy {
			u.Purchases = 1 + rnd.IntN(2)
			for range u.Purchases {
				u.Revenue += rnd.ExpFloat64() * rev
			}
		}
		u.ActiveAtStart = true
		u.Retained = rnd.Float64() < 0.95
		u.CrossSold = rnd.Float64() < 0.05
	}
	return units
}

func poissonDraw(rnd *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rnd.Float64()
		if p < l {
			return k
		}
		k++
	}
}

// simulateOffer draws a firm of n customers, holdout share 10%, and reports
// on both windows as complete.
func simulateOffer(seed uint64, n int, tr offerTruth) *rapport.OfferReport {
	rnd := rand.New(rand.NewPCG(seed, 77))
	holdout := n / 10
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	var windows []rapport.OfferWindowUnits
	for _, days := range rapport.OfferWindows {
		// The 90-day window is the 30-day one and more: drawn with three
		// times the activity, from the same customers' seed.
		scale := float64(days) / 30
		t := tr
		t.moments *= scale
		t.purchase = math.Min(1, t.purchase*math.Sqrt(scale))
		windows = append(windows, rapport.OfferWindowUnits{Days: days, From: start, To: start.AddDate(0, 0, days), Complete: true,
			Offered: simulateUnits(rnd, n-holdout, t, true), Holdout: simulateUnits(rnd, holdout, t, false)})
	}
	return rapport.NewOfferReport(&rapport.Offer{Name: "Test"}, windows, start.AddDate(0, 0, 100))
}

func metric(t *testing.T, r *rapport.OfferReport, days int, key string) rapport.OfferMetric {
	t.Helper()
	for _, w := range r.Windows {
		if w.Days != days {
			continue
		}
		for _, m := range w.Metrics {
			if m.Key == key {
				return m
			}
		}
	}
	t.Fatalf("no %s over %d days in the report", key, days)
	return rapport.OfferMetric{}
}

var plainFirm = offerTruth{magic: 0.2, revenue: 80, moments: 3, purchase: 0.3}

// TestOfferReportFindsPlantedUplift plants an uplift in magic rate and
// revenue for offered customers and checks, over many firms, that the
// report finds both with intervals that hold the truth at about the stated
// rate.
func TestOfferReportFindsPlantedUplift(t *testing.T) {
	tr := plainFirm
	tr.magicUp, tr.buyUp, tr.revenueUp = 0.10, 0.15, 20
	const firms = 200
	foundMagic, foundRevenue, covered, falseFirms := 0, 0, 0, 0
	for seed := range uint64(firms) {
		r := simulateOffer(seed, 3000, tr)
		m := metric(t, r, 30, "magic_rate")
		if m.Significant {
			foundMagic++
			if !strings.Contains(m.Verdict, "magic rate was higher") {
				t.Fatalf("verdict %q; want the magic rate higher", m.Verdict)
			}
		}
		if *m.Low <= tr.magicUp && tr.magicUp <= *m.High {
			covered++
		}
		rev := metric(t, r, 30, "revenue_per_customer")
		if rev.Significant {
			foundRevenue++
		}
		// Retention, cross-sell and cost were left alone: a verdict on any
		// of them is false, and Holm keeps a firm with any at most 5%.
		falseVerdict := false
		for _, w := range r.Windows {
			for _, m := range w.Metrics {
				switch m.Key {
				case "retention", "cross_sell", "cost_per_customer":
					falseVerdict = falseVerdict || m.Significant
				}
			}
		}
		if falseVerdict {
			falseFirms++
		}
	}
	t.Logf("%d firms: magic uplift found in %d, revenue uplift in %d; magic interval held the truth in %d; a false verdict in %d",
		firms, foundMagic, foundRevenue, covered, falseFirms)
	if foundMagic < firms*95/100 {
		t.Errorf("magic uplift found in %d of %d firms; want at least 95%%", foundMagic, firms)
	}
	if foundRevenue < firms*80/100 {
		t.Errorf("revenue uplift found in %d of %d firms; want at least 80%%", foundRevenue, firms)
	}
	// 95% intervals: with 200 firms, fewer than 180 covering is far outside chance.
	if covered < 180 {
		t.Errorf("the magic rate interval held the planted uplift in %d of %d firms; want about 95%%", covered, firms)
	}
	if falseFirms > firms*8/100 {
		t.Errorf("%d of %d firms had a verdict on a figure the offer left alone; want at most about 5%%", falseFirms, firms)
	}
	r := simulateOffer(1, 3000, tr)
	if len(r.Verdicts) == 0 || !strings.Contains(r.Summary, "differ significantly") {
		t.Errorf("summary %q with verdicts %v; want the uplift named", r.Summary, r.Verdicts)
	}
}

// TestOfferReportNoEffectNoVerdict runs many firms where the offer changes
// nothing: a report with any verdict is a false alarm, and Holm's
// adjustment across all fourteen figures must keep them at most at the
// stated 5% (with room for chance over the firms simulated).
func TestOfferReportNoEffectNoVerdict(t *testing.T) {
	const firms = 600
	falseReports := 0
	for seed := range uint64(firms) {
		r := simulateOffer(1000+seed, 2000, plainFirm)
		if len(r.Verdicts) > 0 {
			falseReports++
		}
	}
	rate := float64(falseReports) / firms
	t.Logf("%d firms with no effect: %d reports gave a verdict (%.1f%%)", firms, falseReports, 100*rate)
	// Three standard errors above 5% over 600 firms.
	if limit := rapport.OfferAlpha + 3*math.Sqrt(rapport.OfferAlpha*(1-rapport.OfferAlpha)/firms); rate > limit {
		t.Errorf("false verdicts in %.1f%% of firms; want at most %.1f%%", 100*rate, 100*limit)
	}
	r := simulateOffer(5, 2000, plainFirm)
	if len(r.Verdicts) != 0 || !strings.Contains(r.Summary, "not shown an effect") {
		t.Errorf("no-effect firm: summary %q, verdicts %v", r.Summary, r.Verdicts)
	}
}

// TestOfferReportIncompleteWindowNoVerdict: figures so far are shown but
// never judged, however large the difference.
func TestOfferReportIncompleteWindowNoVerdict(t *testing.T) {
	tr := plainFirm
	tr.magicUp = 0.4
	rnd := rand.New(rand.NewPCG(3, 3))
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	r := rapport.NewOfferReport(&rapport.Offer{}, []rapport.OfferWindowUnits{{Days: 30, From: start, To: start.AddDate(0, 0, 30),
		Offered: simulateUnits(rnd, 900, tr, true), Holdout: simulateUnits(rnd, 100, tr, false)}}, start.AddDate(0, 0, 10))
	m := metric(t, r, 30, "magic_rate")
	if m.Difference == nil || *m.Difference < 0.2 {
		t.Fatalf("magic difference = %v; want the planted 0.4 shown", fmt.Sprint(m.Difference))
	}
	if m.Significant || len(r.Verdicts) > 0 || m.AdjustedP != nil {
		t.Errorf("an incomplete window gave a verdict: %+v", m)
	}
}

// TestOfferArm checks the draw is reproducible, independent of order and
// near the share asked for.
func TestOfferArm(t *testing.T) {
	held := 0
	const n = 20000
	for i := range n {
		id := fmt.Sprintf("cust-%d", i)
		a := rapport.OfferArm(42, id, 0.1)
		if a != rapport.OfferArm(42, id, 0.1) {
			t.Fatalf("OfferArm(42, %q) changed between calls", id)
		}
		if a == rapport.ArmHoldout {
			held++
		}
	}
	// 10% of 20000 is 2000, with a standard deviation of about 42.
	if held < 1850 || held > 2150 {
		t.Errorf("held out %d of %d at share 0.1; want about 2000", held, n)
	}
	same := 0
	for i := range 1000 {
		id := fmt.Sprintf("cust-%d", i)
		if rapport.OfferArm(42, id, 0.5) == rapport.OfferArm(43, id, 0.5) {
			same++
		}
	}
	if same > 600 || same < 400 {
		t.Errorf("seeds 42 and 43 agreed on %d of 1000 customers at share 0.5; want about half", same)
	}
	if rapport.OfferArm(1, "x", 0) != rapport.ArmOffered {
		t.Error("a share of 0 held a customer out")
	}
	// Ids made at other times with the same random bits draw alike; other
	// random bits draw independently.
	moved := 0
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		var e, f [10]byte
		e[0], e[1], f[0], f[1], f[9] = byte(i), byte(i>>8), byte(i), byte(i>>8), 1
		a := rapport.OfferArm(9, rapport.FormatID(t0, e), 0.5)
		if a != rapport.OfferArm(9, rapport.FormatID(t0.AddDate(0, 0, 9), e), 0.5) {
			t.Fatalf("id %d drew another arm when made nine days later", i)
		}
		if a != rapport.OfferArm(9, rapport.FormatID(t0, f), 0.5) {
			moved++
		}
	}
	if moved < 400 || moved > 600 {
		t.Errorf("%d of 1000 ids with other random bits drew another arm; want about half", moved)
	}
}

func TestOfferValidate(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	o := &rapport.Offer{Name: " Loyal ", Kind: rapport.OfferDiscount, Segment: "s1"}
	if err := o.Validate(now); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	if o.Name != "Loyal" || o.Touchpoint != "offer" || o.HoldoutShare != 0.1 || !o.StartsAt.Equal(now) || !o.EndsAt.Equal(now.AddDate(0, 0, 30)) {
		t.Errorf("defaults = %+v", o)
	}
	bad := &rapport.Offer{Kind: "cash", Cost: -1, Touchpoint: "Bad Key", HoldoutShare: 0.9, StartsAt: now.Add(48 * time.Hour)}
	err := bad.Validate(now)
	got := rapport.ErrorFields(err)
	want := []string{"name", "kind", "cost", "touchpoint", "segment", "holdout_share", "starts_at"}
	if len(got) != len(want) {
		t.Fatalf("Validate(bad) fields = %+v; want %v", got, want)
	}
	for i, f := range got {
		if f.Field != want[i] {
			t.Errorf("field %d = %q; want %q", i, f.Field, want[i])
		}
	}
}
