package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

func (s *store) promise(t testing.TB, customerID, staffID string, due time.Duration) *rapport.Promise {
	t.Helper()
	p := &rapport.Promise{CustomerID: customerID, StaffID: staffID, Text: "Call back with the claim update", DueAt: s.clock.Now().Add(due)}
	if err := sqlstore.NewPromiseService(s.db).CreatePromise(context.Background(), p); err != nil {
		t.Fatalf("CreatePromise = %v", err)
	}
	return p
}

func record(r *rapport.PromiseReport, staffID string) *rapport.PromiseRecord {
	for i := range r.Staff {
		if r.Staff[i].StaffID == staffID {
			return &r.Staff[i]
		}
	}
	return nil
}

// TestPromiseBreaksWhenOverdue checks that a promise left past its due time
// turns broken, records a misery moment that opens a case, and lowers its
// maker's say/do ratio, which ranks them first among offenders.
func TestPromiseBreaksWhenOverdue(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		promises := sqlstore.NewPromiseService(s.db)
		keeper, breaker := s.user(t, "Kate Keeper"), s.user(t, "Dylan Breaker")
		c := s.customer(t, &rapport.Customer{Name: "Ada", OwnerID: keeper.ID})
		var kept []*rapport.Promise
		for range 3 {
			kept = append(kept, s.promise(t, c.ID, keeper.ID, 24*time.Hour))
			kept = append(kept, s.promise(t, c.ID, breaker.ID, 24*time.Hour))
		}
		late := s.promise(t, c.ID, breaker.ID, 24*time.Hour)
		later := s.promise(t, c.ID, breaker.ID, 72*time.Hour)
		for _, p := range kept {
			if _, err := promises.SetPromiseStatus(ctx, p.ID, rapport.PromiseKept); err != nil {
				t.Fatal(err)
			}
		}
		before, err := promises.PromiseReport(ctx, rapport.PromiseReportFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if r := record(before, breaker.ID); r == nil || r.SayDo == nil || *r.SayDo != 1 || r.Open != 2 {
			t.Fatalf("breaker before = %s; want say/do 1 with 2 open", show(r))
		}

		s.clock.Add(23 * time.Hour)
		if n, err := promises.BreakOverdue(ctx); err != nil || n != 0 {
			t.Fatalf("BreakOverdue before due = %d, %v; want 0", n, err)
		}
		s.clock.Add(2 * time.Hour)
		if n, err := promises.BreakOverdue(ctx); err != nil || n != 1 {
			t.Fatalf("BreakOverdue after due = %d, %v; want 1", n, err)
		}
		if n, err := promises.BreakOverdue(ctx); err != nil || n != 0 {
			t.Errorf("BreakOverdue again = %d, %v; want 0", n, err)
		}
		got, err := promises.FindPromiseByID(ctx, late.ID)
		if err != nil || got.Status != rapport.PromiseBroken || got.ResolvedAt == nil || !got.ResolvedAt.Equal(s.clock.Now()) {
			t.Fatalf("overdue promise = %s, %v; want broken now", show(got), err)
		}
		if p, _ := promises.FindPromiseByID(ctx, later.ID); p.Status != rapport.PromiseOpen {
			t.Errorf("promise not yet due = %s; want open", p.Status)
		}
		ms, err := s.moments.FindMoments(ctx, rapport.MomentFilter{CustomerID: c.ID, Touchpoint: rapport.PromiseTouchpoint})
		if err != nil || len(ms.Items) != 1 {
			t.Fatalf("misery moments of broken promises = %v, %v; want 1", ms.Items, err)
		}
		m := ms.Items[0]
		if m.Outcome != rapport.OutcomeMisery || m.StaffID != breaker.ID || !m.OccurredAt.Equal(late.DueAt) || m.Channel != rapport.ChannelSystem {
			t.Errorf("broken promise moment = %s; want misery by the breaker when it fell due", show(m))
		}
		if got := s.cases(t, rapport.CaseFilter{CustomerID: c.ID}); len(got) != 1 || got[0].MomentID != m.ID || got[0].AssigneeID != keeper.ID {
			t.Errorf("cases = %s; want one for the broken promise, with the owner", show(got))
		}
		if n := s.count(t, "moment_stats", "touchpoint = 'promise' AND misery = 1"); n != 1 {
			t.Errorf("running totals of the promise touchpoint: %d rows with its misery; want 1", n)
		}

		after, err := promises.PromiseReport(ctx, rapport.PromiseReportFilter{})
		if err != nil {
			t.Fatal(err)
		}
		r := record(after, breaker.ID)
		if r == nil || r.Made != 5 || r.Kept != 3 || r.Broken != 1 || r.Open != 1 || r.SayDo == nil || *r.SayDo != 0.75 {
			t.Fatalf("breaker after = %s; want 5 made, 3 kept, 1 broken, say/do 0.75", show(r))
		}
		if after.Staff[0].StaffID != breaker.ID {
			t.Errorf("worst offender = %s; want %s", after.Staff[0].Name, breaker.Name)
		}
		if after.Total.Made != 8 || after.Total.Broken != 1 {
			t.Errorf("total = %s; want 8 made, 1 broken", show(after.Total))
		}

		// Marking by hand: once only, and a broken one records misery at once.
		if _, err := promises.SetPromiseStatus(ctx, late.ID, rapport.PromiseKept); rapport.ErrorCode(err) != rapport.ECONFLICT {
			t.Errorf("settling a broken promise = %v; want ECONFLICT", err)
		}
		if _, err := promises.SetPromiseStatus(ctx, later.ID, "forgotten"); rapport.ErrorCode(err) != rapport.EINVALID {
			t.Errorf("SetPromiseStatus(forgotten) = %v; want EINVALID", err)
		}
		if _, err := promises.SetPromiseStatus(ctx, later.ID, rapport.PromiseBroken); err != nil {
			t.Fatal(err)
		}
		if n := s.count(t, "moments", "touchpoint = 'promise'"); n != 2 {
			t.Errorf("after breaking one by hand, %d promise moments; want 2", n)
		}
	})
}

