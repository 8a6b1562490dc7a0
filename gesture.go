package rapport

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// Delight gestures on milestones: a rule notices a moment worth marking in
// a relationship (a customer's anniversary, their tenth magic moment) and
// puts a suggested gesture on their owner's list. A share of the customers
// reaching the milestone can be held out, so that what followed the
// gestures is measured like an offer's uplift.

// The milestones a gesture rule can watch for.
const (
	// MilestonePurchaseCount is every Count-th time a product is taken up,
	// counted across the firm (the department store's 100th customer).
	MilestonePurchaseCount = "purchase_count"
	// MilestoneAnniversary is each year since the customer joined.
	MilestoneAnniversary = "anniversary"
	// MilestoneRecovered is the customer's first moment after a recovery
	// case that recovered them.
	MilestoneRecovered = "recovered_case"
	// MilestoneMagicCount is a committed customer's Count-th magic moment.
	MilestoneMagicCount = "magic_count"
)

// Milestones lists the milestones a rule can watch for.
var Milestones = []string{MilestonePurchaseCount, MilestoneAnniversary, MilestoneRecovered, MilestoneMagicCount}

// DefaultGestureTouchpoint is the touchpoint a gesture made is recorded on
// when the rule names none; it is created in the catalogue if missing.
const DefaultGestureTouchpoint = "gesture"

// DefaultGestureDays is a rule's period when it gives no end.
const DefaultGestureDays = 90

// GestureSpacing is how long after a customer's gesture under a rule
// another milestone of the same rule is passed over: each gesture's 90 days
// are then the customer's alone, so customers stay the units of the report.
const GestureSpacing = 90 * 24 * time.Hour

// GestureListDays is how long after the milestone an open gesture stays on
// the owner's day: a gesture weeks late marks nothing.
const GestureListDays = 14

