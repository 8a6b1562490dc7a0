package rapport

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/rapport-crm/rapport/analytics"
)

// What an offer gives.
const (
	OfferDiscount    = "discount"
	OfferUpgrade     = "upgrade"
	OfferGift        = "gift"
	OfferFreeService = "free_service"
)

// OfferKinds lists what an offer may give.
var OfferKinds = []string{OfferDiscount, OfferUpgrade, OfferGift, OfferFreeService}

// The two arms of an offer: the customers it is made to, and the holdout
// kept from it so that what follows can be compared fairly.
const (
	ArmOffered = "offered"
	ArmHoldout = "holdout"
)

// DefaultHoldoutShare is the share of a segment held out when an offer does
// not say.
const DefaultHoldoutShare = 0.10

// DefaultOfferDays is an offer's period when it gives no end.
const DefaultOfferDays = 30

// DefaultOfferTouchpoint is the touchpoint an offer given is recorded on
// when the offer names none; it is created in the catalogue if missing.
const DefaultOfferTouchpoint = "offer"

// Offer is a campaign: something given to the members of a segment, with a
// share of them held out at random when it starts, so that what followed
// for those offered can be compared with what followed for the rest.
type Offer struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Description string `json:"description,omitempty"`
	// Cost is what giving the offer to one customer costs the firm; it is
	// the cost of the moment that records it.
	Cost       float64 `json:"cost"`
	Touchpoint string  `json:"touchpoint"`
	// Segment is the target segment's id; SegmentName and SegmentRule are
	// the segment as it stood when the offer started.
	Segment      string    `json:"segment"`
	SegmentName  string    `json:"segment_name"`
	SegmentRule  string    `json:"segment_rule"`
	StartsAt     time.Time `json:"starts_at"`
	EndsAt       time.Time `json:"ends_at"`
	HoldoutShare float64   `json:"holdout_share"`
	// Seed draws the holdout: the same seed and customers draw the same arms.
	Seed      int64     `json:"seed"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Offered and Holdout count the customers of each arm; Given counts the
	// offered customers for whom the offer's moment has been recorded.
	Offered int `json:"offered"`
	Holdout int `json:"holdout"`
	Given   int `json:"given"`
}

// Validate checks a new offer's own fields against now and fills defaults:
// the touchpoint, the start, the end and the holdout share (0 means the
// default: an offer without a holdout could never be measured).
func (o *Offer) Validate(now time.Time) error {
	v := validation{index: -1}
	o.Name = strings.TrimSpace(o.Name)
	o.Description = strings.TrimSpace(o.Description)
	o.Touchpoint = strings.TrimSpace(o.Touchpoint)
	checkText(&v, "name", o.Name, 1, 100)
	checkText(&v, "description", o.Description, 0, 2000)
	if !validOfferKind(o.Kind) {
		v.add("kind", "must be one of %s", strings.Join(OfferKinds, ", "))
	}
	if math.IsNaN(o.Cost) || math.IsInf(o.Cost, 0) || o.Cost < 0 || o.Cost > 1e12 {
		v.add("cost", "must be a number from 0 to 1e12")
	}
	if o.Touchpoint == "" {
		o.Touchpoint = DefaultOfferTouchpoint
	} else if !ValidKey(o.Touchpoint) {
		v.add("touchpoint", "must be a touchpoint's key")
	}
	if strings.TrimSpace(o.Segment) == "" {
		v.add("segment", "is required: the id of the segment the offer is made to")
	}
	if o.HoldoutShare == 0 {
		o.HoldoutShare = DefaultHoldoutShare
	}
	if math.IsNaN(o.HoldoutShare) || o.HoldoutShare < 0.01 || o.HoldoutShare > 0.5 {
		v.add("holdout_share", "must be from 0.01 to 0.5")
	}
	checkPeriod(&v, &o.StartsAt, &o.EndsAt, now, DefaultOfferDays,
		"must not be in the future: an offer starts when it is made, or is recorded as made before")
	return v.err("offer")
}

func validOfferKind(k string) bool {
	for _, x := range OfferKinds {
		if k == x {
			return true
		}
	}
	return false
}

// OfferArm draws a customer's arm for an offer: holdout with probability
// share, offered otherwise. The draw hashes the seed with the customer's id,
// so it is the same whatever the order customers are read in, and anyone
// with the seed can check it. Of an id made by NewID only the 80 random bits
// are hashed, not the time it encodes: the draw is as random either way,
// and a firm whose history is moved in time, as the demo's is, draws the
// same customers.
func OfferArm(seed int64, customerID string, share float64) string {
	return drawArm(seed, idKey(customerID), share)
}

// idKey is what of an id a draw hashes: of an id made by NewID only its
// random bits.
func idKey(id string) string {
	if ValidID(id) {
		return id[10:]
	}
	return id
}

// drawArm hashes the seed with key into a number between 0 and 1: holdout
// below share, offered above.
func drawArm(seed int64, key string, share float64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seed))
	h := sha256.New()
	h.Write(b[:])
	h.Write([]byte(key))
	u := float64(binary.BigEndian.Uint64(h.Sum(nil))>>11) / (1 << 53)
	if u < share {
		return ArmHoldout
	}
	return ArmOffered
}

// OfferCustomer is an offered customer on the staff's list: open until the
// offer's moment is recorded for them.
type OfferCustomer struct {
	CustomerID string `json:"customer_id"`
	Name       string `json:"name"`
	OwnerID    string `json:"owner_id,omitempty"`
	OwnerName  string `json:"owner_name,omitempty"`
	// GivenAt is when the first moment on the offer's touchpoint was
	// recorded for the customer since the offer started; nil while open.
	GivenAt *time.Time `json:"given_at"`
	// Suggestion is the response suggested for the customer on the offer's
	// touchpoint, with its reason, while the offer is still to be made and
	// the touchpoint has responses to suggest.
	Suggestion *Suggestions `json:"suggestion,omitempty"`
}

// OfferCustomerFilter chooses among an offer's offered customers.
type OfferCustomerFilter struct {
	// Owner is a user id: only that person's customers.
	Owner string
	// Open leaves out the customers the offer has been given to.
	Open   bool
	Limit  int
	Cursor string
}

// OfferAssigned is the data of an offer.assigned event: a customer the
// offer is to be made to, for the firm's email or marketing tool.
type OfferAssigned struct {
	OfferID    string    `json:"offer_id"`
	OfferName  string    `json:"offer_name"`
	Kind       string    `json:"kind"`
	CustomerID string    `json:"customer_id"`
	Touchpoint string    `json:"touchpoint"`
	StartsAt   time.Time `json:"starts_at"`
	EndsAt     time.Time `json:"ends_at"`
}

// OfferService starts offers, lists whom to make them to and measures what
// followed.
type OfferService interface {
	// CreateOffer starts an offer: the segment's members now are drawn
	// into offered and holdout, and each offered customer is announced.
	CreateOffer(ctx context.Context, o *Offer) error
	// FindOffers lists offers, newest first.
	FindOffers(ctx context.Context) ([]*Offer, error)
	FindOfferByID(ctx context.Context, id string) (*Offer, error)
	// OfferCustomers lists the offered customers, the staff's list.
	OfferCustomers(ctx context.Context, id string, f OfferCustomerFilter) (Page[*OfferCustomer], error)
	// OfferReport compares offered and holdout customers after the start.
	OfferReport(ctx context.Context, id string) (*OfferReport, error)
}

// OfferWindows are the days after an offer's start its report measures.
var OfferWindows = []int{30, 90}

// OfferAlpha is the chance, across all of a report's figures together, of
// a verdict where there is no difference.
const OfferAlpha = 0.05

// OfferUnit is what one customer did in a window after an offer started.
// Satisfaction and purchases leave out the offer's own moments, so that
// they tell what followed the offer; revenue and cost count every moment,
// the offer's cost included.
type OfferUnit struct {
	Moments, Magic, Rated int
	RatingSum             float64
	Purchases             int
	Revenue, Cost         float64
	// ActiveAtStart: not dissolved when the offer started; Retained: and
	// not dissolved at the window's end.
	ActiveAtStart, Retained bool
	// CrossSold: took up a product in the window they did not hold at the
	// start.
	CrossSold bool
}

// OfferMetric is one figure of an offer report: each arm's value, the
// difference offered − holdout with its 95% interval and p-value, and the
// p-value adjusted across every figure of the report's complete windows
// (Holm). Values are nil when an arm has too little to measure.
type OfferMetric struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	// Unit says how to read the values: "rate" (0–1), "rating" (1–5) or
	// "money" (per customer).
	Unit       string   `json:"unit"`
	Offered    *float64 `json:"offered"`
	Holdout    *float64 `json:"holdout"`
	Difference *float64 `json:"difference"`
	Low        *float64 `json:"low"`
	High       *float64 `json:"high"`
	PValue     *float64 `json:"p_value"`
	AdjustedP  *float64 `json:"adjusted_p"`
	Test       string   `json:"test,omitempty"`
	// Significant is true when the adjusted p-value is below the report's
	// alpha in a complete window; Verdict then says what it means.
	Significant bool   `json:"significant"`
	Verdict     string `json:"verdict,omitempty"`
}

// OfferWindow is the comparison over the days after the start.
type OfferWindow struct {
	Days int       `json:"days"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Complete is false while the window has not ended: its figures are so
	// far, and give no verdict.
	Complete bool          `json:"complete"`
	Offered  int           `json:"offered"`
	Holdout  int           `json:"holdout"`
	Metrics  []OfferMetric `json:"metrics"`
}

