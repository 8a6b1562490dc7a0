package rapport_test

import (
	"sort"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

func ip(n int) *int { return &n }

func TestDeriveOutcome(t *testing.T) {
	tests := []struct {
		given      rapport.Outcome
		rating     *int
		want       rapport.Outcome
		wantSource string
	}{
		{"", ip(5), rapport.OutcomeMagic, rapport.OutcomeRated},
		{"", ip(4), rapport.OutcomeNeutral, rapport.OutcomeRated},
		{"", ip(3), rapport.OutcomeNeutral, rapport.OutcomeRated},
		{"", ip(2), rapport.OutcomeMisery, rapport.OutcomeRated},
		{"", ip(1), rapport.OutcomeMisery, rapport.OutcomeRated},
		{"", nil, rapport.OutcomeNeutral, rapport.OutcomeDefault},
		{rapport.OutcomeMisery, ip(5), rapport.OutcomeMisery, rapport.OutcomeGiven},
		{rapport.OutcomeMagic, nil, rapport.OutcomeMagic, rapport.OutcomeGiven},
	}
	for _, tt := range tests {
		got, source := rapport.DeriveOutcome(tt.given, tt.rating)
		if got != tt.want || source != tt.wantSource {
			t.Errorf("DeriveOutcome(%q, %v) = %s, %s; want %s, %s", tt.given, tt.rating, got, source, tt.want, tt.wantSource)
		}
	}
}

func TestMomentValidate(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	valid := func() *rapport.Moment {
		return &rapport.Moment{CustomerID: "c", Touchpoint: "greeting", Channel: rapport.ChannelPhone, OccurredAt: now.Add(-time.Hour)}
	}
	tests := []struct {
		name   string
		change func(*rapport.Moment)
		fields []string
	}{
		{"valid", func(*rapport.Moment) {}, nil},
		{"a day ahead is clock skew", func(m *rapport.Moment) { m.OccurredAt = now.Add(23 * time.Hour) }, nil},
		{"two days ahead", func(m *rapport.Moment) { m.OccurredAt = now.Add(48 * time.Hour) }, []string{"occurred_at"}},
		{"missing everything", func(m *rapport.Moment) { *m = rapport.Moment{} }, []string{"customer_id", "touchpoint", "channel", "occurred_at"}},
		{"ranges", func(m *rapport.Moment) { m.Rating, m.Effort, m.NPS = ip(0), ip(8), ip(11) }, []string{"rating", "effort", "nps"}},
		{"edges of ranges", func(m *rapport.Moment) { m.Rating, m.Effort, m.NPS = ip(1), ip(7), ip(0) }, nil},
		{"unknown channel and outcome", func(m *rapport.Moment) { m.Channel, m.Outcome = "fax", "meh" }, []string{"channel", "outcome"}},
		{"negative cost", func(m *rapport.Moment) { m.Cost = -1 }, []string{"cost"}},
		{"refund is negative revenue", func(m *rapport.Moment) { m.Revenue = -20 }, nil},
	}
	for _, tt := range tests {
		m := valid()
		tt.change(m)
		var got []string
		for _, f := range m.Validate(now, -1) {
			got = append(got, f.Field)
			if f.Index != nil {
				t.Errorf("%s: field error %s has an index outside a batch", tt.name, f.Field)
			}
		}
		if len(got) != len(tt.fields) {
			t.Errorf("%s: Validate fields = %v; want %v", tt.name, got, tt.fields)
			continue
		}
		for i := range got {
			if got[i] != tt.fields[i] {
				t.Errorf("%s: Validate fields = %v; want %v", tt.name, got, tt.fields)
				break
			}
		}
	}
	m := &rapport.Moment{}
	for _, f := range m.Validate(now, 3) {
		if f.Index == nil || *f.Index != 3 {
			t.Errorf("batch field error %s has index %v; want 3", f.Field, f.Index)
		}
	}
}

func TestRoles(t *testing.T) {
	perms := []rapport.Permission{rapport.PermRead, rapport.PermWriteCustomers, rapport.PermWriteMoments, rapport.PermWriteCatalogue, rapport.PermManageUsers}
	want := map[rapport.Role][]bool{
		rapport.RoleAdmin:   {true, true, true, true, true},
		rapport.RoleManager: {true, true, true, true, false},
		rapport.RoleAgent:   {true, true, true, false, false},
		rapport.RoleViewer:  {true, false, false, false, false},
		"emperor":           {false, false, false, false, false},
	}
	for role, allowed := range want {
		for i, p := range perms {
			if got := role.Can(p); got != allowed[i] {
				t.Errorf("%s.Can(%d) = %v; want %v", role, p, got, allowed[i])
			}
		}
	}
}

func TestCustomerUpdateMergesAttributes(t *testing.T) {
	c := &rapport.Customer{Name: "Ada", Attributes: map[string]any{"region": "north", "tier": "gold"}}
	name := "Ada Lovelace"
	rapport.CustomerUpdate{Name: &name, Attributes: map[string]any{"tier": nil, "segment": "retail"}}.Apply(c)
	if c.Name != name || c.Attributes["region"] != "north" || c.Attributes["segment"] != "retail" {
		t.Errorf("after update: %+v; want name changed, region kept, segment added", c)
	}
	if _, ok := c.Attributes["tier"]; ok {
		t.Errorf("after update: tier = %v; want it removed by null", c.Attributes["tier"])
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 100 {
		ids = append(ids, rapport.NewID(base.Add(time.Duration(i)*time.Millisecond)))
	}
	if !sort.StringsAreSorted(ids) {
		t.Error("ids made later do not sort later")
	}
	seen := map[string]bool{}
	for range 1000 {
		id := rapport.NewID(base)
		if len(id) != 26 || seen[id] {
			t.Fatalf("NewID = %q; want 26 characters, never repeated", id)
		}
		seen[id] = true
	}
}

func TestValidID(t *testing.T) {
	for i := 0; i < 100; i++ {
		if id := rapport.NewID(time.Now()); !rapport.ValidID(id) {
			t.Fatalf("ValidID(%q) = false for an id NewID made", id)
		}
	}
	for _, s := range []string{"", "01ARZ3NDEKTSV4RRFFQ69G5FA", "81ARZ3NDEKTSV4RRFFQ69G5FAV", "01ARZ3NDEKTSV4RRFFQ69G5FAU", "01arz3ndektsv4rrffq69g5fav"} {
		if rapport.ValidID(s) {
			t.Errorf("ValidID(%q) = true; want false", s)
		}
	}
}
