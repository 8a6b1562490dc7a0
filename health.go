package rapport

import (
	"context"
	"time"
)

// Factor is one reason a score moved, with the points it added (or, when
// negative, took away). A score's factors add up to it, before it is clipped
// to 0–100.
type Factor struct {
	Text   string `json:"text"`
	Points int    `json:"points"`
}

// CustomerMeasures are the figures kept per customer, current as moments,
// holdings and stages change and as time passes. Segment rules and the
// health and risk scores read them.
type CustomerMeasures struct {
	Moments30d  int      `json:"moments_30d"`
	Moments90d  int      `json:"moments_90d"`
	Moments365d int      `json:"moments_365d"`
	Rated90d    int      `json:"rated_90d"`
	Rating90d   *float64 `json:"rating_90d"`
	// RatingPrior90d is the mean rating of the 90 days before the last 90, for the trend.
	RatingPrior90d *float64   `json:"rating_prior_90d"`
	Magic90d       int        `json:"magic_90d"`
	Misery30d      int        `json:"misery_30d"`
	Misery90d      int        `json:"misery_90d"`
	Holdings       int        `json:"holdings"`
	Revenue365d    float64    `json:"revenue_365d"`
	Cost365d       float64    `json:"cost_365d"`
	Referrals      int        `json:"referrals"`
	LastMomentAt   *time.Time `json:"last_moment_at"`
}

// CustomerHealth is how a relationship is doing: health (0 poor to 100
// thriving) and dissolution risk (0 safe to 100 gone), each with the factors
// that moved it, and the measures behind them.
type CustomerHealth struct {
	CustomerID    string           `json:"customer_id"`
	Stage         string           `json:"stage"`
	Health        int              `json:"health"`
	HealthFactors []Factor         `json:"health_factors"`
	Risk          int              `json:"risk"`
	RiskFactors   []Factor         `json:"risk_factors"`
	Measures      CustomerMeasures `json:"measures"`
	ComputedAt    time.Time        `json:"computed_at"`
}

// SweepResult says what a sweep did.
type SweepResult struct {
	// Customers is how many customers' measures were recomputed.
	Customers int `json:"customers"`
	// StagesApplied counts stage changes the inference made; Proposals the
	// proposals it stored or replaced.
	StagesApplied int `json:"stages_applied"`
	Proposals     int `json:"proposals"`
}

// HealthService keeps every customer's measures, health and risk current.
type HealthService interface {
	// CustomerHealth returns a customer's health and risk with their factors.
	CustomerHealth(ctx context.Context, customerID string) (*CustomerHealth, error)
	// Sweep brings up to date the customers whose figures time has changed
	// (a silence is a moment that did not happen) and those never measured,
	// and runs the stage rules on them. The server calls it periodically.
	Sweep(ctx context.Context) (*SweepResult, error)
}
