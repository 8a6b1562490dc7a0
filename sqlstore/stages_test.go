package sqlstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// rel holds the relationship services of a store.
type rel struct {
	stages   *sqlstore.StageService
	health   *sqlstore.HealthService
	holdings *sqlstore.HoldingService
	segments *sqlstore.SegmentService
	outcomes *sqlstore.OutcomeService
}

func relationships(s *store) rel {
	return rel{
		stages:   sqlstore.NewStageService(s.db),
		health:   sqlstore.NewHealthService(s.db),
		holdings: sqlstore.NewHoldingService(s.db),
		segments: sqlstore.NewSegmentService(s.db),
		outcomes: sqlstore.NewOutcomeService(s.db),
	}
}

// products adds products to the catalogue.
func (r rel) products(t testing.TB, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := r.holdings.CreateProduct(context.Background(), &rapport.Product{Key: k, Name: strings.ToUpper(k[:1]) + k[1:] + " cover"}); err != nil {
			t.Fatalf("CreateProduct(%q) = %v", k, err)
		}
	}
}

func (r rel) hold(t testing.TB, customerID, product string) *rapport.Holding {
	t.Helper()
	h, err := r.holdings.AddHolding(context.Background(), customerID, rapport.HoldingInput{Product: product})
	if err != nil {
		t.Fatalf("AddHolding(%s) = %v", product, err)
	}
	return h
}

// asUser returns a context acting as the user.
func asUser(u *rapport.User) context.Context {
	return rapport.NewContextWithPrincipal(context.Background(), &rapport.Principal{UserID: u.ID, Name: u.Name, Role: u.Role})
}

// history renders a customer's stage history as "from>to by kind".
func history(t testing.TB, r rel, customerID string) []string {
	t.Helper()
	h, err := r.stages.StageHistory(context.Background(), customerID)
	if err != nil {
		t.Fatalf("StageHistory = %v", err)
	}
	var out []string
	for _, e := range h {
		out = append(out, string(e.From)+">"+string(e.To)+" by "+string(e.ChangedByKind))
	}
	return out
}

// TestSetStageInvalid checks that a stage set by hand is refused with every bad field named, and nothing changes.
func TestSetStageInvalid(t *testing.T) {
	tests := []struct {
		name string
		in   rapport.StageInput
		want []string
	}{
		{"nothing", rapport.StageInput{}, []string{"reason", "stage"}},
		{"unknown stage", rapport.StageInput{Stage: "engaged", Reason: "x"}, []string{"stage"}},
		{"dissolution without its reason", rapport.StageInput{Stage: rapport.StageDissolution, Reason: "left"}, []string{"dissolution_reason"}},
		{"unknown dissolution reason", rapport.StageInput{Stage: rapport.StageDissolution, Reason: "left", DissolutionReason: "bored"}, []string{"dissolution_reason"}},
		{"dissolution reason on another stage", rapport.StageInput{Stage: rapport.StageCommitment, Reason: "x", DissolutionReason: "fraud"}, []string{"dissolution_reason"}},
	}
	eachBackend(t, func(t *testing.T, s *store) {
		r := relationships(s)
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		for _, tt := range tests {
			_, err := r.stages.SetStage(context.Background(), c.ID, tt.in)
			wantCode(t, tt.name, err, rapport.EINVALID)
			if got := fieldNames(err); !slices.Equal(got, tt.want) {
				t.Errorf("%s: SetStage fields = %q; want %q", tt.name, got, tt.want)
			}
		}
		if n := s.count(t, "stage_changes", ""); n != 1 {
			t.Errorf("after invalid stages, %d stage changes; want 1 (creation)", n)
		}
		_, err := r.stages.SetStage(context.Background(), "01NOSUCHCUSTOMER0000000000", rapport.StageInput{Stage: "commitment", Reason: "x"})
		wantCode(t, "SetStage(unknown customer)", err, rapport.ENOTFOUND)
	})
}

