package sqlstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestToday: an agent's list names each customer to contact today with the
// reasons (a promise past due, a case due, a handover, a silence too long
// for the stage), most pressing first, with the response suggested; a
// customer contacted today and someone else's customers are not on it; a
// manager's list for the team has both agents' customers.
func TestToday(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		alex, bea := s.user(t, "Alex Agent"), s.user(t, "Bea Agent")
		for _, r := range []*rapport.Response{
			{Touchpoint: "complaint", Key: "call_back", Description: "Call back.", Status: rapport.ResponseTrial, Tags: []string{"phone_call"}},
			{Touchpoint: "complaint", Key: "email_apology", Description: "Email.", Status: rapport.ResponseTrial, Tags: []string{"email"}},
		} {
			if err := sqlstore.NewResponseService(s.db).CreateResponse(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := sqlstore.NewStandardService(s.db).PromoteResponse(ctx, "complaint", "email_apology"); err != nil {
			t.Fatal(err)
		}
		owned := func(name, owner string, stage rapport.Stage) *rapport.Customer {
			return s.customer(t, &rapport.Customer{Name: name, OwnerID: owner, Stage: stage})
		}
		quinn := owned("Quiet Quinn", alex.ID, rapport.StageCommitment)
		m := s.moment(quinn.ID)
		m.OccurredAt = s.clock.Now().Add(-100 * 24 * time.Hour)
		s.record(t, m)
		fred := owned("Fine Fred", alex.ID, rapport.StageCommitment)
		s.record(t, s.moment(fred.ID))
		hana := owned("Handed Hana", bea.ID, rapport.StageExpansion)
		if _, err := s.customers.UpdateCustomer(ctx, hana.ID, rapport.CustomerUpdate{OwnerID: &alex.ID}); err != nil {
			t.Fatal(err)
		}
		lucy := owned("Late Lucy", alex.ID, rapport.StageExpansion)
		bob := owned("Bea's Bob", bea.ID, rapport.StageExpansion)
		promises := sqlstore.NewPromiseService(s.db)
		for _, p := range []*rapport.Promise{
			{CustomerID: lucy.ID, StaffID: alex.ID, Text: "Send the renewal quote", DueAt: s.clock.Now().Add(time.Hour)},
			{CustomerID: bob.ID, StaffID: bea.ID, Text: "Ring about the claim", DueAt: s.clock.Now().Add(3 * time.Hour)},
		} {
			if err := promises.CreatePromise(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		carl := owned("Case Carl", alex.ID, rapport.StageExpansion)
		s.clock.Add(2 * time.Hour) // Lucy's promise is now late
		s.record(t, &rapport.Moment{CustomerID: carl.ID, Touchpoint: "complaint", Channel: rapport.ChannelPhone,
			OccurredAt: s.clock.Now().Add(-time.Minute), Response: "call_back", Outcome: rapport.OutcomeMisery})

		today := sqlstore.NewTodayService(s.db)
		list, err := today.Today(ctx, rapport.TodayFilter{StaffIDs: []string{alex.ID}})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		kinds := map[string][]string{}
		for _, c := range list {
			names = append(names, c.CustomerName)
			for _, r := range c.Reasons {
				kinds[c.CustomerName] = append(kinds[c.CustomerName], r.Kind)
			}
		}
		t.Logf("alex's list: %v %v", names, kinds)
		want := map[string]string{"Late Lucy": rapport.ContactPromiseLate, "Case Carl": rapport.ContactCaseDue,
			"Handed Hana": rapport.ContactHandedOver, "Quiet Quinn": rapport.ContactSilent}
		for name, kind := range want {
			if !slices.Contains(kinds[name], kind) {
				t.Errorf("%s's reasons %v; want %s", name, kinds[name], kind)
			}
		}
		if len(list) != len(want) {
			t.Errorf("alex's list %v; want exactly %d customers (not Fred, contacted today, nor Bea's Bob)", names, len(want))
		}
		pos := func(name string) int { return slices.Index(names, name) }
		if !(pos("Late Lucy") < pos("Handed Hana") && pos("Case Carl") < pos("Handed Hana") && pos("Handed Hana") < pos("Quiet Quinn")) {
			t.Errorf("order %v; want the late promise and the case before the handover, and the silence last", names)
		}
		for _, c := range list {
			if c.CustomerName == "Case Carl" && (c.Suggestion == nil || c.Touchpoint != "complaint" || c.Suggestion.Suggested != "email_apology") {
				t.Errorf("Carl's contact is about %q with suggestion %+v; want the complaint's standard", c.Touchpoint, c.Suggestion)
			}
			if c.StaffName != "Alex Agent" {
				t.Errorf("%s's contact is for %q; want Alex Agent", c.CustomerName, c.StaffName)
			}
			if c.CustomerName == "Quiet Quinn" && !strings.Contains(c.Reasons[0].Text, "No contact for 100 days") {
				t.Errorf("Quinn's reason %q", c.Reasons[0].Text)
			}
		}
		team, err := today.Today(ctx, rapport.TodayFilter{StaffIDs: []string{alex.ID, bea.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if len(team) != len(want)+1 {
			t.Errorf("the team's list has %d customers; want %d with Bea's Bob", len(team), len(want)+1)
		}
	})
}