// TestCreatePromise checks what a new promise may be, and the filters.
func TestCreatePromise(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		promises := sqlstore.NewPromiseService(s.db)
		staff := s.user(t, "Priya Raman")
		ada := s.customer(t, &rapport.Customer{Name: "Ada"})
		grace := s.customer(t, &rapport.Customer{Name: "Grace"})
		graces := s.record(t, s.moment(grace.ID))
		for _, tc := range []struct {
			name string
			p    rapport.Promise
			want []string
		}{
			{"empty", rapport.Promise{}, []string{"customer_id", "due_at", "text"}},
			{"past due", rapport.Promise{CustomerID: ada.ID, Text: "x", DueAt: epoch.Add(-time.Hour)}, []string{"due_at"}},
			{"unknown references", rapport.Promise{CustomerID: "nope", StaffID: "nope", MomentID: "nope", Text: "x", DueAt: epoch.Add(time.Hour)},
				[]string{"customer_id", "moment_id", "staff_id"}},
			{"another customer's moment", rapport.Promise{CustomerID: ada.ID, MomentID: graces.ID, Text: "x", DueAt: epoch.Add(time.Hour)}, []string{"moment_id"}},
		} {
			err := promises.CreatePromise(ctx, &tc.p)
			if rapport.ErrorCode(err) != rapport.EINVALID || show(fieldNames(err)) != show(tc.want) {
				t.Errorf("CreatePromise(%s) = %v (%q); want EINVALID on %q", tc.name, err, fieldNames(err), tc.want)
			}
		}
		// The staff member defaults to the user acting.
		actx := rapport.NewContextWithPrincipal(ctx, &rapport.Principal{UserID: staff.ID, Role: rapport.RoleAgent})
		p := &rapport.Promise{CustomerID: grace.ID, MomentID: graces.ID, Text: "  Post the policy wording ", DueAt: epoch.Add(48 * time.Hour)}
		if err := promises.CreatePromise(actx, p); err != nil {
			t.Fatal(err)
		}
		if p.StaffID != staff.ID || p.Status != rapport.PromiseOpen || p.Text != "Post the policy wording" || !p.CreatedAt.Equal(epoch) {
			t.Errorf("created promise = %s", show(p))
		}
		s.promise(t, ada.ID, staff.ID, time.Hour)
		for _, tc := range []struct {
			f    rapport.PromiseFilter
			want int
		}{
			{rapport.PromiseFilter{}, 2},
			{rapport.PromiseFilter{CustomerID: grace.ID}, 1},
			{rapport.PromiseFilter{StaffID: staff.ID, Status: rapport.PromiseOpen}, 2},
			{rapport.PromiseFilter{DueBefore: epoch.Add(2 * time.Hour)}, 1},
			{rapport.PromiseFilter{Status: rapport.PromiseKept}, 0},
		} {
			page, err := promises.FindPromises(ctx, tc.f)
			if err != nil || len(page.Items) != tc.want {
				t.Errorf("FindPromises(%+v) = %d, %v; want %d", tc.f, len(page.Items), err, tc.want)
			}
		}
		page, err := promises.FindPromises(ctx, rapport.PromiseFilter{Limit: 1})
		if err != nil || len(page.Items) != 1 || page.NextCursor == "" {
			t.Fatalf("first page = %v, %v", page, err)
		}
		next, err := promises.FindPromises(ctx, rapport.PromiseFilter{Limit: 1, Cursor: page.NextCursor})
		if err != nil || len(next.Items) != 1 || next.Items[0].ID == page.Items[0].ID || next.NextCursor != "" {
			t.Errorf("second page = %v, %v; want the other promise and no more", next, err)
		}
		if _, err := promises.FindPromises(ctx, rapport.PromiseFilter{Status: "maybe"}); rapport.ErrorCode(err) != rapport.EINVALID {
			t.Errorf("FindPromises(status maybe) = %v; want EINVALID", err)
		}
	})
}

