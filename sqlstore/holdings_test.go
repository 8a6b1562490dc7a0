package sqlstore_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestHoldings checks adding and ending holdings, and what is refused.
func TestHoldings(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		r.products(t, "motor", "home")
		err := r.holdings.CreateProduct(ctx, &rapport.Product{Key: "motor", Name: "Again"})
		wantCode(t, "CreateProduct(duplicate)", err, rapport.ECONFLICT)
		err = r.holdings.CreateProduct(ctx, &rapport.Product{Key: "Bad Key", Name: ""})
		if got := fieldNames(err); !slices.Equal(got, []string{"key", "name"}) {
			t.Errorf("CreateProduct(bad) fields = %q; want key, name", got)
		}
		ps, err := r.holdings.FindProducts(ctx)
		if err != nil || len(ps) != 2 || ps[0].Key != "home" || ps[1].Name != "Motor cover" {
			t.Errorf("FindProducts = %s, %v; want home and motor", show(ps), err)
		}

		ada := s.customer(t, &rapport.Customer{Name: "Ada"})
		started := epoch.Add(-400 * 24 * time.Hour)
		motor, err := r.holdings.AddHolding(ctx, ada.ID, rapport.HoldingInput{Product: "motor", StartedAt: started})
		if err != nil || !motor.StartedAt.Equal(started) || motor.EndedAt != nil || motor.CustomerID != ada.ID {
			t.Fatalf("AddHolding = %s, %v", show(motor), err)
		}
		_, err = r.holdings.AddHolding(ctx, ada.ID, rapport.HoldingInput{Product: "motor"})
		wantCode(t, "AddHolding(held already)", err, rapport.ECONFLICT)
		_, err = r.holdings.AddHolding(ctx, ada.ID, rapport.HoldingInput{Product: "yacht", StartedAt: epoch.Add(48 * time.Hour)})
		if got := fieldNames(err); !slices.Equal(got, []string{"product", "started_at"}) {
			t.Errorf("AddHolding(unknown product, future) fields = %q; want product, started_at", got)
		}
		_, err = r.holdings.AddHolding(ctx, "01NOSUCHCUSTOMER0000000000", rapport.HoldingInput{Product: "motor"})
		wantCode(t, "AddHolding(unknown customer)", err, rapport.ENOTFOUND)

		_, err = r.holdings.EndHolding(ctx, ada.ID, motor.ID, started.Add(-time.Hour))
		if got := fieldNames(err); !slices.Equal(got, []string{"ended_at"}) {
			t.Errorf("EndHolding(before start) fields = %q; want ended_at", got)
		}
		ended, err := r.holdings.EndHolding(ctx, ada.ID, motor.ID, time.Time{})
		if err != nil || ended.EndedAt == nil || !ended.EndedAt.Equal(epoch) {
			t.Fatalf("EndHolding = %s, %v; want ended now", show(ended), err)
		}
		_, err = r.holdings.EndHolding(ctx, ada.ID, motor.ID, time.Time{})
		wantCode(t, "EndHolding(twice)", err, rapport.ECONFLICT)
		_, err = r.holdings.EndHolding(ctx, ada.ID, "01NOSUCHHOLDING00000000000", time.Time{})
		wantCode(t, "EndHolding(unknown)", err, rapport.ENOTFOUND)
		other := s.customer(t, &rapport.Customer{Name: "Other"})
		_, err = r.holdings.EndHolding(ctx, other.ID, motor.ID, time.Time{})
		wantCode(t, "EndHolding(another customer's)", err, rapport.ENOTFOUND)

		// Ended, it can be taken again.
		s.clock.Add(time.Hour)
		again := r.hold(t, ada.ID, "motor")
		hs, err := r.holdings.FindHoldings(ctx, ada.ID)
		if err != nil || len(hs) != 2 || hs[0].ID != again.ID || hs[1].ID != motor.ID {
			t.Errorf("FindHoldings = %s, %v; want the new holding, then the ended one", show(hs), err)
		}
		h, _ := r.health.CustomerHealth(ctx, ada.ID)
		if h.Measures.Holdings != 1 {
			t.Errorf("measures holdings = %d; want 1", h.Measures.Holdings)
		}
	})
}

