package sqlstore_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

// TestCreateCustomer checks that a created customer gets an id, times and defaults, and reads back as stored.
func TestCreateCustomer(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		owner := s.user(t, "Olive Owner")
		c := &rapport.Customer{
			Name: "  Ada Lovelace ", Email: "ada@example.com", Phone: "+44 20 7946 0001", ExternalID: "crm-001",
			Attributes:  map[string]any{"tier": "gold"},
			Preferences: rapport.Preferences{Likes: []string{"email"}, Dislikes: []string{"calls before 9"}},
			OwnerID:     owner.ID,
		}
		if err := s.customers.CreateCustomer(ctx, c); err != nil {
			t.Fatalf("CreateCustomer = %v", err)
		}
		if len(c.ID) != 26 {
			t.Errorf("CreateCustomer id = %q; want a 26-character id", c.ID)
		}
		if !c.CreatedAt.Equal(epoch) || !c.UpdatedAt.Equal(epoch) {
			t.Errorf("CreateCustomer times = %v, %v; want %v (the clock)", c.CreatedAt, c.UpdatedAt, epoch)
		}
		if c.Name != "Ada Lovelace" || c.Kind != rapport.KindPerson || c.Stage != rapport.StageAwareness {
			t.Errorf("CreateCustomer filled name %q, kind %q, stage %q; want trimmed name, person, awareness", c.Name, c.Kind, c.Stage)
		}
		got, err := s.customers.FindCustomerByID(ctx, c.ID)
		if err != nil {
			t.Fatalf("FindCustomerByID = %v", err)
		}
		if show(got) != show(c) {
			t.Errorf("FindCustomerByID =\n%s\nwant\n%s", show(got), show(c))
		}
		if n := s.count(t, "stage_changes", "to_stage = 'awareness'"); n != 1 {
			t.Errorf("stage history has %d entries; want 1 for the new customer's stage", n)
		}
		if _, err := s.customers.FindCustomerByID(ctx, "01NOSUCHCUSTOMER0000000000"); rapport.ErrorCode(err) != rapport.ENOTFOUND {
			t.Errorf("FindCustomerByID(unknown) = %v; want %s", err, rapport.ENOTFOUND)
		}
	})
}

// TestCreateCustomerInvalid checks that invalid customers are refused with every bad field named, and nothing stored.
func TestCreateCustomerInvalid(t *testing.T) {
	tests := []struct {
		name string
		c    rapport.Customer
		want []string // fields at fault
	}{
		{"no name", rapport.Customer{Name: ""}, []string{"name"}},
		{"blank name", rapport.Customer{Name: "   "}, []string{"name"}},
		{"bad email", rapport.Customer{Name: "Ada", Email: "ada at example"}, []string{"email"}},
		{"bad kind", rapport.Customer{Name: "Ada", Kind: "robot"}, []string{"kind"}},
		{"bad stage", rapport.Customer{Name: "Ada", Stage: "engaged"}, []string{"stage"}},
		{"several", rapport.Customer{Email: "nope", Kind: "robot"}, []string{"email", "kind", "name"}},
		{"unknown owner", rapport.Customer{Name: "Ada", OwnerID: "01NOSUCHUSER00000000000000"}, []string{"owner_id"}},
		{"unknown referrer", rapport.Customer{Name: "Ada", ReferredBy: "01NOSUCHCUSTOMER0000000000"}, []string{"referred_by"}},
		{"unknown owner and referrer", rapport.Customer{Name: "Ada", OwnerID: "x", ReferredBy: "y"}, []string{"owner_id", "referred_by"}},
	}
	eachBackend(t, func(t *testing.T, s *store) {
		for _, tt := range tests {
			c := tt.c
			err := s.customers.CreateCustomer(context.Background(), &c)
			if rapport.ErrorCode(err) != rapport.EINVALID {
				t.Errorf("%s: CreateCustomer = %v; want %s", tt.name, err, rapport.EINVALID)
				continue
			}
			if got := fieldNames(err); !slices.Equal(got, tt.want) {
				t.Errorf("%s: CreateCustomer fields = %q; want %q", tt.name, got, tt.want)
			}
		}
		if n := s.count(t, "customers", ""); n != 0 {
			t.Errorf("after invalid customers, %d stored; want 0", n)
		}
		if n := s.count(t, "stage_changes", ""); n != 0 {
			t.Errorf("after invalid customers, %d stage changes stored; want 0", n)
		}
	})
}

