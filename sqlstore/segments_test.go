package sqlstore_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
)

// firm is a small firm built through the services, with everything the
// test did kept in Go, so that segment members and outcomes can be worked
// out independently of the store.
type firm struct {
	now       time.Time
	owners    []*rapport.User
	customers []*firmCustomer
	byID      map[string]*firmCustomer
}

type firmCustomer struct {
	c        *rapport.Customer
	moments  []*rapport.Moment
	holdings []*rapport.Holding
	// stages are the stages set by hand, in time order, after creation.
	stages []stageAt
}

type stageAt struct {
	at    time.Time
	stage rapport.Stage
}

// dissolvedAt reports whether the customer's relationship stood dissolved
// just before t. Inference never dissolves here (it only proposes), so the
// stages set by hand tell.
func (fc *firmCustomer) dissolvedAt(t time.Time) bool {
	dissolved := false
	for _, s := range fc.stages {
		if s.at.Before(t) {
			dissolved = s.stage == rapport.StageDissolution
		}
	}
	return dissolved
}

// buildFirm makes 48 customers over 190 days ending at epoch, with
// attributes, owners, referrals, moments, holdings and stages set by hand
// (dissolutions before, during and after the outcome windows, and one
// customer who came back).
func buildFirm(t *testing.T, s *store, r rel) *firm {
	t.Helper()
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(11, 12))
	f := &firm{now: epoch, byID: map[string]*firmCustomer{}}
	r.products(t, "motor", "home", "travel", "life")
	f.owners = []*rapport.User{s.user(t, "Olive Owner"), s.user(t, "Oscar Owner")}
	manager := s.user(t, "Mia Manager")

	s.clock.Add(-200 * 24 * time.Hour)
	for i := range 48 {
		s.clock.Add(4 * 24 * time.Hour)
		c := &rapport.Customer{Name: fmt.Sprintf("Customer %02d", i), Attributes: map[string]any{}}
		switch i % 4 {
		case 0:
			c.Attributes["region"] = "north"
		case 1:
			c.Attributes["region"] = "south"
		case 2:
			c.Attributes["region"] = "North" // another value: matching is exact
		}
		if i%3 == 0 {
			c.Attributes["tier"] = float64(1 + i%5)
		}
		if i%5 == 0 {
			c.Attributes["vip"] = true
		}
		if i%7 == 0 {
			c.Kind = rapport.KindOrganisation
		}
		if i%3 != 2 {
			c.OwnerID = f.owners[i%2].ID
		}
		if i > 3 && rnd.IntN(4) == 0 {
			c.ReferredBy = f.customers[rnd.IntN(i)].c.ID
		}
		s.customer(t, c)
		fc := &firmCustomer{c: c}
		f.customers = append(f.customers, fc)
		f.byID[c.ID] = fc
	}
	// Dissolutions at several times, and one return.
	setStage := func(fc *firmCustomer, stage rapport.Stage) {
		in := rapport.StageInput{Stage: stage, Reason: "test"}
		if stage == rapport.StageDissolution {
			in.DissolutionReason = rapport.DissolutionDefected
		}
		if _, err := r.stages.SetStage(asUser(manager), fc.c.ID, in); err != nil {
			t.Fatalf("SetStage = %v", err)
		}
		fc.stages = append(fc.stages, stageAt{s.clock.Now(), stage})
	}
	for _, step := range []struct {
		daysBefore int
		customers  []int
		stage      rapport.Stage
	}{
		{100, []int{1, 2}, rapport.StageDissolution},
		{50, []int{5, 6, 7}, rapport.StageDissolution},
		{30, []int{2}, rapport.StageExploration},
		{20, []int{9, 40}, rapport.StageDissolution},
		{5, []int{12}, rapport.StageCommitment},
	} {
		s.clock.Add(epoch.Add(-time.Duration(step.daysBefore)*24*time.Hour).Sub(s.clock.Now()) + time.Hour)
		for _, i := range step.customers {
			setStage(f.customers[i], step.stage)
		}
	}
	s.clock.Add(epoch.Sub(s.clock.Now()))

	touchpoints := []string{"query", "purchase", "service", "complaint", "greeting"}
	for i, fc := range f.customers {
		span := epoch.Sub(fc.c.CreatedAt)
		for range rnd.IntN(9) {
			m := &rapport.Moment{CustomerID: fc.c.ID, Touchpoint: touchpoints[rnd.IntN(len(touchpoints))],
				Channel:    rapport.ChannelPhone,
				OccurredAt: fc.c.CreatedAt.Add(time.Duration(rnd.Float64() * float64(span))).Truncate(time.Second),
				Cost:       float64(rnd.IntN(20)) + 0.5}
			if rnd.IntN(4) > 0 {
				m.Rating = ptr(1 + rnd.IntN(5))
			} else if rnd.IntN(2) == 0 {
				m.Outcome = rapport.OutcomeMisery
			}
			if m.Touchpoint == "purchase" || rnd.IntN(6) == 0 {
				m.Revenue = float64(50 + rnd.IntN(500))
			}
			s.record(t, m)
			fc.moments = append(fc.moments, m)
		}
		for j, p := range []string{"motor", "home", "travel", "life"} {
			if rnd.IntN(3) != 0 || (i%11 == 0 && j > 0) {
				continue
			}
			start := fc.c.CreatedAt.Add(time.Duration(rnd.Float64() * float64(span)))
			h, err := r.holdings.AddHolding(ctx, fc.c.ID, rapport.HoldingInput{Product: p, StartedAt: start})
			if err != nil {
				t.Fatalf("AddHolding = %v", err)
			}
			if rnd.IntN(4) == 0 {
				end := h.StartedAt.Add(time.Duration(rnd.Float64() * float64(epoch.Sub(h.StartedAt))))
				if h, err = r.holdings.EndHolding(ctx, fc.c.ID, h.ID, end); err != nil {
					t.Fatalf("EndHolding = %v", err)
				}
			}
			fc.holdings = append(fc.holdings, h)
		}
	}
	// Current stages, as inference left them.
	for _, fc := range f.customers {
		c, err := s.customers.FindCustomerByID(ctx, fc.c.ID)
		if err != nil {
			t.Fatal(err)
		}
		fc.c = c
	}
	return f
}

