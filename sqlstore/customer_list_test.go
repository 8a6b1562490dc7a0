package sqlstore_test

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// listed is a customer as the test expects the list to show them, read
// from the kept measures directly.
type listed struct {
	id, name, stage, owner string
	health, risk           int
	last                   sql.NullInt64
}

// TestListCustomers filters, orders, counts and pages a list of thirty
// customers of three owners (and none) in every stage, some in misery, some
// delighted and some never in touch, and finds each answer equal to the one
// worked out from the kept measures read directly.
func TestListCustomers(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		owners := []string{s.user(t, "Olive Owner").ID, s.user(t, "Oscar Owner").ID, s.user(t, "Opal Owner").ID, ""}
		for i := range 30 {
			c := s.customer(t, &rapport.Customer{Name: fmt.Sprintf("%s %02d", []string{"ada", "Bea", "cy", "Dee", "eve"}[i%5], 30-i),
				Stage: rapport.Stages[i%len(rapport.Stages)], OwnerID: owners[i%len(owners)]})
			for j := range i % 3 * 2 {
				m := s.moment(c.ID)
				m.OccurredAt = m.OccurredAt.Add(-time.Duration(i*24+j) * time.Hour)
				m.Rating = ptr([]int{1, 5}[i%2])
				s.record(t, m)
			}
		}
		segments := sqlstore.NewSegmentService(s.db)
		sg := &rapport.Segment{Name: "Committed", Rule: `stage = "commitment"`}
		if err := segments.CreateSegment(ctx, sg); err != nil {
			t.Fatalf("CreateSegment = %v", err)
		}
		all := s.listed(t)
		if got := len(slices.DeleteFunc(slices.Clone(all), func(l listed) bool { return l.risk < 40 })); got == 0 || got == len(all) {
			t.Fatalf("%d of %d customers at risk 40 or more; want some, not all", got, len(all))
		}

		list := sqlstore.NewCustomerListService(s.db)
		for _, tc := range []struct {
			name string
			f    rapport.CustomerListFilter
			keep func(listed) bool
			less func(a, b listed) int
		}{
			{"everyone by name", rapport.CustomerListFilter{}, nil, byName},
			{"everyone by name, Z to A", rapport.CustomerListFilter{Sort: "-name"}, nil, func(a, b listed) int { return -byName(a, b) }},
			{"highest risk first", rapport.CustomerListFilter{Sort: rapport.SortRisk}, nil, byDesc(func(l listed) int { return l.risk })},
			{"lowest health first", rapport.CustomerListFilter{Sort: "-health"}, nil, byAsc(func(l listed) int { return l.health })},
			{"latest moment first", rapport.CustomerListFilter{Sort: rapport.SortLastMoment}, nil, byLast(false)},
			{"earliest moment first", rapport.CustomerListFilter{Sort: "-last"}, nil, byLast(true)},
			{"one owner's", rapport.CustomerListFilter{OwnerID: owners[1]}, func(l listed) bool { return l.owner == owners[1] }, byName},
			{"nobody's", rapport.CustomerListFilter{OwnerID: rapport.NoOwner}, func(l listed) bool { return l.owner == "" }, byName},
			{"a stage", rapport.CustomerListFilter{Stage: rapport.StageExpansion}, func(l listed) bool { return l.stage == rapport.StageExpansion }, byName},
			{"high risk", rapport.CustomerListFilter{Risk: rapport.BandHigh, Sort: rapport.SortRisk}, func(l listed) bool { return l.risk >= 70 }, byDesc(func(l listed) int { return l.risk })},
			{"medium risk", rapport.CustomerListFilter{Risk: rapport.BandMedium}, func(l listed) bool { return l.risk >= 40 && l.risk < 70 }, byName},
			{"low health", rapport.CustomerListFilter{Health: rapport.BandLow}, func(l listed) bool { return l.health < 40 }, byName},
			{"a segment", rapport.CustomerListFilter{SegmentID: sg.ID}, func(l listed) bool { return l.stage == rapport.StageCommitment }, byName},
			{"a search", rapport.CustomerListFilter{Query: "BEA"}, func(l listed) bool { return strings.HasPrefix(l.name, "Bea") }, byName},
			{"all at once", rapport.CustomerListFilter{Query: "e", OwnerID: owners[0], Risk: rapport.BandLow, Sort: "-risk"},
				func(l listed) bool {
					return strings.Contains(strings.ToLower(l.name), "e") && l.owner == owners[0] && l.risk < 40
				}, byAsc(func(l listed) int { return l.risk })},
		} {
			want := slices.Clone(all)
			if tc.keep != nil {
				want = slices.DeleteFunc(want, func(l listed) bool { return !tc.keep(l) })
			}
			slices.SortStableFunc(want, func(a, b listed) int { return cmp.Or(tc.less(a, b), strings.Compare(a.id, b.id)) })
			var got []string
			for offset := 0; ; offset += 7 {
				f := tc.f
				f.Limit, f.Offset = 7, offset
				page, err := list.ListCustomers(ctx, f)
				if err != nil {
					t.Fatalf("%s: ListCustomers = %v", tc.name, err)
				}
				if page.Total != len(want) {
					t.Errorf("%s: total %d; want %d", tc.name, page.Total, len(want))
				}
				for _, r := range page.Rows {
					got = append(got, r.Name)
				}
				if len(page.Rows) < 7 {
					break
				}
			}
			if w := listedNames(want); !slices.Equal(got, w) {
				t.Errorf("%s: listed\n%q\nwant\n%q", tc.name, got, w)
			}
			// The export passes the same customers, in the same order.
			var each []string
			if err := list.EachListedCustomer(ctx, tc.f, func(r *rapport.CustomerListRow) error { each = append(each, r.Name); return nil }); err != nil {
				t.Fatalf("%s: EachListedCustomer = %v", tc.name, err)
			}
			if w := listedNames(want); !slices.Equal(each, w) {
				t.Errorf("%s: EachListedCustomer passed\n%q\nwant\n%q", tc.name, each, w)
			}
		}

		page, err := list.ListCustomers(ctx, rapport.CustomerListFilter{Query: "ada 30", Limit: 5})
		if err != nil || len(page.Rows) != 1 {
			t.Fatalf("ListCustomers(ada 30) = %v, %d rows; want one", err, len(page.Rows))
		}
		if r := page.Rows[0]; r.Health == nil || r.Risk == nil || r.Stage != rapport.StageAwareness || r.OwnerID != owners[0] || r.LastMomentAt != nil {
			t.Errorf("ada 30's row = %+v; want measured, awareness, Olive's, never in touch", r)
		}
	})
}

