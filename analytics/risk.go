package analytics

import (
	"fmt"
	"math"
	"strings"
)

// RelationshipFacts are what a customer's health and dissolution risk are
// worked out from, as of one moment.
type RelationshipFacts struct {
	Dissolved bool
	// TenureDays is how long they have been a customer.
	TenureDays float64
	// SilentDays is the time since their latest moment; HasMoment is false
	// when they have had none.
	SilentDays float64
	HasMoment  bool
	Moments90  int
	// Rated90 ratings with mean Rating90 in the last 90 days; RatedPrior
	// with mean RatingPrior in the 90 days before those.
	Rated90     int
	Rating90    float64
	RatedPrior  int
	RatingPrior float64
	Magic90     int
	// Misery are the misery moments of the last 90 days, by touchpoint.
	Misery []MiseryGroup
	// Products is how many different products they hold; EverHeld how many
	// holdings they ever had.
	Products  int
	EverHeld  int
	Referrals int
	// Stage is the relationship's stage.
	Stage string
	// Efforts90 effort answers with mean Effort90 in the last 90 days.
	Efforts90 int
	Effort90  float64
	// Purchases365 is how many moments of the last 365 days brought revenue.
	Purchases365 int
	// Rated365 ratings with mean Rating365 in the last 365 days.
	Rated365  int
	Rating365 float64
	// RatedCalm365 of those with mean RatingCalm365 were of moments that
	// were not misery: how the customer rates the firm when nothing went
	// wrong, apart from the misery counted on its own.
	RatedCalm365  int
	RatingCalm365 float64
	// Recovery is what became of the customer's recovery cases and the
	// promises made to them; nil when it was not read, and the model then
	// takes the firm's average customer's.
	Recovery *RecoveryFacts
}

// RecoveryFacts are a customer's recovery cases and promises as they stood
// on the day: a case counts as recovered once it was resolved and the
// customer's next moment was not misery, as the recovery report counts it.
type RecoveryFacts struct {
	// OpenCases are the cases still open, however old.
	OpenCases int
	// Recovered and NotRecovered are the cases opened in the last 90 days
	// that were resolved and followed by a moment that was not misery, or
	// that was misery again; a resolved case with no moment since is
	// neither yet.
	Recovered, NotRecovered int
	// BrokenPromises are the promises made to the customer that were broken
	// in the last 365 days.
	BrokenPromises int
}

// MiseryGroup is a customer's misery moments at one touchpoint within the
// risk horizon. Each moment weighs less the older it is, in a straight
// line, so the group's weight follows from how many there are and how long
// ago they were, added up: a customer with a thousand misery moments costs
// as little to score as one with one.
type MiseryGroup struct {
	Key        string // the touchpoint's key, which the model knows it by
	Touchpoint string // its name, for the explanation
	N          int
	// LatestDaysAgo is how long ago the latest was; SumDaysAgo adds up how
	// long ago each was.
	LatestDaysAgo, SumDaysAgo float64
}

// ScoreFactor is one reason a score moved and by how many points.
type ScoreFactor struct {
	Text   string
	Points int
}

// Score is a 0–100 score with the factors that made it. The factors' points
// add up to the score before it is clipped to 0–100.
type Score struct {
	Value   int
	Factors []ScoreFactor
}

func spellDays(d float64) string {
	n := int(math.Floor(d))
	if n < 1 {
		return "less than a day"
	}
	return spellCount(n, "day", "days")
}

func spellCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// spellDecimal writes x with one decimal, dropping a trailing ".0".
func spellDecimal(x float64) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", x), ".0")
}
