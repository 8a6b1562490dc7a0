package rapport

import (
	"context"
	"time"
)

// Until the firm's history holds at least this many customer-dates
// (customers as they stood at a date, each followed for 90 days) and this
// many dissolutions among them, the documented prior model stands in for a
// fitted one: fewer dissolutions than this cannot pin down the dozen and
// more effects the model weighs.
const (
	MinRiskExamples = 500
	MinRiskEvents   = 50
)

// RiskModelInfo says which dissolution-risk model scores customers now.
type RiskModelInfo struct {
	// Kind is "fitted" for a model fitted on the firm's own history, or
	// "prior" for the documented prior that stands in until there is enough.
	Kind string `json:"kind"`
	// FittedAt is when the model was fitted, or when the history was last
	// looked at and found too short; nil when it never was.
	FittedAt *time.Time `json:"fitted_at"`
	// Examples are the customer-dates the fit read, Events those followed by
	// dissolution within 90 days, Customers the different customers among
	// them, Snapshots the dates.
	Examples  int `json:"examples"`
	Events    int `json:"events"`
	Customers int `json:"customers"`
	Snapshots int `json:"snapshots"`
	// MinExamples and MinEvents are what a fit needs (MinRiskExamples, MinRiskEvents).
	MinExamples int `json:"min_examples"`
	MinEvents   int `json:"min_events"`
	// Note says in words why the prior stands in, when it does.
	Note string `json:"note,omitempty"`
	// Effects are the model's coefficients on the log-odds of dissolving
	// within 90 days, by feature (see docs/risk.md).
	Effects []RiskEffect `json:"effects"`
}

// RiskEffect is one feature of the risk model and its coefficient.
type RiskEffect struct {
	Feature string  `json:"feature"`
	Coef    float64 `json:"coef"`
}

// IsPrior reports whether the prior stands in for a fitted model.
func (m *RiskModelInfo) IsPrior() bool { return m.Kind != "fitted" }

// CalibrationDecile is one tenth of the customers held back, ranked by
// predicted risk: how many, their mean predicted chance of dissolving within
// 90 days, and the share that did.
type CalibrationDecile struct {
	Customers int     `json:"customers"`
	Predicted float64 `json:"predicted"`
	Observed  float64 `json:"observed"`
}

// TrackRecord says how well risk predicted dissolution on periods held back
// from fitting, beside a plain baseline: ranking customers by their mean
// rating over 90 days, lowest first.
type TrackRecord struct {
	Model RiskModelInfo `json:"model"`
	// Periods are the starts of the 90-day periods held back: the model
	// scored customers as they stood then, fitted only on what was known.
	Periods []time.Time `json:"periods"`
	// Customers were scored; Dissolved of them dissolved within 90 days.
	Customers int `json:"customers"`
	Dissolved int `json:"dissolved"`
	// AUC is the chance that a customer who dissolved was ranked riskier
	// than one who did not; BaselineAUC the same for the baseline. nil when
	// there was nothing to measure.
	AUC         *float64 `json:"auc"`
	BaselineAUC *float64 `json:"baseline_auc"`
	// BeatsBaseline is true when the model's AUC is above the baseline's.
	BeatsBaseline bool `json:"beats_baseline"`
	// Calibration compares predicted and observed dissolution by decile.
	Calibration []CalibrationDecile `json:"calibration"`
	// Verdict says in words what the figures mean.
	Verdict    string    `json:"verdict"`
	ComputedAt time.Time `json:"computed_at"`
}

// RiskService fits the dissolution-risk model on the firm's history and
// reports how well it predicted.
type RiskService interface {
	// RefitRisk fits the model afresh (or finds the history too short and
	// keeps the prior), measures its track record, and scores customers
	// with it from then on. It reads without holding up writes.
	RefitRisk(ctx context.Context) (*TrackRecord, error)
	// RiskTrackRecord returns the track record measured at the last refit.
	RiskTrackRecord(ctx context.Context) (*TrackRecord, error)
}