// measures works out a customer's measures as of now from the test's own records.
func (f *firm) measures(fc *firmCustomer) rapport.CustomerMeasures {
	var m rapport.CustomerMeasures
	var ratingSum float64
	within := func(t time.Time, days int) bool {
		return !t.After(f.now) && !t.Before(f.now.Add(-time.Duration(days)*24*time.Hour))
	}
	for _, mo := range fc.moments {
		if within(mo.OccurredAt, 30) {
			m.Moments30d++
			if mo.Outcome == rapport.OutcomeMisery {
				m.Misery30d++
			}
		}
		if within(mo.OccurredAt, 90) {
			m.Moments90d++
			if mo.Rating != nil {
				m.Rated90d++
				ratingSum += float64(*mo.Rating)
			}
			switch mo.Outcome {
			case rapport.OutcomeMagic:
				m.Magic90d++
			case rapport.OutcomeMisery:
				m.Misery90d++
			}
		}
		if within(mo.OccurredAt, 365) {
			m.Moments365d++
			m.Revenue365d += mo.Revenue
			m.Cost365d += mo.Cost
		}
	}
	if m.Rated90d > 0 {
		r := ratingSum / float64(m.Rated90d)
		m.Rating90d = &r
	}
	held := map[string]bool{}
	for _, h := range fc.holdings {
		if !h.StartedAt.After(f.now) && (h.EndedAt == nil || h.EndedAt.After(f.now)) {
			held[h.Product] = true
		}
	}
	m.Holdings = len(held)
	for _, other := range f.customers {
		if other.c.ReferredBy == fc.c.ID {
			m.Referrals++
		}
	}
	return m
}

