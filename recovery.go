package rapport

import (
	"context"
	"strings"
	"time"
)

// Turning misery into magic: every misery moment opens a recovery case,
// assigned to the customer's owner or to the recovery queue and due within
// the touchpoint's service level. Overdue cases escalate. A case resolved
// and followed by a moment that is not misery counts as recovered.

// CaseStatus is whether a recovery case is still being worked.
type CaseStatus string

// Recovery case statuses.
const (
	CaseOpen     CaseStatus = "open"
	CaseResolved CaseStatus = "resolved"
)

// IsOpen reports whether the case is still being worked.
func (s CaseStatus) IsOpen() bool { return s == CaseOpen }

// IsResolved reports whether the case has been resolved.
func (s CaseStatus) IsResolved() bool { return s == CaseResolved }

// CaseActionKind is what a step in a case's history did.
type CaseActionKind string

// Kinds of action on a case, kept in its history.
const (
	ActionAssigned  CaseActionKind = "assigned"
	ActionNote      CaseActionKind = "note"
	ActionEscalated CaseActionKind = "escalated"
	ActionResolved  CaseActionKind = "resolved"
	ActionReopened  CaseActionKind = "reopened"
)

// InOwnWords reports whether the action's text is what a person wrote: a
// note, or what was done to resolve the case.
func (k CaseActionKind) InOwnWords() bool { return k == ActionNote || k == ActionResolved }

// ActorRapport is who a case's history says took a step that Rapport took
// itself, such as escalating an overdue case.
const ActorRapport = "rapport"

// DefaultServiceLevelHours is how long a touchpoint gives staff to recover a
// misery moment unless a manager sets otherwise.
const DefaultServiceLevelHours = 48

// MaxServiceLevelHours bounds a service level: thirty days.
const MaxServiceLevelHours = 720

// RecoveryOutcome is whether a case turned misery around.
type RecoveryOutcome string

// Recovery outcomes of a resolved case, decided by the customer's next moment.
const (
	RecoveryPending      RecoveryOutcome = "pending"       // not resolved, or no moment since
	RecoveryRecovered    RecoveryOutcome = "recovered"     // resolved, and the next moment was not misery
	RecoveryNotRecovered RecoveryOutcome = "not_recovered" // resolved, and the next moment was misery again
)

// IsRecovered reports whether the customer's next moment was not misery.
func (r RecoveryOutcome) IsRecovered() bool { return r == RecoveryRecovered }

// IsNotRecovered reports whether the customer's next moment was misery again.
func (r RecoveryOutcome) IsNotRecovered() bool { return r == RecoveryNotRecovered }

// RecoveryCase is the work of recovering one misery moment.
type RecoveryCase struct {
	ID           string     `json:"id"`
	CustomerID   string     `json:"customer_id"`
	CustomerName string     `json:"customer_name,omitempty"`
	MomentID     string     `json:"moment_id"`
	Touchpoint   string     `json:"touchpoint"`
	Status       CaseStatus `json:"status"`
	// AssigneeID is the member of staff working the case; empty while it
	// waits in Queue.
	AssigneeID   string    `json:"assignee_id,omitempty"`
	AssigneeName string    `json:"assignee_name,omitempty"`
	Queue        string    `json:"queue,omitempty"`
	OpenedAt     time.Time `json:"opened_at"`
	DueAt        time.Time `json:"due_at"`
	// Overdue is true while the case is open past its due time.
	Overdue     bool       `json:"overdue"`
	Escalated   bool       `json:"escalated"`
	EscalatedAt *time.Time `json:"escalated_at,omitempty"`
	// EscalatedTo is the manager the case was escalated to, or empty when it
	// went to everyone with EscalatedRole.
	EscalatedTo   string     `json:"escalated_to,omitempty"`
	EscalatedRole Role       `json:"escalated_role,omitempty"`
	ResolvedAt    *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy    string     `json:"resolved_by,omitempty"`
	Resolution    string     `json:"resolution,omitempty"`
	// ResolvedInTime is set once resolved: whether it was by the due time.
	ResolvedInTime *bool `json:"resolved_in_time,omitempty"`
	// Recovery is pending, recovered or not_recovered; NextMomentID is the
	// customer's first moment after the resolution, which decided it.
	Recovery     RecoveryOutcome `json:"recovery"`
	NextMomentID string          `json:"next_moment_id,omitempty"`
	Actions      []CaseAction    `json:"actions,omitempty"`
}

