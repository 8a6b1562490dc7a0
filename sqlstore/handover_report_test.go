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
