package sqlstore_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// offerFirm is a firm with a segment of gold-club customers and others,
// everything kept in Go so the report can be worked out independently.
type offerFirm struct {
	gold, silver []*rapport.Customer
	owners       []*rapport.User
	segment      *rapport.Segment
	start        time.Time
}

func buildOfferFirm(t *testing.T, s *store, r rel) *offerFirm {
	t.Helper()
	f := &offerFirm{start: s.clock.Now()}
	f.owners = []*rapport.User{s.user(t, "Olga Owner"), s.user(t, "Omar Owner")}
	for i := range 200 {
		club := "gold"
		if i%5 == 4 {
			club = "silver"
		}
		c := s.customer(t, &rapport.Customer{Name: fmt.Sprintf("Client %03d", i), OwnerID: f.owners[i%2].ID,
			Attributes: map[string]any{"club": club}})
		if club == "gold" {
			f.gold = append(f.gold, c)
		} else {
			f.silver = append(f.silver, c)
		}
	}
	f.segment = &rapport.Segment{Name: "Gold club", Rule: `attributes.club = "gold"`}
	if err := r.segments.CreateSegment(context.Background(), f.segment); err != nil {
		t.Fatalf("CreateSegment = %v", err)
	}
	return f
}

// armTotals are the figures of one arm over 90 days, summed in Go.
type armTotals struct {
	customers, moments, magic int
	revenue, cost             float64
}

