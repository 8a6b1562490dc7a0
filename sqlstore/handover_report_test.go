package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestHandoverReportKnownTruth hands a leaving person's customers to a
// colleague, then plants what followed: every customer's magic chance
// drifts from 35% to 30%, and the handed customers' falls to 15% with more
// misery. The report, on both databases, blames the handovers to the
// colleague and their team for the drop beyond the drift, with an interval
// holding the planted 15 points, and counts a handover too recent to
// measure as pending.
func TestHandoverReportKnownTruth(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		hand := sqlstore.NewHandoverService(s.db)
		leaving, other := s.user(t, "Lee Leaving"), s.user(t, "Otto Other")
		taking := &rapport.User{Name: "Tia Taking", Email: "tia@firm.example", Role: rapport.RoleAgent, Team: "Care"}
		if err := s.users.CreateUser(ctx, taking); err != nil {
			t.Fatal(err)
		}
		s.clock.Add(-200 * 24 * time.Hour)
		var hers, kept []*rapport.Customer
		for i := range 420 {
			owner := other
			if i%3 == 0 {
				owner = leaving
			}
			c := s.customer(t, &rapport.Customer{Name: fmt.Sprintf("Client %03d", i), OwnerID: owner.ID})
			if owner == leaving {
				hers = append(hers, c)
			} else {
				kept = append(kept, c)
			}
		}
		s.clock.Add(100 * 24 * time.Hour)
		day := s.clock.Now()
		if _, err := hand.HandOver(ctx, rapport.HandoverInput{FromOwner: leaving.ID, ToOwner: taking.ID}); err != nil {
			t.Fatal(err)
		}
		s.clock.Add(95 * 24 * time.Hour)
		if _, err := hand.HandOver(ctx, rapport.HandoverInput{CustomerIDs: []string{kept[0].ID}, ToOwner: taking.ID}); err != nil {
			t.Fatal(err)
		}

		rnd := rand.New(rand.NewPCG(4, 4))
		var batch []*rapport.Moment
		plant := func(c *rapport.Customer, from, to int, magic, misery float64) {
			for k := range 4 {
				at := day.AddDate(0, 0, from+k*(to-from)/4+rnd.IntN((to-from)/4))
				r := 4
				switch x := rnd.Float64(); {
				case x < magic:
					r = 5
				case x < magic+misery:
					r = 1
				}
				batch = append(batch, &rapport.Moment{CustomerID: c.ID, Touchpoint: "query", Channel: rapport.ChannelPhone, OccurredAt: at, Rating: ptr(r)})
			}
		}
		for _, c := range hers {
			plant(c, -85, -5, 0.35, 0.1)
			plant(c, 2, 86, 0.15, 0.2)
		}
		for _, c := range kept[1:] {
			plant(c, -85, -5, 0.35, 0.1)
			plant(c, 2, 86, 0.30, 0.1)
		}
		for chunk := range slices.Chunk(batch, 500) {
			if _, err := s.moments.RecordMoments(ctx, chunk); err != nil {
				t.Fatal(err)
			}
		}

		r, err := hand.HandoverReport(ctx, rapport.HandoverReportFilter{})
		if err != nil {
			t.Fatalf("HandoverReport = %v", err)
		}
		for _, g := range r.Groups {
			t.Logf("%s: %d customers, %d unmatched, bands %+v", g.Name, g.Customers, g.Unmatched, g.RiskBands)
		}
		if !slices.Equal(r.MatchedOn, []string{"day", "stage", "risk_band"}) || !strings.Contains(r.Matching, "same risk band") {
			t.Errorf("matched on %q (%q); want the day, stage and risk band", r.MatchedOn, r.Matching)
		}
		if r.Inactive != 0 {
			t.Errorf("%d handovers of inactive customers; want none", r.Inactive)
		}
		if r.Handovers != len(hers) || r.Pending != 1 {
			t.Errorf("%d handovers measured, %d pending; want %d and 1", r.Handovers, r.Pending, len(hers))
		}
		var names []string
		for _, g := range r.Groups {
			names = append(names, g.Kind+" "+g.Name)
		}
		if !slices.Equal(names, []string{"all All handovers", "team Care", "person Tia Taking"}) {
			t.Errorf("groups = %q", names)
		}
		var magic *rapport.HandoverEffect
		for i, e := range r.Groups[2].Effects {
			if e.Key == "magic_rate" {
				magic = &r.Groups[2].Effects[i]
			}
		}
		if magic == nil || !magic.Hurt || !(*magic.Low <= -0.15 && -0.15 <= *magic.High) ||
			!strings.Contains(magic.Verdict, "Handovers to Tia Taking hurt: the magic rate") {
			t.Errorf("Tia's magic rate = %s; want the planted 15-point drop named", show(magic))
		}
		if *magic.ComparableChange > -0.01 || *magic.ComparableChange < -0.09 {
			t.Errorf("comparable customers' change = %.3f; want the planted drift of -0.05", *magic.ComparableChange)
		}
		if len(r.Hurts) == 0 || !strings.Contains(r.Summary, "hurt") {
			t.Errorf("summary %q, hurts %q", r.Summary, r.Hurts)
		}
	})
}