// TestCustomerExternalIDConflict checks that an external id belongs to one customer only.
func TestCustomerExternalIDConflict(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		first := s.customer(t, &rapport.Customer{Name: "Ada", ExternalID: "crm-1"})
		err := s.customers.CreateCustomer(ctx, &rapport.Customer{Name: "Another Ada", ExternalID: " crm-1 "})
		wantCode(t, "CreateCustomer(duplicate external_id)", err, rapport.ECONFLICT)
		if n := s.count(t, "customers", ""); n != 1 {
			t.Errorf("after a conflict, %d customers stored; want 1", n)
		}
		if n := s.count(t, "stage_changes", ""); n != 1 {
			t.Errorf("after a conflict, %d stage changes stored; want 1", n)
		}

		second := s.customer(t, &rapport.Customer{Name: "Grace", ExternalID: "crm-2"})
		_, err = s.customers.UpdateCustomer(ctx, second.ID, rapport.CustomerUpdate{ExternalID: ptr("crm-1"), Name: ptr("Renamed")})
		wantCode(t, "UpdateCustomer(taken external_id)", err, rapport.ECONFLICT)
		if got, _ := s.customers.FindCustomerByID(ctx, second.ID); got.ExternalID != "crm-2" || got.Name != "Grace" {
			t.Errorf("after a conflicting update, customer = %q %q; want unchanged crm-2 Grace", got.ExternalID, got.Name)
		}
		// Keeping one's own external id is no conflict.
		if _, err := s.customers.UpdateCustomer(ctx, first.ID, rapport.CustomerUpdate{ExternalID: ptr("crm-1")}); err != nil {
			t.Errorf("UpdateCustomer(own external_id) = %v; want success", err)
		}
	})
}

// TestUpdateCustomer checks that updates change only the fields given; attributes merge and null removes a key.
func TestUpdateCustomer(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		owner := s.user(t, "Olive Owner")
		referrer := s.customer(t, &rapport.Customer{Name: "Rita Referrer"})
		c := s.customer(t, &rapport.Customer{Name: "Ada", Email: "ada@example.com", Phone: "123",
			Attributes: map[string]any{"tier": "gold", "region": "north"}})
		s.clock.Add(time.Hour)
		later := s.clock.Now()

		got, err := s.customers.UpdateCustomer(ctx, c.ID, rapport.CustomerUpdate{
			Name:       ptr("Ada King"),
			Phone:      ptr(""),
			Attributes: map[string]any{"tier": "platinum", "region": nil, "vip": "yes"},
			OwnerID:    ptr(owner.ID),
			ReferredBy: ptr(referrer.ID),
		})
		if err != nil {
			t.Fatalf("UpdateCustomer = %v", err)
		}
		wantAttrs := map[string]any{"tier": "platinum", "vip": "yes"}
		for _, x := range []*rapport.Customer{got, find(t, s, c.ID)} {
			if x.Name != "Ada King" || x.Email != "ada@example.com" || x.Phone != "" {
				t.Errorf("after update, name/email/phone = %q %q %q; want Ada King, email unchanged, phone cleared", x.Name, x.Email, x.Phone)
			}
			if !maps.Equal(x.Attributes, wantAttrs) {
				t.Errorf("after update, attributes = %v; want %v (merged, null removes)", x.Attributes, wantAttrs)
			}
			if x.OwnerID != owner.ID || x.ReferredBy != referrer.ID {
				t.Errorf("after update, owner %q referrer %q; want %q %q", x.OwnerID, x.ReferredBy, owner.ID, referrer.ID)
			}
			if !x.CreatedAt.Equal(epoch) || !x.UpdatedAt.Equal(later) {
				t.Errorf("after update, times = %v, %v; want created %v, updated %v", x.CreatedAt, x.UpdatedAt, epoch, later)
			}
		}

		// An empty update changes nothing but the time.
		if got, err := s.customers.UpdateCustomer(ctx, c.ID, rapport.CustomerUpdate{}); err != nil || !maps.Equal(got.Attributes, wantAttrs) {
			t.Errorf("UpdateCustomer(empty) = %v, %v; want attributes %v kept", got, err, wantAttrs)
		}
		// Clearing the owner.
		if got, err := s.customers.UpdateCustomer(ctx, c.ID, rapport.CustomerUpdate{OwnerID: ptr("")}); err != nil || got.OwnerID != "" {
			t.Errorf("UpdateCustomer(owner \"\") = %s, %v; want no owner", show(got), err)
		}

		invalid := []struct {
			name string
			u    rapport.CustomerUpdate
			want []string
		}{
			{"empty name", rapport.CustomerUpdate{Name: ptr(" ")}, []string{"name"}},
			{"bad email", rapport.CustomerUpdate{Email: ptr("ada@")}, []string{"email"}},
			{"bad kind", rapport.CustomerUpdate{Kind: ptr("robot")}, []string{"kind"}},
			{"unknown owner", rapport.CustomerUpdate{OwnerID: ptr("nobody")}, []string{"owner_id"}},
			{"unknown referrer", rapport.CustomerUpdate{ReferredBy: ptr("nobody")}, []string{"referred_by"}},
			{"refers to self", rapport.CustomerUpdate{ReferredBy: ptr(c.ID)}, []string{"referred_by"}},
		}
		before := find(t, s, c.ID)
		for _, tt := range invalid {
			_, err := s.customers.UpdateCustomer(ctx, c.ID, tt.u)
			if rapport.ErrorCode(err) != rapport.EINVALID {
				t.Errorf("%s: UpdateCustomer = %v; want %s", tt.name, err, rapport.EINVALID)
			} else if got := fieldNames(err); !slices.Equal(got, tt.want) {
				t.Errorf("%s: UpdateCustomer fields = %q; want %q", tt.name, got, tt.want)
			}
		}
		if after := find(t, s, c.ID); show(after) != show(before) {
			t.Errorf("after invalid updates, customer =\n%s\nwant unchanged\n%s", show(after), show(before))
		}
		_, err = s.customers.UpdateCustomer(ctx, "nobody", rapport.CustomerUpdate{Name: ptr("x")})
		wantCode(t, "UpdateCustomer(unknown id)", err, rapport.ENOTFOUND)
	})
}

