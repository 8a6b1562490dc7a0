package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestHandOverLeavingPerson hands every customer of a person who is
// leaving to a colleague in one step, with their open promises and cases
// and a note: refused input changes nothing; the owners, the history, the
// brief, the promise counts, the cases and the new owner's first contacts
// are what the handover says.
func TestHandOverLeavingPerson(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		hand := sqlstore.NewHandoverService(s.db)
		recovery := sqlstore.NewRecoveryService(s.db)
		leaving, taking, other := s.user(t, "Lee Leaving"), s.user(t, "Tia Taking"), s.user(t, "Otto Other")
		var hers []*rapport.Customer
		for _, name := range []string{"Ada", "Bea", "Cy"} {
			hers = append(hers, s.customer(t, &rapport.Customer{Name: name, OwnerID: leaving.ID}))
		}
		kept := s.customer(t, &rapport.Customer{Name: "Dot", OwnerID: other.ID})
		open := s.promise(t, hers[0].ID, leaving.ID, 48*time.Hour)
		byOther := s.promise(t, hers[0].ID, other.ID, 48*time.Hour)
		misery := s.moment(hers[1].ID)
		misery.Rating = ptr(1)
		s.record(t, misery)
		cases, err := recovery.FindCases(ctx, rapport.CaseFilter{CustomerID: hers[1].ID, Limit: 10})
		if err != nil || len(cases.Items) != 1 {
			t.Fatalf("FindCases = %d, %v; want the misery's case", len(cases.Items), err)
		}
		if _, err := recovery.UpdateCase(ctx, cases.Items[0].ID, rapport.CaseUpdate{AssigneeID: &leaving.ID}); err != nil {
			t.Fatal(err)
		}

		for _, bad := range []rapport.HandoverInput{
			{FromOwner: leaving.ID, ToOwner: "nosuch"},
			{FromOwner: leaving.ID},
			{FromOwner: leaving.ID, Segment: "x", ToOwner: taking.ID},
			{CustomerIDs: []string{hers[0].ID, "nosuch"}, ToOwner: taking.ID},
		} {
			_, err := hand.HandOver(ctx, bad)
			wantCode(t, "HandOver(bad)", err, rapport.EINVALID)
		}
		if n := s.count(t, "handovers", ""); n != 0 {
			t.Fatalf("%d handovers after refused input", n)
		}

		s.clock.Add(time.Hour)
		res, err := hand.HandOver(ctx, rapport.HandoverInput{FromOwner: leaving.ID, ToOwner: taking.ID, MovePromises: true,
			MoveCases: true, Note: "Ada prefers calls after five; Cy is waiting on a quote."})
		if err != nil {
			t.Fatalf("HandOver = %v", err)
		}
		if len(res.Customers) != 3 || res.Promises != 1 || res.Cases != 1 {
			t.Errorf("result = %+v; want 3 customers, 1 promise, 1 case", res)
		}
		for _, c := range hers {
			got, _ := s.customers.FindCustomerByID(ctx, c.ID)
			if got.OwnerID != taking.ID {
				t.Errorf("%s is owned by %s; want Tia", c.Name, got.OwnerID)
			}
		}
		if got, _ := s.customers.FindCustomerByID(ctx, kept.ID); got.OwnerID != other.ID {
			t.Error("a customer of someone else changed hands")
		}
		brief, err := sqlstore.NewBriefService(s.db).Brief(ctx, hers[0].ID)
		if err != nil || len(brief.Handovers) != 1 || brief.Handovers[0].Note != "Ada prefers calls after five; Cy is waiting on a quote." ||
			brief.Handovers[0].FromName != "Lee Leaving" || brief.Handovers[0].ToName != "Tia Taking" {
			t.Errorf("brief handovers = %s, %v", show(brief.Handovers), err)
		}
		promises := sqlstore.NewPromiseService(s.db)
		if p, _ := promises.FindPromiseByID(ctx, open.ID); p.StaffID != taking.ID {
			t.Errorf("the leaving person's open promise is with %q; want Tia", p.StaffID)
		}
		if p, _ := promises.FindPromiseByID(ctx, byOther.ID); p.StaffID != other.ID {
			t.Errorf("a colleague's promise moved to %q", p.StaffID)
		}
		counted := tableRows(t, s, `SELECT staff_id, status, promises FROM promise_counts`)
		if err := sqlstore.RebuildPromiseCounts(ctx, s.db); err != nil {
			t.Fatal(err)
		}
		if rebuilt := tableRows(t, s, `SELECT staff_id, status, promises FROM promise_counts`); !slices.Equal(counted, rebuilt) {
			t.Errorf("promise counts kept = %q; counted afresh = %q", counted, rebuilt)
		}
		if c, _ := recovery.FindCaseByID(ctx, cases.Items[0].ID); c.AssigneeID != taking.ID {
			t.Errorf("the open case is with %q; want Tia", c.AssigneeID)
		}
		// Segment rules read the owner from the measures' copy.
		members := members(t, relationships(s), segmentOf(t, s, `owner = "`+taking.ID+`"`), 10)
		if len(members) != 3 {
			t.Errorf("the segment of Tia's customers has %d members; want 3", len(members))
		}

		first, err := hand.FirstContacts(ctx, taking.ID, 10)
		if err != nil || len(first) != 3 || first[0].FromName != "Lee Leaving" || first[0].Note == "" {
			t.Fatalf("FirstContacts = %s, %v; want the three with the note", show(first), err)
		}
		s.clock.Add(time.Hour)
		m := s.moment(hers[2].ID)
		m.StaffID, m.OccurredAt = taking.ID, s.clock.Now()
		s.record(t, m)
		if first, _ = hand.FirstContacts(ctx, taking.ID, 10); len(first) != 2 {
			t.Errorf("after a moment with Cy, %d first contacts; want 2", len(first))
		}
		// Handing over to the owner they have changes nothing.
		if res, err := hand.HandOver(ctx, rapport.HandoverInput{CustomerIDs: []string{hers[0].ID}, ToOwner: taking.ID}); err != nil || len(res.Customers) != 0 {
			t.Errorf("HandOver to the same owner = %+v, %v; want nothing changed", res, err)
		}
		// Erasing a customer's personal data clears the note about them.
		if _, err := sqlstore.NewErasureService(s.db).EraseCustomer(ctx, hers[0].ID); err != nil {
			t.Fatal(err)
		}
		if n := s.count(t, "handovers", "note <> ''"); n != 2 {
			t.Errorf("%d handovers keep a note after erasing Ada; want the other 2", n)
		}
		s.clock.Add(31 * 24 * time.Hour)
		if first, _ = hand.FirstContacts(ctx, taking.ID, 10); len(first) != 0 {
			t.Errorf("a month on, %d first contacts; want none", len(first))
		}
	})
}

func segmentOf(t *testing.T, s *store, rule string) string {
	t.Helper()
	sg := &rapport.Segment{Name: "Rule " + rule, Rule: rule}
	if err := sqlstore.NewSegmentService(s.db).CreateSegment(context.Background(), sg); err != nil {
		t.Fatal(err)
	}
	return sg.ID
}
