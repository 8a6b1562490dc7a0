package rapport

import (
	"strings"
	"testing"
	"time"
)

var ruleNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func TestOpensCase(t *testing.T) {
	p := DefaultRecoveryPolicy()
	for _, tc := range []struct {
		name     string
		occurred time.Time
		anyAge   bool
		want     bool
	}{
		{"just now", ruleNow, false, true},
		{"exactly 30 days ago", ruleNow.AddDate(0, 0, -30), false, true},
		{"a second more than 30 days ago", ruleNow.AddDate(0, 0, -30).Add(-time.Second), false, false},
		{"a year ago", ruleNow.AddDate(-1, 0, 0), false, false},
		{"a year ago, answered in a survey now", ruleNow.AddDate(-1, 0, 0), true, true},
	} {
		if got := p.OpensCase(tc.occurred, ruleNow, tc.anyAge); got != tc.want {
			t.Errorf("%s: OpensCase(%v, %v, %v) = %v; want %v", tc.name, tc.occurred, ruleNow, tc.anyAge, got, tc.want)
		}
	}
	p.OpenWithinDays = 1
	if p.OpensCase(ruleNow.AddDate(0, 0, -2), ruleNow, false) {
		t.Errorf("OpensCase(2 days ago) with open_within_days 1 = true; want false")
	}
}

func TestAssign(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		toOwner                 bool
		owner                   string
		wantAssignee, wantQueue string
	}{
		{"to the owner", true, "u1", "u1", ""},
		{"no owner: the queue", true, "", "", "complaints"},
		{"the policy keeps cases in the queue", false, "u1", "", "complaints"},
		{"neither", false, "", "", "complaints"},
	} {
		p := RecoveryPolicy{AssignToOwner: tc.toOwner, Queue: "complaints", EscalationRole: RoleManager, OpenWithinDays: 30}
		assignee, queue := p.Assign(tc.owner)
		if assignee != tc.wantAssignee || queue != tc.wantQueue {
			t.Errorf("%s: Assign(%q) = %q, %q; want %q, %q", tc.name, tc.owner, assignee, queue, tc.wantAssignee, tc.wantQueue)
		}
	}
}

func TestOpenCase(t *testing.T) {
	p := DefaultRecoveryPolicy()
	levels := map[string]int{"greeting": 4, "claim": 72}
	for _, tc := range []struct {
		touchpoint string
		owner      string
		want       OpenedCase
	}{
		{"greeting", "u1", OpenedCase{AssigneeID: "u1", OpenedAt: ruleNow, DueAt: ruleNow.Add(4 * time.Hour)}},
		{"claim", "", OpenedCase{Queue: "recovery", OpenedAt: ruleNow, DueAt: ruleNow.Add(72 * time.Hour)}},
		{"unknown", "u2", OpenedCase{AssigneeID: "u2", OpenedAt: ruleNow, DueAt: ruleNow.Add(DefaultServiceLevelHours * time.Hour)}},
	} {
		got := p.OpenCase(&Moment{Touchpoint: tc.touchpoint}, tc.owner, levels, ruleNow)
		if got != tc.want {
			t.Errorf("OpenCase(%s, owner %q) = %+v; want %+v", tc.touchpoint, tc.owner, got, tc.want)
		}
	}
}

func TestIsOverdue(t *testing.T) {
	due := ruleNow.Add(-time.Hour)
	for _, tc := range []struct {
		status CaseStatus
		due    time.Time
		want   bool
	}{
		{CaseOpen, due, true},
		{CaseOpen, ruleNow, false},
		{CaseOpen, ruleNow.Add(time.Hour), false},
		{CaseResolved, due, false},
	} {
		if got := IsOverdue(tc.status, tc.due, ruleNow); got != tc.want {
			t.Errorf("IsOverdue(%s, %v, %v) = %v; want %v", tc.status, tc.due, ruleNow, got, tc.want)
		}
	}
}

func TestEscalate(t *testing.T) {
	due := time.Date(2026, 3, 1, 14, 5, 0, 0, time.UTC)
	p := DefaultRecoveryPolicy()
	for _, tc := range []struct {
		name string
		role Role
		c    OverdueCase
		want Escalation
	}{
		{"to the assignee's manager", RoleManager, OverdueCase{ID: "c1", DueAt: due, ManagerID: "m1", ManagerName: "Mona Manager"},
			Escalation{To: "m1", Note: "Overdue since 1 Mar 2026 14:05 UTC; escalated to Mona Manager"}},
		{"no manager: every manager", RoleManager, OverdueCase{ID: "c2", DueAt: due},
			Escalation{Role: RoleManager, Note: "Overdue since 1 Mar 2026 14:05 UTC; escalated to every manager"}},
		{"no manager: every admin, as the policy says", RoleAdmin, OverdueCase{ID: "c3", DueAt: due},
			Escalation{Role: RoleAdmin, Note: "Overdue since 1 Mar 2026 14:05 UTC; escalated to every admin"}},
	} {
		p.EscalationRole = tc.role
		if got := p.Escalate(tc.c); got != tc.want {
			t.Errorf("%s: Escalate(%+v) = %+v; want %+v", tc.name, tc.c, got, tc.want)
		}
	}
}

func TestAssignmentNote(t *testing.T) {
	for _, tc := range []struct{ name, queue, want string }{
		{"Olive Owner", "", "to Olive Owner"},
		{"", "recovery", "to the recovery queue"},
		{"", "", "to the queue"},
	} {
		if got := AssignmentNote(tc.name, tc.queue); got != tc.want {
			t.Errorf("AssignmentNote(%q, %q) = %q; want %q", tc.name, tc.queue, got, tc.want)
		}
	}
}

