package rapport

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Today's list: whom each member of staff should contact today, and why.

// Why a customer is on today's list.
const (
	ContactPromiseLate = "promise_late" // a promise past its due time
	ContactPromiseDue  = "promise_due"  // a promise due by the end of today
	ContactCaseOverdue = "case_overdue" // an open recovery case past its due time
	ContactCaseDue     = "case_due"     // an open recovery case due within the default service level
	ContactHandedOver  = "handed_over"  // became theirs in the last week
	ContactGesture     = "gesture"      // reached a milestone a gesture rule marks
	ContactRiskRose    = "risk_rose"    // high risk after recent misery or falling ratings
	ContactSilent      = "silent"       // no moment for longer than their stage allows
)

// contactWeights rank the reasons: a broken promise is about to happen,
// an overdue case has let the customer down already; silence can wait a day.
var contactWeights = map[string]int{
	ContactPromiseLate: 100, ContactCaseOverdue: 90, ContactPromiseDue: 80, ContactCaseDue: 70,
	ContactRiskRose: 60, ContactGesture: 55, ContactHandedOver: 50, ContactSilent: 30,
}

// SilenceAllowed is how long a customer in each stage may go without a
// moment before someone should get in touch.
var SilenceAllowed = map[Stage]time.Duration{
	StageAwareness:   14 * 24 * time.Hour,
	StageExploration: 30 * 24 * time.Hour,
	StageExpansion:   60 * 24 * time.Hour,
	StageCommitment:  90 * 24 * time.Hour,
}

// ContactReason is one reason to contact a customer today.
type ContactReason struct {
	Kind string `json:"kind"`
	// Text says it in words, for the list.
	Text string `json:"text"`
	// Touchpoint is the touchpoint the contact is about, when the reason
	// names one (a case's).
	Touchpoint string    `json:"touchpoint,omitempty"`
	At         time.Time `json:"at"`
}

// Contact is one customer to contact today, with every reason and the
// response suggested for the contact.
type Contact struct {
	CustomerID   string          `json:"customer_id"`
	CustomerName string          `json:"customer_name"`
	StaffID      string          `json:"staff_id"`
	StaffName    string          `json:"staff_name"`
	Score        int             `json:"score"`
	Reasons      []ContactReason `json:"reasons"`
	// Touchpoint is what the contact is likely about: a reason's, else the
	// customer's latest moment's.
	Touchpoint string       `json:"touchpoint"`
	Suggestion *Suggestions `json:"suggestion,omitempty"`
}

// AddReason adds a reason and its weight; a kind counts once.
func (c *Contact) AddReason(r ContactReason) {
	if slices.ContainsFunc(c.Reasons, func(x ContactReason) bool { return x.Kind == r.Kind }) {
		return
	}
	c.Reasons = append(c.Reasons, r)
	c.Score += contactWeights[r.Kind]
	if c.Touchpoint == "" {
		c.Touchpoint = r.Touchpoint
	}
}

// RankContacts orders the list: most pressing first (the sum of the
// reasons' weights), then by the earliest reason, then by name.
func RankContacts(cs []*Contact) {
	for _, c := range cs {
		slices.SortStableFunc(c.Reasons, func(a, b ContactReason) int {
			return cmp.Compare(contactWeights[b.Kind], contactWeights[a.Kind])
		})
	}
	slices.SortStableFunc(cs, func(a, b *Contact) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := a.Reasons[0].At.Compare(b.Reasons[0].At); c != 0 {
			return c
		}
		return strings.Compare(a.CustomerName, b.CustomerName)
	})
}

// SilentReason says a customer has been silent too long for their stage,
// or returns false when they have not.
func SilentReason(stage Stage, last, now time.Time) (ContactReason, bool) {
	allowed, ok := SilenceAllowed[stage]
	if !ok || last.IsZero() || now.Sub(last) <= allowed {
		return ContactReason{}, false
	}
	days := int(now.Sub(last).Hours() / 24)
	return ContactReason{Kind: ContactSilent, At: last,
		Text: fmt.Sprintf("No contact for %d days; customers in %s hear from us within %d.", days, stage, int(allowed.Hours()/24))}, true
}

// RiskReason says a customer's risk rose, or returns false: risk of 50 or
// more after misery in the last 30 days or a fall in ratings.
func RiskReason(risk int, misery30d int, rating, priorRating *float64, at time.Time) (ContactReason, bool) {
	if risk < 50 {
		return ContactReason{}, false
	}
	switch {
	case misery30d > 0:
		return ContactReason{Kind: ContactRiskRose, At: at,
			Text: fmt.Sprintf("Risk is %d/100 after %s in the last 30 days.", risk, plural(misery30d, "misery moment", "misery moments"))}, true
	case rating != nil && priorRating != nil && *rating < *priorRating:
		return ContactReason{Kind: ContactRiskRose, At: at,
			Text: fmt.Sprintf("Risk is %d/100; ratings fell from %.1f to %.1f over the last 90 days.", risk, *priorRating, *rating)}, true
	}
	return ContactReason{}, false
}

// TodayFilter chooses whose list: the staff members' (one, or a manager's team).
type TodayFilter struct {
	StaffIDs []string
	Limit    int
}

// TodayService makes today's list.
type TodayService interface {
	Today(ctx context.Context, f TodayFilter) ([]*Contact, error)
}
