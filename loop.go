package rapport

import (
	"context"
	"fmt"
	"time"
)

// The five-step loop of managing moments of truth: measure each touchpoint,
// rank them by measured impact, try alternative responses, promote the one that
// delights into a service standard, and watch the standard and the touchpoint
// for decline.

// Interval is a confidence interval [low, high] at 95%.
type Interval [2]float64

// ReportFilter selects the moments a report covers. Windows are whole UTC
// days: From is rounded down to its day, To (exclusive) up to the next.
type ReportFilter struct {
	From    time.Time
	To      time.Time
	Channel Channel
	// Segment limits a report to a segment's customers (by id), as the
	// segment stands now; such a report reads their moments rather than the
	// running totals.
	Segment string
}

// TouchpointMeasures is how one touchpoint did over a report's window.
// Figures with no moments behind them are nil.
type TouchpointMeasures struct {
	Key          string    `json:"key"`
	Name         string    `json:"name"`
	Phase        string    `json:"phase"`
	TargetScore  float64   `json:"target_score"`
	Volume       int       `json:"volume"`
	Rated        int       `json:"rated"`
	MeanRating   *float64  `json:"mean_rating"`
	MeanRatingCI *Interval `json:"mean_rating_ci"`
	MagicRate    *float64  `json:"magic_rate"`
	MagicRateCI  *Interval `json:"magic_rate_ci"`
	MiseryRate   *float64  `json:"misery_rate"`
	MiseryRateCI *Interval `json:"misery_rate_ci"`
	NPSAnswers   int       `json:"nps_answers"`
	NPS          *float64  `json:"nps"`
	NPSCI        *Interval `json:"nps_ci"`
	MeanEffort   *float64  `json:"mean_effort"`
	Revenue      float64   `json:"revenue"`
	Cost         float64   `json:"cost"`
	Impact       *Impact   `json:"impact"`
	Priority     Priority  `json:"priority"`
}

// Impact is how much a misery moment at a touchpoint changes what the
// customer does next: the share who dissolve within the follow-up after a
// misery there (exposed) against the share after a moment there that was not
// misery (unexposed).
type Impact struct {
	Measure          string    `json:"measure"`
	WindowFrom       time.Time `json:"window_from"`
	WindowTo         time.Time `json:"window_to"`
	Exposed          int       `json:"exposed"`
	ExposedEvents    int       `json:"exposed_events"`
	Unexposed        int       `json:"unexposed"`
	UnexposedEvents  int       `json:"unexposed_events"`
	ExposedRate      float64   `json:"exposed_rate"`
	UnexposedRate    float64   `json:"unexposed_rate"`
	RiskDifference   float64   `json:"risk_difference"`
	RiskDifferenceCI Interval  `json:"risk_difference_ci"`
	RelativeRisk     float64   `json:"relative_risk"`
	RelativeRiskCI   Interval  `json:"relative_risk_ci"`
	PValue           float64   `json:"p_value"`
	ComputedAt       time.Time `json:"computed_at"`
}

// Priority ranks a touchpoint; rank 1 needs attention first.
type Priority struct {
	Rank int `json:"rank"`
	// Score is the expected extra dissolutions the window's misery moments
	// caused, taking the cautious end of the impact's interval.
	Score float64 `json:"score"`
	// Overridden is true when a manager set the rank by hand.
	Overridden bool `json:"overridden"`
}

// TouchpointReport is the measures of every touchpoint, ranked by priority.
type TouchpointReport struct {
	From        time.Time            `json:"from"`
	To          time.Time            `json:"to"`
	Channel     Channel              `json:"channel,omitempty"`
	Touchpoints []TouchpointMeasures `json:"touchpoints"`
}

// TrendPoint is one week of a touchpoint's measures.
type TrendPoint struct {
	Week         time.Time `json:"week"`
	Moments      int       `json:"moments"`
	Rated        int       `json:"rated"`
	MeanRating   *float64  `json:"mean_rating"`
	MeanRatingCI *Interval `json:"mean_rating_ci"`
	MagicRate    *float64  `json:"magic_rate"`
	MiseryRate   *float64  `json:"misery_rate"`
}

// Trend is a touchpoint's weekly measures against its target.
type Trend struct {
	Touchpoint  string       `json:"touchpoint"`
	TargetScore float64      `json:"target_score"`
	Weeks       []TrendPoint `json:"weeks"`
}

// ReportService measures touchpoints.
type ReportService interface {
	TouchpointReport(ctx context.Context, f ReportFilter) (*TouchpointReport, error)
	// Trend returns the touchpoint's last weeks, oldest first.
	Trend(ctx context.Context, touchpoint string, weeks int) (*Trend, error)
	// RefreshImpact recomputes every touchpoint's measured impact.
	RefreshImpact(ctx context.Context) error
}

// ResponseMeasures is how one response did at its touchpoint.
type ResponseMeasures struct {
	Response
	Moments      int       `json:"moments"`
	Magic        int       `json:"magic"`
	MagicRate    *float64  `json:"magic_rate"`
	MagicRateCI  *Interval `json:"magic_rate_ci"`
	Rated        int       `json:"rated"`
	MeanRating   *float64  `json:"mean_rating"`
	MeanRatingCI *Interval `json:"mean_rating_ci"`
}

// PairTest is one comparison behind a winner decision.
type PairTest struct {
	Leader         string   `json:"leader"`
	Other          string   `json:"other"`
	Difference     float64  `json:"difference"`
	DifferenceCI   Interval `json:"difference_ci"`
	PValue         float64  `json:"p_value"`
	AdjustedPValue float64  `json:"adjusted_p_value"`
	Test           string   `json:"test"`
}