// CaseAction is one step in a case's history.
type CaseAction struct {
	ID    string         `json:"id"`
	Kind  CaseActionKind `json:"kind"`
	Text  string         `json:"text,omitempty"`
	Actor string         `json:"actor,omitempty"`
	At    time.Time      `json:"at"`
}

// CaseFilter selects cases; zero fields select everything.
type CaseFilter struct {
	Status     CaseStatus
	CustomerID string
	// AssigneeID selects one member of staff's cases; CaseUnassigned selects
	// the cases waiting in the queue.
	AssigneeID  string
	Queue       string
	EscalatedTo string
	Touchpoint  string
	Overdue     *bool
	Escalated   *bool
	Limit       int
	Cursor      string
}

// CaseUnassigned is the AssigneeID filter for cases nobody is working yet.
const CaseUnassigned = "none"

// CaseUpdate changes a case: every field set is applied, in the order
// assign, note, then resolve or reopen. Status is resolved (Resolution, what
// was done, is then required) or open, to reopen a resolved case.
type CaseUpdate struct {
	AssigneeID *string     `json:"assignee_id"`
	Note       *string     `json:"note"`
	Status     *CaseStatus `json:"status"`
	Resolution *string     `json:"resolution"`
}

// Validate checks an update's own fields.
func (u *CaseUpdate) Validate() error {
	v := validation{index: -1}
	if u.AssigneeID == nil && u.Note == nil && u.Status == nil && u.Resolution == nil {
		v.add("body", "send at least one of assignee_id, note, status, resolution")
	}
	if u.Note != nil {
		*u.Note = strings.TrimSpace(*u.Note)
		checkText(&v, "note", *u.Note, 1, 4000)
	}
	if u.Resolution != nil {
		*u.Resolution = strings.TrimSpace(*u.Resolution)
		checkText(&v, "resolution", *u.Resolution, 1, 4000)
	}
	switch {
	case u.Status == nil:
		if u.Resolution != nil {
			v.add("resolution", "is given only with status resolved")
		}
	case *u.Status == CaseResolved:
		if u.Resolution == nil {
			v.add("resolution", "is required to resolve a case: say what was done")
		}
	case *u.Status == CaseOpen:
		if u.Resolution != nil {
			v.add("resolution", "is given only with status resolved")
		}
	default:
		v.add("status", "must be resolved or open")
	}
	return v.err("case update")
}

// RecoveryPolicy is how the firm runs recovery; one policy serves every
// server sharing the database.
type RecoveryPolicy struct {
	// AssignToOwner sends a case to the customer's owner; when false, or
	// when the customer has no owner, the case waits in Queue.
	AssignToOwner bool   `json:"assign_to_owner"`
	Queue         string `json:"queue"`
	// EscalationRole is who an overdue case escalates to when its assignee
	// has no manager, or it has no assignee.
	EscalationRole Role `json:"escalation_role"`
	// OpenWithinDays: a misery moment recorded more than this many days
	// after it happened is history, and opens no case.
	OpenWithinDays int `json:"open_within_days"`
}

// DefaultRecoveryPolicy is the policy of a new firm.
func DefaultRecoveryPolicy() RecoveryPolicy {
	return RecoveryPolicy{AssignToOwner: true, Queue: "recovery", EscalationRole: RoleManager, OpenWithinDays: 30}
}

// Validate checks a policy.
func (p *RecoveryPolicy) Validate() error {
	v := validation{index: -1}
	p.Queue = strings.TrimSpace(p.Queue)
	checkText(&v, "queue", p.Queue, 1, 100)
	if p.EscalationRole != RoleAdmin && p.EscalationRole != RoleManager {
		v.add("escalation_role", "must be manager or admin")
	}
	if p.OpenWithinDays < 1 || p.OpenWithinDays > 3660 {
		v.add("open_within_days", "must be from 1 to 3660")
	}
	return v.err("recovery policy")
}

