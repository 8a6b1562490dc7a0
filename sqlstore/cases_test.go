package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// misery returns a misery moment (rating 1) for a customer at the touchpoint.
func (s *store) misery(customerID, touchpoint string) *rapport.Moment {
	m := s.moment(customerID)
	m.Touchpoint, m.Rating = touchpoint, ptr(1)
	return m
}

func (s *store) cases(t testing.TB, f rapport.CaseFilter) []*rapport.RecoveryCase {
	t.Helper()
	f.Limit = rapport.MaxPageSize
	page, err := sqlstore.NewRecoveryService(s.db).FindCases(context.Background(), f)
	if err != nil {
		t.Fatalf("FindCases(%+v) = %v", f, err)
	}
	return page.Items
}

// TestMiseryOpensOneCase checks that a misery moment opens exactly one case,
// however often it is sent, assigned and due as the policy and the
// touchpoint's service level say.
func TestMiseryOpensOneCase(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		recovery := sqlstore.NewRecoveryService(s.db)
		owner := s.user(t, "Olive Owner")
		owned := s.customer(t, &rapport.Customer{Name: "Ada", OwnerID: owner.ID})
		unowned := s.customer(t, &rapport.Customer{Name: "Grace"})

		m := s.misery(owned.ID, "complaint")
		m.ExternalID = "call-1"
		s.record(t, m)
		for range 2 {
			again := s.misery(owned.ID, "complaint")
			again.ExternalID = "call-1"
			s.record(t, again)
		}
		twice := []*rapport.Moment{s.misery(owned.ID, "service"), s.misery(owned.ID, "service")}
		twice[0].ExternalID, twice[1].ExternalID = "call-2", "call-2"
		if _, err := s.moments.RecordMoments(ctx, twice); err != nil {
			t.Fatal(err)
		}
		if _, err := s.moments.RecordMoments(ctx, twice); err != nil {
			t.Fatal(err)
		}
		s.record(t, s.moment(owned.ID)) // rating 4: neutral, no case
		if n := s.count(t, "recovery_cases", ""); n != 2 {
			t.Fatalf("after one misery moment sent three times and one sent twice in two batches, %d cases; want 2", n)
		}
		got := s.cases(t, rapport.CaseFilter{CustomerID: owned.ID})
		if len(got) != 2 {
			t.Fatalf("FindCases(customer) = %d cases; want 2", len(got))
		}
		c := got[0]
		if c.MomentID != m.ID {
			c = got[1]
		}
		if c.MomentID != m.ID || c.AssigneeID != owner.ID || c.AssigneeName != "Olive Owner" || c.Queue != "" ||
			c.Status != rapport.CaseOpen || c.Touchpoint != "complaint" || c.CustomerName != "Ada" {
			t.Errorf("case = %s; want open, on the moment, assigned to the owner", show(c))
		}
		if want := epoch.Add(48 * time.Hour); !c.OpenedAt.Equal(epoch) || !c.DueAt.Equal(want) {
			t.Errorf("case opened %v, due %v; want %v and %v (the default 48 hours)", c.OpenedAt, c.DueAt, epoch, want)
		}
		if c.Overdue || c.Escalated || c.Recovery != rapport.RecoveryPending {
			t.Errorf("new case overdue %v, escalated %v, recovery %s; want false, false, pending", c.Overdue, c.Escalated, c.Recovery)
		}

		// A service level set on the touchpoint applies to the next case.
		if _, err := recovery.SetServiceLevel(ctx, rapport.ServiceLevel{Touchpoint: "greeting", Hours: 4}); err != nil {
			t.Fatal(err)
		}
		g := s.record(t, s.misery(unowned.ID, "greeting"))
		queued := s.cases(t, rapport.CaseFilter{CustomerID: unowned.ID})
		if len(queued) != 1 || queued[0].MomentID != g.ID || queued[0].AssigneeID != "" || queued[0].Queue != "recovery" ||
			!queued[0].DueAt.Equal(epoch.Add(4*time.Hour)) {
			t.Errorf("case of an unowned customer = %s; want it in the recovery queue, due in 4 hours", show(queued))
		}
		if got := s.cases(t, rapport.CaseFilter{AssigneeID: rapport.CaseUnassigned}); len(got) != 1 {
			t.Errorf("FindCases(unassigned) = %d; want 1", len(got))
		}
		if got := s.cases(t, rapport.CaseFilter{AssigneeID: owner.ID, Status: rapport.CaseOpen}); len(got) != 2 {
			t.Errorf("FindCases(owner, open) = %d; want 2", len(got))
		}

		// A misery moment recorded long after it happened is history.
		old := s.misery(owned.ID, "query")
		old.OccurredAt = epoch.AddDate(0, 0, -45)
		s.record(t, old)
		if n := s.count(t, "recovery_cases", ""); n != 3 {
			t.Errorf("after a misery moment 45 days old, %d cases; want 3 (none for it)", n)
		}
		// A policy that sends every case to the queue.
		p := rapport.DefaultRecoveryPolicy()
		p.AssignToOwner, p.Queue = false, "Customer Care"
		if _, err := recovery.SetRecoveryPolicy(ctx, p); err != nil {
			t.Fatal(err)
		}
		s.record(t, s.misery(owned.ID, "query"))
		if got := s.cases(t, rapport.CaseFilter{Queue: "Customer Care"}); len(got) != 1 || got[0].AssigneeID != "" {
			t.Errorf("with assign_to_owner off, FindCases(queue) = %s; want the new case in Customer Care", show(got))
		}
		bad := rapport.RecoveryPolicy{Queue: "", EscalationRole: rapport.RoleAgent}
		if _, err := recovery.SetRecoveryPolicy(ctx, bad); rapport.ErrorCode(err) != rapport.EINVALID || len(rapport.ErrorFields(err)) != 3 {
			t.Errorf("SetRecoveryPolicy(bad) = %v; want EINVALID on queue, escalation_role and open_within_days", err)
		}
		if _, err := recovery.SetServiceLevel(ctx, rapport.ServiceLevel{Touchpoint: "nope", Hours: 4}); rapport.ErrorCode(err) != rapport.ENOTFOUND {
			t.Errorf("SetServiceLevel(unknown touchpoint) = %v; want ENOTFOUND", err)
		}
		if _, err := recovery.SetServiceLevel(ctx, rapport.ServiceLevel{Touchpoint: "greeting", Hours: 0}); rapport.ErrorCode(err) != rapport.EINVALID {
			t.Errorf("SetServiceLevel(0 hours) = %v; want EINVALID", err)
		}
	})
}

