package rapport

import (
	"context"
	"strings"
	"time"
)

// Surveys: a one-time link lets the customer rate one moment on a small
// public page. The link's token is the only secret; Rapport keeps its hash.

// DefaultSurveyTTL is how long a survey link works unless configured otherwise.
const DefaultSurveyTTL = 14 * 24 * time.Hour

// SurveyPath is where the public survey page of a token lives.
func SurveyPath(token string) string { return "/s/" + token }

// SurveyLink is a one-time link to rate a moment. Token is set only when the
// link is created; it cannot be read back.
type SurveyLink struct {
	ID         string     `json:"id"`
	MomentID   string     `json:"moment_id"`
	CustomerID string     `json:"customer_id"`
	Token      string     `json:"token,omitempty"`
	URL        string     `json:"url,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
}

// SurveyInvite is everything the public page may show: no customer data,
// only what the moment was and when.
type SurveyInvite struct {
	TouchpointName string    `json:"touchpoint_name"`
	OccurredAt     time.Time `json:"occurred_at"`
	ExpiresAt      time.Time `json:"expires_at"`
	// Reasons are what the customer may choose as the main reason for a
	// low score, as the touchpoint's survey policy lists them.
	Reasons []string `json:"reasons"`
	// Language is the customer's, "" when not known.
	Language string `json:"language,omitempty"`
}

// SurveyAnswer is what the customer says about the moment.
type SurveyAnswer struct {
	Rating int  `json:"rating"`
	Effort *int `json:"effort,omitempty"`
	NPS    *int `json:"nps,omitempty"`
	// Reason is the main reason for a low score, one of the touchpoint's.
	Reason  string `json:"reason,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// MaxSurveyComment is the longest comment a customer may leave, in characters.
const MaxSurveyComment = 2000

// Validate checks an answer: a rating from 1 to 5 is required; effort (1–7),
// NPS (0–10) and a comment are optional.
func (a *SurveyAnswer) Validate() error {
	v := validation{index: -1}
	a.Comment = strings.TrimSpace(a.Comment)
	if a.Rating < 1 || a.Rating > 5 {
		v.add("rating", "choose a rating from 1 to 5")
	}
	checkRange(&v, "effort", a.Effort, 1, 7)
	checkRange(&v, "nps", a.NPS, 0, 10)
	checkText(&v, "comment", a.Comment, 0, MaxSurveyComment)
	a.Reason = strings.TrimSpace(a.Reason)
	checkText(&v, "reason", a.Reason, 0, 80)
	return v.err("answer")
}

// SurveyResponse is an answer as it appears on the customer's timeline.
type SurveyResponse struct {
	ID         string    `json:"id"`
	MomentID   string    `json:"moment_id"`
	Touchpoint string    `json:"touchpoint"`
	Rating     int       `json:"rating"`
	Effort     *int      `json:"effort,omitempty"`
	NPS        *int      `json:"nps,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Comment    string    `json:"comment,omitempty"`
	AnsweredAt time.Time `json:"answered_at"`
	// StaffRating is the rating staff had recorded on the moment before
	// the customer answered, kept beside the customer's own; reports use
	// the customer's.
	StaffRating *int   `json:"staff_rating,omitempty"`
	CustomerID  string `json:"customer_id,omitempty"`
}

// SurveyService issues survey links and takes their answers.
type SurveyService interface {
	// CreateSurveyLink issues a link to rate a moment that works for ttl.
	// A moment answered already gets ECONFLICT.
	CreateSurveyLink(ctx context.Context, momentID string, ttl time.Duration) (*SurveyLink, error)
	// FindSurvey returns what the page of a token shows. An unknown or
	// expired token is ENOTFOUND, alike; an answered one is ECONFLICT.
	FindSurvey(ctx context.Context, token string) (*SurveyInvite, error)
	// AnswerSurvey lands the answer on the moment, once.
	AnswerSurvey(ctx context.Context, token string, a SurveyAnswer) error
}

// SurveyReport is how a touchpoint's survey invitations fared over a
// window, and what customers said beside what staff recorded.
type SurveyReport struct {
	Touchpoint string    `json:"touchpoint"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	// Invited is the invitations sent in the window; Answered how many of
	// them the customer answered.
	Invited  int `json:"invited"`
	Answered int `json:"answered"`
	// ResponseRate is Answered/Invited with its 95 % interval; nil with no
	// invitation sent.
	ResponseRate *Estimate `json:"response_rate,omitempty"`
	// LowResponse warns that too few answered for their satisfaction to
	// stand for everyone's: fewer than MinSurveyAnswers answers, or fewer
	// than MinResponseRate of those invited (who answers then may differ
	// from who does not).
	LowResponse bool `json:"low_response"`
	// CustomerRating is the mean of customers' own ratings (1–5) given in
	// the window; StaffRating the mean of the ratings staff recorded on the
	// touchpoint's moments of the window, before any customer's answer.
	CustomerRating *Estimate `json:"customer_rating,omitempty"`
	StaffRating    *Estimate `json:"staff_rating,omitempty"`
	// Effort is the customers' mean effort (1–7), NPS their net promoter
	// score (−100 to 100), where they answered them.
	Effort *Estimate `json:"effort,omitempty"`
	NPS    *Estimate `json:"nps,omitempty"`
	// LowAnswers are the answers of 1 or 2; Reasons the main reasons they
	// gave, most often first, each with its share of LowAnswers.
	LowAnswers int           `json:"low_answers"`
	Reasons    []ReasonCount `json:"reasons"`
}

// Estimate is a figure measured on N answers, with its 95 % interval.
type Estimate struct {
	Value float64 `json:"value"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
	N     int     `json:"n"`
}

// ReasonCount is how often a reason was given for a low score.
type ReasonCount struct {
	Reason string  `json:"reason"`
	Count  int     `json:"count"`
	Share  float64 `json:"share"`
}

// What a response rate needs to be trusted.
const (
	MinSurveyAnswers = 30
	MinResponseRate  = 0.10
)

// LowSurveyResponse reports whether answered out of invited is too little
// to trust (see SurveyReport.LowResponse).
func LowSurveyResponse(invited, answered int) bool {
	return answered < MinSurveyAnswers || float64(answered) < MinResponseRate*float64(invited)
}

// SurveyReportFilter chooses a touchpoint and a window; zero times mean the
// last 90 days.
type SurveyReportFilter struct {
	Touchpoint string
	From, To   time.Time
}
