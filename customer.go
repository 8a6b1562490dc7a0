package rapport

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Customer kinds.
const (
	KindPerson       = "person"
	KindOrganisation = "organisation"
)

// Stage is where a relationship stands in its lifecycle.
type Stage string

// Relationship stages, in lifecycle order. They are untyped constants so
// that they also compare with a stage the store holds as a plain string.
const (
	StageAwareness   = "awareness"
	StageExploration = "exploration"
	StageExpansion   = "expansion"
	StageCommitment  = "commitment"
	StageDissolution = "dissolution"
)

// Stages lists the relationship stages in lifecycle order.
var Stages = []Stage{StageAwareness, StageExploration, StageExpansion, StageCommitment, StageDissolution}

// Preferences are a customer's likes and dislikes, which staff read before a contact.
type Preferences struct {
	Likes    []string `json:"likes"`
	Dislikes []string `json:"dislikes"`
}

// Customer is a person or organisation the firm serves.
type Customer struct {
	ID          string         `json:"id"`
	ExternalID  string         `json:"external_id,omitempty"`
	Kind        string         `json:"kind"`
	Name        string         `json:"name"`
	Email       string         `json:"email,omitempty"`
	Phone       string         `json:"phone,omitempty"`
	Attributes  map[string]any `json:"attributes"`
	Preferences Preferences    `json:"preferences"`
	OwnerID     string         `json:"owner_id,omitempty"`
	ReferredBy  string         `json:"referred_by,omitempty"`
	// Language is the language the customer reads, such as "es", for
	// survey emails and pages; "" for the firm's default, English.
	Language  string    `json:"language,omitempty"`
	Stage     Stage     `json:"stage"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// ErasedAt is when the customer's personal data was erased (see Erase).
	ErasedAt *time.Time `json:"erased_at,omitempty"`
}

// CheckCustomerSince says what is wrong with a past date given as when a
// customer joined, or "" when nothing is.
func CheckCustomerSince(at, now time.Time) string {
	switch {
	case at.After(now):
		return "must not be in the future"
	case at.Year() < 1900:
		return "must be after 1900"
	}
	return ""
}

// Limits on a customer's free-form data, so one record cannot grow without bound.
const (
	maxAttributes      = 100
	maxAttributesBytes = 16 << 10
	maxPreferences     = 50
)

// Validate checks a customer's own fields and fills defaults; references
// (owner, referrer) are checked by the store.
func (c *Customer) Validate() error {
	v := validation{index: -1}
	c.Name = strings.TrimSpace(c.Name)
	c.Email = strings.TrimSpace(c.Email)
	c.Phone = strings.TrimSpace(c.Phone)
	c.ExternalID = strings.TrimSpace(c.ExternalID)
	if c.Kind == "" {
		c.Kind = KindPerson
	}
	if c.Stage == "" {
		c.Stage = StageAwareness
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	if c.Preferences.Likes == nil {
		c.Preferences.Likes = []string{}
	}
	if c.Preferences.Dislikes == nil {
		c.Preferences.Dislikes = []string{}
	}
	checkText(&v, "name", c.Name, 1, 200)
	checkEmail(&v, "email", c.Email, false)
	checkText(&v, "phone", c.Phone, 0, 50)
	checkText(&v, "external_id", c.ExternalID, 0, 100)
	c.Language = strings.ToLower(strings.TrimSpace(c.Language))
	if !validLanguage(c.Language) {
		v.add("language", "must be a two-letter language code such as en, es or de, or empty")
	}
	if c.Kind != KindPerson && c.Kind != KindOrganisation {
		v.add("kind", "must be person or organisation")
	}
	if !validStage(c.Stage) {
		v.add("stage", "must be one of %s", StageNames())
	}
	checkAttributes(&v, c.Attributes)
	checkPreferences(&v, c.Preferences)
	if c.ReferredBy != "" && c.ReferredBy == c.ID {
		v.add("referred_by", "a customer cannot refer themselves")
	}
	return v.err("customer")
}

func validStage(s Stage) bool { return slices.Contains(Stages, s) }

// StageValues lists the stages' words in lifecycle order, as the API and
// the segment language spell them.
func StageValues() []string {
	names := make([]string, len(Stages))
	for i, s := range Stages {
		names[i] = string(s)
	}
	return names
}

// StageNames lists the stages, comma-separated, for messages.
func StageNames() string { return strings.Join(StageValues(), ", ") }

func checkAttributes(v *validation, attrs map[string]any) {
	if len(attrs) > maxAttributes {
		v.add("attributes", "must have at most %d keys", maxAttributes)
		return
	}
	for k := range attrs {
		if k == "" || len(k) > 64 {
			v.add("attributes", "keys must be 1 to 64 characters")
			return
		}
	}
	if b, err := json.Marshal(attrs); err != nil || len(b) > maxAttributesBytes {
		v.add("attributes", "must be a JSON object of at most %d bytes", maxAttributesBytes)
	}
}

func checkPreferences(v *validation, p Preferences) {
	for field, list := range map[string][]string{"preferences.likes": p.Likes, "preferences.dislikes": p.Dislikes} {
		if len(list) > maxPreferences {
			v.add(field, "must have at most %d entries", maxPreferences)
		}
		for _, s := range list {
			if strings.TrimSpace(s) == "" || len(s) > 200 {
				v.add(field, "entries must be 1 to 200 characters")
				break
			}
		}
	}
}

// CustomerUpdate changes some of a customer's fields; nil means unchanged.
// Attributes are merged: a key set to null is removed.
type CustomerUpdate struct {
	Name        *string        `json:"name"`
	Kind        *string        `json:"kind"`
	Email       *string        `json:"email"`
	Phone       *string        `json:"phone"`
	ExternalID  *string        `json:"external_id"`
	Attributes  map[string]any `json:"attributes"`
	Preferences *Preferences   `json:"preferences"`
	OwnerID     *string        `json:"owner_id"`
	ReferredBy  *string        `json:"referred_by"`
	Language    *string        `json:"language"`
}

// Apply changes c as the update says.
func (u CustomerUpdate) Apply(c *Customer) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&c.Name, u.Name)
	set(&c.Kind, u.Kind)
	set(&c.Email, u.Email)
	set(&c.Phone, u.Phone)
	set(&c.ExternalID, u.ExternalID)
	set(&c.OwnerID, u.OwnerID)
	set(&c.ReferredBy, u.ReferredBy)
	set(&c.Language, u.Language)
	if u.Preferences != nil {
		c.Preferences = *u.Preferences
	}
	if len(u.Attributes) > 0 {
		merged := make(map[string]any, len(c.Attributes)+len(u.Attributes))
		for k, val := range c.Attributes {
			merged[k] = val
		}
		for k, val := range u.Attributes {
			if val == nil {
				delete(merged, k)
			} else {
				merged[k] = val
			}
		}
		c.Attributes = merged
	}
}

// CustomerFilter selects customers. Query matches name, email, phone or
// external id, ignoring case.
type CustomerFilter struct {
	Query   string
	OwnerID string
	// Stage is a stage's word, as a query or a command line gives it.
	Stage  string
	Limit  int
	Cursor string
}

// CustomerService keeps customers.
type CustomerService interface {
	FindCustomerByID(ctx context.Context, id string) (*Customer, error)
	FindCustomers(ctx context.Context, f CustomerFilter) (Page[*Customer], error)
	CreateCustomer(ctx context.Context, c *Customer) error
	UpdateCustomer(ctx context.Context, id string, u CustomerUpdate) (*Customer, error)
	DeleteCustomer(ctx context.Context, id string) error
}

// validLanguage reports whether s is "" or a two-letter language code.
func validLanguage(s string) bool {
	if s == "" {
		return true
	}
	return len(s) == 2 && s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z'
}