// TestOfferKnownTruth starts an offer on a segment, plants an uplift in
// magic rate and revenue for the offered customers, and checks that the
// draw, the staff's list, the events and the report are what the firm's
// known history says.
func TestOfferKnownTruth(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		r.products(t, "motor", "home")
		offers := sqlstore.NewOfferService(s.db)
		hook, _ := s.webhook(t, "https://hooks.example.com/offers", rapport.EventOfferAssigned)
		f := buildOfferFirm(t, s, r)

		// Bad input changes nothing.
		for _, bad := range []*rapport.Offer{
			{Name: "No segment", Kind: rapport.OfferGift, Segment: "nosuch"},
			{Name: "Bad kind", Kind: "cash", Segment: f.segment.ID},
		} {
			err := offers.CreateOffer(ctx, bad)
			wantCode(t, "CreateOffer("+bad.Name+")", err, rapport.EINVALID)
		}
		if n := s.count(t, "offers", ""); n != 0 {
			t.Fatalf("%d offers stored after refused input", n)
		}

		manager := s.user(t, "Mia Manager")
		o := &rapport.Offer{Name: "Loyalty discount", Kind: rapport.OfferDiscount, Cost: 5, Segment: f.segment.ID,
			HoldoutShare: 0.3, Seed: 7}
		if err := offers.CreateOffer(asUser(manager), o); err != nil {
			t.Fatalf("CreateOffer = %v", err)
		}
		armOf := map[string]string{}
		wantHoldout := 0
		for _, c := range f.gold {
			armOf[c.ID] = rapport.OfferArm(7, c.ID, 0.3)
			if armOf[c.ID] == rapport.ArmHoldout {
				wantHoldout++
			}
		}
		if o.Offered != len(f.gold)-wantHoldout || o.Holdout != wantHoldout || o.Touchpoint != "offer" || o.SegmentName != "Gold club" {
			t.Fatalf("offer = %d offered, %d holdout on %q of %q; want %d, %d on offer of Gold club",
				o.Offered, o.Holdout, o.Touchpoint, o.SegmentName, len(f.gold)-wantHoldout, wantHoldout)
		}
		if n := len(s.events(t, hook.ID)); n != o.Offered {
			t.Errorf("%d offer.assigned events; want one per offered customer, %d", n, o.Offered)
		}
		if n := s.count(t, "offer_assignments", "customer_id IN (SELECT id FROM customers WHERE attributes LIKE '%silver%')"); n != 0 {
			t.Errorf("%d customers outside the segment were drawn", n)
		}

		// The no-effect offer: another draw of the same customers, on a
		// touchpoint the catalogue lacks.
		plain := &rapport.Offer{Name: "Newsletter gift", Kind: rapport.OfferGift, Segment: f.segment.ID, Touchpoint: "newsletter_gift",
			HoldoutShare: 0.3, Seed: 99}
		if err := offers.CreateOffer(ctx, plain); err != nil {
			t.Fatalf("CreateOffer(plain) = %v", err)
		}
		if _, err := s.touchpoints.FindTouchpointByKey(ctx, "newsletter_gift"); err != nil {
			t.Errorf("the offer's missing touchpoint was not created: %v", err)
		}

		// Day 50: a few dissolve, some take up a second product.
		s.clock.Add(50 * 24 * time.Hour)
		stages := r.stages
		for i, c := range f.gold[:6] {
			if _, err := stages.SetStage(ctx, c.ID, rapport.StageInput{Stage: rapport.StageDissolution, Reason: "left",
				DissolutionReason: rapport.DissolutionReasons[i%len(rapport.DissolutionReasons)]}); err != nil {
				t.Fatalf("SetStage = %v", err)
			}
		}
		for i, c := range f.gold {
			if i%4 == 0 {
				r.hold(t, c.ID, "home")
			}
		}

		// Day 91: the history of the 90 days is recorded, with the uplift
		// planted for offered customers of the first offer.
		s.clock.Add(41 * 24 * time.Hour)
		rnd := rand.New(rand.NewPCG(5, 5))
		totals := map[string]*armTotals{rapport.ArmOffered: {}, rapport.ArmHoldout: {}}
		var batch []*rapport.Moment
		given := map[string]bool{}
		for i, c := range f.gold {
			arm := armOf[c.ID]
			tot := totals[arm]
			tot.customers++
			magic, buy := 0.2, 0.3
			if arm == rapport.ArmOffered {
				magic, buy = 0.6, 0.7
				if i%5 != 0 { // most are given the offer; the list keeps the rest open
					given[c.ID] = true
					batch = append(batch, &rapport.Moment{CustomerID: c.ID, Touchpoint: "offer", Channel: rapport.ChannelPhone,
						OccurredAt: f.start.Add(24 * time.Hour), Rating: ptr(5), Cost: 5})
					tot.cost += 5
				}
			}
			for _, day := range []int{5, 20, 40, 70} {
				m := &rapport.Moment{CustomerID: c.ID, Touchpoint: "query", Channel: rapport.ChannelEmail,
					OccurredAt: f.start.Add(time.Duration(day) * 24 * time.Hour), Rating: ptr(4), Cost: 1}
				if rnd.Float64() < magic {
					m.Rating = ptr(5)
					tot.magic++
				}
				tot.moments++
				tot.cost++
				batch = append(batch, m)
			}
			if rnd.Float64() < buy {
				m := &rapport.Moment{CustomerID: c.ID, Touchpoint: "purchase", Channel: rapport.ChannelWeb,
					OccurredAt: f.start.Add(10 * 24 * time.Hour), Revenue: 150, Rating: ptr(4)}
				tot.moments++
				tot.revenue += 150
				batch = append(batch, m)
			}
			// A moment after the 90 days counts in neither window.
			batch = append(batch, &rapport.Moment{CustomerID: c.ID, Touchpoint: "query", Channel: rapport.ChannelEmail,
				OccurredAt: f.start.Add(90*24*time.Hour + time.Hour), Revenue: 1000, Rating: ptr(5)})
		}
		for chunk := range slices.Chunk(batch, 400) {
			if _, err := s.moments.RecordMoments(ctx, chunk); err != nil {
				t.Fatalf("RecordMoments = %v", err)
			}
		}

		// The staff's list closes as the offer's moment is recorded.
		all, err := offers.OfferCustomers(ctx, o.ID, rapport.OfferCustomerFilter{Limit: 500})
		if err != nil || len(all.Items) != o.Offered {
			t.Fatalf("OfferCustomers = %d, %v; want %d", len(all.Items), err, o.Offered)
		}
		open, err := offers.OfferCustomers(ctx, o.ID, rapport.OfferCustomerFilter{Open: true, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range open.Items {
			if given[c.CustomerID] || c.GivenAt != nil {
				t.Errorf("%s is on the open list though the offer was given", c.Name)
			}
		}
		if len(open.Items) != o.Offered-len(given) {
			t.Errorf("%d open; want %d", len(open.Items), o.Offered-len(given))
		}
		mine, _ := offers.OfferCustomers(ctx, o.ID, rapport.OfferCustomerFilter{Owner: f.owners[0].ID, Limit: 500})
		for _, c := range mine.Items {
			if c.OwnerID != f.owners[0].ID || c.OwnerName != "Olga Owner" {
				t.Errorf("owner filter listed %s of %q", c.Name, c.OwnerName)
			}
		}
		got, _ := offers.FindOfferByID(ctx, o.ID)
		if got.Given != len(given) {
			t.Errorf("Given = %d; want %d", got.Given, len(given))
		}

		rep, err := offers.OfferReport(ctx, o.ID)
		if err != nil {
			t.Fatalf("OfferReport = %v", err)
		}
		w := rep.Windows[1]
		if w.Days != 90 || !w.Complete || w.Offered != o.Offered || w.Holdout != o.Holdout {
			t.Fatalf("90-day window = %+v", w)
		}
		for _, arm := range []string{rapport.ArmOffered, rapport.ArmHoldout} {
			tot := totals[arm]
			m := offerMetricOf(t, w, "magic_rate")
			rev := offerMetricOf(t, w, "revenue_per_customer")
			cost := offerMetricOf(t, w, "cost_per_customer")
			gotMagic, gotRev, gotCost := m.Offered, rev.Offered, cost.Offered
			if arm == rapport.ArmHoldout {
				gotMagic, gotRev, gotCost = m.Holdout, rev.Holdout, cost.Holdout
			}
			wantMagic := float64(tot.magic) / float64(tot.moments)
			if math.Abs(*gotMagic-wantMagic) > 1e-9 || math.Abs(*gotRev-tot.revenue/float64(tot.customers)) > 1e-9 ||
				math.Abs(*gotCost-tot.cost/float64(tot.customers)) > 1e-9 {
				t.Errorf("%s: magic %v, revenue %v, cost %v; want %v, %v, %v", arm, *gotMagic, *gotRev, *gotCost,
					wantMagic, tot.revenue/float64(tot.customers), tot.cost/float64(tot.customers))
			}
		}
		// Planted: four queries each magic at 0.6 against 0.2, and a purchase
		// (never magic) for 70% against 30%: magic rates of 2.4/4.7 and 0.8/4.3.
		// The arms follow the customers' ids, new on every run, so a 95%
		// interval would miss the truth in one run of twenty; the coverage
		// itself is checked over many firms in the root package. Here the
		// truth must lie within 3.3 standard errors (a miss once in a
		// thousand runs).
		magic := offerMetricOf(t, w, "magic_rate")
		truth := 2.4/4.7 - 0.8/4.3
		halfWidth := (*magic.High - *magic.Low) / 2
		if !magic.Significant || !strings.Contains(magic.Verdict, "magic rate was higher") ||
			math.Abs(*magic.Difference-truth) > 3.3/1.96*halfWidth {
			t.Errorf("magic rate: significant %v, verdict %q, %.3f (95%% interval %.3f to %.3f); want the planted %.3f found",
				magic.Significant, magic.Verdict, *magic.Difference, *magic.Low, *magic.High, truth)
		}
		if rev := offerMetricOf(t, w, "revenue_per_customer"); !rev.Significant {
			t.Errorf("revenue uplift not found: %+v", rev)
		}
		retention := offerMetricOf(t, w, "retention")
		dissolved := 0
		for _, c := range f.gold[:6] {
			if armOf[c.ID] == rapport.ArmHoldout {
				dissolved++
			}
		}
		if want := 1 - float64(dissolved)/float64(o.Holdout); math.Abs(*retention.Holdout-want) > 1e-9 {
			t.Errorf("holdout retention = %v; want %v", *retention.Holdout, want)
		}
		tookUp := 0
		for i, c := range f.gold {
			if i%4 == 0 && armOf[c.ID] == rapport.ArmOffered {
				tookUp++
			}
		}
		if cs := offerMetricOf(t, w, "cross_sell"); math.Abs(*cs.Offered-float64(tookUp)/float64(o.Offered)) > 1e-9 {
			t.Errorf("offered cross-sell = %v; want the %d of %d offered who took up home", *cs.Offered, tookUp, o.Offered)
		}

		// The second offer drew the same customers again, independently of
		// the first: its arms mix the first's offered and holdout alike.
		// Whether it gets a verdict is a 5% chance (checked over many firms
		// in the root package), so here only its draw is checked.
		rep2, err := offers.OfferReport(ctx, plain.ID)
		if err != nil {
			t.Fatal(err)
		}
		if w2 := rep2.Windows[1]; w2.Offered+w2.Holdout != len(f.gold) || w2.Holdout != plain.Holdout {
			t.Errorf("the second offer's arms = %d and %d; want the %d gold customers drawn again", w2.Offered, w2.Holdout, len(f.gold))
		}
		same := 0
		for _, c := range f.gold {
			if rapport.OfferArm(99, c.ID, 0.3) == armOf[c.ID] {
				same++
			}
		}
		if same == len(f.gold) {
			t.Error("the second offer drew exactly the first's arms")
		}
		if _, err := offers.OfferReport(ctx, "nosuch"); rapport.ErrorCode(err) != rapport.ENOTFOUND {
			t.Errorf("OfferReport(nosuch) = %v; want not found", err)
		}
	})
}

func offerMetricOf(t *testing.T, w rapport.OfferWindow, key string) rapport.OfferMetric {
	t.Helper()
	for _, m := range w.Metrics {
		if m.Key == key {
			if m.Offered == nil || m.Holdout == nil {
				t.Fatalf("%s has no value: %+v", key, m)
			}
			return m
		}
	}
	t.Fatalf("no %s", key)
	return rapport.OfferMetric{}
}
