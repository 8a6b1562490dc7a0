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
