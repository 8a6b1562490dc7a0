package sqlstore_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// expectedOutcomes works out the outcomes of the customers that pick
// selects, over [from, to), from the test's own records, following the
// one-sentence definitions in docs/relationships.md.
func expectedOutcomes(f *firm, from, to time.Time, pick func(*firmCustomer) bool) rapport.Outcomes {
	var o rapport.Outcomes
	priorFrom := from.Add(-to.Sub(from))
	var ratingSum float64
	var magic, misery, products int
	population := map[string]bool{}
	for _, fc := range f.customers {
		if pick(fc) {
			population[fc.c.ID] = true
		}
	}
	for _, fc := range f.customers {
		if !population[fc.c.ID] {
			continue
		}
		created := fc.c.CreatedAt
		if created.Before(to) && !fc.dissolvedAt(from) {
			o.Customers++
		}
		if created.Before(from) && !fc.dissolvedAt(from) {
			o.Retention.ActiveAtStart++
			if !fc.dissolvedAt(to) {
				o.Retention.Retained++
			}
		}
		if created.Before(from) && !fc.dissolvedAt(priorFrom) {
			o.RevenueGrowth.PriorCustomers++
		}
		purchases := 0
		for _, m := range fc.moments {
			switch {
			case !m.OccurredAt.Before(from) && m.OccurredAt.Before(to):
				o.Satisfaction.Moments++
				if m.Rating != nil {
					o.Satisfaction.Rated++
					ratingSum += float64(*m.Rating)
				}
				switch m.Outcome {
				case rapport.OutcomeMagic:
					magic++
				case rapport.OutcomeMisery:
					misery++
				}
				if m.Revenue > 0 {
					purchases++
				}
				o.RevenueGrowth.Revenue += m.Revenue
				o.CostToServe.Cost += m.Cost
			case !m.OccurredAt.Before(priorFrom) && m.OccurredAt.Before(from):
				o.RevenueGrowth.PriorRevenue += m.Revenue
			}
		}
		if purchases >= 1 {
			o.Loyalty.Buyers++
		}
		if purchases >= 2 {
			o.Loyalty.RepeatBuyers++
		}
		referred := 0
		for _, other := range f.customers {
			if other.c.ReferredBy == fc.c.ID && !other.c.CreatedAt.Before(from) && other.c.CreatedAt.Before(to) {
				referred++
			}
		}
		o.Referrals.Count += referred
		if referred > 0 {
			o.Referrals.Referrers++
		}
		if created.Before(to) && !fc.dissolvedAt(to) {
			o.CrossSell.Customers++
			held := map[string]bool{}
			for _, h := range fc.holdings {
				if h.StartedAt.Before(to) && (h.EndedAt == nil || !h.EndedAt.Before(to)) {
					held[h.Product] = true
				}
			}
			products += len(held)
			if len(held) > 1 {
				o.CrossSell.MultiProduct++
			}
		}
	}
	div := func(a, b float64) *float64 {
		if b == 0 {
			return nil
		}
		r := a / b
		return &r
	}
	o.Satisfaction.MeanRating = div(ratingSum, float64(o.Satisfaction.Rated))
	o.Satisfaction.MagicRate = div(float64(magic), float64(o.Satisfaction.Moments))
	o.Satisfaction.MiseryRate = div(float64(misery), float64(o.Satisfaction.Moments))
	o.Loyalty.RepeatRate = div(float64(o.Loyalty.RepeatBuyers), float64(o.Loyalty.Buyers))
	o.Retention.Rate = div(float64(o.Retention.Retained), float64(o.Retention.ActiveAtStart))
	o.Referrals.Rate = div(float64(o.Referrals.Referrers), float64(o.Customers))
	g := &o.RevenueGrowth
	g.PriorFrom = priorFrom
	g.PerCustomer = div(g.Revenue, float64(o.Customers))
	g.PriorPerCustomer = div(g.PriorRevenue, float64(g.PriorCustomers))
	// The window before counts only when the firm's moments reach back to
	// its first day.
	var first time.Time
	for _, fc := range f.customers {
		for _, m := range fc.moments {
			if first.IsZero() || m.OccurredAt.Before(first) {
				first = m.OccurredAt
			}
		}
	}
	g.PriorCovered = !first.IsZero() && first.Before(priorFrom.AddDate(0, 0, 1))
	if g.PriorCovered && g.PerCustomer != nil && g.PriorPerCustomer != nil && *g.PriorPerCustomer > 0 {
		growth := *g.PerCustomer / *g.PriorPerCustomer - 1
		g.Growth = &growth
	}
	o.CrossSell.Rate = div(float64(o.CrossSell.MultiProduct), float64(o.CrossSell.Customers))
	o.CrossSell.ProductsPerCustomer = div(float64(products), float64(o.CrossSell.Customers))
	o.CostToServe.PerCustomer = div(o.CostToServe.Cost, float64(o.Customers))
	o.CostToServe.PerMoment = div(o.CostToServe.Cost, float64(o.Satisfaction.Moments))
	o.From, o.To = from, to
	return o
}