// TestReferrals checks both directions of referral.
func TestReferrals(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		ada := s.customer(t, &rapport.Customer{Name: "Ada"})
		s.clock.Add(time.Hour)
		bo := s.customer(t, &rapport.Customer{Name: "Bo", ReferredBy: ada.ID})
		s.clock.Add(time.Hour)
		cy := s.customer(t, &rapport.Customer{Name: "Cy", ReferredBy: ada.ID})
		got, err := r.holdings.Referrals(ctx, ada.ID)
		if err != nil || got.ReferredBy != nil || len(got.Referred) != 2 || got.Referred[0].ID != cy.ID || got.Referred[1].Name != "Bo" {
			t.Errorf("Referrals(ada) = %s, %v; want Cy and Bo, newest first", show(got), err)
		}
		got, err = r.holdings.Referrals(ctx, bo.ID)
		if err != nil || got.ReferredBy == nil || got.ReferredBy.ID != ada.ID || len(got.Referred) != 0 {
			t.Errorf("Referrals(bo) = %s, %v; want referred by Ada", show(got), err)
		}
		_, err = r.holdings.Referrals(ctx, "01NOSUCHCUSTOMER0000000000")
		wantCode(t, "Referrals(unknown)", err, rapport.ENOTFOUND)

		// Referrals are made on the referred customer; the sweep counts them.
		if _, err := r.health.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		h, _ := r.health.CustomerHealth(ctx, ada.ID)
		if h.Measures.Referrals != 2 {
			t.Errorf("referrals measure = %d; want 2", h.Measures.Referrals)
		}
		if _, err := s.customers.UpdateCustomer(ctx, cy.ID, rapport.CustomerUpdate{ReferredBy: ptr(bo.ID)}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.health.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]int{ada.ID: 1, bo.ID: 1, cy.ID: 0} {
			if h, _ := r.health.CustomerHealth(ctx, id); h.Measures.Referrals != want {
				t.Errorf("after a referral moved, referrals of %s = %d; want %d", id, h.Measures.Referrals, want)
			}
		}
	})
}

// TestCrossSell checks suggestions against counts done by hand.
func TestCrossSell(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		r.products(t, "motor", "home", "travel", "pet")
		// Ten customers: motor alone ×3, motor+home ×4, home+travel ×2, pet ×1.
		sets := [][]string{{"motor"}, {"motor"}, {"motor"}, {"motor", "home"}, {"motor", "home"}, {"motor", "home"},
			{"motor", "home"}, {"home", "travel"}, {"home", "travel"}, {"pet"}}
		var ids []string
		for _, set := range sets {
			c := s.customer(t, &rapport.Customer{Name: "C"})
			for _, p := range set {
				r.hold(t, c.ID, p)
			}
			ids = append(ids, c.ID)
		}
		// A holding that ended counts for no one.
		gone := s.customer(t, &rapport.Customer{Name: "Gone"})
		h := r.hold(t, gone.ID, "travel")
		if _, err := r.holdings.EndHolding(ctx, gone.ID, h.ID, time.Time{}); err != nil {
			t.Fatal(err)
		}

		// A motor-only customer: of 7 motor holders 4 hold home (4/7); no
		// motor holder holds travel or pet.
		cs, err := r.holdings.CrossSell(ctx, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		want := []rapport.CrossSellSuggestion{{Product: "home", ProductName: "Home cover", Because: "motor", Support: 4, Base: 7,
			Confidence: 4.0 / 7, Lift: (4.0 / 7) / (6.0 / 10)}}
		if cs.Customers != 10 || !slices.Equal(cs.Holds, []string{"motor"}) || !sameSuggestions(cs.Suggestions, want) {
			t.Errorf("CrossSell(motor) = %s; want %s from 10 customers", show(cs), show(want))
		}
		// A home+travel customer: motor because of home (4 of 6 home holders).
		cs, _ = r.holdings.CrossSell(ctx, ids[7])
		want = []rapport.CrossSellSuggestion{{Product: "motor", ProductName: "Motor cover", Because: "home", Support: 4, Base: 6,
			Confidence: 4.0 / 6, Lift: (4.0 / 6) / (7.0 / 10)}}
		if !sameSuggestions(cs.Suggestions, want) {
			t.Errorf("CrossSell(home, travel) = %s; want %s", show(cs.Suggestions), show(want))
		}
		// Someone holding nothing is offered what most customers hold.
		nobody := s.customer(t, &rapport.Customer{Name: "New"})
		cs, _ = r.holdings.CrossSell(ctx, nobody.ID)
		var got []string
		for _, sg := range cs.Suggestions {
			got = append(got, sg.Product)
		}
		if !slices.Equal(got, []string{"motor", "home", "travel", "pet"}) || cs.Suggestions[0].Support != 7 || cs.Suggestions[0].Base != 10 {
			t.Errorf("CrossSell(nothing held) = %s; want motor, home, travel, pet by holders", show(cs.Suggestions))
		}
		_, err = r.holdings.CrossSell(ctx, "01NOSUCHCUSTOMER0000000000")
		wantCode(t, "CrossSell(unknown)", err, rapport.ENOTFOUND)
	})
}