// GestureRule puts a suggested gesture on a customer's owner's list when the
// customer reaches a milestone in the rule's period.
type GestureRule struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Milestone is one of Milestones; Count is the N of purchase_count and
	// magic_count; Product narrows purchase_count to one product.
	Milestone string `json:"milestone"`
	Count     int    `json:"count,omitempty"`
	Product   string `json:"product,omitempty"`
	// Kind is what the gesture gives, as an offer's kind; Cost is the cost
	// of the moment that records it, on Touchpoint.
	Kind       string    `json:"kind"`
	Cost       float64   `json:"cost"`
	Touchpoint string    `json:"touchpoint"`
	StartsAt   time.Time `json:"starts_at"`
	EndsAt     time.Time `json:"ends_at"`
	// HoldoutShare is the share of customers reaching the milestone held
	// out of the gesture; 0 means none, and the report then only describes.
	HoldoutShare float64 `json:"holdout_share"`
	Seed         int64   `json:"seed"`
	// EvaluatedUntil is how far milestones have been looked for.
	EvaluatedUntil time.Time `json:"evaluated_until"`
	CreatedBy      string    `json:"created_by,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	// Chosen, Holdout and Given count the gestures of each arm so far and
	// those made.
	Chosen  int `json:"chosen"`
	Holdout int `json:"holdout"`
	Given   int `json:"given"`
}

// Validate checks a new rule against now and fills the defaults: the
// touchpoint, the period and the count.
func (g *GestureRule) Validate(now time.Time) error {
	v := validation{index: -1}
	g.Name = strings.TrimSpace(g.Name)
	g.Description = strings.TrimSpace(g.Description)
	g.Touchpoint = strings.TrimSpace(g.Touchpoint)
	g.Product = strings.TrimSpace(g.Product)
	checkText(&v, "name", g.Name, 1, 100)
	checkText(&v, "description", g.Description, 0, 2000)
	switch g.Milestone {
	case MilestonePurchaseCount, MilestoneMagicCount:
		if g.Count == 0 {
			g.Count = 10
		}
		if g.Count < 1 || g.Count > 1_000_000 {
			v.add("count", "must be from 1 to 1000000")
		}
	case MilestoneAnniversary, MilestoneRecovered:
		if g.Count != 0 {
			v.add("count", "is only for purchase_count and magic_count")
		}
	default:
		v.add("milestone", "must be one of %s", strings.Join(Milestones, ", "))
	}
	if g.Product != "" && g.Milestone != MilestonePurchaseCount {
		v.add("product", "is only for purchase_count")
	} else if g.Product != "" && !ValidKey(g.Product) {
		v.add("product", "must be a product's key")
	}
	if !validOfferKind(g.Kind) {
		v.add("kind", "must be one of %s", strings.Join(OfferKinds, ", "))
	}
	if math.IsNaN(g.Cost) || math.IsInf(g.Cost, 0) || g.Cost < 0 || g.Cost > 1e12 {
		v.add("cost", "must be a number from 0 to 1e12")
	}
	if g.Touchpoint == "" {
		g.Touchpoint = DefaultGestureTouchpoint
	} else if !ValidKey(g.Touchpoint) {
		v.add("touchpoint", "must be a touchpoint's key")
	}
	if math.IsNaN(g.HoldoutShare) || g.HoldoutShare < 0 || g.HoldoutShare > 0.5 || (g.HoldoutShare > 0 && g.HoldoutShare < 0.01) {
		v.add("holdout_share", "must be 0 (no holdout) or from 0.01 to 0.5")
	}
	checkPeriod(&v, &g.StartsAt, &g.EndsAt, now, DefaultGestureDays, "must not be in the future")
	return v.err("gesture rule")
}

// checkPeriod fills in and checks the period of an offer or a gesture rule:
// it starts now unless given, not in the future (future says why), and ends
// after defaultDays unless given, within a year of its start.
func checkPeriod(v *validation, starts, ends *time.Time, now time.Time, defaultDays int, future string) {
	if starts.IsZero() {
		*starts = now
	}
	*starts = starts.UTC().Truncate(time.Microsecond)
	if starts.After(now.Add(MaxClockSkew)) {
		v.add("starts_at", "%s", future)
	} else if starts.Year() < 1970 {
		v.add("starts_at", "is before 1970")
	}
	if ends.IsZero() {
		*ends = starts.AddDate(0, 0, defaultDays)
	}
	*ends = ends.UTC().Truncate(time.Microsecond)
	if !ends.After(*starts) {
		v.add("ends_at", "must be after starts_at")
	} else if ends.Sub(*starts) > 366*24*time.Hour {
		v.add("ends_at", "must be within a year of starts_at")
	}
}

// Describe says in words what the rule watches for.
func (g *GestureRule) Describe() string {
	switch g.Milestone {
	case MilestonePurchaseCount:
		what := "a product"
		if g.Product != "" {
			what = g.Product
		}
		if g.Count == 1 {
			return "Every time " + what + " is taken up"
		}
		return fmt.Sprintf("Every %s time %s is taken up", Ordinal(g.Count), what)
	case MilestoneAnniversary:
		return "A customer's anniversary"
	case MilestoneRecovered:
		return "The first moment after a recovered case"
	case MilestoneMagicCount:
		return fmt.Sprintf("A committed customer's %s magic moment", Ordinal(g.Count))
	}
	return g.Milestone
}

// Ordinal writes 1 as 1st, 2 as 2nd, 11 as 11th.
func Ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// GestureArm draws a milestone's arm: the customer's id and the milestone
// in words ("3rd anniversary"), hashed with the rule's seed as OfferArm
// does. Neither names a date, so a firm whose history is moved in time
// draws the same arms. A rule with no holdout chooses everyone.
func GestureArm(seed int64, customerID, milestone string, share float64) string {
	if share <= 0 {
		return ArmOffered
	}
	return drawArm(seed, idKey(customerID)+"@"+milestone, share)
}

// Milestone is a customer reaching a rule's milestone.
type Milestone struct {
	CustomerID string
	At         time.Time
	// What says which milestone, for the list: "3rd anniversary".
	What string
}

// SpaceMilestones keeps, of milestones in time order, those at least
// GestureSpacing after the customer's previous gesture under the rule
// (last, by customer) and after each other.
func SpaceMilestones(ms []Milestone, last map[string]time.Time) []Milestone {
	var out []Milestone
	for _, m := range ms {
		if prev, ok := last[m.CustomerID]; ok && m.At.Sub(prev) < GestureSpacing {
			continue
		}
		last[m.CustomerID] = m.At
		out = append(out, m)
	}
	return out
}

// GestureReason says on a person's day why a customer is there: the
// milestone and the gesture suggested for it.
func GestureReason(milestone string, at time.Time, rule, kind string) string {
	return fmt.Sprintf("%s on %s: make the gesture %q (%s) and log it.", capitalise(milestone), at.Format("2 Jan"), rule,
		strings.ReplaceAll(kind, "_", " "))
}

// Gesture is one customer's milestone under a rule, and its arm: chosen
// gestures go on the owner's list until the gesture's moment is recorded.
type Gesture struct {
	ID          string    `json:"id"`
	RuleID      string    `json:"rule_id"`
	RuleName    string    `json:"rule_name"`
	CustomerID  string    `json:"customer_id"`
	Name        string    `json:"name"`
	OwnerID     string    `json:"owner_id,omitempty"`
	OwnerName   string    `json:"owner_name,omitempty"`
	MilestoneAt time.Time `json:"milestone_at"`
	Milestone   string    `json:"milestone"`
	Arm         string    `json:"arm"`
	// GivenAt is when the gesture's moment was first recorded for the
	// customer since the milestone; nil while open.
	GivenAt *time.Time `json:"given_at"`
	// Suggestion is the response suggested for the customer on the
	// gesture's touchpoint, when one is.
	Suggestion *Suggestions `json:"suggestion,omitempty"`
}

// GestureFilter chooses among a rule's chosen gestures.
type GestureFilter struct {
	Owner  string
	Open   bool
	Limit  int
	Cursor string
}

// GestureReport is what followed the gestures of a rule: chosen against
// held-out customers from each one's milestone, as an offer's report.
type GestureReport struct {
	Rule *GestureRule `json:"rule"`
	ArmComparison
}

var gestureWords = armWords{customers: "gesture customers'", both: "customers chosen for the gesture and those held out",
	thing: "the gesture"}

// NewGestureReport compares the arms in each window from each customer's
// milestone. A window is complete once it has ended for the last milestone
// the rule's period can hold, so the report is not read again and again
// for a verdict while milestones still arrive; a rule without a holdout
// only describes its customers.
func NewGestureReport(g *GestureRule, windows []OfferWindowUnits, now time.Time) *GestureReport {
	r := &GestureReport{Rule: g, ArmComparison: compareArms(windows, now, gestureWords)}
	if g.HoldoutShare == 0 {
		r.Summary = "The rule holds nobody out, so what followed its gestures is described and not compared."
	}
	return r
}

// GestureService keeps gesture rules, finds their milestones and measures
// what followed.
type GestureService interface {
	// CreateGestureRule keeps a new rule; its milestones are found from its
	// start on the next sweep.
	CreateGestureRule(ctx context.Context, g *GestureRule) error
	// FindGestureRules lists the rules, newest first.
	FindGestureRules(ctx context.Context) ([]*GestureRule, error)
	// FindGestureRuleByID returns one rule, or ENOTFOUND.
	FindGestureRuleByID(ctx context.Context, id string) (*GestureRule, error)
	// EndGestureRule ends a rule's period now: no more milestones are found.
	EndGestureRule(ctx context.Context, id string) (*GestureRule, error)
	// EvaluateGestures looks for every running rule's milestones since it
	// last looked, and returns how many gestures it put on lists.
	EvaluateGestures(ctx context.Context) (int, error)
	// Gestures lists a rule's chosen gestures, the staff's list.
	Gestures(ctx context.Context, ruleID string, f GestureFilter) (Page[*Gesture], error)
	// GestureReport compares chosen and held-out customers after their
	// milestones.
	GestureReport(ctx context.Context, ruleID string) (*GestureReport, error)
}