// TestEachListedCustomerPages passes every one of more customers than a
// page holds, each once, in order, and stops at the first error.
func TestEachListedCustomerPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		n := rapport.MaxPageSize*2 + 3
		for i := range n {
			s.customer(t, &rapport.Customer{Name: fmt.Sprintf("Customer %04d", i)})
		}
		list := sqlstore.NewCustomerListService(s.db)
		var names []string
		if err := list.EachListedCustomer(ctx, rapport.CustomerListFilter{Sort: "-name"}, func(r *rapport.CustomerListRow) error {
			names = append(names, r.Name)
			return nil
		}); err != nil {
			t.Fatalf("EachListedCustomer = %v", err)
		}
		if len(names) != n || names[0] != fmt.Sprintf("Customer %04d", n-1) || names[n-1] != "Customer 0000" ||
			!slices.IsSortedFunc(names, func(a, b string) int { return strings.Compare(b, a) }) || len(slices.Compact(slices.Clone(names))) != n {
			t.Errorf("EachListedCustomer passed %d names, first %q; want %d, each once, Z to A", len(names), names[:1], n)
		}
		stop := fmt.Errorf("enough")
		seen := 0
		err := list.EachListedCustomer(ctx, rapport.CustomerListFilter{}, func(*rapport.CustomerListRow) error {
			if seen++; seen == 10 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || seen != 10 {
			t.Errorf("EachListedCustomer stopped with %v after %d; want its callback's error after 10", err, seen)
		}
	})
}

// TestListCustomersInvalid refuses words it does not know, naming each field.
func TestListCustomersInvalid(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		_, err := sqlstore.NewCustomerListService(s.db).ListCustomers(context.Background(),
			rapport.CustomerListFilter{Stage: "lost", Health: "great", Risk: "none", Sort: "owner", Offset: -1})
		if got, want := fieldNames(err), []string{"health", "offset", "risk", "sort", "stage"}; !slices.Equal(got, want) {
			t.Errorf("ListCustomers(bad words) = %v, fields %q; want %q", err, got, want)
		}
	})
}

// listed reads every customer with their kept measures, bypassing the store.
func (s *store) listed(t *testing.T) []listed {
	t.Helper()
	rows, err := s.raw.Query(`SELECT c.id, c.name, m.stage, COALESCE(m.owner_id, ''), m.health, m.risk, m.last_moment_at
		FROM customers c JOIN customer_measures m ON m.customer_id = c.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []listed
	for rows.Next() {
		var l listed
		if err := rows.Scan(&l.id, &l.name, &l.stage, &l.owner, &l.health, &l.risk, &l.last); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func listedNames(ls []listed) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.name
	}
	return out
}

func byName(a, b listed) int {
	return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name))
}

func byDesc(f func(listed) int) func(a, b listed) int {
	return func(a, b listed) int { return cmp.Compare(f(b), f(a)) }
}

func byAsc(f func(listed) int) func(a, b listed) int {
	return func(a, b listed) int { return cmp.Compare(f(a), f(b)) }
}

// byLast orders by the last moment, the latest first (or the earliest, if
// reversed), those never in touch last either way.
func byLast(reversed bool) func(a, b listed) int {
	return func(a, b listed) int {
		if a.last.Valid != b.last.Valid {
			if a.last.Valid {
				return -1
			}
			return 1
		}
		c := cmp.Compare(b.last.Int64, a.last.Int64)
		if reversed {
			c = -c
		}
		return c
	}
}