// TestOverdueCaseEscalates checks, on a controlled clock, that a case
// escalates once when it passes its due time: to the assignee's manager, or
// to the policy's role when there is none.
func TestOverdueCaseEscalates(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		recovery := sqlstore.NewRecoveryService(s.db)
		boss := s.user(t, "Maya Manager")
		agent := &rapport.User{Name: "Dylan Agent", Email: "dylan@firm.example", Role: rapport.RoleAgent, ManagerID: boss.ID}
		if err := s.users.CreateUser(ctx, agent); err != nil {
			t.Fatal(err)
		}
		owned := s.customer(t, &rapport.Customer{Name: "Ada", OwnerID: agent.ID})
		unowned := s.customer(t, &rapport.Customer{Name: "Grace"})
		s.record(t, s.misery(owned.ID, "complaint"))
		s.record(t, s.misery(unowned.ID, "complaint"))
		resolvedMoment := s.record(t, s.misery(owned.ID, "service"))
		resolved := s.cases(t, rapport.CaseFilter{CustomerID: owned.ID})
		var toResolve string
		for _, c := range resolved {
			if c.MomentID == resolvedMoment.ID {
				toResolve = c.ID
			}
		}
		if _, err := recovery.UpdateCase(ctx, toResolve, rapport.CaseUpdate{Status: ptr(rapport.CaseResolved), Resolution: ptr("Called back")}); err != nil {
			t.Fatal(err)
		}

		s.clock.Add(47 * time.Hour)
		if n, err := recovery.Escalate(ctx); err != nil || n != 0 {
			t.Fatalf("Escalate before the due time = %d, %v; want 0", n, err)
		}
		if got := s.cases(t, rapport.CaseFilter{Overdue: ptr(true)}); len(got) != 0 {
			t.Errorf("overdue before the due time: %d; want 0", len(got))
		}
		s.clock.Add(2 * time.Hour)
		if got := s.cases(t, rapport.CaseFilter{Overdue: ptr(true)}); len(got) != 2 || !got[0].Overdue || got[0].Escalated {
			t.Fatalf("overdue after the due time = %s; want the 2 open cases, flagged overdue, not yet escalated", show(got))
		}
		if n, err := recovery.Escalate(ctx); err != nil || n != 2 {
			t.Fatalf("Escalate after the due time = %d, %v; want 2", n, err)
		}
		if n, err := recovery.Escalate(ctx); err != nil || n != 0 {
			t.Errorf("Escalate again = %d, %v; want 0 (each case escalates once)", n, err)
		}
		toBoss := s.cases(t, rapport.CaseFilter{EscalatedTo: boss.ID})
		if len(toBoss) != 1 || toBoss[0].CustomerID != owned.ID || !toBoss[0].Escalated || toBoss[0].EscalatedAt == nil ||
			!toBoss[0].EscalatedAt.Equal(s.clock.Now()) {
			t.Fatalf("cases escalated to the manager = %s; want Ada's open case, escalated now", show(toBoss))
		}
		c, err := recovery.FindCaseByID(ctx, toBoss[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Actions) != 1 || c.Actions[0].Kind != rapport.ActionEscalated {
			t.Errorf("history = %s; want one escalation", show(c.Actions))
		}
		queued := s.cases(t, rapport.CaseFilter{CustomerID: unowned.ID})
		if len(queued) != 1 || queued[0].EscalatedRole != rapport.RoleManager || queued[0].EscalatedTo != "" {
			t.Errorf("escalated queue case = %s; want escalated to the manager role", show(queued))
		}
		if got := s.cases(t, rapport.CaseFilter{Escalated: ptr(true)}); len(got) != 2 {
			t.Errorf("FindCases(escalated) = %d; want 2 (not the resolved case)", len(got))
		}
		// Resolving late is recorded as late.
		done, err := recovery.UpdateCase(ctx, c.ID, rapport.CaseUpdate{Status: ptr(rapport.CaseResolved), Resolution: ptr("Refunded")})
		if err != nil {
			t.Fatal(err)
		}
		if done.ResolvedInTime == nil || *done.ResolvedInTime || done.Overdue {
			t.Errorf("late resolution = in time %v, overdue %v; want late, no longer overdue", done.ResolvedInTime, done.Overdue)
		}
	})
}

