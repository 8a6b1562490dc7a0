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

// TestStaffNotifications: the person who must act is told, in their list
// and by email through a real SMTP server: a case opened for the owner, a
// case reassigned, an overdue case escalated to the assignee's manager, a
// promise due tomorrow (once), a promise broken, a customer handed over.
// Someone who chose not to get a kind by email still finds it listed.
func TestStaffNotifications(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		f := newMailFixture(t, s, nil)
		notes := sqlstore.NewNotificationService(s.db)
		recovery, promises := sqlstore.NewRecoveryService(s.db), sqlstore.NewPromiseService(s.db)
		mo := &rapport.User{Name: "Mo Manager", Email: "mo@firm.example", Role: rapport.RoleManager}
		if err := s.users.CreateUser(ctx, mo); err != nil {
			t.Fatal(err)
		}
		ann := s.user(t, "Ann Agent")
		bob := &rapport.User{Name: "Bob Agent", Email: "bob@firm.example", Role: rapport.RoleAgent, ManagerID: mo.ID}
		if err := s.users.CreateUser(ctx, bob); err != nil {
			t.Fatal(err)
		}
		if err := notes.SetNotificationPrefs(ctx, ann.ID, rapport.NotificationPrefs{rapport.NotifyPromiseBroken: false}); err != nil {
			t.Fatal(err)
		}
		if err := notes.SetNotificationPrefs(ctx, ann.ID, rapport.NotificationPrefs{"bogus": true}); rapport.ErrorCode(err) != rapport.EINVALID {
			t.Errorf("SetNotificationPrefs(bogus) = %v; want EINVALID", err)
		}
		c := s.customer(t, &rapport.Customer{Name: "Ada Lovelace", OwnerID: ann.ID})
		m := s.moment(c.ID)
		m.Rating = ptr(1)
		s.record(t, m) // misery: a case for Ann

		cases, err := recovery.FindCases(ctx, rapport.CaseFilter{CustomerID: c.ID})
		if err != nil || len(cases.Items) != 1 {
			t.Fatalf("cases = %v, %v", cases, err)
		}
		if _, err := recovery.UpdateCase(ctx, cases.Items[0].ID, rapport.CaseUpdate{AssigneeID: &bob.ID}); err != nil {
			t.Fatal(err)
		}
		s.clock.Add(8 * 24 * time.Hour) // past any due time: escalated to Bob's manager
		if n, err := recovery.Escalate(ctx); err != nil || n != 1 {
			t.Fatalf("Escalate() = %d, %v", n, err)
		}
		p := &rapport.Promise{CustomerID: c.ID, StaffID: ann.ID, Text: "Call back with the refund", DueAt: s.clock.Now().Add(20 * time.Hour)}
		if err := promises.CreatePromise(ctx, p); err != nil {
			t.Fatal(err)
		}
		for want := range []int{1, 0} { // told once
			if n, err := notes.NotifyPromisesDue(ctx); err != nil || n != 1-want {
				t.Errorf("NotifyPromisesDue() = %d, %v; want %d", n, err, 1-want)
			}
		}
		s.clock.Add(21 * time.Hour)
		if n, err := promises.BreakOverdue(ctx); err != nil || n != 1 {
			t.Fatalf("BreakOverdue() = %d, %v", n, err)
		}
		if _, err := s.customers.UpdateCustomer(ctx, c.ID, rapport.CustomerUpdate{OwnerID: &bob.ID}); err != nil {
			t.Fatal(err)
		}

		titles := func(u *rapport.User) string {
			list, err := notes.FindNotifications(ctx, u.ID, 20)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, n := range list.Items {
				out = append(out, n.Kind)
			}
			slices.Sort(out)
			return strings.Join(out, ", ")
		}
		for _, tc := range []struct {
			who  *rapport.User
			want string
		}{
			// The broken promise's misery moment opened a second case for Ann.
			{ann, "case.assigned, case.assigned, promise.broken, promise.due"},
			{bob, "case.assigned, customer.handover"},
			{mo, "case.escalated"},
		} {
			if got := titles(tc.who); got != tc.want {
				t.Errorf("%s was told of %q; want %q", tc.who.Name, got, tc.want)
			}
		}
		// Ann's broken promise is listed but, as she chose, not emailed.
		f.send(t, 6)
		got := map[string][]string{}
		for _, msg := range f.smtp.Wait(t, 6, 5*time.Second) {
			got[msg.To] = append(got[msg.To], msg.Subject)
		}
		if s := strings.Join(got["ann.agent@firm.example"], " | "); !strings.Contains(s, "A recovery case for Ada Lovelace is yours") ||
			!strings.Contains(s, "Due within a day: your promise to Ada Lovelace") || strings.Contains(s, "Broken") {
			t.Errorf("Ann's emails: %s", s)
		}
		if s := strings.Join(got["mo@firm.example"], " | "); !strings.Contains(s, "escalated to you") {
			t.Errorf("Mo's emails: %s", s)
		}
		if s := strings.Join(got["bob@firm.example"], " | "); !strings.Contains(s, "is now your customer") {
			t.Errorf("Bob's emails: %s", s)
		}

		list, err := notes.FindNotifications(ctx, ann.ID, 0)
		if err != nil || list.Unread != 4 {
			t.Errorf("Ann's unread = %d, %v; want 4", list.Unread, err)
		}
		if err := notes.MarkNotificationsRead(ctx, ann.ID); err != nil {
			t.Fatal(err)
		}
		if list, _ := notes.FindNotifications(ctx, ann.ID, 0); list.Unread != 0 {
			t.Errorf("Ann's unread after reading = %d; want 0", list.Unread)
		}
	})
}