// members lists every member of a saved segment, page by page.
func members(t *testing.T, r rel, id string, limit int) []string {
	t.Helper()
	var out []string
	cursor := ""
	for range 100 {
		page, err := r.segments.SegmentMembers(context.Background(), id, limit, cursor)
		if err != nil {
			t.Fatalf("SegmentMembers = %v", err)
		}
		for _, m := range page.Items {
			out = append(out, m.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			return out
		}
	}
	t.Fatal("SegmentMembers never ends")
	return nil
}

// TestSegmentMembersMatchHandComputation checks that each rule selects
// exactly the customers the test finds by going through its own records.
func TestSegmentMembersMatchHandComputation(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		f := buildFirm(t, s, r)
		// Bring every customer's measures up to date as of now; the sweep
		// must find the customers whose windows moved.
		if _, err := r.health.Sweep(ctx); err != nil {
			t.Fatalf("Sweep = %v", err)
		}
		rating := func(m rapport.CustomerMeasures) float64 {
			if m.Rating90d == nil {
				return math.NaN()
			}
			return *m.Rating90d
		}
		region := func(fc *firmCustomer) (string, bool) {
			v, ok := fc.c.Attributes["region"].(string)
			return v, ok
		}
		health := map[string]int{}
		for _, fc := range f.customers {
			h, err := r.health.CustomerHealth(ctx, fc.c.ID)
			if err != nil {
				t.Fatal(err)
			}
			health[fc.c.ID] = h.Health
		}
		olive := f.owners[0].ID
		cutoff := epoch.Add(-100 * 24 * time.Hour)
		tests := []struct {
			rule string
			want func(fc *firmCustomer, m rapport.CustomerMeasures) bool
		}{
			{`stage = "commitment" and rating_90d < 3.5`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool {
				return fc.c.Stage == rapport.StageCommitment && rating(m) < 3.5
			}},
			{`stage in ["expansion", "commitment"] or rating_90d >= 4`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool {
				return fc.c.Stage == rapport.StageExpansion || fc.c.Stage == rapport.StageCommitment || rating(m) >= 4
			}},
			{`not rating_90d >= 3`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool { return !(rating(m) >= 3) }},
			{`attributes.region = "north"`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool { v, _ := region(fc); return v == "north" }},
			{`attributes.region != "north"`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool {
				v, ok := region(fc)
				return ok && v != "north"
			}},
			{`attributes.region = null`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool { _, ok := region(fc); return !ok }},
			{`attributes.region not in ["north", "North"]`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool {
				v, ok := region(fc)
				return ok && v != "north" && v != "North"
			}},
			{`attributes.tier in [1, 3] or attributes.vip = true`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool {
				tier, _ := fc.c.Attributes["tier"].(float64)
				return tier == 1 || tier == 3 || fc.c.Attributes["vip"] == true
			}},
			{`kind = "organisation" or holdings >= 2`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool {
				return fc.c.Kind == rapport.KindOrganisation || m.Holdings >= 2
			}},
			{`not (moments_30d > 0) and moments_365d >= 1`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool {
				return m.Moments30d == 0 && m.Moments365d >= 1
			}},
			{`owner = "` + olive + `" and misery_90d >= 1`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool {
				return fc.c.OwnerID == olive && m.Misery90d >= 1
			}},
			{`owner != "` + olive + `"`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool {
				return fc.c.OwnerID != "" && fc.c.OwnerID != olive
			}},
			{`owner = null or referred_by != null`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool {
				return fc.c.OwnerID == "" || fc.c.ReferredBy != ""
			}},
			{`revenue_365d > 500 or referrals >= 1 or cost_365d < 10`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool {
				return m.Revenue365d > 500 || m.Referrals >= 1 || m.Cost365d < 10
			}},
			{`created < "` + cutoff.Format(time.DateOnly) + `"`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool {
				return fc.c.CreatedAt.Before(cutoff.Truncate(24 * time.Hour))
			}},
			{`created >= "-60d" and magic_90d = 0`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool {
				return !fc.c.CreatedAt.Before(epoch.Add(-60*24*time.Hour)) && m.Magic90d == 0
			}},
			{`health >= 50 and stage != "dissolution"`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool {
				return health[fc.c.ID] >= 50 && fc.c.Stage != rapport.StageDissolution
			}},
			{`misery_30d >= 1 or moments_90d > 3`, func(fc *firmCustomer, m rapport.CustomerMeasures) bool {
				return m.Misery30d >= 1 || m.Moments90d > 3
			}},
		}
		nonEmpty := 0
		for i, tt := range tests {
			var want []string
			for _, fc := range f.customers {
				if tt.want(fc, f.measures(fc)) {
					want = append(want, fc.c.ID)
				}
			}
			sg := &rapport.Segment{Name: fmt.Sprintf("rule %d", i), Rule: tt.rule}
			if err := r.segments.CreateSegment(ctx, sg); err != nil {
				t.Fatalf("CreateSegment(%q) = %v", tt.rule, err)
			}
			got := members(t, r, sg.ID, 7)
			if !sort.StringsAreSorted(reverse(got)) {
				t.Errorf("%s: members are not newest first", tt.rule)
			}
			sort.Strings(got)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("segment %q: %d members %v;\nwant %d %v", tt.rule, len(got), firmNames(f, got), len(want), firmNames(f, want))
			}
			one, err := r.segments.FindSegmentByID(ctx, sg.ID)
			if err != nil || one.Size == nil || *one.Size != len(want) {
				t.Errorf("FindSegmentByID(%q) size = %v, %v; want %d", tt.rule, one.Size, err, len(want))
			}
			if len(want) > 0 && len(want) < len(f.customers) {
				nonEmpty++
			}
		}
		if nonEmpty < len(tests)-2 {
			t.Errorf("only %d of %d rules select some but not all customers; the firm is too plain to test them", nonEmpty, len(tests))
		}
	})
}