// bandFirm is a firm with two kinds of customer, known to the test:
// troubled ones, five of whose eight moments in the weeks before the
// handover day were misery, most of them lately (medium risk that day, as
// the prior model scores them), and content ones (low risk). Left alone,
// troubled customers go on getting worse after the day, with misery in 80%
// of their moments and a third of them dissolving within 90 days, while
// content ones stay as they were. The handed customers are some of each;
// drop is what a handover adds to their misery chance after the day.
type bandFirm struct {
	taking *rapport.User
	report func(byRisk bool) *rapport.HandoverReport
}

func plantBandFirm(t *testing.T, s *store, handedTroubled, handedContent, keptTroubled, keptContent int, drop float64) bandFirm {
	t.Helper()
	ctx := context.Background()
	hand := sqlstore.NewHandoverService(s.db)
	stages := sqlstore.NewStageService(s.db)
	leaving, other := s.user(t, "Lee Leaving"), s.user(t, "Otto Other")
	taking := &rapport.User{Name: "Tia Taking", Email: "tia@firm.example", Role: rapport.RoleAgent, Team: "Care"}
	if err := s.users.CreateUser(ctx, taking); err != nil {
		t.Fatal(err)
	}
	s.clock.Add(-200 * 24 * time.Hour)
	type planted struct {
		c                *rapport.Customer
		troubled, handed bool
	}
	var all []planted
	add := func(n int, owner *rapport.User, troubled, handed bool) {
		for range n {
			c := s.customer(t, &rapport.Customer{Name: fmt.Sprintf("Client %03d", len(all)), OwnerID: owner.ID})
			all = append(all, planted{c, troubled, handed})
		}
	}
	add(handedTroubled, leaving, true, true)
	add(handedContent, leaving, false, true)
	add(keptTroubled, other, true, false)
	add(keptContent, other, false, false)
	s.clock.Add(100 * 24 * time.Hour)
	day := s.clock.Now()
	if _, err := hand.HandOver(ctx, rapport.HandoverInput{FromOwner: leaving.ID, ToOwner: taking.ID}); err != nil {
		t.Fatal(err)
	}
	s.clock.Add(95 * 24 * time.Hour)

	rnd := rand.New(rand.NewPCG(8, uint64(handedTroubled)))
	var batch []*rapport.Moment
	moment := func(c *rapport.Customer, at time.Time, rating int) {
		batch = append(batch, &rapport.Moment{CustomerID: c.ID, Touchpoint: "query", Channel: rapport.ChannelPhone, OccurredAt: at, Rating: ptr(rating)})
	}
	for _, p := range all {
		// Before the day: the same ratings for every customer of a kind,
		// so that the kind alone sets the risk band that day.
		before := []int{4, 5, 4, 4, 5, 4, 4, 5}
		if p.troubled {
			before = []int{4, 4, 1, 4, 2, 1, 1, 1}
		}
		for k, r := range before {
			moment(p.c, day.AddDate(0, 0, -64+k*8+rnd.IntN(3)), r)
		}
		magic, misery, dissolve := 0.35, 0.05, 0.03
		if p.troubled {
			magic, misery, dissolve = 0.02, 0.8, 0.35
		}
		if p.handed {
			misery += drop
		}
		for k := range 6 {
			r := 4
			switch x := rnd.Float64(); {
			case x < magic:
				r = 5
			case x < magic+misery:
				r = 1
			}
			moment(p.c, day.AddDate(0, 0, 2+k*14+rnd.IntN(5)), r)
		}
		if rnd.Float64() < dissolve {
			at := day.AddDate(0, 0, 10+rnd.IntN(70))
			if _, err := stages.SetStage(ctx, p.c.ID, rapport.StageInput{Stage: rapport.StageDissolution, Reason: "left us",
				DissolutionReason: rapport.DissolutionDissatisfied, ChangedAt: &at}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for chunk := range slices.Chunk(batch, 500) {
		if _, err := s.moments.RecordMoments(ctx, chunk); err != nil {
			t.Fatal(err)
		}
	}
	return bandFirm{taking: taking, report: func(byRisk bool) *rapport.HandoverReport {
		t.Helper()
		var r *rapport.HandoverReport
		var err error
		if byRisk {
			r, err = hand.HandoverReport(ctx, rapport.HandoverReportFilter{})
		} else {
			r, err = sqlstore.HandoverReportOnStage(ctx, s.db, rapport.HandoverReportFilter{})
		}
		if err != nil {
			t.Fatalf("HandoverReport = %v", err)
		}
		for _, g := range r.Groups {
			t.Logf("matched on %v: %s: %d customers, %d unmatched, bands %+v", r.MatchedOn, g.Name, g.Customers, g.Unmatched, g.RiskBands)
		}
		return r
	}}
}

// groupEffect is one figure of a report's group.
func groupEffect(t *testing.T, r *rapport.HandoverReport, kind, key string) rapport.HandoverEffect {
	t.Helper()
	for _, g := range r.Groups {
		if g.Kind != kind {
			continue
		}
		for _, e := range g.Effects {
			if e.Key == key {
				return e
			}
		}
	}
	t.Fatalf("no %s for the %s group", key, kind)
	return rapport.HandoverEffect{}
}

// TestHandoverReportRiskBandRemovesBias hands over only troubled
// customers, at medium risk on the day where most are low, and the handover itself changes
// nothing. Compared with everyone of their stage, they dissolve more and
// their misery rises more, and a report matching on the stage alone blames
// the handovers; matched on the risk band too, they are compared with other
// troubled customers, and the report, on both databases, says handovers did
// not hurt.
func TestHandoverReportRiskBandRemovesBias(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		firm := plantBandFirm(t, s, 100, 0, 120, 240, 0)

		naive := firm.report(false)
		if !slices.Equal(naive.MatchedOn, []string{"day", "stage"}) {
			t.Errorf("stage-only report matched on %q", naive.MatchedOn)
		}
		if d := groupEffect(t, naive, "all", "dissolution"); !d.Hurt {
			t.Errorf("matched on the stage alone, dissolution = %s; want the bias the test plants to show as a false alarm", show(d))
		}
		if m := groupEffect(t, naive, "all", "misery_rate"); !m.Hurt {
			t.Errorf("matched on the stage alone, misery rate = %s; want the bias to show", show(m))
		}

		r := firm.report(true)
		all := r.Groups[0]
		if len(all.RiskBands) != 1 || all.RiskBands[0].Band == rapport.BandLow || all.RiskBands[0].Customers != 100 || all.Unmatched != 0 {
			t.Errorf("handed customers by band %+v, %d unmatched; want all 100 in one band above low on the day, each matched", all.RiskBands, all.Unmatched)
		}
		if len(r.Hurts) != 0 {
			t.Errorf("matched on the risk band, the report says %q; want no handover blamed", r.Hurts)
		}
		d := groupEffect(t, r, "all", "dissolution")
		if *d.Low > 0 || *d.High < 0 || *d.ComparableChange < 0.2 {
			t.Errorf("dissolution = %s; want comparable customers of the same band dissolving as often (about 35%%)", show(d))
		}
		m := groupEffect(t, r, "all", "misery_rate")
		nd, nm := groupEffect(t, naive, "all", "dissolution"), groupEffect(t, naive, "all", "misery_rate")
		t.Logf("on the stage alone: dissolution %+.3f [%+.3f, %+.3f], misery %+.3f [%+.3f, %+.3f]; with the band: dissolution %+.3f [%+.3f, %+.3f], misery %+.3f [%+.3f, %+.3f]",
			*nd.Difference, *nd.Low, *nd.High, *nm.Difference, *nm.Low, *nm.High, *d.Difference, *d.Low, *d.High, *m.Difference, *m.Low, *m.High)
		if *m.Low > 0 || *m.High < 0 {
			t.Errorf("misery rate = %s; want an interval holding no difference", show(m))
		}
	})
}

// TestHandoverReportFindsDropWithinBand hands over troubled and content
// customers alike, and the handover adds 15 points to their misery chance
// after the day. Matched within their bands, the report names the
// handovers to the receiving person for the rise in misery, with an
// interval holding the planted 15 points, on both databases.
func TestHandoverReportFindsDropWithinBand(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		firm := plantBandFirm(t, s, 60, 90, 120, 240, 0.15)
		r := firm.report(true)
		if b := r.Groups[0].RiskBands; len(b) != 2 || b[0].Band != rapport.BandLow || b[0].Customers != 90 || b[1].Band == rapport.BandLow || b[1].Customers != 60 {
			t.Errorf("handed customers by band %+v; want the 90 content ones low and the 60 troubled ones in a band above", b)
		}
		var tia *rapport.HandoverEffect
		for _, g := range r.Groups {
			for i, e := range g.Effects {
				if g.Kind == "person" && e.Key == "misery_rate" {
					tia = &g.Effects[i]
				}
			}
		}
		if tia == nil || !tia.Hurt || !(*tia.Low <= 0.15 && 0.15 <= *tia.High) ||
			!strings.Contains(tia.Verdict, "Handovers to Tia Taking hurt: the misery rate") {
			t.Errorf("Tia's misery rate = %s; want the planted 15-point rise named", show(tia))
		}
	})
}