func find(t testing.TB, s *store, id string) *rapport.Customer {
	t.Helper()
	c, err := s.customers.FindCustomerByID(context.Background(), id)
	if err != nil {
		t.Fatalf("FindCustomerByID(%q) = %v", id, err)
	}
	return c
}

// TestDeleteCustomer checks that deleting a customer deletes their moments and history, and nobody else's.
func TestDeleteCustomer(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		gone := s.customer(t, &rapport.Customer{Name: "Gone"})
		kept := s.customer(t, &rapport.Customer{Name: "Kept", ReferredBy: gone.ID})
		for range 3 {
			s.record(t, s.moment(gone.ID))
		}
		keptMoment := s.record(t, s.moment(kept.ID))

		if err := s.customers.DeleteCustomer(ctx, gone.ID); err != nil {
			t.Fatalf("DeleteCustomer = %v", err)
		}
		_, err := s.customers.FindCustomerByID(ctx, gone.ID)
		wantCode(t, "FindCustomerByID(deleted)", err, rapport.ENOTFOUND)
		if page, err := s.moments.FindMoments(ctx, rapport.MomentFilter{CustomerID: gone.ID}); err != nil || len(page.Items) != 0 {
			t.Errorf("FindMoments(deleted customer) = %d items, %v; want 0", len(page.Items), err)
		}
		if n := s.count(t, "moments", ""); n != 1 {
			t.Errorf("after delete, %d moments stored; want 1 (the other customer's)", n)
		}
		if n := s.count(t, "stage_changes", "customer_id = '"+gone.ID+"'"); n != 0 {
			t.Errorf("after delete, %d stage changes of the customer remain; want 0", n)
		}
		if _, err := s.moments.FindMomentByID(ctx, keptMoment.ID); err != nil {
			t.Errorf("FindMomentByID(other customer's moment) = %v; want it kept", err)
		}
		if got := find(t, s, kept.ID); got.ReferredBy != "" {
			t.Errorf("referred_by of a customer whose referrer was deleted = %q; want empty", got.ReferredBy)
		}
		err = s.customers.DeleteCustomer(ctx, gone.ID)
		wantCode(t, "DeleteCustomer(again)", err, rapport.ENOTFOUND)
	})
}