// TestCaseUpdates checks assigning, noting, resolving and reopening, the
// history they leave, and the refusals.
func TestCaseUpdates(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		recovery := sqlstore.NewRecoveryService(s.db)
		agent := s.user(t, "Sam Agent")
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		s.record(t, s.misery(c.ID, "delivery"))
		id := s.cases(t, rapport.CaseFilter{})[0].ID
		actx := rapport.NewContextWithPrincipal(ctx, &rapport.Principal{UserID: agent.ID, Name: agent.Name, Role: rapport.RoleAgent})

		for _, tc := range []struct {
			name string
			u    rapport.CaseUpdate
			code string
		}{
			{"nothing", rapport.CaseUpdate{}, rapport.EINVALID},
			{"resolve without what was done", rapport.CaseUpdate{Status: ptr(rapport.CaseResolved)}, rapport.EINVALID},
			{"unknown status", rapport.CaseUpdate{Status: ptr(rapport.CaseStatus("closed"))}, rapport.EINVALID},
			{"empty note", rapport.CaseUpdate{Note: ptr("  ")}, rapport.EINVALID},
			{"unknown assignee", rapport.CaseUpdate{AssigneeID: ptr("01NOSUCHUSER00000000000000")}, rapport.EINVALID},
			{"reopen an open case", rapport.CaseUpdate{Status: ptr(rapport.CaseOpen)}, rapport.ECONFLICT},
		} {
			if _, err := recovery.UpdateCase(actx, id, tc.u); rapport.ErrorCode(err) != tc.code {
				t.Errorf("UpdateCase(%s) = %v; want %s", tc.name, err, tc.code)
			}
		}
		if _, err := recovery.UpdateCase(actx, "01NOSUCHCASE00000000000000", rapport.CaseUpdate{Note: ptr("x")}); rapport.ErrorCode(err) != rapport.ENOTFOUND {
			t.Errorf("UpdateCase(unknown) = %v; want ENOTFOUND", err)
		}
		got, err := recovery.UpdateCase(actx, id, rapport.CaseUpdate{AssigneeID: &agent.ID, Note: ptr("Left a voicemail")})
		if err != nil || got.AssigneeID != agent.ID || got.Queue != "" {
			t.Fatalf("UpdateCase(assign and note) = %s, %v", show(got), err)
		}
		s.clock.Add(time.Hour)
		got, err = recovery.UpdateCase(actx, id, rapport.CaseUpdate{Status: ptr(rapport.CaseResolved), Resolution: ptr("Sent new documents by courier")})
		if err != nil || got.Status != rapport.CaseResolved || got.Resolution != "Sent new documents by courier" ||
			got.ResolvedBy != agent.ID || got.ResolvedInTime == nil || !*got.ResolvedInTime {
			t.Fatalf("UpdateCase(resolve) = %s, %v", show(got), err)
		}
		if _, err := recovery.UpdateCase(actx, id, rapport.CaseUpdate{Status: ptr(rapport.CaseResolved), Resolution: ptr("again")}); rapport.ErrorCode(err) != rapport.ECONFLICT {
			t.Errorf("resolving twice = %v; want ECONFLICT", err)
		}
		got, err = recovery.UpdateCase(actx, id, rapport.CaseUpdate{Status: ptr(rapport.CaseOpen), AssigneeID: ptr("")})
		if err != nil || got.Status != rapport.CaseOpen || got.ResolvedAt != nil || got.Resolution != "" || got.Queue != "recovery" {
			t.Fatalf("UpdateCase(reopen to the queue) = %s, %v", show(got), err)
		}
		var kinds []string
		for _, a := range got.Actions {
			kinds = append(kinds, string(a.Kind))
			if a.Actor != agent.ID {
				t.Errorf("action %s by %q; want %q", a.Kind, a.Actor, agent.ID)
			}
		}
		if want := []string{"assigned", "note", "resolved", "assigned", "reopened"}; show(kinds) != show(want) {
			t.Errorf("history = %q; want %q", kinds, want)
		}
	})
}