func sameSuggestions(got, want []rapport.CrossSellSuggestion) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Product != w.Product || g.ProductName != w.ProductName || g.Because != w.Because || g.Support != w.Support ||
			g.Base != w.Base || math.Abs(g.Confidence-w.Confidence) > 1e-9 || math.Abs(g.Lift-w.Lift) > 1e-9 {
			return false
		}
	}
	return true
}

// TestProductPairsAgree makes holdings in every way they change (added,
// ended, re-added, starting and ending later than now, deleted with their
// customer) and checks that the kept product pairs equal a count made
// afresh, and that the cross-sell, at each moment, equals one worked out
// from the holdings themselves.
func TestProductPairsAgree(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		r.products(t, "motor", "home", "travel", "pet")
		var ids []string
		for _, set := range [][]string{{"motor"}, {"motor", "home"}, {"motor", "home", "travel"}, {"home", "travel"}, {"pet", "home"}, {"motor"}} {
			c := s.customer(t, &rapport.Customer{Name: "C"})
			for _, p := range set {
				r.hold(t, c.ID, p)
			}
			ids = append(ids, c.ID)
		}
		holdings := func(id string) []*rapport.Holding {
			hs, err := r.holdings.FindHoldings(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return hs
		}
		end := func(id string, h *rapport.Holding, at time.Time) {
			if _, err := r.holdings.EndHolding(ctx, id, h.ID, at); err != nil {
				t.Fatalf("EndHolding(%s) = %v", h.Product, err)
			}
		}
		add := func(id, product string, at time.Time) {
			if _, err := r.holdings.AddHolding(ctx, id, rapport.HoldingInput{Product: product, StartedAt: at}); err != nil {
				t.Fatalf("AddHolding(%s) = %v", product, err)
			}
		}
		now := s.clock.Now()
		end(ids[1], holdings(ids[1])[0], time.Time{})          // ended now
		add(ids[1], "pet", time.Time{})                        // a new product
		end(ids[2], holdings(ids[2])[0], now.Add(6*time.Hour)) // ends later today
		add(ids[3], "pet", now.Add(3*time.Hour))               // starts later today
		motor := holdings(ids[5])[0]
		end(ids[5], motor, time.Time{}) // ended, then held again
		add(ids[5], "motor", time.Time{})
		if err := s.customers.DeleteCustomer(ctx, ids[4]); err != nil {
			t.Fatal(err)
		}
		ids = slices.Delete(ids, 4, 5)

		kept := productPairRows(t, s)
		if len(kept) == 0 {
			t.Fatal("no product pairs kept")
		}
		if err := sqlstore.RebuildProductPairs(ctx, s.db); err != nil {
			t.Fatal(err)
		}
		if rebuilt := productPairRows(t, s); !slices.Equal(kept, rebuilt) {
			t.Errorf("product pairs kept = %q; counted afresh = %q", kept, rebuilt)
		}
		for _, later := range []time.Duration{0, 4 * time.Hour, 8 * time.Hour} {
			s.clock.Add(later - s.clock.Now().Sub(now))
			for _, id := range ids {
				got, err := r.holdings.CrossSell(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				want := scannedCrossSell(t, s, id, s.clock.Now())
				if got.Customers != want.Customers || !slices.Equal(got.Holds, want.Holds) || !sameSuggestions(got.Suggestions, want.Suggestions) {
					t.Errorf("at now+%s CrossSell(%s) = %d customers, holds %q, %s; want %d, %q, %s", later, id,
						got.Customers, got.Holds, show(got.Suggestions), want.Customers, want.Holds, show(want.Suggestions))
				}
			}
		}
	})
}