// ServiceLevel is how long staff have to recover a misery moment at a touchpoint.
type ServiceLevel struct {
	Touchpoint string `json:"touchpoint"`
	Hours      int    `json:"hours"`
}

// Validate checks a service level's hours.
func (s ServiceLevel) Validate() error {
	v := validation{index: -1}
	if s.Hours < 1 || s.Hours > MaxServiceLevelHours {
		v.add("hours", "must be from 1 to %d", MaxServiceLevelHours)
	}
	return v.err("service level")
}

// RecoveryReportFilter selects the cases a recovery report covers: those
// opened in [From, To). Zero times mean the last 365 days.
type RecoveryReportFilter struct {
	From time.Time
	To   time.Time
}

// FollowUpDays is how long after a case opened the report watches what the
// customer did.
const FollowUpDays = 90

// RecoveryGroup is what one group of customers did in the FollowUpDays after
// their case opened.
type RecoveryGroup struct {
	Cases              int       `json:"cases"`
	Dissolved          int       `json:"dissolved"`
	DissolutionRate    *float64  `json:"dissolution_rate"`
	DissolutionRateCI  *Interval `json:"dissolution_rate_ci"`
	Repurchased        int       `json:"repurchased"`
	RepeatPurchaseRate *float64  `json:"repeat_purchase_rate"`
	RepeatPurchaseCI   *Interval `json:"repeat_purchase_rate_ci"`
}

// RecoveryDifference is recovered minus unrecovered for one measure.
type RecoveryDifference struct {
	Difference   float64  `json:"difference"`
	DifferenceCI Interval `json:"difference_ci"`
	PValue       float64  `json:"p_value"`
}

// RecoveryReport is how often recovery worked and what followed.
type RecoveryReport struct {
	From             time.Time     `json:"from"`
	To               time.Time     `json:"to"`
	Opened           int           `json:"opened"`
	Open             int           `json:"open"`
	Overdue          int           `json:"overdue"`
	Escalated        int           `json:"escalated"`
	Resolved         int           `json:"resolved"`
	ResolvedInTime   int           `json:"resolved_in_time"`
	InTimeRate       *float64      `json:"in_time_rate"`
	Recovered        int           `json:"recovered"`
	NotRecovered     int           `json:"not_recovered"`
	AwaitingMoment   int           `json:"awaiting_next_moment"`
	RecoveryRate     *float64      `json:"recovery_rate"`
	RecoveryRateCI   *Interval     `json:"recovery_rate_ci"`
	FollowUpDays     int           `json:"follow_up_days"`
	RecoveredGroup   RecoveryGroup `json:"recovered_customers"`
	UnrecoveredGroup RecoveryGroup `json:"unrecovered_customers"`
	// Differences are recovered minus unrecovered, where both groups have cases.
	DissolutionDifference    *RecoveryDifference `json:"dissolution_difference"`
	RepeatPurchaseDifference *RecoveryDifference `json:"repeat_purchase_difference"`
	Explanation              string              `json:"explanation"`
}

// RecoveryService keeps recovery cases.
type RecoveryService interface {
	FindCaseByID(ctx context.Context, id string) (*RecoveryCase, error)
	FindCases(ctx context.Context, f CaseFilter) (Page[*RecoveryCase], error)
	// CountCases counts the cases a filter selects, ignoring its page.
	CountCases(ctx context.Context, f CaseFilter) (int, error)
	UpdateCase(ctx context.Context, id string, u CaseUpdate) (*RecoveryCase, error)
	// Escalate flags every open case past its due time that has not been
	// escalated, escalating it to the assignee's manager or the policy's
	// role, and returns how many it escalated.
	Escalate(ctx context.Context) (int, error)
	RecoveryReport(ctx context.Context, f RecoveryReportFilter) (*RecoveryReport, error)
	FindRecoveryPolicy(ctx context.Context) (*RecoveryPolicy, error)
	SetRecoveryPolicy(ctx context.Context, p RecoveryPolicy) (*RecoveryPolicy, error)
	FindServiceLevel(ctx context.Context, touchpoint string) (*ServiceLevel, error)
	SetServiceLevel(ctx context.Context, s ServiceLevel) (*ServiceLevel, error)
}