// TestNotificationDigest: someone who chose a digest gets no single
// emails; from 7:00 UTC one email lists what came since, without the kinds
// they do not want by email, and no second digest goes that day.
func TestNotificationDigest(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		f := newMailFixture(t, s, nil)
		notes := sqlstore.NewNotificationService(s.db)
		ann := s.user(t, "Ann Agent")
		if err := notes.SetNotificationPrefs(ctx, ann.ID, rapport.NotificationPrefs{rapport.NotifyDigest: true,
			rapport.NotifyPromiseDue: false}); err != nil {
			t.Fatal(err)
		}
		c := s.customer(t, &rapport.Customer{Name: "Ada Lovelace", OwnerID: ann.ID})
		m := s.moment(c.ID)
		m.Rating = ptr(1)
		s.record(t, m) // a case for Ann, at 9:30
		p := &rapport.Promise{CustomerID: c.ID, StaffID: ann.ID, Text: "Call back", DueAt: s.clock.Now().Add(20 * time.Hour)}
		if err := sqlstore.NewPromiseService(s.db).CreatePromise(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := notes.NotifyPromisesDue(ctx); err != nil {
			t.Fatal(err)
		}
		f.send(t, 0) // nothing one by one
		if n, err := notes.SendDigests(ctx); err != nil || n != 1 {
			t.Fatalf("SendDigests() at 9:30 = %d, %v; want 1", n, err)
		}
		f.send(t, 1)
		got := f.smtp.Wait(t, 1, 5*time.Second)[0]
		if got.To != ann.Email || got.Subject != "Rapport: 1 thing for you today" || !strings.Contains(got.Text, "A recovery case for Ada Lovelace") ||
			strings.Contains(got.Text, "Call back") {
			t.Errorf("the digest to %q, %q:\n%s", got.To, got.Subject, got.Text)
		}
		// Another case the same day waits for tomorrow's digest.
		m2 := s.moment(c.ID)
		m2.Rating, m2.Touchpoint = ptr(2), "complaint"
		s.record(t, m2)
		if n, err := notes.SendDigests(ctx); err != nil || n != 0 {
			t.Errorf("a second SendDigests() the same day = %d, %v; want 0", n, err)
		}
		s.clock.Add(24 * time.Hour)
		if n, err := notes.SendDigests(ctx); err != nil || n != 1 {
			t.Errorf("SendDigests() the next day = %d, %v; want 1", n, err)
		}
	})
}