// roundFloats rounds every float in an outcome to 9 places, so that sums
// added in another order compare equal.
func roundFloats(o *rapport.Outcomes) {
	r := func(p *float64) {
		if p != nil {
			*p = math.Round(*p*1e9) / 1e9
		}
	}
	for _, p := range []**float64{&o.Satisfaction.MeanRating, &o.Satisfaction.MagicRate, &o.Satisfaction.MiseryRate,
		&o.Loyalty.RepeatRate, &o.Retention.Rate, &o.Referrals.Rate, &o.RevenueGrowth.PerCustomer,
		&o.RevenueGrowth.PriorPerCustomer, &o.RevenueGrowth.Growth, &o.CrossSell.Rate, &o.CrossSell.ProductsPerCustomer,
		&o.CostToServe.PerCustomer, &o.CostToServe.PerMoment} {
		r(*p)
	}
	r(&o.RevenueGrowth.Revenue)
	r(&o.RevenueGrowth.PriorRevenue)
	r(&o.CostToServe.Cost)
}

// TestOutcomesAddUp checks every outcome, for all customers and for a
// segment, over several windows, against the test's own computation.
func TestOutcomesAddUp(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		f := buildFirm(t, s, r)
		north := &rapport.Segment{Name: "North", Rule: `attributes.region = "north" or attributes.vip = true`}
		if err := r.segments.CreateSegment(ctx, north); err != nil {
			t.Fatal(err)
		}
		inNorth := func(fc *firmCustomer) bool {
			return fc.c.Attributes["region"] == "north" || fc.c.Attributes["vip"] == true
		}
		everyone := func(*firmCustomer) bool { return true }
		day := func(daysBefore int) time.Time {
			return epoch.Add(-time.Duration(daysBefore) * 24 * time.Hour).Truncate(24 * time.Hour)
		}
		tests := []struct {
			name     string
			filter   rapport.OutcomeFilter
			from, to time.Time
			pick     func(*firmCustomer) bool
		}{
			{"last 60 days", rapport.OutcomeFilter{From: day(60), To: day(-1)}, day(60), day(-1), everyone},
			{"a month in the middle", rapport.OutcomeFilter{From: day(75), To: day(25)}, day(75), day(25), everyone},
			{"the default year", rapport.OutcomeFilter{}, day(364), day(-1), everyone},
			{"north, last 60 days", rapport.OutcomeFilter{Segment: north.ID, From: day(60), To: day(-1)}, day(60), day(-1), inNorth},
			{"north, 50 days", rapport.OutcomeFilter{Segment: north.ID, From: day(80), To: day(30)}, day(80), day(30), inNorth},
			{"north, 90 days, before the firm's history", rapport.OutcomeFilter{Segment: north.ID, From: day(120), To: day(30)}, day(120), day(30), inNorth},
		}
		for _, tt := range tests {
			got, err := r.outcomes.Outcomes(ctx, tt.filter)
			if err != nil {
				t.Fatalf("%s: Outcomes = %v", tt.name, err)
			}
			want := expectedOutcomes(f, tt.from, tt.to, tt.pick)
			want.MeasuredAt = s.clock.Now().UTC()
			if tt.filter.Segment != "" {
				want.Segment = &rapport.SegmentRef{ID: north.ID, Name: north.Name, Rule: north.Rule}
			}
			roundFloats(got)
			roundFloats(&want)
			if show(got) != show(want) {
				t.Errorf("%s: Outcomes =\n%s\nwant\n%s", tt.name, show(got), show(want))
			}
			if tt.filter.From.IsZero() || strings.Contains(tt.name, "before the firm's history") {
				// The firm is younger than the window before, so there is
				// no history to compare with.
				if got.RevenueGrowth.PriorCovered || got.RevenueGrowth.Growth != nil {
					t.Errorf("%s: revenue growth %s; want none, the year before predates the firm", tt.name, show(got.RevenueGrowth))
				}
				continue
			}
			if want.Retention.ActiveAtStart == want.Retention.Retained || want.Satisfaction.Moments == 0 ||
				want.Loyalty.Buyers == 0 || want.RevenueGrowth.Growth == nil {
				t.Errorf("%s: the firm is too plain to test this window: %s", tt.name, show(want))
			}
		}

		_, err := r.outcomes.Outcomes(ctx, rapport.OutcomeFilter{Segment: "01NOSUCHSEGMENT00000000000"})
		wantCode(t, "Outcomes(unknown segment)", err, rapport.ENOTFOUND)
		_, err = r.outcomes.Outcomes(ctx, rapport.OutcomeFilter{From: day(1), To: day(10)})
		wantCode(t, "Outcomes(from after to)", err, rapport.EINVALID)
	})
}

