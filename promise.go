package rapport

import (
	"context"
	"strings"
	"time"
)

// Keeping promises: every promise ends kept or broken; one past its due time
// and not kept is broken automatically, and a broken promise is recorded as
// a misery moment at the PromiseTouchpoint, which opens a recovery case.

// PromiseTouchpoint is the touchpoint of the misery moment a broken promise
// records. Rapport adds it to the catalogue the first time a promise breaks.
const PromiseTouchpoint = "promise"

// PromiseTouchpointDefinition is the catalogue entry added for broken promises.
func PromiseTouchpointDefinition() *Touchpoint {
	return &Touchpoint{Key: PromiseTouchpoint, Name: "Keeping a promise", Phase: PhasePostSales, TargetScore: 4,
		Channels:    []Channel{ChannelSystem},
		Description: "A promise made to the customer falling due: a broken one is recorded here as misery."}
}

// Validate checks a new promise against now and sets its status to open.
func (p *Promise) Validate(now time.Time) error {
	v := validation{index: -1}
	p.Text = strings.TrimSpace(p.Text)
	if p.CustomerID == "" {
		v.add("customer_id", "is required")
	}
	checkText(&v, "text", p.Text, 1, 1000)
	p.DueAt = p.DueAt.UTC().Truncate(time.Microsecond)
	switch {
	case p.DueAt.IsZero():
		v.add("due_at", "is required, as an RFC 3339 time such as 2026-03-01T17:00:00Z")
	case !p.DueAt.After(now):
		v.add("due_at", "must be in the future")
	case p.DueAt.After(now.Add(5 * 366 * 24 * time.Hour)):
		v.add("due_at", "must be within five years")
	}
	p.Status = PromiseOpen
	return v.err("promise")
}

// PromiseFilter selects promises; zero fields select everything.
type PromiseFilter struct {
	Status     PromiseStatus
	StaffID    string
	CustomerID string
	// DueBefore selects promises due before this time.
	DueBefore time.Time
	// Latest lists the latest due first, rather than the soonest.
	Latest bool
	Limit  int
	Cursor string
}

// PromiseReportFilter selects the promises a report covers: those made in
// [From, To). Zero times mean every promise.
type PromiseReportFilter struct {
	From time.Time
	To   time.Time
}

// PromiseRecord is how well one member of staff, or one team, keeps promises.
type PromiseRecord struct {
	StaffID string `json:"staff_id,omitempty"`
	Name    string `json:"name"`
	Team    string `json:"team,omitempty"`
	Made    int    `json:"made"`
	Kept    int    `json:"kept"`
	Broken  int    `json:"broken"`
	Open    int    `json:"open"`
	// SayDo is kept / (kept + broken): nil until a promise has been settled.
	SayDo   *float64  `json:"say_do"`
	SayDoCI *Interval `json:"say_do_ci"`
}

// PromiseReport ranks staff and teams by how well they keep promises, worst first.
type PromiseReport struct {
	From        *time.Time      `json:"from,omitempty"`
	To          *time.Time      `json:"to,omitempty"`
	Total       PromiseRecord   `json:"total"`
	Staff       []PromiseRecord `json:"staff"`
	Teams       []PromiseRecord `json:"teams"`
	Explanation string          `json:"explanation"`
}

// PromiseService tracks promises to kept or broken.
type PromiseService interface {
	// CreatePromise stores a new, open promise; StaffID defaults to the
	// acting user.
	CreatePromise(ctx context.Context, p *Promise) error
	FindPromiseByID(ctx context.Context, id string) (*Promise, error)
	FindPromises(ctx context.Context, f PromiseFilter) (Page[*Promise], error)
	// SetPromiseStatus settles an open promise as kept or broken; a broken
	// promise records a misery moment.
	SetPromiseStatus(ctx context.Context, id string, status PromiseStatus) (*Promise, error)
	// BreakOverdue breaks every open promise past its due time and returns
	// how many it broke.
	BreakOverdue(ctx context.Context) (int, error)
	PromiseReport(ctx context.Context, f PromiseReportFilter) (*PromiseReport, error)
}

// ValidateImported checks a promise a file brings in from another system,
// where it may be settled already: an open one must be due in the future
// (the sweep would break one past due at once), a kept or broken one is
// history, settled when it says (its due time unless given) and made when
// it says (its due time, or now for an open one, unless given). The
// times are set to what is stored.
func (p *Promise) ValidateImported(now time.Time, index int) []FieldError {
	v := validation{index: index}
	p.Text = strings.TrimSpace(p.Text)
	if p.CustomerID == "" {
		v.add("customer_id", "is required")
	}
	checkText(&v, "text", p.Text, 1, 1000)
	p.DueAt = p.DueAt.UTC().Truncate(time.Microsecond)
	if p.Status == "" {
		p.Status = PromiseOpen
	}
	switch {
	case p.DueAt.IsZero():
		v.add("due_at", "is required")
		return v.fields
	case p.Status == PromiseOpen && !p.DueAt.After(now):
		v.add("due_at", "is past; an open promise must be due in the future (give kept or broken as its status)")
	case p.DueAt.After(now.Add(5 * 366 * 24 * time.Hour)):
		v.add("due_at", "must be within five years")
	case p.DueAt.Year() < 1970:
		v.add("due_at", "is before 1970")
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = now
		if p.Status != PromiseOpen {
			p.CreatedAt = p.DueAt
		}
	}
	p.CreatedAt = p.CreatedAt.UTC().Truncate(time.Microsecond)
	if p.CreatedAt.After(now) {
		v.add("created_at", "must not be in the future")
	}
	switch p.Status {
	case PromiseOpen:
		if p.ResolvedAt != nil {
			v.add("resolved_at", "must be empty for an open promise")
		}
	case PromiseKept, PromiseBroken:
		if p.ResolvedAt == nil {
			due := p.DueAt
			p.ResolvedAt = &due
		}
		at := p.ResolvedAt.UTC().Truncate(time.Microsecond)
		p.ResolvedAt = &at
		if at.After(now) {
			v.add("resolved_at", "must not be in the future; a promise settled later is open")
		} else if at.Before(p.CreatedAt) {
			v.add("resolved_at", "is before the promise was made (created_at)")
		}
	default:
		v.add("status", "must be open, kept or broken")
	}
	return v.fields
}
