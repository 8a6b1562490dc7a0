package rapport

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Band is a third of the 0–100 scale of health or risk, as a list filters
// by it: low (0–39), medium (40–69) or high (70–100).
type Band string

// The bands of a score.
const (
	BandLow    Band = "low"
	BandMedium Band = "medium"
	BandHigh   Band = "high"
)

// Bands are the bands in order, for choosing one.
var Bands = []Band{BandLow, BandMedium, BandHigh}

// Range is the lowest and highest score of the band.
func (b Band) Range() (lo, hi int) {
	switch b {
	case BandLow:
		return 0, 39
	case BandMedium:
		return 40, 69
	default:
		return 70, 100
	}
}

// BandOf is the band a score falls in.
func BandOf(score int) Band {
	switch {
	case score < 40:
		return BandLow
	case score < 70:
		return BandMedium
	default:
		return BandHigh
	}
}

// CustomerSort is an order of the customer list: a column, and a leading
// "-" for the opposite of its natural order.
type CustomerSort string

// The orders of the customer list. Names run A to Z, risk and health from
// the highest, the last moment from the most recent; "-" turns each round.
const (
	SortName       CustomerSort = "name"
	SortRisk       CustomerSort = "risk"
	SortHealth     CustomerSort = "health"
	SortLastMoment CustomerSort = "last"
)

// CustomerSorts are the orders the list offers, each with its opposite.
var CustomerSorts = []CustomerSort{SortName, "-" + SortName, SortRisk, "-" + SortRisk, SortHealth, "-" + SortHealth, SortLastMoment, "-" + SortLastMoment}

// Column is the sort's column, without its direction.
func (s CustomerSort) Column() CustomerSort { return CustomerSort(strings.TrimPrefix(string(s), "-")) }

// Reversed reports whether the sort runs against its column's natural order.
func (s CustomerSort) Reversed() bool { return strings.HasPrefix(string(s), "-") }

// NoOwner is the OwnerID of a CustomerListFilter that selects customers
// nobody owns.
const NoOwner = "none"

// CustomerListFilter selects and orders the customers of the list people
// work from. Every field is optional.
type CustomerListFilter struct {
	Query     string // name, email, phone or external id, ignoring case
	Stage     Stage
	OwnerID   string // a user's id, or NoOwner
	Health    Band
	Risk      Band
	SegmentID string
	Sort      CustomerSort // SortName when empty
	Limit     int
	Offset    int
}

// Validate checks the filter's words, filling the default order.
func (f *CustomerListFilter) Validate() error {
	v := validation{index: -1}
	f.Query = strings.TrimSpace(f.Query)
	if f.Stage != "" && !slices.Contains(Stages, f.Stage) {
		v.add("stage", "Choose one of the stages.")
	}
	for _, b := range []struct {
		field string
		band  Band
	}{{"health", f.Health}, {"risk", f.Risk}} {
		if b.band != "" && !slices.Contains(Bands, b.band) {
			v.add(b.field, "Choose low, medium or high.")
		}
	}
	if f.Sort == "" {
		f.Sort = SortName
	}
	if !slices.Contains(CustomerSorts, f.Sort) {
		v.add("sort", "Sort by name, risk, health or last moment.")
	}
	if f.Offset < 0 {
		v.add("offset", "The offset cannot be negative.")
	}
	return v.err("customer list's filter")
}

// CustomerListRow is a customer as the list shows them, with their
// relationship's kept figures (nil before they are first measured).
type CustomerListRow struct {
	ID           string
	Name         string
	Kind         string
	Email        string
	Stage        Stage
	OwnerID      string
	Health       *int
	Risk         *int
	LastMomentAt *time.Time
	Erased       bool
}

// CustomerList is one page of the list and how many customers match in all.
type CustomerList struct {
	Rows  []CustomerListRow
	Total int
}

// CustomerListService reads the customer list from the kept figures: no
// customer's history is read to filter, sort or count it.
type CustomerListService interface {
	ListCustomers(ctx context.Context, f CustomerListFilter) (*CustomerList, error)
	// EachListedCustomer passes every customer the filter selects, in its
	// order, to each; it stops at each's first error.
	EachListedCustomer(ctx context.Context, f CustomerListFilter, each func(*CustomerListRow) error) error
}
