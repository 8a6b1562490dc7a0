package rapport

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// Journey phases of a touchpoint.
const (
	PhasePreSales  = "pre_sales"
	PhaseSale      = "sale"
	PhasePostSales = "post_sales"
)

// Touchpoint is an entry in the catalogue of moments of truth.
type Touchpoint struct {
	Key         string    `json:"key"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Phase       string    `json:"phase"`
	Channels    []Channel `json:"channels"`
	// TargetScore is the mean rating (1–5) the firm aims for here.
	TargetScore float64 `json:"target_score"`
	// Priority is a manual override of the measured priority, 1 highest; nil when unset.
	Priority  *int      `json:"priority"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// ValidKey reports whether s can be a catalogue key: lower case letters,
// digits and underscores, starting with a letter, at most 40 characters.
func ValidKey(s string) bool { return keyPattern.MatchString(s) }

// KeyName is how people read a key of the catalogue: "call_back_same_day"
// is "Call back same day".
func KeyName(key string) string {
	if key == "" {
		return ""
	}
	return strings.ToUpper(key[:1]) + strings.ReplaceAll(key[1:], "_", " ")
}

// Validate checks a touchpoint and fills defaults.
func (t *Touchpoint) Validate() error {
	v := validation{index: -1}
	t.Name = strings.TrimSpace(t.Name)
	if !ValidKey(t.Key) {
		v.add("key", "must be lower case letters, digits and underscores, starting with a letter (at most 40)")
	}
	checkText(&v, "name", t.Name, 1, 100)
	checkText(&v, "description", t.Description, 0, 2000)
	switch t.Phase {
	case PhasePreSales, PhaseSale, PhasePostSales:
	default:
		v.add("phase", "must be pre_sales, sale or post_sales")
	}
	if t.Channels == nil {
		t.Channels = []Channel{}
	}
	for _, c := range t.Channels {
		if !c.Valid() {
			v.add("channels", "unknown channel %q; channels are %s", c, channelList())
			break
		}
	}
	if t.TargetScore == 0 {
		t.TargetScore = 4
	}
	if t.TargetScore < 1 || t.TargetScore > 5 {
		v.add("target_score", "must be between 1 and 5")
	}
	if t.Priority != nil && (*t.Priority < 1 || *t.Priority > 100) {
		v.add("priority", "must be between 1 and 100")
	}
	return v.err("touchpoint")
}

// TouchpointUpdate changes some of a touchpoint's fields; nil means unchanged.
// A priority of 0 clears the manual override.
type TouchpointUpdate struct {
	Name        *string    `json:"name"`
	Description *string    `json:"description"`
	Phase       *string    `json:"phase"`
	Channels    *[]Channel `json:"channels"`
	TargetScore *float64   `json:"target_score"`
	Priority    *int       `json:"priority"`
}

// Apply changes t as the update says.
func (u TouchpointUpdate) Apply(t *Touchpoint) {
	if u.Name != nil {
		t.Name = *u.Name
	}
	if u.Description != nil {
		t.Description = *u.Description
	}
	if u.Phase != nil {
		t.Phase = *u.Phase
	}
	if u.Channels != nil {
		t.Channels = *u.Channels
	}
	if u.TargetScore != nil {
		t.TargetScore = *u.TargetScore
	}
	if u.Priority != nil {
		if *u.Priority == 0 {
			t.Priority = nil
		} else {
			p := *u.Priority
			t.Priority = &p
		}
	}
}

// DefaultTouchpoints is the catalogue a new firm starts with.
func DefaultTouchpoints() []*Touchpoint {
	all := []Channel{ChannelInPerson, ChannelPhone, ChannelEmail, ChannelChat, ChannelWeb}
	return []*Touchpoint{
		{Key: "greeting", Name: "Greeting", Phase: PhasePreSales, TargetScore: 4.2, Channels: []Channel{ChannelInPerson, ChannelPhone, ChannelChat},
			Description: "The first words of a contact: how the customer is welcomed and recognised."},
		{Key: "query", Name: "Handling a query", Phase: PhasePreSales, TargetScore: 4.0, Channels: all,
			Description: "Answering a customer's question, from cover details to opening hours."},
		{Key: "complaint", Name: "Handling a complaint", Phase: PhasePostSales, TargetScore: 3.8, Channels: all,
			Description: "Listening to and resolving something that went wrong for the customer."},
		{Key: "offer", Name: "Special offer or discount", Phase: PhaseSale, TargetScore: 4.0, Channels: []Channel{ChannelEmail, ChannelPhone, ChannelWeb},
			Description: "Presenting an offer, a renewal discount or a loyalty reward."},
		{Key: "purchase", Name: "Purchase", Phase: PhaseSale, TargetScore: 4.2, Channels: []Channel{ChannelInPerson, ChannelPhone, ChannelWeb},
			Description: "Buying a product or service, including the paperwork and payment."},
		{Key: "delivery", Name: "Delivery", Phase: PhasePostSales, TargetScore: 4.2, Channels: []Channel{ChannelEmail, ChannelSystem, ChannelWeb},
			Description: "Handing over what was bought: documents, cards, access, goods."},
		{Key: "service", Name: "Service visit", Phase: PhasePostSales, TargetScore: 4.0, Channels: []Channel{ChannelInPerson, ChannelPhone},
			Description: "A visit or call to service what the customer holds, such as a claim or a review."},
		{Key: "closing", Name: "Closing the interaction", Phase: PhasePostSales, TargetScore: 4.2, Channels: all,
			Description: "How a contact ends: the summary, next steps and goodbye."},
	}
}

// TouchpointService keeps the catalogue of touchpoints.
type TouchpointService interface {
	FindTouchpoints(ctx context.Context) ([]*Touchpoint, error)
	FindTouchpointByKey(ctx context.Context, key string) (*Touchpoint, error)
	CreateTouchpoint(ctx context.Context, t *Touchpoint) error
	UpdateTouchpoint(ctx context.Context, key string, u TouchpointUpdate) (*Touchpoint, error)
}
