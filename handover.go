package rapport

import (
	"context"
	"strings"
	"time"
)

// A handover changes the owner of one or more customers in one step: one
// customer, a segment's members, or every customer of a person who is
// leaving. Whoever hands over chooses whether the customers' open promises
// and open recovery cases move to the new owner too, and may leave a note
// for them, shown on each customer's brief. The new owner finds a "first
// contact" item on their day for each customer until they record a moment
// with them.

// MaxHandoverCustomers bounds a handover that names its customers one by one.
const MaxHandoverCustomers = 1000

// HandoverInput says whose customers change hands, and to whom.
type HandoverInput struct {
	// Exactly one of CustomerIDs, Segment and FromOwner says who: these
	// customers, a segment's members now, or every customer a person owns.
	CustomerIDs []string `json:"customer_ids"`
	Segment     string   `json:"segment"`
	FromOwner   string   `json:"from_owner"`
	ToOwner     string   `json:"to_owner"`
	// MovePromises moves the customers' open promises made by their
	// previous owner; MoveCases their open cases assigned to them.
	MovePromises bool   `json:"move_promises"`
	MoveCases    bool   `json:"move_cases"`
	Note         string `json:"note"`
	// At is when the customers changed hands: now when zero; in the past
	// to record a handover made before.
	At time.Time `json:"at"`
}

// Validate checks the input's own fields against now, and sets At.
func (in *HandoverInput) Validate(now time.Time) error {
	v := validation{index: -1}
	if in.At.IsZero() {
		in.At = now
	}
	in.At = in.At.UTC().Truncate(time.Microsecond)
	if in.At.After(now.Add(MaxClockSkew)) {
		v.add("at", "must not be in the future")
	} else if in.At.Year() < 1970 {
		v.add("at", "is before 1970")
	}
	in.Note = strings.TrimSpace(in.Note)
	in.Segment, in.FromOwner, in.ToOwner = strings.TrimSpace(in.Segment), strings.TrimSpace(in.FromOwner), strings.TrimSpace(in.ToOwner)
	chosen := 0
	for _, set := range []bool{len(in.CustomerIDs) > 0, in.Segment != "", in.FromOwner != ""} {
		if set {
			chosen++
		}
	}
	if chosen != 1 {
		v.add("customer_ids", "give exactly one of customer_ids, segment and from_owner")
	}
	if len(in.CustomerIDs) > MaxHandoverCustomers {
		v.add("customer_ids", "must name at most %d customers; hand a segment over instead", MaxHandoverCustomers)
	}
	if in.ToOwner == "" {
		v.add("to_owner", "is required: the id of the new owner")
	} else if in.ToOwner == in.FromOwner {
		v.add("to_owner", "must differ from from_owner")
	}
	checkText(&v, "note", in.Note, 0, 2000)
	return v.err("handover")
}

// HandoverResult is what a handover changed.
type HandoverResult struct {
	// Customers are the ids of the customers whose owner changed; those
	// who had the new owner already are left alone.
	Customers []string `json:"customers"`
	Promises  int      `json:"promises"`
	Cases     int      `json:"cases"`
}

// FirstContact is a customer handed to a person who has not yet recorded a
// moment with them since.
type FirstContact struct {
	CustomerID string    `json:"customer_id"`
	Name       string    `json:"name"`
	FromName   string    `json:"from_name,omitempty"`
	HandedAt   time.Time `json:"handed_at"`
	Note       string    `json:"note,omitempty"`
}

// HandoverService hands customers over and lists who awaits a first contact.
type HandoverService interface {
	HandOver(ctx context.Context, in HandoverInput) (*HandoverResult, error)
	// FirstContacts lists the customers handed to ownerID in the last
	// FirstContactDays that they have not recorded a moment with since,
	// oldest handover first.
	FirstContacts(ctx context.Context, ownerID string, limit int) ([]*FirstContact, error)
	// HandoverReport measures the effect of a period's handovers.
	HandoverReport(ctx context.Context, f HandoverReportFilter) (*HandoverReport, error)
}

// FirstContactDays is how long a handed-over customer waits on the new
// owner's list for a first contact.
const FirstContactDays = 30