// TestCaseRecovery checks that a resolved case followed by a moment that is
// not misery counts as recovered, one followed by misery does not, and the
// report adds them up with what the customers did next.
func TestCaseRecovery(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		recovery := sqlstore.NewRecoveryService(s.db)
		happy := s.customer(t, &rapport.Customer{Name: "Happy"})
		sad := s.customer(t, &rapport.Customer{Name: "Sad"})
		quiet := s.customer(t, &rapport.Customer{Name: "Quiet"})
		for _, c := range []*rapport.Customer{happy, sad, quiet} {
			s.record(t, s.misery(c.ID, "service"))
		}
		// A closing moment in the same conversation, before the case is
		// resolved, is not the customer's next moment.
		closing := s.moment(happy.ID)
		closing.Touchpoint, closing.Rating = "closing", ptr(5)
		s.record(t, closing)
		s.clock.Add(2 * time.Hour)
		for _, c := range s.cases(t, rapport.CaseFilter{}) {
			if _, err := recovery.UpdateCase(ctx, c.ID, rapport.CaseUpdate{Status: ptr(rapport.CaseResolved), Resolution: ptr("Apologised")}); err != nil {
				t.Fatal(err)
			}
		}
		if got := s.cases(t, rapport.CaseFilter{CustomerID: happy.ID}); got[0].Recovery != rapport.RecoveryPending {
			t.Errorf("recovery before any later moment = %s; want pending", got[0].Recovery)
		}
		s.clock.Add(24 * time.Hour)
		buy := s.moment(happy.ID)
		buy.Touchpoint, buy.Rating = "purchase", ptr(5)
		s.record(t, buy)
		s.record(t, s.misery(sad.ID, "query"))
		got := s.cases(t, rapport.CaseFilter{CustomerID: happy.ID})
		if got[0].Recovery != rapport.RecoveryRecovered || got[0].NextMomentID != buy.ID {
			t.Errorf("happy case = %s; want recovered by the purchase", show(got[0]))
		}
		for _, c := range s.cases(t, rapport.CaseFilter{CustomerID: sad.ID, Status: rapport.CaseResolved}) {
			if c.Recovery != rapport.RecoveryNotRecovered {
				t.Errorf("sad case = %s; want not recovered", show(c))
			}
		}
		r, err := recovery.RecoveryReport(ctx, rapport.RecoveryReportFilter{From: epoch.Add(-time.Hour), To: epoch.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if r.Opened != 3 || r.Resolved != 3 || r.ResolvedInTime != 3 || r.Recovered != 1 || r.NotRecovered != 1 || r.AwaitingMoment != 1 ||
			r.RecoveryRate == nil || *r.RecoveryRate != 0.5 {
			t.Errorf("report = %s; want 3 opened and resolved in time, 1 recovered, 1 not, 1 awaiting, rate 0.5", show(r))
		}
		if r.RecoveredGroup.Cases != 1 || r.RecoveredGroup.Repurchased != 1 || r.UnrecoveredGroup.Cases != 1 || r.UnrecoveredGroup.Repurchased != 0 {
			t.Errorf("groups = %s / %s; want the recovered customer to have bought again", show(r.RecoveredGroup), show(r.UnrecoveredGroup))
		}
		if r.Explanation == "" {
			t.Error("report has no explanation")
		}
		if _, err := recovery.RecoveryReport(ctx, rapport.RecoveryReportFilter{From: epoch, To: epoch.Add(-time.Hour)}); rapport.ErrorCode(err) != rapport.EINVALID {
			t.Errorf("report from after to = %v; want EINVALID", err)
		}
	})
}

