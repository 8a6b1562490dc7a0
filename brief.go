package rapport

import (
	"context"
	"time"
)

// The handover brief is the one-screen summary a new owner reads when a
// relationship changes hands.

// Handover is one change of a customer's owner.
type Handover struct {
	ID         string    `json:"id"`
	CustomerID string    `json:"customer_id"`
	FromID     string    `json:"from_id,omitempty"`
	FromName   string    `json:"from_name,omitempty"`
	ToID       string    `json:"to_id,omitempty"`
	ToName     string    `json:"to_name,omitempty"`
	By         string    `json:"by,omitempty"`
	At         time.Time `json:"at"`
	// Note is what whoever handed the customer over left for the new owner.
	Note string `json:"note,omitempty"`
	// Brief is where the new owner reads about the customer.
	Brief string `json:"brief"`
}

// BriefPerson is a member of staff involved with the customer.
type BriefPerson struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Team string `json:"team,omitempty"`
	// Owner is true for the customer's owner.
	Owner bool `json:"owner"`
	// Moments is how many of the customer's moments they served; LastAt the latest.
	Moments int        `json:"moments"`
	LastAt  *time.Time `json:"last_at,omitempty"`
}

// BriefHolding is a product the customer holds.
type BriefHolding struct {
	Product   string    `json:"product"`
	Name      string    `json:"name"`
	StartedAt time.Time `json:"started_at"`
}

// BriefMonth is the customer's ratings in one calendar month (UTC).
type BriefMonth struct {
	Month      time.Time `json:"month"`
	Moments    int       `json:"moments"`
	Rated      int       `json:"rated"`
	MeanRating *float64  `json:"mean_rating"`
	Magic      int       `json:"magic"`
	Misery     int       `json:"misery"`
}

// TrendDirection is which way a customer's ratings are moving.
type TrendDirection string

// Trend directions of a customer's ratings.
const (
	TrendImproving TrendDirection = "improving"
	TrendSteady    TrendDirection = "steady"
	TrendDeclining TrendDirection = "declining"
	TrendUnknown   TrendDirection = "unknown"
)

// BriefTrend is how the customer's ratings have moved: the last 90 days
// against the 90 before, by month over the last six.
type BriefTrend struct {
	RecentMean    *float64       `json:"recent_mean"`
	RecentRated   int            `json:"recent_rated"`
	PreviousMean  *float64       `json:"previous_mean"`
	PreviousRated int            `json:"previous_rated"`
	Direction     TrendDirection `json:"direction"`
	Months        []BriefMonth   `json:"months"`
}

// BriefCounts sums up the customer's whole history.
type BriefCounts struct {
	Moments        int        `json:"moments"`
	Magic          int        `json:"magic"`
	Misery         int        `json:"misery"`
	FirstAt        *time.Time `json:"first_at,omitempty"`
	LastAt         *time.Time `json:"last_at,omitempty"`
	PromisesKept   int        `json:"promises_kept"`
	PromisesBroken int        `json:"promises_broken"`
	CasesOpened    int        `json:"cases_opened"`
}

// Brief is everything a new owner needs to know about a customer.
type Brief struct {
	Customer     *Customer         `json:"customer"`
	Owner        *BriefPerson      `json:"owner,omitempty"`
	Stage        Stage             `json:"stage"`
	StageChanges []*StageChange    `json:"stage_changes"`
	Preferences  Preferences       `json:"preferences"`
	Holdings     []BriefHolding    `json:"holdings"`
	OpenPromises []*Promise        `json:"open_promises"`
	OpenCases    []*RecoveryCase   `json:"open_cases"`
	Magic        []*Moment         `json:"magic_moments"`
	Misery       []*Moment         `json:"misery_moments"`
	People       []BriefPerson     `json:"people"`
	Trend        BriefTrend        `json:"trend"`
	Counts       BriefCounts       `json:"counts"`
	Handovers    []*Handover       `json:"handovers"`
	Surveys      []*SurveyResponse `json:"survey_answers"`
	GeneratedAt  time.Time         `json:"generated_at"`
}

// BriefService assembles handover briefs.
type BriefService interface {
	Brief(ctx context.Context, customerID string) (*Brief, error)
	// FindHandovers returns a customer's changes of owner, newest first.
	FindHandovers(ctx context.Context, customerID string) ([]*Handover, error)
}