// ArmComparison is what followed for the customers of a treated arm (those
// an offer or a gesture was meant for) against those of its holdout, over
// each window: the figures, their differences with intervals, and a
// verdict for each difference that stays significant.
type ArmComparison struct {
	MeasuredAt time.Time     `json:"measured_at"`
	Alpha      float64       `json:"alpha"`
	Windows    []OfferWindow `json:"windows"`
	// Verdicts repeat the significant figures' verdicts; Summary says in a
	// sentence what the report found.
	Verdicts []string `json:"verdicts"`
	Summary  string   `json:"summary"`
}

// OfferReport is an offer's measured uplift.
type OfferReport struct {
	Offer *Offer `json:"offer"`
	ArmComparison
}

// armWords name, in a verdict, the treated arm's customers and what they
// were given.
// both names the two arms together.
type armWords struct{ customers, both, thing string }

var offerWords = armWords{customers: "offered customers'", both: "offered and holdout customers", thing: "the offer"}

// offerMetricDef says how one figure is measured and read.
type offerMetricDef struct {
	key, name, unit string
	// lowerIsBetter for costs.
	lowerIsBetter bool
}

var offerMetrics = []offerMetricDef{
	{"magic_rate", "magic rate", "rate", false},
	{"mean_rating", "mean rating", "rating", false},
	{"retention", "retention", "rate", false},
	{"repeat_purchase", "repeat purchase", "rate", false},
	{"revenue_per_customer", "revenue per customer", "money", false},
	{"cross_sell", "cross-sell", "rate", false},
	{"cost_per_customer", "cost per customer", "money", true},
}