// TestOutcomeSnapshots checks that a measurement answers the same question
// for a while, that asking for a fresh one, or time passing, measures again,
// and that the sweep's refresh measures everyone and each segment.
func TestOutcomeSnapshots(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		ada := s.customer(t, &rapport.Customer{Name: "Ada", Kind: rapport.KindOrganisation})
		orgs := &rapport.Segment{Name: "Organisations", Rule: `kind = "organisation"`}
		if err := r.segments.CreateSegment(ctx, orgs); err != nil {
			t.Fatal(err)
		}
		moments := func(f rapport.OutcomeFilter) (int, time.Time) {
			t.Helper()
			o, err := r.outcomes.Outcomes(ctx, f)
			if err != nil {
				t.Fatalf("Outcomes(%+v) = %v", f, err)
			}
			return o.Satisfaction.Moments, o.MeasuredAt
		}
		first, at := moments(rapport.OutcomeFilter{})
		s.record(t, s.moment(ada.ID))
		s.clock.Add(time.Minute)
		if n, again := moments(rapport.OutcomeFilter{}); n != first || !again.Equal(at) {
			t.Errorf("a minute later: %d moments measured at %v; want the %d measured at %v", n, again, first, at)
		}
		if n, now := moments(rapport.OutcomeFilter{Fresh: true}); n != first+1 || !now.Equal(s.clock.Now().UTC()) {
			t.Errorf("fresh: %d moments measured at %v; want %d now", n, now, first+1)
		}
		s.record(t, s.moment(ada.ID))
		s.clock.Add(16 * time.Minute)
		if n, _ := moments(rapport.OutcomeFilter{}); n != first+2 {
			t.Errorf("16 minutes later: %d moments; want %d, measured again", n, first+2)
		}

		// A segment's measurement is its rule's: a new rule measures again.
		if n, _ := moments(rapport.OutcomeFilter{Segment: orgs.ID}); n != first+2 {
			t.Errorf("organisations: %d moments; want %d", n, first+2)
		}
		rule := `kind = "person"`
		if _, err := r.segments.UpdateSegment(ctx, orgs.ID, rapport.SegmentUpdate{Rule: &rule}); err != nil {
			t.Fatal(err)
		}
		if n, _ := moments(rapport.OutcomeFilter{Segment: orgs.ID}); n != 0 {
			t.Errorf("after the rule changed: %d moments; want 0, the people's", n)
		}

		s.record(t, s.moment(ada.ID))
		if n, err := r.outcomes.RefreshOutcomes(ctx); err != nil || n != 2 {
			t.Fatalf("RefreshOutcomes = %d, %v; want everyone and one segment", n, err)
		}
		if n, at := moments(rapport.OutcomeFilter{}); n != first+3 || !at.Equal(s.clock.Now().UTC()) {
			t.Errorf("after the refresh: %d moments measured at %v; want %d now", n, at, first+3)
		}
	})
}

// TestTouchpointReportBySegment checks the touchpoint report of a segment
// against the segment's moments counted in Go.
func TestTouchpointReportBySegment(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		f := buildFirm(t, s, r)
		sg := &rapport.Segment{Name: "South", Rule: `attributes.region = "south"`}
		if err := r.segments.CreateSegment(ctx, sg); err != nil {
			t.Fatal(err)
		}
		from := epoch.Add(-90 * 24 * time.Hour).Truncate(24 * time.Hour)
		report, err := sqlstore.NewReportService(s.db).TouchpointReport(ctx, rapport.ReportFilter{From: from, Segment: sg.ID})
		if err != nil {
			t.Fatal(err)
		}
		type counts struct{ volume, rated, misery, ratingSum int }
		want := map[string]counts{}
		for _, fc := range f.customers {
			if fc.c.Attributes["region"] != "south" {
				continue
			}
			for _, m := range fc.moments {
				if m.OccurredAt.Before(from) {
					continue
				}
				c := want[m.Touchpoint]
				c.volume++
				if m.Rating != nil {
					c.rated++
					c.ratingSum += *m.Rating
				}
				if m.Outcome == rapport.OutcomeMisery {
					c.misery++
				}
				want[m.Touchpoint] = c
			}
		}
		total := 0
		for _, tm := range report.Touchpoints {
			w := want[tm.Key]
			got := counts{volume: tm.Volume, rated: tm.Rated}
			if tm.MiseryRate != nil {
				got.misery = int(math.Round(*tm.MiseryRate * float64(tm.Volume)))
			}
			if tm.MeanRating != nil {
				got.ratingSum = int(math.Round(*tm.MeanRating * float64(tm.Rated)))
			}
			if got != w {
				t.Errorf("%s: report %+v; want %+v", tm.Key, got, w)
			}
			total += tm.Volume
		}
		if total == 0 {
			t.Error("the segment has no moments in the window; the test proves nothing")
		}
		_, err = sqlstore.NewReportService(s.db).TouchpointReport(ctx, rapport.ReportFilter{Segment: "01NOSUCHSEGMENT00000000000"})
		wantCode(t, "TouchpointReport(unknown segment)", err, rapport.ENOTFOUND)
	})
}