// TestOpenMissingCases checks the backfill for moments loaded in bulk.
func TestOpenMissingCases(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		s.record(t, s.misery(c.ID, "service"))
		if _, err := s.raw.Exec(`DELETE FROM recovery_cases`); err != nil {
			t.Fatal(err)
		}
		recovery := sqlstore.NewRecoveryService(s.db)
		if n, err := recovery.OpenMissingCases(ctx, epoch.AddDate(0, 0, -1)); err != nil || n != 1 {
			t.Fatalf("OpenMissingCases = %d, %v; want 1", n, err)
		}
		if n, err := recovery.OpenMissingCases(ctx, epoch.AddDate(0, 0, -1)); err != nil || n != 0 {
			t.Errorf("OpenMissingCases again = %d, %v; want 0", n, err)
		}
	})
}

// TestResolvePastCases checks that loading history resolves a case at its
// own time, by its own member of staff, and passes over moments without an
// open case.
func TestResolvePastCases(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		c := s.customer(t, &rapport.Customer{Name: "Ada"})
		m := s.record(t, s.misery(c.ID, "service"))
		recovery := sqlstore.NewRecoveryService(s.db)
		at := s.clock.Now().Add(30 * time.Hour).Truncate(time.Second)
		rs := []sqlstore.PastResolution{
			{MomentID: m.ID, By: "u1", Resolution: "Called back and put it right.", At: at},
			{MomentID: "no-such-moment", By: "u1", Resolution: "x", At: at},
		}
		if n, err := recovery.ResolvePastCases(ctx, rs); err != nil || n != 1 {
			t.Fatalf("ResolvePastCases = %d, %v; want 1", n, err)
		}
		page, err := recovery.FindCases(ctx, rapport.CaseFilter{CustomerID: c.ID})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("FindCases = %d cases, %v; want 1", len(page.Items), err)
		}
		got, err := recovery.FindCaseByID(ctx, page.Items[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Status.IsResolved() || got.ResolvedAt == nil || !got.ResolvedAt.Equal(at) || got.ResolvedBy != "u1" ||
			got.ResolvedInTime == nil || !*got.ResolvedInTime {
			t.Errorf("case = %s at %v by %q (in time %v); want resolved at %v by u1, in time", got.Status, got.ResolvedAt, got.ResolvedBy, got.ResolvedInTime, at)
		}
		if last := got.Actions[len(got.Actions)-1]; last.Kind != rapport.ActionResolved || !last.At.Equal(at) {
			t.Errorf("last action = %s at %v; want resolved at %v", last.Kind, last.At, at)
		}
		// A resolved case is not resolved again.
		if n, err := recovery.ResolvePastCases(ctx, rs); err != nil || n != 0 {
			t.Errorf("ResolvePastCases again = %d, %v; want 0", n, err)
		}
	})
}