func TestRecoveryOf(t *testing.T) {
	for _, tc := range []struct {
		resolved bool
		next     Outcome
		want     RecoveryOutcome
	}{
		{false, "", RecoveryPending},
		{false, OutcomeMagic, RecoveryPending},
		{true, "", RecoveryPending},
		{true, OutcomeMagic, RecoveryRecovered},
		{true, OutcomeNeutral, RecoveryRecovered},
		{true, OutcomeMisery, RecoveryNotRecovered},
	} {
		if got := RecoveryOf(tc.resolved, tc.next); got != tc.want {
			t.Errorf("RecoveryOf(%v, %q) = %s; want %s", tc.resolved, tc.next, got, tc.want)
		}
	}
}

func TestRecoveryGroupOf(t *testing.T) {
	for _, tc := range []struct {
		status   CaseStatus
		overdue  bool
		recovery RecoveryOutcome
		want     RecoveryOutcome
	}{
		{CaseOpen, false, RecoveryPending, RecoveryPending},
		{CaseOpen, true, RecoveryPending, RecoveryNotRecovered},
		{CaseResolved, false, RecoveryPending, RecoveryPending},
		{CaseResolved, false, RecoveryRecovered, RecoveryRecovered},
		{CaseResolved, false, RecoveryNotRecovered, RecoveryNotRecovered},
	} {
		if got := RecoveryGroupOf(tc.status, tc.overdue, tc.recovery); got != tc.want {
			t.Errorf("RecoveryGroupOf(%s, %v, %s) = %s; want %s", tc.status, tc.overdue, tc.recovery, got, tc.want)
		}
	}
}

func TestRecoveryReportExplain(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	for _, tc := range []struct {
		name string
		r    RecoveryReport
		want string
	}{
		{"nothing opened", RecoveryReport{}, "No recovery cases were opened in this period."},
		{"no rate yet", RecoveryReport{Opened: 3, Resolved: 1, ResolvedInTime: 1, Open: 2, Overdue: 1},
			"3 cases opened; 1 resolved (1 by their due time), 2 still open (1 overdue). " +
				"No resolved case has been followed by another moment yet, so the recovery rate is not known."},
		{"a rate and a significant difference", RecoveryReport{Opened: 10, Resolved: 8, ResolvedInTime: 6, Open: 2, Overdue: 2,
			Recovered: 3, NotRecovered: 1, RecoveryRate: f(0.75), FollowUpDays: 90,
			RecoveredGroup:        RecoveryGroup{DissolutionRate: f(0.1)},
			UnrecoveredGroup:      RecoveryGroup{DissolutionRate: f(0.5)},
			DissolutionDifference: &RecoveryDifference{PValue: 0.01}},
			"10 cases opened; 8 resolved (6 by their due time), 2 still open (2 overdue). " +
				"Of the 4 resolved cases followed by another moment, 3 (75%) were followed by one that was not misery: recovered. " +
				"Within 90 days, 10% of recovered customers dissolved against 50% of unrecovered ones (a significant difference, p = 0.01)."},
		{"a difference that could be chance", RecoveryReport{Opened: 1, Resolved: 1, Recovered: 1, RecoveryRate: f(1), FollowUpDays: 90,
			RecoveredGroup: RecoveryGroup{DissolutionRate: f(0)}, UnrecoveredGroup: RecoveryGroup{DissolutionRate: f(0.2)},
			DissolutionDifference: &RecoveryDifference{PValue: 0.4}},
			"a difference that could be chance, p = 0.4)."},
	} {
		got := tc.r.Explain()
		if got != tc.want && !(strings.HasPrefix(tc.want, "a difference") && strings.HasSuffix(got, tc.want)) {
			t.Errorf("%s: Explain() = %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestStatusQuestions(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want bool
	}{
		{"open case IsOpen", CaseOpen.IsOpen(), true},
		{"open case IsResolved", CaseOpen.IsResolved(), false},
		{"resolved case IsResolved", CaseResolved.IsResolved(), true},
		{"resolved case IsOpen", CaseResolved.IsOpen(), false},
		{"recovered IsRecovered", RecoveryRecovered.IsRecovered(), true},
		{"recovered IsNotRecovered", RecoveryRecovered.IsNotRecovered(), false},
		{"not recovered IsNotRecovered", RecoveryNotRecovered.IsNotRecovered(), true},
		{"pending IsRecovered", RecoveryPending.IsRecovered(), false},
		{"pending IsNotRecovered", RecoveryPending.IsNotRecovered(), false},
		{"open promise IsOpen", PromiseOpen.IsOpen(), true},
		{"kept promise IsKept", PromiseKept.IsKept(), true},
		{"kept promise IsBroken", PromiseKept.IsBroken(), false},
		{"broken promise IsBroken", PromiseBroken.IsBroken(), true},
		{"broken promise IsOpen", PromiseBroken.IsOpen(), false},
		{"a note is in own words", ActionNote.InOwnWords(), true},
		{"a resolution is in own words", ActionResolved.InOwnWords(), true},
		{"an assignment is not", ActionAssigned.InOwnWords(), false},
		{"an escalation is not", ActionEscalated.InOwnWords(), false},
		{"a reopening is not", ActionReopened.InOwnWords(), false},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v; want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestCaseStatusCheckMove(t *testing.T) {
	for _, tc := range []struct {
		from, to CaseStatus
		want     string
	}{
		{CaseOpen, CaseResolved, ""},
		{CaseResolved, CaseOpen, ""},
		{CaseResolved, CaseResolved, ECONFLICT},
		{CaseOpen, CaseOpen, ECONFLICT},
	} {
		if got := ErrorCode(tc.from.CheckMove(tc.to)); got != tc.want {
			t.Errorf("%s.CheckMove(%s) code %q; want %q", tc.from, tc.to, got, tc.want)
		}
	}
}