// armFigures are the aggregates of one arm in one window.
type armFigures struct {
	magic, rating                analytics.Ratio
	retention, repeat, crossSell analytics.Proportion
	revenue, cost                analytics.Mean
	customers                    int
}

func figuresOf(units []OfferUnit) armFigures {
	var f armFigures
	f.customers = len(units)
	for _, u := range units {
		f.magic = f.magic.Add(float64(u.Magic), float64(u.Moments))
		f.rating = f.rating.Add(u.RatingSum, float64(u.Rated))
		if u.ActiveAtStart {
			f.retention.Trials++
			if u.Retained {
				f.retention.Successes++
			}
		}
		f.repeat.Trials++
		if u.Purchases > 0 {
			f.repeat.Successes++
		}
		f.crossSell.Trials++
		if u.CrossSold {
			f.crossSell.Successes++
		}
		f.revenue = f.revenue.Add(u.Revenue)
		f.cost = f.cost.Add(u.Cost)
	}
	return f
}

// comparisonOf compares the arms on the i-th figure of offerMetrics.
func (a armFigures) compare(b armFigures, i int) (va, vb float64, okA, okB bool, c analytics.Comparison) {
	level := 1 - OfferAlpha
	switch offerMetrics[i].key {
	case "magic_rate":
		return a.magic.Value(), b.magic.Value(), a.magic.OK(), b.magic.OK(), analytics.CompareRatios(a.magic, b.magic, level)
	case "mean_rating":
		return a.rating.Value(), b.rating.Value(), a.rating.OK(), b.rating.OK(), analytics.CompareRatios(a.rating, b.rating, level)
	case "retention":
		return propCompare(a.retention, b.retention, level)
	case "repeat_purchase":
		return propCompare(a.repeat, b.repeat, level)
	case "cross_sell":
		return propCompare(a.crossSell, b.crossSell, level)
	case "revenue_per_customer":
		return meanCompare(a.revenue, b.revenue, level)
	default:
		return meanCompare(a.cost, b.cost, level)
	}
}

func propCompare(a, b analytics.Proportion, level float64) (float64, float64, bool, bool, analytics.Comparison) {
	return a.Rate(), b.Rate(), a.Trials > 0, b.Trials > 0, analytics.CompareProportions(a, b, level)
}

func meanCompare(a, b analytics.Mean, level float64) (float64, float64, bool, bool, analytics.Comparison) {
	m := analytics.CompareMeans(a, b, level)
	return a.Value(), b.Value(), a.N > 0, b.N > 0, analytics.Comparison{Difference: m.Difference, Interval: m.Interval,
		PValue: m.PValue, PGreater: m.PGreater, PLess: m.PLess, Test: m.Test, OK: m.OK}
}

