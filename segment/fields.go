package segment

import (
	"sort"

	"github.com/rapport-crm/rapport"
)

// Kind is the kind of value a field takes.
type Kind string

// The kinds of field.
const (
	KindEnum      Kind = "enum"      // one of a fixed list of strings
	KindText      Kind = "text"      // an id; null when unset
	KindNumber    Kind = "number"    // compared as a number
	KindTime      Kind = "time"      // a date, a time or a number of days ago
	KindAttribute Kind = "attribute" // a custom attribute's value
)

// Field is one thing a rule can test.
type Field struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Values are the values of an enum field.
	Values []string `json:"values,omitempty"`
	Doc    string   `json:"doc"`
	// column is the SQL expression over customer_measures m (which copies
	// the profile fields rules test) or, for attributes only, customers c;
	// nullable says it may be NULL.
	column   string
	nullable bool
}

// fields is the whitelist: the only names that can become SQL.
var fields = func() map[string]*Field {
	m := map[string]*Field{}
	for _, f := range []*Field{
		{Name: "stage", Kind: KindEnum, Values: rapport.StageValues(), column: "m.stage", Doc: "the relationship stage"},
		{Name: "kind", Kind: KindEnum, Values: []string{rapport.KindPerson, rapport.KindOrganisation}, column: "m.kind", Doc: "person or organisation"},
		{Name: "owner", Kind: KindText, column: "m.owner_id", nullable: true, Doc: "the id of the member of staff who owns the relationship; null when nobody does"},
		{Name: "referred_by", Kind: KindText, column: "m.referred_by", nullable: true, Doc: "the id of the customer who referred them; null when nobody did"},
		{Name: "created", Kind: KindTime, column: "m.created_at", Doc: `when they became a customer: a date ("2026-01-31"), an RFC 3339 time, or days ago ("-90d")`},
		{Name: "attributes", Kind: KindAttribute, column: "c.attributes", Doc: `a custom attribute, as attributes.region or attributes."key with spaces": =, != and in only`},
		{Name: "health", Kind: KindNumber, column: "m.health", nullable: true, Doc: "the health score, 0 to 100"},
		{Name: "risk", Kind: KindNumber, column: "m.risk", nullable: true, Doc: "the dissolution risk score, 0 to 100"},
		{Name: "moments_30d", Kind: KindNumber, column: "COALESCE(m.moments_30d, 0)", Doc: "moments in the last 30 days"},
		{Name: "moments_90d", Kind: KindNumber, column: "COALESCE(m.moments_90d, 0)", Doc: "moments in the last 90 days"},
		{Name: "moments_365d", Kind: KindNumber, column: "COALESCE(m.moments_365d, 0)", Doc: "moments in the last 365 days"},
		{Name: "rating_90d", Kind: KindNumber, column: "m.rating_90d", nullable: true, Doc: "the mean rating (1 to 5) of the last 90 days; missing without a rating"},
		{Name: "magic_90d", Kind: KindNumber, column: "COALESCE(m.magic_90d, 0)", Doc: "magic moments in the last 90 days"},
		{Name: "misery_30d", Kind: KindNumber, column: "COALESCE(m.misery_30d, 0)", Doc: "misery moments in the last 30 days"},
		{Name: "misery_90d", Kind: KindNumber, column: "COALESCE(m.misery_90d, 0)", Doc: "misery moments in the last 90 days"},
		{Name: "holdings", Kind: KindNumber, column: "COALESCE(m.holdings, 0)", Doc: "how many different products they hold now"},
		{Name: "revenue_365d", Kind: KindNumber, column: "COALESCE(m.revenue_365d, 0)", Doc: "revenue from their moments of the last 365 days"},
		{Name: "cost_365d", Kind: KindNumber, column: "COALESCE(m.cost_365d, 0)", Doc: "cost to serve them over the last 365 days"},
		{Name: "referrals", Kind: KindNumber, column: "COALESCE(m.referrals, 0)", Doc: "how many customers they have referred"},
	} {
		m[f.Name] = f
	}
	return m
}()

// Fields lists the fields a rule can test, by name.
func Fields() []Field {
	out := make([]Field, 0, len(fields))
	for _, f := range fields {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func fieldNames() string {
	var names []string
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}