func reverse(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func firmNames(f *firm, ids []string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, f.byID[id].c.Name)
	}
	return out
}

// TestIncrementalMeasuresMatchRebuild checks that the measures kept by the
// moment hook, holding changes and the sweep equal a rebuild from scratch.
func TestIncrementalMeasuresMatchRebuild(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		f := buildFirm(t, s, r)
		snapshot := func() map[string]string {
			out := map[string]string{}
			rows, err := s.raw.Query(`SELECT customer_id, moments_30d, moments_90d, moments_365d, rated_90d, rating_90d,
				rating_prior_90d, magic_90d, misery_30d, misery_90d, holdings, revenue_365d, cost_365d, referrals, last_moment_at
				FROM customer_measures`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				vals := make([]any, 15)
				ptrs := make([]any, 15)
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				out[fmt.Sprint(vals[0])] = fmt.Sprint(vals[1:]...)
			}
			return out
		}
		dayTotals := func() string {
			var out strings.Builder
			rows, err := s.raw.Query(`SELECT customer_id, day, moments, rated, rating_sum, magic, misery, purchases, revenue, cost
				FROM customer_day_stats ORDER BY customer_id, day`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var id string
				var day, moments, rated, magic, misery, purchases int64
				var ratingSum, revenue, cost float64
				if err := rows.Scan(&id, &day, &moments, &rated, &ratingSum, &magic, &misery, &purchases, &revenue, &cost); err != nil {
					t.Fatal(err)
				}
				fmt.Fprintln(&out, id, day, moments, rated, ratingSum, magic, misery, purchases, math.Round(revenue*100), math.Round(cost*100))
			}
			return out.String()
		}
		for _, days := range []int{0, 10, 40, 100} {
			s.clock.Add(epoch.Add(time.Duration(days) * 24 * time.Hour).Sub(s.clock.Now()))
			f.now = s.clock.Now()
			if _, err := r.health.Sweep(ctx); err != nil {
				t.Fatalf("Sweep = %v", err)
			}
			kept := snapshot()
			if len(kept) != len(f.customers) {
				t.Fatalf("day %d: %d customers measured; want %d", days, len(kept), len(f.customers))
			}
			for _, fc := range f.customers {
				h, err := r.health.CustomerHealth(ctx, fc.c.ID)
				if err != nil {
					t.Fatal(err)
				}
				want := f.measures(fc)
				h.Measures.LastMomentAt, h.Measures.RatingPrior90d = nil, nil
				if show(h.Measures) != show(want) {
					t.Errorf("day %d %s: measures =\n%s\nwant\n%s", days, fc.c.Name, show(h.Measures), show(want))
				}
			}
			keptDays := dayTotals()
			if err := s.db.RebuildCustomerMeasures(ctx); err != nil {
				t.Fatalf("RebuildCustomerMeasures = %v", err)
			}
			if got := dayTotals(); got != keptDays || keptDays == "" {
				t.Errorf("day %d: daily totals kept\n%s\nrebuilt\n%s", days, keptDays, got)
			}
			rebuilt := snapshot()
			for id, v := range rebuilt {
				if kept[id] != v {
					t.Errorf("day %d %s: kept %s; rebuilt %s", days, f.byID[id].c.Name, kept[id], v)
				}
			}
		}
	})
}