// TestStageByHandAndInference follows customers through the stage rules:
// holdings move them on, a stage set by hand holds and turns moves into
// proposals, releasing it lets the rules act, and a lapsed relationship is
// proposed for dissolution, never dissolved silently.
func TestStageByHandAndInference(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		r.products(t, "motor", "home", "travel")
		manager := s.user(t, "Mia Manager")

		// Products move a customer on by themselves.
		ada := s.customer(t, &rapport.Customer{Name: "Ada"})
		for _, p := range []string{"motor", "home", "travel"} {
			r.hold(t, ada.ID, p)
		}
		want := []string{">awareness by system", "awareness>exploration by inference", "exploration>expansion by inference",
			"expansion>commitment by inference"}
		if got := history(t, r, ada.ID); !slices.Equal(got, want) {
			t.Errorf("history(ada) = %q; want %q", got, want)
		}
		st, err := r.stages.StageStatus(ctx, ada.ID)
		if err != nil || st.Stage != rapport.StageCommitment || st.SetBy != rapport.StageSetByInference || st.Proposal != nil ||
			st.LastChange == nil || st.LastChange.Reason != "3 products held" {
			t.Errorf("StageStatus(ada) = %s, %v; want commitment by inference for holding 3 products", show(st), err)
		}
		if got, _ := s.customers.FindCustomerByID(ctx, ada.ID); got.Stage != rapport.StageCommitment {
			t.Errorf("customer stage = %q; want commitment", got.Stage)
		}

		// A stage set by hand holds; the rules only propose.
		bo := s.customer(t, &rapport.Customer{Name: "Bo"})
		st, err = r.stages.SetStage(asUser(manager), bo.ID, rapport.StageInput{Stage: rapport.StageAwareness, Reason: "still deciding, says the broker"})
		if err != nil || st.SetBy != rapport.StageSetByHand || st.LastChange.ChangedBy != manager.ID {
			t.Fatalf("SetStage = %s, %v; want set by hand by the manager", show(st), err)
		}
		r.hold(t, bo.ID, "motor")
		r.hold(t, bo.ID, "home")
		st, _ = r.stages.StageStatus(ctx, bo.ID)
		if st.Stage != rapport.StageAwareness || st.Proposal == nil || st.Proposal.Stage != rapport.StageExpansion ||
			st.Proposal.Reason != "2 products held" || !st.Proposal.ProposedAt.Equal(epoch) {
			t.Errorf("StageStatus(bo, manual) = %s; want awareness with expansion proposed", show(st))
		}
		h, _ := r.stages.StageHistory(ctx, bo.ID)
		if last := h[len(h)-1]; last.ChangedByKind != "user" || last.ChangedByName != "Mia Manager" || last.Reason != "still deciding, says the broker" {
			t.Errorf("last history entry = %s; want the manager's change, with her name and reason", show(last))
		}
		st, err = r.stages.ReleaseStage(ctx, bo.ID)
		if err != nil || st.Stage != rapport.StageExpansion || st.SetBy != rapport.StageSetByInference || st.Proposal != nil {
			t.Errorf("ReleaseStage(bo) = %s, %v; want expansion applied by the rules", show(st), err)
		}

		// Ending every product proposes dissolution once the lapse is long enough.
		cy := s.customer(t, &rapport.Customer{Name: "Cy"})
		motor := r.hold(t, cy.ID, "motor")
		if _, err := r.holdings.EndHolding(ctx, cy.ID, motor.ID, time.Time{}); err != nil {
			t.Fatalf("EndHolding = %v", err)
		}
		s.clock.Add(61 * 24 * time.Hour)
		res, err := r.health.Sweep(ctx)
		if err != nil || res.Proposals < 1 {
			t.Fatalf("Sweep = %+v, %v; want a proposal", res, err)
		}
		st, _ = r.stages.StageStatus(ctx, cy.ID)
		if st.Stage != rapport.StageExploration || st.Proposal == nil || st.Proposal.Stage != rapport.StageDissolution ||
			st.Proposal.DissolutionReason != rapport.DissolutionOther || !strings.Contains(st.Proposal.Reason, "every product ended 61 days ago") {
			t.Errorf("StageStatus(cy) = %s; want exploration with dissolution proposed", show(st))
		}
		// A second sweep finds nothing new to propose.
		if res, err := r.health.Sweep(ctx); err != nil || res.Proposals != 0 || res.StagesApplied != 0 {
			t.Errorf("second Sweep = %+v, %v; want no new proposals or stages", res, err)
		}
		// A person confirms it.
		st, err = r.stages.SetStage(asUser(manager), cy.ID, rapport.StageInput{Stage: rapport.StageDissolution,
			Reason: "moved abroad", DissolutionReason: rapport.DissolutionOther})
		if err != nil || st.Stage != rapport.StageDissolution || st.Proposal != nil || st.LastChange.DissolutionReason != rapport.DissolutionOther {
			t.Errorf("SetStage(dissolution) = %s, %v; want dissolution with its reason and no proposal", show(st), err)
		}
		hl, err := r.health.CustomerHealth(ctx, cy.ID)
		if err != nil || hl.Risk != 100 || hl.Health != 0 || hl.Stage != rapport.StageDissolution {
			t.Errorf("CustomerHealth(dissolved) = %s, %v; want risk 100, health 0", show(hl), err)
		}

		// The timeline shows the stage changes.
		page, err := s.timelines.Timeline(ctx, cy.ID, rapport.TimelineFilter{})
		if err != nil || len(page.Items) == 0 || page.Items[0].Kind != rapport.EntryStageChange || page.Items[0].StageChange.To != rapport.StageDissolution {
			t.Errorf("Timeline(cy) = %s, %v; want the dissolution first", show(page.Items), err)
		}
	})
}