// ComparisonReason says, in a stable word, why a comparison of responses
// named a winner or did not.
type ComparisonReason string

// Reasons for a comparison's verdict; the words are those of the analytics
// package's decisions.
const (
	ReasonSignificant             ComparisonReason = "significant"               // the winner beat every other response
	ReasonNoSignificantDifference ComparisonReason = "no_significant_difference" // enough moments, no proven winner
	ReasonTooFewMoments           ComparisonReason = "too_few_moments"           // a response has too few moments to judge
	ReasonInvalidInput            ComparisonReason = "invalid_input"             // the counts could not be compared
)

// ComparisonMethod says how responses are compared, for the reader of a comparison.
const ComparisonMethod = "Magic rates compared pairwise, the leader against each other response: a one-sided two-proportion z-test " +
	"(Fisher's exact test when any expected count is below 5), p doubled because the leader is chosen from the data, " +
	"then Holm's correction for the number of comparisons. Intervals are 95% Wilson intervals."

// Comparison of a touchpoint's active responses on the moments that used them.
type Comparison struct {
	Touchpoint string             `json:"touchpoint"`
	Responses  []ResponseMeasures `json:"responses"`
	// Winner is the response whose magic rate beats every other's with
	// significance, or nil; Reason and Explanation say why.
	Winner      *string          `json:"winner"`
	Reason      ComparisonReason `json:"reason"`
	Explanation string           `json:"explanation"`
	Method      string           `json:"method"`
	Alpha       float64          `json:"alpha"`
	MinMoments  int              `json:"min_moments"`
	Tests       []PairTest       `json:"tests"`
}

// ResponseService keeps each touchpoint's alternative responses.
type ResponseService interface {
	CreateResponse(ctx context.Context, r *Response) error
	FindResponses(ctx context.Context, touchpoint string) ([]*Response, error)
	// SetResponseStatus moves a response between candidate, trial and retired;
	// standard is reached only by promotion.
	SetResponseStatus(ctx context.Context, touchpoint, key string, status ResponseStatus) (*Response, error)
	CompareResponses(ctx context.Context, touchpoint string, f ReportFilter) (*Comparison, error)
}

// Standard is a response promoted to be the way its touchpoint is handled.
type Standard struct {
	ID                string     `json:"id"`
	Touchpoint        string     `json:"touchpoint"`
	Response          string     `json:"response"`
	Since             time.Time  `json:"since"`
	EndedAt           *time.Time `json:"ended_at,omitempty"`
	PromotedBy        string     `json:"promoted_by,omitempty"`
	BaselineMoments   int        `json:"baseline_moments"`
	BaselineMagicRate *float64   `json:"baseline_magic_rate"`
	BaselineRating    *float64   `json:"baseline_mean_rating"`
	CurrentMoments    int        `json:"current_moments"`
	CurrentMagicRate  *float64   `json:"current_magic_rate"`
	CurrentRating     *float64   `json:"current_mean_rating"`
	// Decayed is true when the magic rate since promotion is significantly
	// below the baseline: the delight has become a basic expectation.
	Decayed     bool    `json:"decayed"`
	PValue      float64 `json:"p_value"`
	Explanation string  `json:"explanation"`
}

// StandardService promotes responses to standards and watches them.
type StandardService interface {
	PromoteResponse(ctx context.Context, touchpoint, response string) (*Standard, error)
	// FindStandard returns the touchpoint's current standard, or ENOTFOUND.
	FindStandard(ctx context.Context, touchpoint string) (*Standard, error)
	// StandardHistory returns every standard the touchpoint has had, newest first.
	StandardHistory(ctx context.Context, touchpoint string) ([]*Standard, error)
}

// Alert kinds.
const (
	AlertBelowTarget     = "below_target"
	AlertStandardDecayed = "standard_decayed"
)

// BelowTargetMessage is what an alert says when a touchpoint's ratings over
// the last days fell below its target; detail is the test's own account.
func BelowTargetMessage(touchpointName string, days int, detail string) string {
	return fmt.Sprintf("%s is below its target over the last %d days. %s", touchpointName, days, detail)
}

// DecayMessage is the one line an alert says of a decayed standard.
func (st *Standard) DecayMessage() string {
	return fmt.Sprintf("The standard “%s” at %s has decayed. %s", KeyName(st.Response), KeyName(st.Touchpoint), st.Explanation)
}

// Alert is raised once when a touchpoint falls significantly below its target
// or a standard decays, and stays until acknowledged.
type Alert struct {
	ID             string         `json:"id"`
	Kind           string         `json:"kind"`
	Touchpoint     string         `json:"touchpoint"`
	Message        string         `json:"message"`
	Details        map[string]any `json:"details"`
	RaisedAt       time.Time      `json:"raised_at"`
	AcknowledgedAt *time.Time     `json:"acknowledged_at,omitempty"`
	AcknowledgedBy string         `json:"acknowledged_by,omitempty"`
}

// AlertFilter selects alerts.
type AlertFilter struct {
	// Open selects only alerts not yet acknowledged.
	Open       bool
	Touchpoint string
}

// AlertService raises and acknowledges alerts.
type AlertService interface {
	// EvaluateAlerts checks every touchpoint and standard and raises the alerts
	// not raised before; it returns the new ones.
	EvaluateAlerts(ctx context.Context) ([]*Alert, error)
	FindAlerts(ctx context.Context, f AlertFilter) ([]*Alert, error)
	AcknowledgeAlert(ctx context.Context, id string) (*Alert, error)
}
