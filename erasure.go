package rapport

import (
	"context"
	"io"
	"time"
)

// Erasing a customer honours a person's right to be forgotten without
// rewriting the firm's history: their moments stay, as anonymous counts, so
// every report, total and outcome reads the same afterwards, while every
// word that could identify them or that they or staff wrote about them goes.

// ErasedNamePrefix starts the name an erased customer is left with.
const ErasedNamePrefix = "Erased customer"

// ErasedName is the neutral name an erased customer keeps: enough to tell
// two erased customers apart on a list, nothing about the person.
func ErasedName(id string) string {
	short := id
	if len(short) > 6 {
		short = short[len(short)-6:]
	}
	return ErasedNamePrefix + " " + short
}

// IsErased reports whether the customer's personal data was erased.
func (c *Customer) IsErased() bool { return c.ErasedAt != nil }

// Erase replaces the customer's personal data with the neutral placeholder,
// keeping what is not personal beyond the link to them: their kind, owner,
// referrer and stage.
func (c *Customer) Erase(at time.Time) {
	c.Name = ErasedName(c.ID)
	c.ExternalID, c.Email, c.Phone = "", "", ""
	c.Attributes = map[string]any{}
	c.Preferences = Preferences{Likes: []string{}, Dislikes: []string{}}
	if c.ErasedAt == nil {
		c.ErasedAt = &at
	}
}

// CustomerErased tells webhooks that a customer's personal data was
// erased, so that receivers holding what Rapport sent them erase it too.
type CustomerErased struct {
	CustomerID string    `json:"customer_id"`
	ErasedAt   time.Time `json:"erased_at"`
}

// ErrErased is the error for changing an erased customer or giving them
// anything new.
func ErrErased(id string) error {
	return Errorf(ECONFLICT, "The customer %s was erased: an erased customer cannot be changed or given new moments, promises or holdings.", id)
}

// CustomerExport is everything Rapport holds on one customer, as answered
// to a subject access request. Moments come last, as they may be many.
type CustomerExport struct {
	ExportedAt   time.Time         `json:"exported_at"`
	Customer     *Customer         `json:"customer"`
	Holdings     []*Holding        `json:"holdings"`
	StageChanges []*StageChange    `json:"stage_changes"`
	Handovers    []*Handover       `json:"handovers"`
	Referrals    *Referrals        `json:"referrals"`
	Segments     []SegmentRef      `json:"segments"`
	Promises     []*Promise        `json:"promises"`
	Cases        []*RecoveryCase   `json:"cases"`
	SurveyLinks  []*SurveyLink     `json:"survey_links"`
	Surveys      []*SurveyResponse `json:"survey_answers"`
	// Emails are those sent or queued to the customer (survey invitations
	// and reminders): to whom, the subject, and what became of them.
	Emails []*EmailRecord `json:"emails"`
	// OptedOutAt is when the customer asked for no more survey emails.
	OptedOutAt *time.Time `json:"opted_out_at,omitempty"`
	// Offers are the offers the customer was drawn for, and in which arm.
	Offers []ExportedOffer `json:"offers"`
	// Gestures are the milestones of theirs that gesture rules found, and
	// in which arm.
	Gestures []ExportedGesture `json:"gestures"`
	Moments  []*Moment         `json:"moments"`
}

// ExportedGesture is a milestone of the customer's a gesture rule found:
// chosen for the gesture (offered) or held out to measure it (holdout).
type ExportedGesture struct {
	RuleID      string    `json:"rule_id"`
	Name        string    `json:"name"`
	Milestone   string    `json:"milestone"`
	MilestoneAt time.Time `json:"milestone_at"`
	Arm         string    `json:"arm"`
}

// ExportedOffer is an offer a customer was drawn for: made to them
// (offered) or held back to measure it (holdout).
type ExportedOffer struct {
	OfferID string `json:"offer_id"`
	Name    string `json:"name"`
	Arm     string `json:"arm"`
}

// ErasureService erases and exports one person's data.
type ErasureService interface {
	// EraseCustomer removes the customer's personal data everywhere and
	// returns the customer as left: the placeholder name and the time of
	// erasure. Erasing again finds nothing more to remove and succeeds.
	EraseCustomer(ctx context.Context, id string) (*Customer, error)
	// ExportCustomer writes everything held on the customer to w as one
	// JSON document (a CustomerExport), read at one moment in time, moments
	// streamed as they are read. An unknown customer is ENOTFOUND before
	// anything is written.
	ExportCustomer(ctx context.Context, id string, w io.Writer) error
}