// TestDismissProposal checks that a dismissed proposal goes, stays gone
// while the rules conclude the same, and that a different conclusion is
// proposed as usual.
func TestDismissProposal(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		r.products(t, "motor", "home", "travel")
		di := s.customer(t, &rapport.Customer{Name: "Di"})
		_, err := r.stages.DismissProposal(ctx, di.ID)
		wantCode(t, "DismissProposal(nothing proposed)", err, rapport.ECONFLICT)
		if _, err := r.stages.SetStage(ctx, di.ID, rapport.StageInput{Stage: rapport.StageAwareness, Reason: "not yet"}); err != nil {
			t.Fatal(err)
		}
		r.hold(t, di.ID, "motor")
		r.hold(t, di.ID, "home")
		st, _ := r.stages.StageStatus(ctx, di.ID)
		if st.Proposal == nil || st.Proposal.Stage != rapport.StageExpansion {
			t.Fatalf("StageStatus = %s; want expansion proposed", show(st))
		}
		st, err = r.stages.DismissProposal(ctx, di.ID)
		if err != nil || st.Proposal != nil || st.Stage != rapport.StageAwareness || st.SetBy != rapport.StageSetByHand {
			t.Fatalf("DismissProposal = %s, %v; want awareness set by hand, no proposal", show(st), err)
		}
		// The same conclusion again, from a moment and from the sweep: still dismissed.
		s.record(t, s.moment(di.ID))
		s.clock.Add(40 * 24 * time.Hour)
		if _, err := r.health.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if st, _ := r.stages.StageStatus(ctx, di.ID); st.Proposal != nil {
			t.Errorf("after a moment and a sweep the dismissed proposal is back: %s", show(st))
		}
		// A third product makes the rules conclude commitment: that is proposed.
		r.hold(t, di.ID, "travel")
		if st, _ := r.stages.StageStatus(ctx, di.ID); st.Proposal == nil || st.Proposal.Stage != rapport.StageCommitment {
			t.Errorf("after a third product: %s; want commitment proposed", show(st))
		}
		_, err = r.stages.DismissProposal(ctx, "01NOSUCHCUSTOMER0000000000")
		wantCode(t, "DismissProposal(unknown)", err, rapport.ENOTFOUND)
	})
}

// TestStageFromMoments checks that moments alone move a prospect to
// exploration, through the moment hook, and that silence later proposes
// dissolution through the sweep.
func TestStageFromMoments(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		dee := s.customer(t, &rapport.Customer{Name: "Dee"})
		for i := range 4 {
			m := s.moment(dee.ID)
			m.OccurredAt = epoch.Add(-time.Duration(i+1) * 24 * time.Hour)
			s.record(t, m)
		}
		if got := history(t, r, dee.ID); len(got) != 1 {
			t.Errorf("after 4 moments history = %q; want only creation", got)
		}
		s.record(t, s.moment(dee.ID))
		want := []string{">awareness by system", "awareness>exploration by inference"}
		if got := history(t, r, dee.ID); !slices.Equal(got, want) {
			t.Errorf("after 5 moments history = %q; want %q", got, want)
		}

		s.clock.Add(366 * 24 * time.Hour)
		if _, err := r.health.Sweep(ctx); err != nil {
			t.Fatalf("Sweep = %v", err)
		}
		st, _ := r.stages.StageStatus(ctx, dee.ID)
		if st.Stage != rapport.StageExploration || st.Proposal == nil || st.Proposal.DissolutionReason != rapport.DissolutionLowVolume ||
			!strings.HasPrefix(st.Proposal.Reason, "silent for 366 days") {
			t.Errorf("after a year's silence StageStatus = %s; want dissolution (low volume) proposed", show(st))
		}

		// With dissolution applied automatically, the sweep applies it.
		rules := rapport.DefaultStageRules()
		rules.AutoDissolve = true
		if _, err := r.stages.SetStageRules(ctx, rules); err != nil {
			t.Fatalf("SetStageRules = %v", err)
		}
		if got, _ := r.stages.StageRules(ctx); !got.AutoDissolve {
			t.Errorf("StageRules = %+v; want auto_dissolve", got)
		}
		s.clock.Add(31 * 24 * time.Hour)
		if res, err := r.health.Sweep(ctx); err != nil || res.StagesApplied != 1 {
			t.Fatalf("Sweep = %+v, %v; want one stage applied", res, err)
		}
		st, _ = r.stages.StageStatus(ctx, dee.ID)
		if st.Stage != rapport.StageDissolution || st.LastChange.DissolutionReason != rapport.DissolutionLowVolume || st.SetBy != rapport.StageSetByInference {
			t.Errorf("StageStatus = %s; want dissolved by inference", show(st))
		}

		bad := rapport.DefaultStageRules()
		bad.CommitmentProducts = 1
		_, err := r.stages.SetStageRules(ctx, bad)
		wantCode(t, "SetStageRules(commitment below expansion)", err, rapport.EINVALID)
	})
}