// TestFindCustomersQuery checks that search ignores case and takes LIKE's wildcards literally.
func TestFindCustomersQuery(t *testing.T) {
	people := []rapport.Customer{
		{Name: "Ada Lovelace", Email: "ada@example.com", Phone: "+44 20 7946 0001", ExternalID: "CRM-001"},
		{Name: "Grace Hopper", Email: "grace@navy.example", ExternalID: "CRM-002"},
		{Name: "100% Organic Ltd", Kind: rapport.KindOrganisation},
		{Name: "100 Percent Foods", Kind: rapport.KindOrganisation},
		{Name: "Under_score Inc", Kind: rapport.KindOrganisation},
		{Name: "Underxscore Inc", Kind: rapport.KindOrganisation},
		{Name: "Zoë Ärger", Email: "zoe@example.de"},
		{Name: `Back\slash`},
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"Ada Lovelace", "Grace Hopper", "100% Organic Ltd", "100 Percent Foods", "Under_score Inc", "Underxscore Inc", "Zoë Ärger", `Back\slash`}},
		{"ada", []string{"Ada Lovelace"}},
		{"LOVELACE", []string{"Ada Lovelace"}},
		{"  lovelace  ", []string{"Ada Lovelace"}},
		{"NAVY.Example", []string{"Grace Hopper"}},
		{"7946", []string{"Ada Lovelace"}},
		{"crm-00", []string{"Ada Lovelace", "Grace Hopper"}},
		{"crm-002", []string{"Grace Hopper"}},
		{"100%", []string{"100% Organic Ltd"}},
		{"%", []string{"100% Organic Ltd"}},
		{"100%organic", nil},
		{"under_score", []string{"Under_score Inc"}},
		{"_", []string{"Under_score Inc"}},
		{"r_s", []string{"Under_score Inc"}},
		{`\`, []string{`Back\slash`}},
		{"ZOË ä", []string{"Zoë Ärger"}},
		{"example", []string{"Ada Lovelace", "Grace Hopper", "Zoë Ärger"}},
		{"nobody", nil},
	}
	eachBackend(t, func(t *testing.T, s *store) {
		for _, c := range people {
			s.customer(t, &c)
		}
		for _, tt := range tests {
			page, err := s.customers.FindCustomers(context.Background(), rapport.CustomerFilter{Query: tt.query})
			if err != nil {
				t.Errorf("FindCustomers(%q) = %v", tt.query, err)
				continue
			}
			if got, want := names(page.Items), sorted(tt.want); !slices.Equal(got, want) {
				t.Errorf("FindCustomers(%q) = %d items %q; want %d %q", tt.query, len(got), got, len(want), want)
			}
		}
	})
}

func names(cs []*rapport.Customer) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Name)
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

// TestFindCustomersByOwner checks that the owner filter lists one staff member's customers, alone or with others.
func TestFindCustomersByOwner(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		olive, otto := s.user(t, "Olive"), s.user(t, "Otto")
		s.customer(t, &rapport.Customer{Name: "Ada", OwnerID: olive.ID})
		s.customer(t, &rapport.Customer{Name: "Alan", OwnerID: olive.ID, Stage: rapport.StageCommitment})
		s.customer(t, &rapport.Customer{Name: "Grace", OwnerID: otto.ID})
		s.customer(t, &rapport.Customer{Name: "Nobody's"})
		tests := []struct {
			f    rapport.CustomerFilter
			want []string
		}{
			{rapport.CustomerFilter{OwnerID: olive.ID}, []string{"Ada", "Alan"}},
			{rapport.CustomerFilter{OwnerID: otto.ID}, []string{"Grace"}},
			{rapport.CustomerFilter{OwnerID: olive.ID, Query: "ala"}, []string{"Alan"}},
			{rapport.CustomerFilter{OwnerID: otto.ID, Query: "ada"}, nil},
			{rapport.CustomerFilter{OwnerID: olive.ID, Stage: rapport.StageCommitment}, []string{"Alan"}},
			{rapport.CustomerFilter{OwnerID: "01NOSUCHUSER00000000000000"}, nil},
		}
		for _, tt := range tests {
			page, err := s.customers.FindCustomers(ctx, tt.f)
			if err != nil {
				t.Errorf("FindCustomers(%+v) = %v", tt.f, err)
				continue
			}
			if got, want := names(page.Items), sorted(tt.want); !slices.Equal(got, want) {
				t.Errorf("FindCustomers(%+v) = %d items %q; want %d %q", tt.f, len(got), got, len(want), want)
			}
		}
	})
}

// TestFindCustomersPagination checks that paging visits every customer once, newest first, whatever the page size.
func TestFindCustomersPagination(t *testing.T) {
	const total = 23
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		var created []string
		for i := range total {
			// Some customers share a creation time, so ids alone must break ties.
			if i%3 == 0 {
				s.clock.Add(time.Second)
			}
			created = append(created, s.customer(t, &rapport.Customer{Name: fmt.Sprintf("Customer %02d", i)}).ID)
		}
		for _, limit := range []int{1, 5, 23, 100} {
			seen := map[string]int{}
			var order []*rapport.Customer
			pages, cursor := 0, ""
			for {
				page, err := s.customers.FindCustomers(ctx, rapport.CustomerFilter{Limit: limit, Cursor: cursor})
				if err != nil {
					t.Fatalf("FindCustomers(limit %d, page %d) = %v", limit, pages+1, err)
				}
				pages++
				if len(page.Items) > limit {
					t.Errorf("FindCustomers(limit %d) = %d items; want at most %d", limit, len(page.Items), limit)
				}
				for _, c := range page.Items {
					seen[c.ID]++
					order = append(order, c)
				}
				if cursor = page.NextCursor; cursor == "" || pages > total+1 {
					break
				}
			}
			if len(order) != total || len(seen) != total {
				t.Errorf("paging by %d visited %d customers (%d distinct); want each of %d once", limit, len(order), len(seen), total)
			}
			for _, id := range created {
				if seen[id] != 1 {
					t.Errorf("paging by %d visited customer %s %d times; want 1", limit, id, seen[id])
				}
			}
			if want := (total + limit - 1) / limit; pages != want {
				t.Errorf("paging by %d took %d pages; want %d", limit, pages, want)
			}
			for i := 1; i < len(order); i++ {
				if order[i].CreatedAt.After(order[i-1].CreatedAt) {
					t.Errorf("paging by %d: %s (created %v) listed after %s (created %v); want newest first",
						limit, order[i].Name, order[i].CreatedAt, order[i-1].Name, order[i-1].CreatedAt)
					break
				}
			}
		}

		// Paging through a search visits only the matches: Customer 10 to 19.
		page, err := s.customers.FindCustomers(ctx, rapport.CustomerFilter{Query: "customer 1", Limit: 4})
		if err != nil || len(page.Items) != 4 || page.NextCursor == "" {
			t.Fatalf("FindCustomers(customer 1, limit 4) = %d items, cursor %q, %v; want 4 and a cursor", len(page.Items), page.NextCursor, err)
		}
		page, err = s.customers.FindCustomers(ctx, rapport.CustomerFilter{Query: "customer 1", Limit: 4, Cursor: page.NextCursor})
		if err != nil || len(page.Items) != 4 {
			t.Fatalf("FindCustomers(customer 1, page 2) = %d items, %v; want 4", len(page.Items), err)
		}
		page, err = s.customers.FindCustomers(ctx, rapport.CustomerFilter{Query: "customer 1", Limit: 4, Cursor: page.NextCursor})
		if err != nil || len(page.Items) != 2 || page.NextCursor != "" {
			t.Errorf("FindCustomers(customer 1, page 3) = %d items, cursor %q, %v; want the last 2 and no cursor", len(page.Items), page.NextCursor, err)
		}
	})
}

// TestFindCustomersBadCursor checks that a cursor that no page gave is refused, not misread.
func TestFindCustomersBadCursor(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		s.customer(t, &rapport.Customer{Name: "Ada"})
		for _, cursor := range []string{"not a cursor!", "%%%", base64.RawURLEncoding.EncodeToString([]byte("a|b"))} {
			_, err := s.customers.FindCustomers(context.Background(), rapport.CustomerFilter{Cursor: cursor})
			if rapport.ErrorCode(err) != rapport.EINVALID {
				t.Errorf("FindCustomers(cursor %q) = %v; want %s", cursor, err, rapport.EINVALID)
			}
		}
	})
}