// TestMeasuresCopyTheProfile checks that the profile fields segment rules
// read from customer_measures stay equal to the customer's own, through
// every way they change, and that rules on them see each change at once.
func TestMeasuresCopyTheProfile(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		ann, bea := s.user(t, "Ann Owner"), s.user(t, "Bea Owner")
		ref := s.customer(t, &rapport.Customer{Name: "Referrer"})
		c := s.customer(t, &rapport.Customer{Name: "Cleo", OwnerID: ann.ID})
		members := func(rule string) []string {
			t.Helper()
			p, err := r.segments.PreviewSegment(ctx, rule, 10)
			if err != nil {
				t.Fatalf("PreviewSegment(%q) = %v", rule, err)
			}
			var names []string
			for _, m := range p.Members.Items {
				names = append(names, m.Name)
			}
			return names
		}
		inStep := func(step string) {
			t.Helper()
			if n := s.count(t, "customer_measures m JOIN customers c ON c.id = m.customer_id",
				`m.stage <> c.stage OR m.kind <> c.kind OR COALESCE(m.owner_id, '') <> COALESCE(c.owner_id, '')
				OR COALESCE(m.referred_by, '') <> COALESCE(c.referred_by, '') OR m.created_at <> c.created_at`); n != 0 {
				t.Errorf("%s: %d customers' measures differ from their profile", step, n)
			}
			if n := s.count(t, "customers", ""); s.count(t, "customer_measures", "") != n {
				t.Errorf("%s: %d customers, %d measured", step, n, s.count(t, "customer_measures", ""))
			}
		}
		inStep("created")
		if got := members(`owner = "` + ann.ID + `"`); !slices.Equal(got, []string{"Cleo"}) {
			t.Errorf("owned by Ann after creation: %v; want [Cleo]", got)
		}

		kind := rapport.KindOrganisation
		if _, err := s.customers.UpdateCustomer(ctx, c.ID, rapport.CustomerUpdate{OwnerID: &bea.ID, Kind: &kind, ReferredBy: &ref.ID}); err != nil {
			t.Fatalf("UpdateCustomer = %v", err)
		}
		inStep("updated")
		rule := `owner = "` + bea.ID + `" and kind = "organisation" and referred_by = "` + ref.ID + `"`
		if got := members(rule); !slices.Equal(got, []string{"Cleo"}) {
			t.Errorf("%s after the update: %v; want [Cleo]", rule, got)
		}

		if _, err := r.stages.SetStage(ctx, c.ID, rapport.StageInput{Stage: rapport.StageCommitment, Reason: "signed"}); err != nil {
			t.Fatalf("SetStage = %v", err)
		}
		inStep("stage set by hand")
		if got := members(`stage = "commitment"`); !slices.Equal(got, []string{"Cleo"}) {
			t.Errorf("in commitment after SetStage: %v; want [Cleo]", got)
		}
		s.record(t, s.moment(c.ID))
		if _, err := r.stages.ReleaseStage(ctx, c.ID); err != nil {
			t.Fatalf("ReleaseStage = %v", err)
		}
		s.clock.Add(400 * 24 * time.Hour)
		if _, err := r.health.Sweep(ctx); err != nil {
			t.Fatalf("Sweep = %v", err)
		}
		inStep("moments, release and a year's silence")

		// A referrer's count follows their referrals at once, without a sweep.
		referrals := func(step string, want int) {
			t.Helper()
			h, err := r.health.CustomerHealth(ctx, ref.ID)
			if err != nil || h.Measures.Referrals != want {
				t.Errorf("%s: the referrer's referrals = %v, %v; want %d", step, h.Measures.Referrals, err, want)
			}
		}
		referrals("Cleo referred", 1)
		dan := s.customer(t, &rapport.Customer{Name: "Dan", ReferredBy: ref.ID})
		referrals("Dan added, referred", 2)
		other := s.customer(t, &rapport.Customer{Name: "Other referrer"})
		if _, err := s.customers.UpdateCustomer(ctx, dan.ID, rapport.CustomerUpdate{ReferredBy: &other.ID}); err != nil {
			t.Fatal(err)
		}
		referrals("Dan's referral moved", 1)
		if err := s.customers.DeleteCustomer(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		referrals("Cleo deleted", 0)
		// Deleting a referrer forgets them on those they referred, in the copy too.
		if err := s.customers.DeleteCustomer(ctx, other.ID); err != nil {
			t.Fatal(err)
		}
		inStep("referrers deleted")
		if got := members(`referred_by = null and kind = "person"`); !slices.Contains(got, "Dan") {
			t.Errorf("customers referred by nobody now: %v; want Dan among them", got)
		}
		err := s.customers.DeleteCustomer(ctx, other.ID)
		wantCode(t, "DeleteCustomer(deleted)", err, rapport.ENOTFOUND)
	})
}

