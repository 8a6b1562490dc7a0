package rapport

import (
	"strings"
	"time"
)

// Product is something the firm sells that a customer may hold.
type Product struct {
	Key       string    `json:"key"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Holding is a customer's holding of a product; EndedAt is nil while it is held.
type Holding struct {
	ID         string     `json:"id"`
	CustomerID string     `json:"customer_id"`
	Product    string     `json:"product"`
	StartedAt  time.Time  `json:"started_at"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
}

// ResponseStatus is where a response stands in the loop: tried, in use as
// the standard, or set aside.
type ResponseStatus string

// Response statuses, in the order a response usually passes through them.
const (
	ResponseCandidate ResponseStatus = "candidate"
	ResponseTrial     ResponseStatus = "trial"
	ResponseStandard  ResponseStatus = "standard"
	ResponseRetired   ResponseStatus = "retired"
)

// ResponseStatuses lists every response status.
var ResponseStatuses = []ResponseStatus{ResponseCandidate, ResponseTrial, ResponseStandard, ResponseRetired}

// IsCandidate reports whether the response waits to be tried.
func (s ResponseStatus) IsCandidate() bool { return s == ResponseCandidate }

// IsTrial reports whether the response is being tried.
func (s ResponseStatus) IsTrial() bool { return s == ResponseTrial }

// IsStandard reports whether the response is the touchpoint's standard.
func (s ResponseStatus) IsStandard() bool { return s == ResponseStandard }

// IsRetired reports whether the response has been set aside.
func (s ResponseStatus) IsRetired() bool { return s == ResponseRetired }

// Settable reports whether a response may be moved to the status by hand:
// candidate, trial or retired; standard is reached only by promotion.
func (s ResponseStatus) Settable() bool {
	return s == ResponseCandidate || s == ResponseTrial || s == ResponseRetired
}

// Response is one way of handling a touchpoint; moments name the response they used.
type Response struct {
	ID          string         `json:"id"`
	Touchpoint  string         `json:"touchpoint"`
	Key         string         `json:"key"`
	Description string         `json:"description"`
	Status      ResponseStatus `json:"status"`
	// Tags say what the response involves (phone_call, email, visit…), to
	// match it with customers' likes and dislikes.
	Tags      []string  `json:"tags"`
	CreatedAt time.Time `json:"created_at"`
}

// CheckPromote says whether the response may become its touchpoint's
// standard: not when it is retired (EINVALID), nor when it is the standard
// already (ECONFLICT).
func (r *Response) CheckPromote() error {
	switch r.Status {
	case ResponseRetired:
		return &Error{Code: EINVALID, Message: "A retired response cannot become the standard.",
			Fields: []FieldError{{Field: "response", Message: "is retired"}}}
	case ResponseStandard:
		return Errorf(ECONFLICT, "%q is the standard of %q already.", r.Key, r.Touchpoint)
	}
	return nil
}

// Validate checks a new response and fills its status (candidate by default).
func (r *Response) Validate() error {
	v := validation{index: -1}
	r.Description = strings.TrimSpace(r.Description)
	if !ValidKey(r.Key) {
		v.add("key", "must be lower case letters, digits and underscores, starting with a letter (at most 40)")
	}
	checkText(&v, "description", r.Description, 1, 2000)
	switch r.Status {
	case "":
		r.Status = ResponseCandidate
	case ResponseCandidate, ResponseTrial:
	default:
		v.add("status", "must be candidate or trial; a response becomes the standard by promotion")
	}
	if err := v.err("response"); err != nil {
		return err
	}
	tags, err := CheckTags(r.Tags)
	r.Tags = tags
	return err
}

// Why a relationship dissolved: the customer left, or the firm ended it.
const (
	DissolutionDissatisfied = "dissatisfied" // the customer was not satisfied
	DissolutionDefected     = "defected"     // the customer moved to a competitor
	DissolutionLowVolume    = "low_volume"   // the firm ended it: too little business
	DissolutionFraud        = "fraud"        // the firm ended it: fraud
	DissolutionOther        = "other"
)

// DissolutionReasons lists every reason a relationship may dissolve.
var DissolutionReasons = []string{DissolutionDissatisfied, DissolutionDefected, DissolutionLowVolume, DissolutionFraud, DissolutionOther}

// StageChange is one step of a customer's relationship history.
type StageChange struct {
	ID         string `json:"id"`
	CustomerID string `json:"customer_id"`
	// From is "" for the customer's first stage.
	From   Stage  `json:"from"`
	To     Stage  `json:"to"`
	Reason string `json:"reason,omitempty"`
	// DissolutionReason is set only when To is dissolution.
	DissolutionReason string    `json:"dissolution_reason,omitempty"`
	ChangedBy         string    `json:"changed_by,omitempty"`
	ChangedAt         time.Time `json:"changed_at"`
}

// PromiseStatus is whether a promise is still open, or was kept or broken.
type PromiseStatus string

// Promise statuses.
const (
	PromiseOpen   PromiseStatus = "open"
	PromiseKept   PromiseStatus = "kept"
	PromiseBroken PromiseStatus = "broken"
)

// IsOpen reports whether the promise is neither kept nor broken yet.
func (s PromiseStatus) IsOpen() bool { return s == PromiseOpen }

// IsKept reports whether the promise was kept.
func (s PromiseStatus) IsKept() bool { return s == PromiseKept }

// IsBroken reports whether the promise was broken.
func (s PromiseStatus) IsBroken() bool { return s == PromiseBroken }

// Promise is something a member of staff promised a customer, usually in a moment.
type Promise struct {
	ID         string        `json:"id"`
	CustomerID string        `json:"customer_id"`
	StaffID    string        `json:"staff_id,omitempty"`
	MomentID   string        `json:"moment_id,omitempty"`
	Text       string        `json:"text"`
	DueAt      time.Time     `json:"due_at"`
	Status     PromiseStatus `json:"status"`
	ResolvedAt *time.Time    `json:"resolved_at,omitempty"`
	CreatedAt  time.Time     `json:"created_at"`
}
