package rapport

import (
	"fmt"
	"strings"
	"time"
)

// The rules of recovery, kept apart from storage so that each can be read
// and tested on its own: which misery moments open a case, who gets it and
// when it is due, which cases escalate and to whom, whether a case
// recovered, and how the history and the report put it in words.

// OpensCase reports whether a misery moment that happened at occurred, and
// is recorded now, opens a case: one recorded more than OpenWithinDays
// after it happened is history, unless anyAge says the customer is unhappy
// now (a survey answer about an old moment).
func (p RecoveryPolicy) OpensCase(occurred, now time.Time, anyAge bool) bool {
	return anyAge || !occurred.Before(now.AddDate(0, 0, -p.OpenWithinDays))
}

// Assign decides who works a new case: the customer's owner (empty when
// they have none) when the policy assigns to owners, and otherwise nobody,
// the case waiting in the policy's queue.
func (p RecoveryPolicy) Assign(owner string) (assignee, queue string) {
	if p.AssignToOwner && owner != "" {
		return owner, ""
	}
	return "", p.Queue
}

// CaseDue is when a case opened at opened is due: the touchpoint's service
// level in hours after it opens, or DefaultServiceLevelHours when the
// touchpoint has none in levels.
func CaseDue(opened time.Time, levels map[string]int, touchpoint string) time.Time {
	hours, ok := levels[touchpoint]
	if !ok {
		hours = DefaultServiceLevelHours
	}
	return opened.Add(time.Duration(hours) * time.Hour)
}

// OpenedCase is the case a misery moment opens: who works it, or the queue
// it waits in, and when it opened and is due.
type OpenedCase struct {
	AssigneeID string
	Queue      string
	OpenedAt   time.Time
	DueAt      time.Time
}

// OpenCase decides the case a misery moment opens at opened, given the
// customer's owner and the touchpoints' service levels in hours.
func (p RecoveryPolicy) OpenCase(m *Moment, owner string, levels map[string]int, opened time.Time) OpenedCase {
	assignee, queue := p.Assign(owner)
	return OpenedCase{AssigneeID: assignee, Queue: queue, OpenedAt: opened, DueAt: CaseDue(opened, levels, m.Touchpoint)}
}

// CheckMove says whether a case in status s may move to status to: ECONFLICT
// when it is there already (a resolved case is reopened before it is
// resolved again).
func (s CaseStatus) CheckMove(to CaseStatus) error {
	switch {
	case to == CaseResolved && s == CaseResolved:
		return Errorf(ECONFLICT, "The case is resolved already; reopen it first.")
	case to == CaseOpen && s == CaseOpen:
		return Errorf(ECONFLICT, "The case is open already.")
	}
	return nil
}

// IsOverdue reports whether a case in status, due at due, is overdue at
// now: open past its due time.
func IsOverdue(status CaseStatus, due, now time.Time) bool {
	return status == CaseOpen && now.After(due)
}

// OverdueCase is an open case past its due time that has not been escalated,
// with the manager of its assignee (empty when it has no assignee, or the
// assignee no manager).
type OverdueCase struct {
	ID          string
	DueAt       time.Time
	ManagerID   string
	ManagerName string
}

// Escalation is where an overdue case goes: to a manager, or to everyone
// with Role; Note is what the case's history says.
type Escalation struct {
	To   string
	Role Role
	Note string
}

// Escalate decides where an overdue case escalates: to its assignee's
// manager, or, when there is none, to everyone with the policy's
// escalation role.
func (p RecoveryPolicy) Escalate(c OverdueCase) Escalation {
	e := Escalation{To: c.ManagerID}
	whom := c.ManagerName
	if e.To == "" {
		e.Role = p.EscalationRole
		whom = "every " + string(p.EscalationRole)
	}
	e.Note = "Overdue since " + c.DueAt.Format("2 Jan 2006 15:04 MST") + "; escalated to " + whom
	return e
}

// AssignmentNote is what a case's history says of an assignment: to the
// named member of staff, or, with no name, back to the queue.
func AssignmentNote(assigneeName, queue string) string {
	switch {
	case assigneeName != "":
		return "to " + assigneeName
	case queue != "":
		return "to the " + queue + " queue"
	}
	return "to the queue"
}

// RecoveryOf decides whether a case recovered, from whether it is resolved
// and the outcome of the customer's next moment since (empty when there is
// none yet).
func RecoveryOf(resolved bool, next Outcome) RecoveryOutcome {
	switch {
	case !resolved || next == "":
		return RecoveryPending
	case next == OutcomeMisery:
		return RecoveryNotRecovered
	}
	return RecoveryRecovered
}

// RecoveryGroupOf says which group of the recovery report a case falls in:
// recovered, not recovered (resolved and followed by misery again, or open
// past its due time), or neither (RecoveryPending).
func RecoveryGroupOf(status CaseStatus, overdue bool, recovery RecoveryOutcome) RecoveryOutcome {
	if status == CaseOpen {
		if overdue {
			return RecoveryNotRecovered
		}
		return RecoveryPending
	}
	return recovery
}

// Explain puts the report's main figures in words.
func (r *RecoveryReport) Explain() string {
	if r.Opened == 0 {
		return "No recovery cases were opened in this period."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d cases opened; %d resolved (%d by their due time), %d still open (%d overdue).", r.Opened, r.Resolved,
		r.ResolvedInTime, r.Open, r.Overdue)
	if r.RecoveryRate == nil {
		b.WriteString(" No resolved case has been followed by another moment yet, so the recovery rate is not known.")
	} else {
		fmt.Fprintf(&b, " Of the %d resolved cases followed by another moment, %d (%.0f%%) were followed by one that was not misery: recovered.",
			r.Recovered+r.NotRecovered, r.Recovered, 100**r.RecoveryRate)
	}
	if d := r.DissolutionDifference; d != nil {
		sig := "a difference that could be chance"
		if d.PValue < 0.05 {
			sig = "a significant difference"
		}
		fmt.Fprintf(&b, " Within %d days, %.0f%% of recovered customers dissolved against %.0f%% of unrecovered ones (%s, p = %.3g).",
			r.FollowUpDays, 100**r.RecoveredGroup.DissolutionRate, 100**r.UnrecoveredGroup.DissolutionRate, sig, d.PValue)
	}
	return b.String()
}