// TestSegmentSizesKept checks the sizes the list of segments shows: counted
// on saving, kept as they were while customers change, and brought up to
// date by CountSegments.
func TestSegmentSizesKept(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		r := relationships(s)
		for _, name := range []string{"Ann", "Bea"} {
			s.customer(t, &rapport.Customer{Name: name, Kind: rapport.KindOrganisation})
		}
		orgs := &rapport.Segment{Name: "Organisations", Rule: `kind = "organisation"`}
		if err := r.segments.CreateSegment(ctx, orgs); err != nil {
			t.Fatalf("CreateSegment = %v", err)
		}
		if orgs.Size == nil || *orgs.Size != 2 || orgs.CountedAt == nil {
			t.Fatalf("CreateSegment sized %v at %v; want 2 now", orgs.Size, orgs.CountedAt)
		}
		listed := func() int {
			t.Helper()
			sgs, err := r.segments.FindSegments(ctx)
			if err != nil || len(sgs) != 1 || sgs[0].Size == nil {
				t.Fatalf("FindSegments = %s, %v; want one segment with a size", show(sgs), err)
			}
			return *sgs[0].Size
		}
		s.customer(t, &rapport.Customer{Name: "Cleo", Kind: rapport.KindOrganisation})
		if n := listed(); n != 2 {
			t.Errorf("listed size before counting again = %d; want the 2 counted on saving", n)
		}
		if sg, err := r.segments.FindSegment(ctx, orgs.ID); err != nil || *sg.Size != 2 {
			t.Errorf("FindSegment size = %v, %v; want the 2 counted on saving", sg.Size, err)
		}
		if sg, err := r.segments.FindSegmentByID(ctx, orgs.ID); err != nil || *sg.Size != 3 {
			t.Errorf("FindSegmentByID size = %v, %v; want 3, counted now", sg.Size, err)
		}
		if n, err := r.segments.CountSegments(ctx); err != nil || n != 1 {
			t.Fatalf("CountSegments = %d, %v; want 1", n, err)
		}
		if n := listed(); n != 3 {
			t.Errorf("listed size after CountSegments = %d; want 3", n)
		}
		rule := `kind = "person"`
		if _, err := r.segments.UpdateSegment(ctx, orgs.ID, rapport.SegmentUpdate{Rule: &rule}); err != nil {
			t.Fatalf("UpdateSegment = %v", err)
		}
		if n := listed(); n != 0 {
			t.Errorf("listed size after the rule changed = %d; want 0", n)
		}
	})
}
