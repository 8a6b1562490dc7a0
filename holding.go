package rapport

import (
	"context"
	"strings"
	"time"
)

// Validate checks a new product.
func (p *Product) Validate() error {
	v := validation{index: -1}
	p.Name = strings.TrimSpace(p.Name)
	if !ValidKey(p.Key) {
		v.add("key", "must be lower case letters, digits and underscores, starting with a letter (at most 40)")
	}
	checkText(&v, "name", p.Name, 1, 100)
	return v.err("product")
}

// HoldingInput adds a holding: the product, and when it started (now when zero).
type HoldingInput struct {
	Product   string    `json:"product"`
	StartedAt time.Time `json:"started_at"`
}

// CustomerRef names a customer in lists about other customers.
type CustomerRef struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Stage     string    `json:"stage"`
	CreatedAt time.Time `json:"created_at"`
}

// Referrals are who referred a customer and whom they referred, newest first.
type Referrals struct {
	CustomerID string        `json:"customer_id"`
	ReferredBy *CustomerRef  `json:"referred_by"`
	Referred   []CustomerRef `json:"referred"`
}

// CrossSellSuggestion is a product a customer does not hold, with the
// evidence for offering it: of the Base customers who hold Because, Support
// also hold Product. Confidence is Support/Base; Lift is Confidence over the
// share of all customers holding Product (above 1: more likely than for
// anyone).
type CrossSellSuggestion struct {
	Product     string  `json:"product"`
	ProductName string  `json:"product_name"`
	Because     string  `json:"because,omitempty"`
	Support     int     `json:"support"`
	Base        int     `json:"base"`
	Confidence  float64 `json:"confidence"`
	Lift        float64 `json:"lift"`
}

// CrossSell is the products a customer might take next, best first.
type CrossSell struct {
	CustomerID string `json:"customer_id"`
	// Holds are the products the customer holds now.
	Holds       []string              `json:"holds"`
	Suggestions []CrossSellSuggestion `json:"suggestions"`
	// Customers is how many customers hold at least one product: the
	// population the figures come from.
	Customers  int       `json:"customers"`
	ComputedAt time.Time `json:"computed_at"`
}

// HoldingService keeps products, customers' holdings and their referrals.
type HoldingService interface {
	FindProducts(ctx context.Context) ([]*Product, error)
	CreateProduct(ctx context.Context, p *Product) error
	// FindHoldings returns a customer's holdings, current and ended, newest first.
	FindHoldings(ctx context.Context, customerID string) ([]*Holding, error)
	AddHolding(ctx context.Context, customerID string, in HoldingInput) (*Holding, error)
	// EndHolding ends a current holding at endedAt (now when zero).
	EndHolding(ctx context.Context, customerID, holdingID string, endedAt time.Time) (*Holding, error)
	Referrals(ctx context.Context, customerID string) (*Referrals, error)
	CrossSell(ctx context.Context, customerID string) (*CrossSell, error)
}

// ValidateImported checks a holding a file brings in: its product's key,
// and a start (required: a file brings history) and end that are not in
// the future beyond clock skew, the end not before the start. The times
// are set to what is stored.
func (h *Holding) ValidateImported(now time.Time, index int) []FieldError {
	v := validation{index: index}
	if h.CustomerID == "" {
		v.add("customer_id", "is required")
	}
	if h.Product == "" {
		v.add("product", "is required")
	} else if !ValidKey(h.Product) {
		v.add("product", "must be a product's key, such as current_account")
	}
	h.StartedAt = h.StartedAt.UTC().Truncate(time.Microsecond)
	switch {
	case h.StartedAt.IsZero():
		v.add("started_at", "is required")
	case h.StartedAt.After(now.Add(MaxClockSkew)):
		v.add("started_at", "is more than a day in the future")
	case h.StartedAt.Year() < 1970:
		v.add("started_at", "is before 1970")
	}
	if h.EndedAt != nil {
		end := h.EndedAt.UTC().Truncate(time.Microsecond)
		h.EndedAt = &end
		if end.Before(h.StartedAt) {
			v.add("ended_at", "is before the holding started")
		} else if end.After(now.Add(MaxClockSkew)) {
			v.add("ended_at", "is more than a day in the future")
		}
	}
	return v.fields
}