// productPairRows returns product_pairs as sorted lines.
func productPairRows(t *testing.T, s *store) []string {
	t.Helper()
	rows, err := s.raw.Query(`SELECT held, also, customers FROM product_pairs`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var held, also string
		var n int
		if err := rows.Scan(&held, &also, &n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s+%s=%d", held, also, n))
	}
	slices.Sort(out)
	return out
}

// scannedCrossSell works out a customer's cross-sell from every holding at
// now, the way the definition reads: each product lacked, by the held
// product whose holders most often hold it too.
func scannedCrossSell(t *testing.T, s *store, customerID string, now time.Time) *rapport.CrossSell {
	t.Helper()
	rows, err := s.raw.Query(`SELECT h.customer_id, h.product, p.name FROM holdings h JOIN products p ON p.key = h.product
		WHERE h.started_at <= $1 AND (h.ended_at IS NULL OR h.ended_at > $1)`, now.UnixMicro())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	sets, names := map[string]map[string]bool{}, map[string]string{}
	for rows.Next() {
		var c, p, name string
		if err := rows.Scan(&c, &p, &name); err != nil {
			t.Fatal(err)
		}
		if sets[c] == nil {
			sets[c] = map[string]bool{}
		}
		sets[c][p], names[p] = true, name
	}
	holders := map[string]int{}
	for _, set := range sets {
		for p := range set {
			holders[p]++
		}
	}
	out := &rapport.CrossSell{Customers: len(sets), Holds: []string{}}
	for p := range sets[customerID] {
		out.Holds = append(out.Holds, p)
	}
	slices.Sort(out.Holds)
	for p := range holders {
		if sets[customerID][p] {
			continue
		}
		var best *rapport.CrossSellSuggestion
		for _, a := range out.Holds {
			n := 0
			for _, set := range sets {
				if set[a] && set[p] {
					n++
				}
			}
			sg := rapport.CrossSellSuggestion{Product: p, ProductName: names[p], Because: a, Support: n, Base: holders[a]}
			sg.Confidence = float64(n) / float64(holders[a])
			if n > 0 && (best == nil || sg.Confidence > best.Confidence || (sg.Confidence == best.Confidence && n > best.Support)) {
				best = &sg
			}
		}
		if len(out.Holds) == 0 {
			best = &rapport.CrossSellSuggestion{Product: p, ProductName: names[p], Support: holders[p], Base: len(sets),
				Confidence: float64(holders[p]) / float64(len(sets))}
		}
		if best != nil {
			best.Lift = best.Confidence / (float64(holders[p]) / float64(len(sets)))
			out.Suggestions = append(out.Suggestions, *best)
		}
	}
	slices.SortFunc(out.Suggestions, func(a, b rapport.CrossSellSuggestion) int {
		return cmp.Or(cmp.Compare(b.Confidence, a.Confidence), cmp.Compare(b.Support, a.Support), strings.Compare(a.Product, b.Product))
	})
	return out
}
