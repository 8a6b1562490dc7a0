package rapport

import (
	"context"
	"strings"
	"time"
)

// Segment is a named set of customers defined by a rule over their profile,
// attributes and measures, such as `stage = "commitment" and rating_90d < 3.5`.
// The rule language is described in package segment and docs/relationships.md.
type Segment struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Rule      string    `json:"rule"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Size is how many customers matched at CountedAt: now for one segment
	// asked for, as last counted (on saving, and by the periodic sweep) in
	// a list of segments; nil when never counted.
	Size      *int       `json:"size,omitempty"`
	CountedAt *time.Time `json:"counted_at,omitempty"`
}

// MaxRuleLength bounds a segment rule, in bytes.
const MaxRuleLength = 4000

// Validate checks a segment's own fields; the store checks that the rule parses.
func (s *Segment) Validate() error {
	v := validation{index: -1}
	s.Name = strings.TrimSpace(s.Name)
	s.Rule = strings.TrimSpace(s.Rule)
	checkText(&v, "name", s.Name, 1, 100)
	if s.Rule == "" {
		v.add("rule", "is required")
	} else if len(s.Rule) > MaxRuleLength {
		v.add("rule", "must be at most %d bytes", MaxRuleLength)
	}
	return v.err("segment")
}

// SegmentUpdate changes a segment; nil means unchanged.
type SegmentUpdate struct {
	Name *string `json:"name"`
	Rule *string `json:"rule"`
}

// SegmentMember is a customer in a segment, with their scores.
type SegmentMember struct {
	*Customer
	Health *int `json:"health"`
	Risk   *int `json:"risk"`
}

// SegmentPreview is what a rule selects, before it is saved.
type SegmentPreview struct {
	Rule    string               `json:"rule"`
	Size    int                  `json:"size"`
	Members Page[*SegmentMember] `json:"members"`
}

// SegmentService keeps segments and finds their members.
type SegmentService interface {
	CreateSegment(ctx context.Context, s *Segment) error
	FindSegments(ctx context.Context) ([]*Segment, error)
	// FindSegmentByID returns a segment with its size, counted now.
	FindSegmentByID(ctx context.Context, id string) (*Segment, error)
	// FindSegment returns a segment with its size as last counted, for
	// when the size is not shown (a count reads every customer).
	FindSegment(ctx context.Context, id string) (*Segment, error)
	UpdateSegment(ctx context.Context, id string, u SegmentUpdate) (*Segment, error)
	DeleteSegment(ctx context.Context, id string) error
	// SegmentMembers lists the customers who match the segment's rule now,
	// newest first.
	SegmentMembers(ctx context.Context, id string, limit int, cursor string) (Page[*SegmentMember], error)
	// PreviewSegment evaluates a rule without saving it.
	PreviewSegment(ctx context.Context, rule string, limit int) (*SegmentPreview, error)
	// CountSegments counts every segment's members again and keeps the
	// sizes for the list of segments; it returns how many it counted.
	CountSegments(ctx context.Context) (int, error)
}

// OutcomeFilter chooses the customers and the window of an outcomes report.
// Windows are whole UTC days, as for the touchpoint report.
type OutcomeFilter struct {
	// Segment is a segment id; empty means every customer.
	Segment string
	From    time.Time
	To      time.Time
	// Fresh measures now rather than answering with a measurement of the
	// same customers and window made in the last few minutes.
	Fresh bool
}

// SegmentRef names a segment in a report.
type SegmentRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Rule string `json:"rule"`
}

// Outcomes are the relationship outcomes of a set of customers over a window.
// Every figure is defined in one sentence in docs/relationships.md; a rate
// with nothing behind it is null.
type Outcomes struct {
	Segment *SegmentRef `json:"segment"`
	From    time.Time   `json:"from"`
	To      time.Time   `json:"to"`
	// MeasuredAt is when these figures were measured: outcomes read every
	// customer's window, so a measurement is kept for a few minutes and
	// answers the same question again.
	MeasuredAt time.Time `json:"measured_at"`
	// Customers were customers at some time in the window: joined before its
	// end and not dissolved at its start.
	Customers     int                  `json:"customers"`
	Satisfaction  OutcomeSatisfaction  `json:"satisfaction"`
	Loyalty       OutcomeLoyalty       `json:"loyalty"`
	Retention     OutcomeRetention     `json:"retention"`
	Referrals     OutcomeReferrals     `json:"referrals"`
	RevenueGrowth OutcomeRevenueGrowth `json:"revenue_growth"`
	CrossSell     OutcomeCrossSell     `json:"cross_sell"`
	CostToServe   OutcomeCostToServe   `json:"cost_to_serve"`
}

// OutcomeSatisfaction is how the window's moments went.
type OutcomeSatisfaction struct {
	Moments    int      `json:"moments"`
	Rated      int      `json:"rated"`
	MeanRating *float64 `json:"mean_rating"`
	MagicRate  *float64 `json:"magic_rate"`
	MiseryRate *float64 `json:"misery_rate"`
}

// OutcomeLoyalty is repeat purchasing: of the customers who bought in the
// window (a moment with revenue), the share who bought more than once.
type OutcomeLoyalty struct {
	Buyers       int      `json:"buyers"`
	RepeatBuyers int      `json:"repeat_buyers"`
	RepeatRate   *float64 `json:"repeat_rate"`
}

// OutcomeRetention is the share of customers active at the start still not
// dissolved at the end.
type OutcomeRetention struct {
	ActiveAtStart int      `json:"active_at_start"`
	Retained      int      `json:"retained"`
	Rate          *float64 `json:"rate"`
}

// OutcomeReferrals counts new customers referred in the window.
type OutcomeReferrals struct {
	Count     int      `json:"count"`
	Referrers int      `json:"referrers"`
	Rate      *float64 `json:"rate"`
}

// OutcomeRevenueGrowth compares revenue per customer with the window of the
// same length just before, only when the firm's moments reach back over all
// of that window: a window before the first moments would compare with
// next to nothing.
type OutcomeRevenueGrowth struct {
	Revenue          float64   `json:"revenue"`
	PerCustomer      *float64  `json:"per_customer"`
	PriorFrom        time.Time `json:"prior_from"`
	PriorCustomers   int       `json:"prior_customers"`
	PriorRevenue     float64   `json:"prior_revenue"`
	PriorPerCustomer *float64  `json:"prior_per_customer"`
	// PriorCovered is whether the firm's first moment falls on or before
	// the first day of the window before; Growth is nil when it does not.
	PriorCovered bool     `json:"prior_covered"`
	Growth       *float64 `json:"growth"`
}

// OutcomeCrossSell is how many products customers hold at the window's end.
type OutcomeCrossSell struct {
	Customers           int      `json:"customers"`
	MultiProduct        int      `json:"multi_product"`
	Rate                *float64 `json:"rate"`
	ProductsPerCustomer *float64 `json:"products_per_customer"`
}

// OutcomeCostToServe is what serving the customers cost in the window.
type OutcomeCostToServe struct {
	Cost        float64  `json:"cost"`
	PerCustomer *float64 `json:"per_customer"`
	PerMoment   *float64 `json:"per_moment"`
}

// OutcomeService measures relationship outcomes.
type OutcomeService interface {
	Outcomes(ctx context.Context, f OutcomeFilter) (*Outcomes, error)
	// RefreshOutcomes measures the default window again for every customer
	// and each segment, so that reports open on a recent measurement; it
	// returns how many it measured.
	RefreshOutcomes(ctx context.Context) (int, error)
}
