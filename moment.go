package rapport

import (
	"context"
	"math"
	"strings"
	"time"
)

// Channel is how a moment reached the customer.
type Channel string

// The channels.
const (
	ChannelInPerson Channel = "in_person"
	ChannelPhone    Channel = "phone"
	ChannelEmail    Channel = "email"
	ChannelChat     Channel = "chat"
	ChannelWeb      Channel = "web"
	ChannelSystem   Channel = "system" // the product or a system, with no person involved
)

// Channels lists every channel.
var Channels = []Channel{ChannelInPerson, ChannelPhone, ChannelEmail, ChannelChat, ChannelWeb, ChannelSystem}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	for _, x := range Channels {
		if c == x {
			return true
		}
	}
	return false
}

func channelList() string {
	s := make([]string, len(Channels))
	for i, c := range Channels {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// Outcome is what a moment did to the customer's impression.
type Outcome string

// The outcomes.
const (
	OutcomeMagic   Outcome = "magic"   // exceeded expectations
	OutcomeNeutral Outcome = "neutral" // met them
	OutcomeMisery  Outcome = "misery"  // a negative outcome
)

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool {
	return o == OutcomeMagic || o == OutcomeNeutral || o == OutcomeMisery
}

// Where a moment's outcome came from.
const (
	OutcomeGiven   = "given"   // stated by whoever recorded it
	OutcomeRated   = "rating"  // derived from the customer's rating
	OutcomeDefault = "default" // neither: neutral
)

// DeriveOutcome returns the outcome of a moment and where it came from: the
// given outcome if any, else from the rating (5 magic, 3–4 neutral, 1–2 misery),
// else neutral.
func DeriveOutcome(given Outcome, rating *int) (Outcome, string) {
	switch {
	case given != "":
		return given, OutcomeGiven
	case rating == nil:
		return OutcomeNeutral, OutcomeDefault
	case *rating >= 5:
		return OutcomeMagic, OutcomeRated
	case *rating >= 3:
		return OutcomeNeutral, OutcomeRated
	}
	return OutcomeMisery, OutcomeRated
}

// Moment is one contact between a customer and the firm: the unit of data.
type Moment struct {
	ID            string    `json:"id"`
	ExternalID    string    `json:"external_id,omitempty"`
	CustomerID    string    `json:"customer_id"`
	Touchpoint    string    `json:"touchpoint"`
	Channel       Channel   `json:"channel"`
	OccurredAt    time.Time `json:"occurred_at"`
	StaffID       string    `json:"staff_id,omitempty"`
	Response      string    `json:"response,omitempty"`
	Rating        *int      `json:"rating,omitempty"`
	Effort        *int      `json:"effort,omitempty"`
	NPS           *int      `json:"nps,omitempty"`
	Outcome       Outcome   `json:"outcome"`
	OutcomeSource string    `json:"outcome_source"`
	Notes         string    `json:"notes,omitempty"`
	Revenue       float64   `json:"revenue"`
	Cost          float64   `json:"cost"`
	RecordedAt    time.Time `json:"recorded_at"`
}

// MaxClockSkew is how far in the future a moment may be dated, to allow for
// clocks that run ahead; anything later is a mistake.
const MaxClockSkew = 24 * time.Hour

// Validate checks a moment's own fields against now, derives its outcome, and
// returns every problem; index is the moment's place in a batch (or -1).
// References (customer, touchpoint, staff, response) are checked by the store.
func (m *Moment) Validate(now time.Time, index int) []FieldError {
	v := validation{index: index}
	m.Notes = strings.TrimSpace(m.Notes)
	m.ExternalID = strings.TrimSpace(m.ExternalID)
	if m.CustomerID == "" {
		v.add("customer_id", "is required")
	}
	if m.Touchpoint == "" {
		v.add("touchpoint", "is required")
	}
	if m.Channel == "" {
		v.add("channel", "is required")
	} else if !m.Channel.Valid() {
		v.add("channel", "unknown channel %q; channels are %s", m.Channel, channelList())
	}
	if m.OccurredAt.IsZero() {
		v.add("occurred_at", "is required, as an RFC 3339 time such as 2026-03-01T14:30:00Z")
	} else if m.OccurredAt.After(now.Add(MaxClockSkew)) {
		v.add("occurred_at", "is more than a day in the future")
	} else if m.OccurredAt.Year() < 1970 {
		v.add("occurred_at", "is before 1970")
	}
	checkRange(&v, "rating", m.Rating, 1, 5)
	checkRange(&v, "effort", m.Effort, 1, 7)
	checkRange(&v, "nps", m.NPS, 0, 10)
	if m.Outcome != "" && !m.Outcome.Valid() {
		v.add("outcome", "must be magic, neutral or misery")
	}
	checkText(&v, "notes", m.Notes, 0, 10000)
	checkText(&v, "external_id", m.ExternalID, 0, 100)
	if math.IsNaN(m.Revenue) || math.IsInf(m.Revenue, 0) || math.Abs(m.Revenue) > 1e12 {
		v.add("revenue", "must be a number of at most 1e12")
	}
	if math.IsNaN(m.Cost) || math.IsInf(m.Cost, 0) || m.Cost < 0 || m.Cost > 1e12 {
		v.add("cost", "must be a number from 0 to 1e12")
	}
	m.OccurredAt = m.OccurredAt.UTC().Truncate(time.Microsecond)
	m.Outcome, m.OutcomeSource = DeriveOutcome(m.Outcome, m.Rating)
	return v.fields
}

func checkRange(v *validation, field string, x *int, min, max int) {
	if x != nil && (*x < min || *x > max) {
		v.add(field, "must be from %d to %d", min, max)
	}
}

// InvalidMoments returns the error for a set of field errors in moments.
func InvalidMoments(fields []FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "The moment is not valid.", Fields: fields}
}

// MomentFilter selects moments; zero fields select everything.
type MomentFilter struct {
	CustomerID string
	Touchpoint string
	Channel    Channel
	Outcome    Outcome
	StaffID    string
	From       time.Time // inclusive
	To         time.Time // exclusive
	Limit      int
	Cursor     string
}

// MomentService records and finds moments.
type MomentService interface {
	// RecordMoment stores m, filling its id and outcome. If a moment with the same
	// external id exists, m is replaced by it and created is false.
	RecordMoment(ctx context.Context, m *Moment) (created bool, err error)
	// RecordMoments stores all the moments in one transaction, or none of them:
	// any invalid item fails the whole batch with every bad item listed.
	// created[i] is false where moments[i] already existed.
	RecordMoments(ctx context.Context, moments []*Moment) (created []bool, err error)
	FindMomentByID(ctx context.Context, id string) (*Moment, error)
	FindMoments(ctx context.Context, f MomentFilter) (Page[*Moment], error)
}

// Kinds of timeline entries.
const (
	EntryMoment      = "moment"
	EntryStageChange = "stage_change"
	EntryPromise     = "promise" // at the time it was made
	EntryCase        = "case"    // a recovery case, at the time it opened
	EntrySurvey      = "survey"  // a survey answer, at the time it came
	EntryEmail       = "email"   // a survey email, at the time it was queued
)

// TimelineEntry is one event in a customer's history; the field named by Kind is set.
type TimelineEntry struct {
	Kind        string          `json:"kind"`
	ID          string          `json:"id"`
	At          time.Time       `json:"at"`
	Moment      *Moment         `json:"moment,omitempty"`
	StageChange *StageChange    `json:"stage_change,omitempty"`
	Promise     *Promise        `json:"promise,omitempty"`
	Case        *RecoveryCase   `json:"case,omitempty"`
	Survey      *SurveyResponse `json:"survey,omitempty"`
	Email       *EmailRecord    `json:"email,omitempty"`
}

// TimelineFilter pages through a customer's timeline.
type TimelineFilter struct {
	Limit  int
	Cursor string
}

// TimelineService assembles a customer's history, newest first.
type TimelineService interface {
	Timeline(ctx context.Context, customerID string, f TimelineFilter) (Page[TimelineEntry], error)
}

// MomentSource names the route by which moments were added, as the metrics
// count them.
type MomentSource string

// The routes moments are added by.
const (
	SourceSingle  MomentSource = "single"  // one moment: the API or the web form
	SourceBatch   MomentSource = "batch"   // a batch through the API
	SourceImport  MomentSource = "import"  // a CSV import
	SourcePromise MomentSource = "promise" // the misery moment of a broken promise
)

// MomentSources are every route moments are added by.
var MomentSources = []MomentSource{SourceSingle, SourceBatch, SourceImport, SourcePromise}
