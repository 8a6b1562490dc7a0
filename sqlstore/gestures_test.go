package sqlstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

const day = 24 * time.Hour

// TestGestureMilestones plants each kind of milestone, with look-alikes
// that must not count, and checks that the sweep finds exactly the planted
// ones, once, with the arms the seed draws.
func TestGestureMilestones(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		r.products(t, "motor")
		gestures := sqlstore.NewGestureService(s.db)
		recovery := sqlstore.NewRecoveryService(s.db)
		owner := s.user(t, "Olga Owner")
		start := s.clock.Now()

		rule := func(g *rapport.GestureRule) *rapport.GestureRule {
			g.Kind, g.StartsAt, g.EndsAt, g.Seed = rapport.OfferGift, start, start.Add(30*day), 3
			if err := gestures.CreateGestureRule(ctx, g); err != nil {
				t.Fatalf("CreateGestureRule(%s) = %v", g.Name, err)
			}
			return g
		}
		anniversary := rule(&rapport.GestureRule{Name: "Anniversary card", Milestone: rapport.MilestoneAnniversary, HoldoutShare: 0.5})
		magic := rule(&rapport.GestureRule{Name: "Second magic", Milestone: rapport.MilestoneMagicCount, Count: 2})
		motor := rule(&rapport.GestureRule{Name: "Every third motor", Milestone: rapport.MilestonePurchaseCount, Count: 3, Product: "motor"})
		recovered := rule(&rapport.GestureRule{Name: "Welcome back", Milestone: rapport.MilestoneRecovered})

		// Bad rules change nothing.
		for _, bad := range []*rapport.GestureRule{
			{Name: "No milestone", Kind: rapport.OfferGift},
			{Name: "Bad product", Kind: rapport.OfferGift, Milestone: rapport.MilestonePurchaseCount, Product: "boat"},
			{Name: "Bad holdout", Kind: rapport.OfferGift, Milestone: rapport.MilestoneAnniversary, HoldoutShare: 0.9},
			{Name: "Count on anniversary", Kind: rapport.OfferGift, Milestone: rapport.MilestoneAnniversary, Count: 3},
		} {
			wantCode(t, "CreateGestureRule("+bad.Name+")", gestures.CreateGestureRule(ctx, bad), rapport.EINVALID)
		}
		if n := s.count(t, "gesture_rules", ""); n != 4 {
			t.Fatalf("%d rules stored; want the 4 valid ones", n)
		}

		want := map[string][]string{} // rule id → "customer name@day"
		expect := func(g *rapport.GestureRule, c *rapport.Customer, at time.Time) {
			want[g.ID] = append(want[g.ID], c.Name+"@"+at.Format(time.DateOnly))
		}
		customer := func(name string, since time.Time) *rapport.Customer {
			return s.customer(t, &rapport.Customer{Name: name, OwnerID: owner.ID, CreatedAt: since})
		}
		// Anniversaries: one and two years before days in the period; one
		// the day before it, one dissolved.
		for i := range 6 {
			at := start.Add(time.Duration(3+4*i) * day)
			c := customer(fmt.Sprintf("Anna %d", i), at.AddDate(-1-i%2, 0, 0))
			expect(anniversary, c, at)
		}
		customer("Before the period", start.Add(-day).AddDate(-1, 0, 0))
		gone := customer("Gone", start.Add(5*day).AddDate(-1, 0, 0))
		if _, err := r.stages.SetStage(ctx, gone.ID, rapport.StageInput{Stage: rapport.StageDissolution, Reason: "left",
			DissolutionReason: rapport.DissolutionReasons[0]}); err != nil {
			t.Fatal(err)
		}

		// A recovered case, and one whose next moment was misery again.
		s.clock.Add(10 * day)
		for i, next := range []int{4, 1} {
			c := customer(fmt.Sprintf("Rita %d", i), start.AddDate(0, -3, 0))
			s.record(t, &rapport.Moment{CustomerID: c.ID, Touchpoint: "complaint", Channel: rapport.ChannelPhone,
				OccurredAt: s.clock.Now().Add(-time.Hour), Rating: ptr(1)})
			cs := s.cases(t, rapport.CaseFilter{CustomerID: c.ID})
			if len(cs) != 1 {
				t.Fatalf("%d cases for %s", len(cs), c.Name)
			}
			resolved := rapport.CaseResolved
			if _, err := recovery.UpdateCase(ctx, cs[0].ID, rapport.CaseUpdate{Status: &resolved, Resolution: ptr("refunded")}); err != nil {
				t.Fatal(err)
			}
			s.clock.Add(day)
			m := s.record(t, &rapport.Moment{CustomerID: c.ID, Touchpoint: "query", Channel: rapport.ChannelPhone,
				OccurredAt: s.clock.Now().Add(-time.Hour), Rating: ptr(next)})
			if next > 1 {
				expect(recovered, c, m.OccurredAt)
			}
		}

		s.clock.Add(start.Add(31 * day).Sub(s.clock.Now()))
		// Second magic moments: committed customers in the period count;
		// one not committed, one whose second came before the period.
		for i := range 4 {
			c := customer(fmt.Sprintf("Max %d", i), start.AddDate(0, -6, 0))
			stage := rapport.StageCommitment
			if i == 3 {
				stage = rapport.StageExploration
			}
			if _, err := r.stages.SetStage(ctx, c.ID, rapport.StageInput{Stage: rapport.Stage(stage), Reason: "set", ChangedAt: ptr(start.Add(-10 * day))}); err != nil {
				t.Fatal(err)
			}
			first := start.Add(time.Duration(2+i) * day)
			if i == 2 {
				first = start.Add(-5 * day)
			}
			second := first.Add(2 * day)
			if i == 2 {
				second = start.Add(-3 * day)
			}
			for _, at := range []time.Time{first, second, second.Add(3 * day)} {
				s.record(t, &rapport.Moment{CustomerID: c.ID, Touchpoint: "query", Channel: rapport.ChannelPhone, OccurredAt: at, Rating: ptr(5)})
			}
			if i < 2 {
				expect(magic, c, second)
			}
		}
		// Motor taken up: two before the period, seven in it, so the 3rd and
		// 6th are in it and the 9th is not reached.
		for i := range 9 {
			at := start.Add(time.Duration(i-2) * day)
			c := customer(fmt.Sprintf("Mo %d", i), start.AddDate(0, -2, 0))
			if _, err := r.holdings.AddHolding(ctx, c.ID, rapport.HoldingInput{Product: "motor", StartedAt: at}); err != nil {
				t.Fatal(err)
			}
			if (i+1)%3 == 0 && i >= 2 && i < 9 && !at.Before(start) {
				expect(motor, c, at)
			}
		}

		// The server's sweep finds them; looking again finds nothing new.
		for _, j := range sqlstore.Jobs(s.db, sqlstore.Options{}, time.Minute) {
			if j.Name == "sweep" {
				if err := j.Run(ctx, slog.New(slog.DiscardHandler)); err != nil {
					t.Fatalf("sweep = %v", err)
				}
			}
		}
		if n, err := gestures.EvaluateGestures(ctx); err != nil || n != 0 {
			t.Fatalf("EvaluateGestures after the sweep = %d, %v; want nothing new", n, err)
		}
		for _, g := range []*rapport.GestureRule{anniversary, magic, motor, recovered} {
			var got []string
			rows, err := s.raw.Query(`SELECT c.name, g.milestone_at, g.arm, c.id, g.milestone FROM gestures g JOIN customers c ON c.id = g.customer_id
				WHERE g.rule_id = ` + quote(g.ID) + ` ORDER BY g.milestone_at`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var name, arm, id, what string
				var at int64
				if err := rows.Scan(&name, &at, &arm, &id, &what); err != nil {
					t.Fatal(err)
				}
				when := time.UnixMicro(at).UTC()
				got = append(got, name+"@"+when.Format(time.DateOnly))
				if wantArm := rapport.GestureArm(g.Seed, id, what, g.HoldoutShare); arm != wantArm {
					t.Errorf("%s: %s drawn %s; the seed draws %s", g.Name, name, arm, wantArm)
				}
			}
			rows.Close()
			slices.Sort(got)
			slices.Sort(want[g.ID])
			if strings.Join(got, ", ") != strings.Join(want[g.ID], ", ") {
				t.Errorf("%s: milestones %v; want %v", g.Name, got, want[g.ID])
			}
		}
		if n := s.count(t, "gestures", "arm = 'holdout' AND rule_id <> "+quote(anniversary.ID)); n != 0 {
			t.Errorf("%d held out by rules without a holdout", n)
		}
	})
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TestGestureKnownTruth plants an effect after the anniversary gestures of
// one rule and none after another's, and checks the owner's day, the list,
// and every figure of the report against what the test recorded.
func TestGestureKnownTruth(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		gestures := sqlstore.NewGestureService(s.db)
		today := sqlstore.NewTodayService(s.db)
		owners := []*rapport.User{s.user(t, "Olga Owner"), s.user(t, "Omar Owner")}
		start := s.clock.Now()
		var customers []*rapport.Customer
		joined := map[string]time.Time{}
		for i := range 300 {
			at := start.Add(time.Duration(i%60)*day/2 + time.Hour)
			c := s.customer(t, &rapport.Customer{Name: fmt.Sprintf("Client %03d", i), OwnerID: owners[i%2].ID, CreatedAt: at.AddDate(-1, 0, 0)})
			customers = append(customers, c)
			joined[c.ID] = at
		}
		cards := &rapport.GestureRule{Name: "Anniversary card", Milestone: rapport.MilestoneAnniversary, Kind: rapport.OfferGift,
			Cost: 4, StartsAt: start, EndsAt: start.Add(30 * day), HoldoutShare: 0.3, Seed: 21}
		// Rules whose gestures change nothing: anniversary emails drawn
		// with other seeds, independently of the card.
		rules := []*rapport.GestureRule{cards}
		var plain []*rapport.GestureRule
		for seed := range int64(60) {
			plain = append(plain, &rapport.GestureRule{Name: fmt.Sprintf("Anniversary email %d", seed), Milestone: rapport.MilestoneAnniversary,
				Kind: rapport.OfferGift, Touchpoint: "anniversary_email", StartsAt: start, EndsAt: start.Add(30 * day), HoldoutShare: 0.3,
				Seed: 100 + seed})
		}
		create := func(rules []*rapport.GestureRule) {
			for _, g := range rules {
				if err := gestures.CreateGestureRule(ctx, g); err != nil {
					t.Fatalf("CreateGestureRule = %v", err)
				}
			}
		}
		create(rules)

		// Day 20: the sweep finds the anniversaries so far; the owner's day
		// lists those of the last two weeks chosen for the card.
		s.clock.Add(start.Add(20 * day).Sub(s.clock.Now()))
		if _, err := gestures.EvaluateGestures(ctx); err != nil {
			t.Fatal(err)
		}
		contacts, err := today.Today(ctx, rapport.TodayFilter{StaffIDs: []string{owners[0].ID}, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		onDay := map[string]bool{}
		for _, c := range contacts {
			for _, r := range c.Reasons {
				if r.Kind == rapport.ContactGesture && strings.Contains(r.Text, "Anniversary card") {
					onDay[c.CustomerID] = true
					if c.Touchpoint != "gesture" && len(c.Reasons) == 1 {
						t.Errorf("%s: contact about %q; want the gesture's touchpoint", c.CustomerName, c.Touchpoint)
					}
				}
			}
		}
		wantOnDay := 0
		for i, c := range customers {
			at := joined[c.ID]
			due := i%2 == 0 && at.Before(s.clock.Now()) && !at.Before(s.clock.Now().AddDate(0, 0, -rapport.GestureListDays)) &&
				rapport.GestureArm(21, c.ID, "1st anniversary", 0.3) == rapport.ArmOffered
			if due {
				wantOnDay++
			}
			if due != onDay[c.ID] {
				t.Errorf("%s (anniversary %s) on the owner's day = %v; want %v", c.Name, at.Format(time.DateOnly), onDay[c.ID], due)
			}
		}
		if wantOnDay == 0 {
			t.Fatal("no gesture due on the owner's day: the test checks nothing")
		}

		// The email rules are made later, recording the period before.
		create(plain)

		// Day 130: every anniversary's 90 days have passed. Chosen customers
		// were given the card the day after; what followed is planted.
		s.clock.Add(start.Add(130 * day).Sub(s.clock.Now()))
		if _, err := gestures.EvaluateGestures(ctx); err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(8, 8))
		type totals struct{ customers, moments, magic int }
		tot := map[string]*totals{rapport.ArmOffered: {}, rapport.ArmHoldout: {}}
		var batch []*rapport.Moment
		given := 0
		for i, c := range customers {
			at := joined[c.ID]
			arm := rapport.GestureArm(21, c.ID, "1st anniversary", 0.3)
			tt := tot[arm]
			tt.customers++
			chance := 0.2
			if arm == rapport.ArmOffered {
				chance = 0.6
				if i%7 != 0 {
					given++
					batch = append(batch, &rapport.Moment{CustomerID: c.ID, Touchpoint: "gesture", Channel: rapport.ChannelEmail,
						OccurredAt: at.Add(day), Rating: ptr(5), Cost: 4})
				}
			}
			for _, d := range []int{5, 20, 40, 70} {
				m := &rapport.Moment{CustomerID: c.ID, Touchpoint: "query", Channel: rapport.ChannelEmail,
					OccurredAt: at.Add(time.Duration(d) * day), Rating: ptr(4)}
				if rnd.Float64() < chance {
					m.Rating = ptr(5)
					tt.magic++
				}
				tt.moments++
				batch = append(batch, m)
			}
			// Before the milestone, and after its 90 days: neither counts.
			batch = append(batch, &rapport.Moment{CustomerID: c.ID, Touchpoint: "query", Channel: rapport.ChannelEmail,
				OccurredAt: at.Add(-time.Hour), Rating: ptr(1)},
				&rapport.Moment{CustomerID: c.ID, Touchpoint: "query", Channel: rapport.ChannelEmail,
					OccurredAt: at.Add(91 * day), Rating: ptr(1)})
		}
		for chunk := range slices.Chunk(batch, 400) {
			if _, err := s.moments.RecordMoments(ctx, chunk); err != nil {
				t.Fatalf("RecordMoments = %v", err)
			}
		}

		got, err := gestures.FindGestureRuleByID(ctx, cards.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Chosen != tot[rapport.ArmOffered].customers || got.Holdout != tot[rapport.ArmHoldout].customers || got.Given != given {
			t.Errorf("rule counts %d chosen, %d held out, %d given; want %d, %d, %d", got.Chosen, got.Holdout, got.Given,
				tot[rapport.ArmOffered].customers, tot[rapport.ArmHoldout].customers, given)
		}
		open, err := gestures.Gestures(ctx, cards.ID, rapport.GestureFilter{Open: true, Owner: owners[1].ID, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range open.Items {
			if x.GivenAt != nil || x.OwnerID != owners[1].ID || x.Arm != rapport.ArmOffered || x.Milestone != "1st anniversary" {
				t.Errorf("open list holds %+v", x)
			}
		}
		if len(open.Items) == 0 {
			t.Error("nobody open on Omar's list")
		}

		rep, err := gestures.GestureReport(ctx, cards.ID)
		if err != nil {
			t.Fatal(err)
		}
		w := rep.Windows[1]
		if !w.Complete || w.Offered != tot[rapport.ArmOffered].customers || w.Holdout != tot[rapport.ArmHoldout].customers {
			t.Fatalf("90-day window: complete %v, %d and %d; want complete, %d and %d", w.Complete, w.Offered, w.Holdout,
				tot[rapport.ArmOffered].customers, tot[rapport.ArmHoldout].customers)
		}
		m := offerMetricOf(t, w, "magic_rate")
		for arm, gotRate := range map[string]*float64{rapport.ArmOffered: m.Offered, rapport.ArmHoldout: m.Holdout} {
			want := float64(tot[arm].magic) / float64(tot[arm].moments)
			if gotRate == nil || math.Abs(*gotRate-want) > 1e-9 {
				t.Errorf("%s magic rate = %v; want %v", arm, gotRate, want)
			}
		}
		truth := 0.6 - 0.2
		half := (*m.High - *m.Low) / 2
		if !m.Significant || !strings.Contains(m.Verdict, "gesture customers' magic rate was higher") ||
			math.Abs(*m.Difference-truth) > 3.3/1.96*half {
			t.Errorf("magic rate: significant %v, verdict %q, %.3f (%.3f to %.3f); want the planted %.2f found",
				m.Significant, m.Verdict, *m.Difference, *m.Low, *m.High, truth)
		}
		if cost := offerMetricOf(t, w, "cost_per_customer"); math.Abs(*cost.Offered-4*float64(given)/float64(w.Offered)) > 1e-9 {
			t.Errorf("cost per chosen customer = %v; want the cards' %v", *cost.Offered, 4*float64(given)/float64(w.Offered))
		}

		// The email rules drew the same anniversaries independently of the
		// card, so their arms are alike: a verdict on one is a false one,
		// and may come at most at the stated rate (5%, with three standard
		// errors of slack over 60 rules; the rate itself is measured over
		// many firms in the root package).
		verdicts := 0
		for _, g := range plain {
			rep, err := gestures.GestureReport(ctx, g.ID)
			if err != nil {
				t.Fatal(err)
			}
			if w := rep.Windows[1]; w.Offered+w.Holdout != len(customers) || !w.Complete {
				t.Fatalf("%s: arms %d + %d; want the %d anniversaries", g.Name, w.Offered, w.Holdout, len(customers))
			}
			if len(rep.Verdicts) > 0 {
				verdicts++
			}
		}
		t.Logf("%d of %d rules without an effect got a verdict", verdicts, len(plain))
		if limit := 0.05 + 3*math.Sqrt(0.05*0.95/float64(len(plain))); float64(verdicts)/float64(len(plain)) > limit {
			t.Errorf("%d of %d rules without an effect got a verdict; want at most %.0f%%", verdicts, len(plain), 100*limit)
		}
		if _, err := gestures.GestureReport(ctx, "nosuch"); rapport.ErrorCode(err) != rapport.ENOTFOUND {
			t.Errorf("GestureReport(nosuch) = %v; want not found", err)
		}
	})
}
