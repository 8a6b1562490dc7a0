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