// TestPromiseCountsAgree makes, keeps and breaks promises (by hand and by
// the overdue sweep), with and without their maker, deletes a customer with
// theirs, and checks that the kept counts equal a count made afresh and that
// the report over all time, which reads them, equals one over a window
// wide enough for every promise, which counts the promises themselves.
func TestPromiseCountsAgree(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		promises := sqlstore.NewPromiseService(s.db)
		ana, ben := s.user(t, "Ana Agent"), s.user(t, "Ben Broker")
		ada, bob := s.customer(t, &rapport.Customer{Name: "Ada"}), s.customer(t, &rapport.Customer{Name: "Bob"})
		var made []*rapport.Promise
		for i, staff := range []string{ana.ID, ana.ID, ben.ID, "", ben.ID, ana.ID} {
			made = append(made, s.promise(t, []string{ada.ID, bob.ID}[i%2], staff, time.Duration(i+1)*time.Hour))
		}
		for _, settle := range []struct {
			p      *rapport.Promise
			status rapport.PromiseStatus
		}{{made[0], rapport.PromiseKept}, {made[3], rapport.PromiseKept}, {made[4], rapport.PromiseBroken}} {
			if _, err := promises.SetPromiseStatus(ctx, settle.p.ID, settle.status); err != nil {
				t.Fatal(err)
			}
		}
		s.clock.Add(3 * time.Hour)
		if n, err := promises.BreakOverdue(ctx); err != nil || n != 1 {
			t.Fatalf("BreakOverdue = %d, %v; want 1", n, err)
		}
		s.promise(t, bob.ID, ben.ID, time.Hour)
		if err := s.customers.DeleteCustomer(ctx, ada.ID); err != nil {
			t.Fatal(err)
		}

		kept := tableRows(t, s, `SELECT staff_id, status, promises FROM promise_counts`)
		if len(kept) == 0 {
			t.Fatal("no promise counts kept")
		}
		if err := sqlstore.RebuildPromiseCounts(ctx, s.db); err != nil {
			t.Fatal(err)
		}
		if rebuilt := tableRows(t, s, `SELECT staff_id, status, promises FROM promise_counts`); !slices.Equal(kept, rebuilt) {
			t.Errorf("promise counts kept = %q; counted afresh = %q", kept, rebuilt)
		}
		all, err := promises.PromiseReport(ctx, rapport.PromiseReportFilter{})
		if err != nil {
			t.Fatal(err)
		}
		now := s.clock.Now()
		window, err := promises.PromiseReport(ctx, rapport.PromiseReportFilter{From: now.AddDate(-1, 0, 0), To: now.AddDate(0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		if all.Total.Made == 0 {
			t.Fatal("the report counts no promises")
		}
		if got, want := show([]any{all.Total, all.Staff, all.Teams}), show([]any{window.Total, window.Staff, window.Teams}); got != want {
			t.Errorf("PromiseReport(all time) = %s; counted = %s", got, want)
		}
	})
}

// tableRows returns a query's rows as sorted lines.
func tableRows(t *testing.T, s *store, query string) []string {
	t.Helper()
	rows, err := s.raw.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	slices.Sort(out)
	return out
}
