package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/demo"
	"github.com/rapport-crm/rapport/internal/testdb"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestHandoverAndBrief checks that changing a customer's owner records the
// handover, and that the brief holds what a new owner needs.
func TestHandoverAndBrief(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		briefs := sqlstore.NewBriefService(s.db)
		old, next := s.user(t, "Olive Old"), s.user(t, "Nina New")
		admin := s.user(t, "Harriet Admin")
		c := s.customer(t, &rapport.Customer{Name: "Ada", OwnerID: old.ID,
			Preferences: rapport.Preferences{Likes: []string{"email"}, Dislikes: []string{"calls before 9"}}})

		// History: a good moment long ago, misery lately, served by the old owner.
		good := s.moment(c.ID)
		good.OccurredAt, good.Rating, good.StaffID = epoch.AddDate(0, 0, -100), ptr(5), old.ID
		s.record(t, good)
		bad := s.misery(c.ID, "service")
		bad.StaffID = old.ID
		s.record(t, bad)
		worse := s.misery(c.ID, "complaint")
		worse.OccurredAt = epoch.Add(-30 * time.Minute)
		s.record(t, worse)
		open := s.promise(t, c.ID, old.ID, 72*time.Hour)

		actx := rapport.NewContextWithPrincipal(ctx, &rapport.Principal{UserID: admin.ID, Role: rapport.RoleAdmin})
		s.clock.Add(time.Hour)
		if _, err := s.customers.UpdateCustomer(actx, c.ID, rapport.CustomerUpdate{OwnerID: &next.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.customers.UpdateCustomer(actx, c.ID, rapport.CustomerUpdate{Phone: ptr("+44 20 7946 0000")}); err != nil {
			t.Fatal(err)
		}
		hs, err := briefs.FindHandovers(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(hs) != 1 || hs[0].FromID != old.ID || hs[0].ToID != next.ID || hs[0].ToName != "Nina New" || hs[0].By != admin.ID ||
			!hs[0].At.Equal(s.clock.Now()) || hs[0].Brief != "/api/v1/customers/"+c.ID+"/brief" {
			t.Errorf("handovers = %s; want one, old to new, by the admin, pointing at the brief", show(hs))
		}

		b, err := briefs.Brief(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if b.Owner == nil || b.Owner.ID != next.ID || !b.Owner.Owner {
			t.Errorf("brief owner = %s; want the new owner", show(b.Owner))
		}
		if len(b.OpenPromises) != 1 || b.OpenPromises[0].ID != open.ID {
			t.Errorf("open promises = %s; want the one made", show(b.OpenPromises))
		}
		if len(b.Misery) != 2 || b.Misery[0].ID != worse.ID || len(b.Magic) != 1 || b.Magic[0].ID != good.ID {
			t.Errorf("key moments = misery %s, magic %s; want the latest misery first and the magic one", show(b.Misery), show(b.Magic))
		}
		if len(b.OpenCases) != 2 {
			t.Errorf("open cases = %d; want 2", len(b.OpenCases))
		}
		if len(b.Handovers) != 1 || b.Stage != rapport.StageAwareness || len(b.StageChanges) != 1 || b.Preferences.Likes[0] != "email" {
			t.Errorf("brief handovers %d, stage %s, changes %d, preferences %v", len(b.Handovers), b.Stage, len(b.StageChanges), b.Preferences)
		}
		var people []string
		for _, p := range b.People {
			people = append(people, p.Name)
		}
		if show(people) != show([]string{"Nina New", "Olive Old"}) {
			t.Errorf("people = %q; want the owner, then who served them", people)
		}
		if b.Trend.Direction != rapport.TrendDeclining || b.Trend.RecentRated != 2 || b.Trend.PreviousRated != 1 || len(b.Trend.Months) != 6 {
			t.Errorf("trend = %s; want declining from 5 to 1", show(b.Trend))
		}
		if b.Counts.Moments != 3 || b.Counts.Misery != 2 || b.Counts.Magic != 1 || b.Counts.CasesOpened != 2 {
			t.Errorf("counts = %s", show(b.Counts))
		}
		if _, err := briefs.Brief(ctx, "01NOSUCHCUSTOMER0000000000"); rapport.ErrorCode(err) != rapport.ENOTFOUND {
			t.Errorf("Brief(unknown) = %v; want ENOTFOUND", err)
		}

		// The timeline shows the promise and the cases with the moments.
		page, err := s.timelines.Timeline(ctx, c.ID, rapport.TimelineFilter{})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, e := range page.Items {
			kinds[e.Kind]++
		}
		if kinds[rapport.EntryPromise] != 1 || kinds[rapport.EntryCase] != 2 || kinds[rapport.EntryMoment] != 3 {
			t.Errorf("timeline kinds = %v; want 3 moments, 1 promise, 2 cases", kinds)
		}
	})
}

// TestRecoveryOnDemoFirm checks the promises report, the brief and the
// recovery backfill on the demo firm, and logs their figures.
func TestRecoveryOnDemoFirm(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo firm takes seconds to make")
	}
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	clock := testdb.NewClock(now)
	dsn := testdb.SQLiteDSN(t)
	db, err := sqlstore.Open(ctx, dsn, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := demo.Populate(ctx, db, demo.Config{Seed: 7, Now: now}); err != nil {
		t.Fatal(err)
	}
	promises := sqlstore.NewPromiseService(db)
	report, err := promises.PromiseReport(ctx, rapport.PromiseReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range report.Staff[:4] {
		t.Logf("%-16s %-14s made %4d kept %4d broken %4d say/do %.2f", r.Name, r.Team, r.Made, r.Kept, r.Broken, *r.SayDo)
	}
	if first := report.Staff[0]; first.Name != "Dylan Foster" {
		t.Errorf("worst promise keeper = %s; want Dylan Foster", first.Name)
	}
	if first := report.Teams[0]; first.Name != "Claims" {
		t.Errorf("worst team = %s; want Claims, Dylan's", first.Name)
	}

	// The brief of a customer with an open promise holds it and their last misery.
	raw := testdb.SQL(t, dsn)
	var customerID, promiseID, miseryID string
	err = raw.QueryRow(`SELECT p.customer_id, p.id FROM promises p WHERE p.status = 'open'
		AND EXISTS (SELECT 1 FROM moments m WHERE m.customer_id = p.customer_id AND m.outcome = 'misery')
		ORDER BY p.id LIMIT 1`).Scan(&customerID, &promiseID)
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow(`SELECT id FROM moments WHERE customer_id = ? AND outcome = 'misery' ORDER BY occurred_at DESC, id DESC LIMIT 1`,
		customerID).Scan(&miseryID); err != nil {
		t.Fatal(err)
	}
	b, err := sqlstore.NewBriefService(db).Brief(ctx, customerID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range b.OpenPromises {
		found = found || p.ID == promiseID
	}
	if !found || len(b.Misery) == 0 || b.Misery[0].ID != miseryID {
		t.Errorf("brief of %s: open promises %s, misery %s; want promise %s and last misery %s", customerID,
			show(b.OpenPromises), show(b.Misery), promiseID, miseryID)
	}

	// The demo firm comes with cases for the last month's misery, most
	// resolved and the overdue ones escalated; opening the missing ones
	// again finds none, and three days on the sweep escalates the cases
	// that have fallen due since.
	clock.Add(72 * time.Hour)
	recovery := sqlstore.NewRecoveryService(db)
	again, err := recovery.OpenMissingCases(ctx, now.AddDate(0, 0, -30))
	if err != nil {
		t.Fatal(err)
	}
	escalated, err := recovery.Escalate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var opened, escalatedAll int
	if err := raw.QueryRow(`SELECT COUNT(*), COUNT(escalated_at) FROM recovery_cases`).Scan(&opened, &escalatedAll); err != nil {
		t.Fatal(err)
	}
	rr, err := recovery.RecoveryReport(ctx, rapport.RecoveryReportFilter{From: now.AddDate(0, 0, -40), To: clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	// Promises due in those three days break, and open cases of their own.
	broken, err := promises.BreakOverdue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo opened %d cases (backfill again: %d), %d escalated; %d promises overdue", opened, again, escalated, broken)
	if opened == 0 || again != 0 || escalated == 0 || escalated > opened {
		t.Errorf("opened %d (again %d), escalated %d; want cases once, the older ones escalated", opened, again, escalated)
	}
	checkNoDuplicateCases(t, raw)
	t.Logf("recovery report: %s", rr.Explanation)
	if rr.Opened != opened || rr.Escalated != escalatedAll || escalatedAll <= escalated {
		t.Errorf("recovery report opened %d, escalated %d; want %d and %d, more than the sweep's %d", rr.Opened, rr.Escalated, opened, escalatedAll, escalated)
	}
}

func checkNoDuplicateCases(t *testing.T, raw *sql.DB) {
	t.Helper()
	var dup int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM (SELECT moment_id FROM recovery_cases GROUP BY moment_id HAVING COUNT(*) > 1) x`).Scan(&dup); err != nil {
		t.Fatal(err)
	}
	if dup != 0 {
		t.Errorf("%d moments have more than one case", dup)
	}
}

// TestBriefOfLongHistory checks that the brief's latest magic and misery
// moments and the people who served the customer, read from totals kept as
// moments arrive, are those the customer's whole history says: moments of
// many days from several people, recorded late and out of order, singly
// and in batches, some on the same day.
func TestBriefOfLongHistory(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		rnd := rand.New(rand.NewPCG(7, uint64(len(s.backend))))
		staff := []*rapport.User{s.user(t, "Ann Able"), s.user(t, "Ben Baker"), s.user(t, "Cy Cole"), s.user(t, "Di Dunn")}
		c := s.customer(t, &rapport.Customer{Name: "Long History"})
		other := s.customer(t, &rapport.Customer{Name: "Someone Else"})
		var batch []*rapport.Moment
		for i := range 240 {
			m := s.moment(c.ID)
			m.OccurredAt = epoch.Add(-time.Duration(rnd.IntN(200*24)) * time.Hour)
			m.Rating = ptr(3)
			switch r := rnd.IntN(20); {
			case r == 0:
				m.Rating = ptr(5) // magic, rarely
			case r < 4:
				m.Rating = ptr(1)
			}
			if k := rnd.IntN(6); k < len(staff) {
				m.StaffID = staff[k].ID
			}
			if i%3 == 0 {
				batch = append(batch, m)
				continue
			}
			s.record(t, m)
		}
		if _, err := s.moments.RecordMoments(ctx, batch); err != nil {
			t.Fatal(err)
		}
		// Someone else's moments count for them only.
		for range 5 {
			m := s.moment(other.ID)
			m.Rating, m.StaffID = ptr(5), staff[3].ID
			s.record(t, m)
		}

		b, err := sqlstore.NewBriefService(s.db).Brief(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []rapport.Outcome{rapport.OutcomeMagic, rapport.OutcomeMisery} {
			var want []string
			rows, err := s.raw.Query(fmt.Sprintf(`SELECT id FROM moments WHERE customer_id = '%s' AND outcome = '%s'
				ORDER BY occurred_at DESC, id DESC LIMIT 3`, c.ID, o))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				want = append(want, id)
			}
			rows.Close()
			got := b.Magic
			if o == rapport.OutcomeMisery {
				got = b.Misery
			}
			var ids []string
			for _, m := range got {
				ids = append(ids, m.ID)
			}
			if len(want) == 0 || show(ids) != show(want) {
				t.Errorf("latest %s moments = %v; want %v from the history", o, ids, want)
			}
		}

		type served struct {
			id     string
			n      int
			lastAt int64
		}
		var want []served
		rows, err := s.raw.Query(fmt.Sprintf(`SELECT staff_id, COUNT(*), MAX(occurred_at) FROM moments
			WHERE customer_id = '%s' AND staff_id IS NOT NULL GROUP BY staff_id ORDER BY COUNT(*) DESC, MAX(occurred_at) DESC, staff_id`, c.ID))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var w served
			if err := rows.Scan(&w.id, &w.n, &w.lastAt); err != nil {
				t.Fatal(err)
			}
			want = append(want, w)
		}
		rows.Close()
		var got []served
		for _, p := range b.People {
			got = append(got, served{p.ID, p.Moments, p.LastAt.UnixMicro()})
		}
		if len(want) != len(staff) || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("people = %v; want %v from the history", got, want)
		}
	})
}