// OfferWindowUnits are the units of each arm over one window.
type OfferWindowUnits struct {
	Days             int
	From, To         time.Time
	Complete         bool
	Offered, Holdout []OfferUnit
}

// NewOfferReport compares the arms in each window (see CompareArms).
func NewOfferReport(o *Offer, windows []OfferWindowUnits, now time.Time) *OfferReport {
	return &OfferReport{Offer: o, ArmComparison: compareArms(windows, now, offerWords)}
}

// compareArms compares the arms in each window. Every figure of the
// complete windows is tested, and the p-values adjusted together (Holm), so
// that the chance of any verdict where the treatment made no difference
// stays at most OfferAlpha however many figures are shown; a window not yet
// complete shows its figures so far, untested.
func compareArms(windows []OfferWindowUnits, now time.Time, words armWords) ArmComparison {
	r := ArmComparison{MeasuredAt: now.UTC().Truncate(time.Microsecond), Alpha: OfferAlpha, Verdicts: []string{}}
	var ps []float64
	var tested []*OfferMetric
	r.Windows = make([]OfferWindow, len(windows))
	for wi, w := range windows {
		a, b := figuresOf(w.Offered), figuresOf(w.Holdout)
		win := OfferWindow{Days: w.Days, From: w.From, To: w.To, Complete: w.Complete, Offered: a.customers, Holdout: b.customers,
			Metrics: make([]OfferMetric, len(offerMetrics))}
		for i, def := range offerMetrics {
			va, vb, okA, okB, c := a.compare(b, i)
			m := OfferMetric{Key: def.key, Name: def.name, Unit: def.unit}
			if okA {
				m.Offered = &va
			}
			if okB {
				m.Holdout = &vb
			}
			if c.OK {
				d, lo, hi, p := c.Difference, c.Interval.Lo, c.Interval.Hi, c.PValue
				m.Difference, m.Low, m.High, m.PValue, m.Test = &d, &lo, &hi, &p, string(c.Test)
			}
			win.Metrics[i] = m
		}
		r.Windows[wi] = win
		if !w.Complete {
			continue
		}
		for i := range win.Metrics {
			m := &r.Windows[wi].Metrics[i]
			if m.PValue != nil {
				ps, tested = append(ps, *m.PValue), append(tested, m)
			}
		}
	}
	for i, adj := range analytics.Holm(ps) {
		m := tested[i]
		m.AdjustedP = &adj
		if adj < OfferAlpha {
			m.Significant = true
		}
	}
	for wi := range r.Windows {
		for i := range r.Windows[wi].Metrics {
			m := &r.Windows[wi].Metrics[i]
			if m.Significant {
				m.Verdict = armVerdict(offerMetrics[i], m, r.Windows[wi].Days, words)
				r.Verdicts = append(r.Verdicts, m.Verdict)
			}
		}
	}
	r.Summary = armSummary(&r, words)
	return r
}

// armVerdict says what a significant difference means.
func armVerdict(def offerMetricDef, m *OfferMetric, days int, words armWords) string {
	higher := *m.Difference > 0
	word := "lower"
	if higher {
		word = "higher"
	}
	good := higher != def.lowerIsBetter
	judgement := "worse for " + words.thing
	if good {
		judgement = "in " + words.thing + "'s favour"
	}
	return fmt.Sprintf("Over %d days, %s %s was %s than the holdout's by %s (95%% interval %s to %s), %s.",
		days, words.customers, def.name, word, formatOfferValue(def.unit, math.Abs(*m.Difference), true),
		formatOfferValue(def.unit, *m.Low, true), formatOfferValue(def.unit, *m.High, true), judgement)
}

// FormatOfferValue writes a figure of an offer report as people read it;
// diff says it is a difference (rates in percentage points).
func FormatOfferValue(unit string, x float64, diff bool) string {
	return formatOfferValue(unit, x, diff)
}

func formatOfferValue(unit string, x float64, diff bool) string {
	switch unit {
	case "rate":
		if diff {
			return fmt.Sprintf("%.1f points", 100*x)
		}
		return fmt.Sprintf("%.1f%%", 100*x)
	case "rating":
		return fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

func armSummary(r *ArmComparison, words armWords) string {
	complete := false
	for _, w := range r.Windows {
		complete = complete || w.Complete
	}
	switch {
	case !complete:
		return "No window has ended yet: the figures are so far, and no verdict is given before a window ends."
	case len(r.Verdicts) == 0:
		return fmt.Sprintf("No difference between %s is significant: %s has not shown an effect.", words.both, words.thing)
	}
	return fmt.Sprintf("%d of the figures differ significantly between %s.", len(r.Verdicts), words.both)
}
