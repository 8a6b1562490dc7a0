package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

// TestDeactivateUser: an agent who leaves is deactivated. Their session and
// token stop at once on this server and within seconds on another sharing
// the database, their right password is refused with a message saying why
// while a wrong one gets the usual answer, pickers of active users no longer
// list them, and reactivating lets them sign in again. The last active admin
// can be neither deactivated nor, while deactivated users are admins too,
// counted twice.
func TestDeactivateUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, here *store) {
		ctx := context.Background()
		there, err := sqlstore.Open(ctx, here.dsn, here.clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		defer there.Close()
		passwords, sessions := sqlstore.NewPasswordService(here.db), sqlstore.NewSessionService(here.db)
		thereTokens := sqlstore.NewTokenService(there)

		ada := &rapport.User{Email: "ada@firm.example", Name: "Ada Admin", Role: rapport.RoleAdmin}
		ann := &rapport.User{Email: "ann@firm.example", Name: "Ann Agent", Role: rapport.RoleAgent}
		for _, u := range []*rapport.User{ada, ann} {
			if err := here.users.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if !u.Active || u.DeactivatedAt != nil {
				t.Errorf("a new user is active %v since %v; want active", u.Active, u.DeactivatedAt)
			}
		}
		const password = "correct horse battery"
		if err := passwords.SetPassword(ctx, ann.ID, password); err != nil {
			t.Fatal(err)
		}
		_, session, err := sessions.CreateSession(ctx, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		secret, err := here.tokens.CreateToken(ctx, &rapport.Token{Name: "ann's phone", Role: rapport.RoleAgent, UserID: ann.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, tokens := range []*sqlstore.TokenService{here.tokens, thereTokens} {
			if _, err := tokens.Authenticate(ctx, secret); err != nil {
				t.Fatalf("Authenticate before deactivating = %v", err)
			}
		}

		here.clock.Add(time.Minute)
		off, on := false, true
		got, err := here.users.UpdateUser(ctx, ann.ID, rapport.UserUpdate{Active: &off})
		if err != nil {
			t.Fatalf("deactivate Ann = %v", err)
		}
		if got.Active || got.DeactivatedAt == nil || !got.DeactivatedAt.Equal(epoch.Add(time.Minute)) {
			t.Errorf("deactivated Ann is active %v since %v; want inactive since %v", got.Active, got.DeactivatedAt, epoch.Add(time.Minute))
		}
		if stored, _ := here.users.FindUserByID(ctx, ann.ID); show(stored) != show(got) {
			t.Errorf("stored Ann = %s; want %s", show(stored), show(got))
		}

		_, err = sessions.FindSessionBySecret(ctx, session)
		wantCode(t, "FindSessionBySecret after deactivating", err, rapport.EUNAUTHORIZED)
		_, err = here.tokens.Authenticate(ctx, secret)
		wantCode(t, "Authenticate on the server that deactivated her", err, rapport.EUNAUTHORIZED)
		here.clock.Add(5 * time.Second)
		_, err = thereTokens.Authenticate(ctx, secret)
		wantCode(t, "Authenticate on another server 5 s later", err, rapport.EUNAUTHORIZED)

		_, err = passwords.AuthenticatePassword(ctx, ann.Email, password)
		wantCode(t, "AuthenticatePassword(right password, deactivated)", err, rapport.EUNAUTHORIZED)
		if msg := rapport.ErrorMessage(err); !strings.Contains(msg, "deactivated") {
			t.Errorf("the right password of a deactivated user is refused with %q; want it to say the account is deactivated", msg)
		}
		_, err = passwords.AuthenticatePassword(ctx, ann.Email, "wrong password here")
		if msg := rapport.ErrorMessage(err); msg != "The email or password is not right." {
			t.Errorf("a wrong password of a deactivated user is refused with %q; want the usual answer, which tells a stranger nothing", msg)
		}
		_, _, err = sessions.CreateSession(ctx, ann.ID)
		wantCode(t, "CreateSession(deactivated)", err, rapport.EUNAUTHORIZED)

		active, inactive := ptr(true), ptr(false)
		for _, tt := range []struct {
			f    rapport.UserFilter
			want string
		}{
			{rapport.UserFilter{Active: active}, "Ada Admin"},
			{rapport.UserFilter{Active: inactive}, "Ann Agent"},
			{rapport.UserFilter{}, "Ada Admin, Ann Agent"},
		} {
			users, err := here.users.FindUsers(ctx, tt.f)
			var names []string
			for _, u := range users {
				names = append(names, u.Name)
			}
			if got := strings.Join(names, ", "); err != nil || got != tt.want {
				t.Errorf("FindUsers(active %v) = %s, %v; want %s", tt.f.Active, got, err, tt.want)
			}
		}

		// Ada is the only active admin: she may not deactivate herself, and a
		// deactivated admin does not count as a second one.
		admin := rapport.RoleAdmin
		if _, err := here.users.UpdateUser(ctx, ann.ID, rapport.UserUpdate{Role: &admin}); err != nil {
			t.Fatalf("make deactivated Ann an admin = %v", err)
		}
		_, err = here.users.UpdateUser(ctx, ada.ID, rapport.UserUpdate{Active: &off})
		wantCode(t, "the last active admin deactivates herself", err, rapport.ECONFLICT)
		if fe := rapport.ErrorFields(err); len(fe) != 1 || fe[0].Field != "active" ||
			rapport.ErrorMessage(err) != "Ada Admin is the only active admin: make someone else an admin before deactivating them." {
			t.Errorf("refusal = %q %v; want the reason, on the field active", rapport.ErrorMessage(err), fe)
		}
		if u, _ := here.users.FindUserByID(ctx, ada.ID); !u.Active {
			t.Error("after the refusal Ada is deactivated")
		}

		// Reactivated, Ann signs in again and her token, never revoked, works.
		here.clock.Add(time.Minute)
		if u, err := here.users.UpdateUser(ctx, ann.ID, rapport.UserUpdate{Active: &on}); err != nil || !u.Active || u.DeactivatedAt != nil {
			t.Fatalf("reactivate Ann = %+v, %v; want active", u, err)
		}
		if _, err := passwords.AuthenticatePassword(ctx, ann.Email, password); err != nil {
			t.Errorf("AuthenticatePassword after reactivating = %v", err)
		}
		if _, err := here.tokens.Authenticate(ctx, secret); err != nil {
			t.Errorf("Authenticate after reactivating = %v", err)
		}
		_, err = sessions.FindSessionBySecret(ctx, session)
		wantCode(t, "the session ended by deactivation, after reactivating", err, rapport.EUNAUTHORIZED)
		// With Ann an active admin again, Ada may now step away.
		if _, err := here.users.UpdateUser(ctx, ada.ID, rapport.UserUpdate{Active: &off}); err != nil {
			t.Errorf("deactivate Ada with Ann an active admin = %v", err)
		}

		// Each change is in the audit log, with before and after.
		var changes []string
		rows, err := here.raw.Query(`SELECT changes FROM audit_log WHERE entity_type = 'user' AND entity_id = $1 AND action = 'update' ORDER BY id`, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(c, `"active"`) {
				changes = append(changes, c)
			}
		}
		if len(changes) != 2 || !strings.Contains(changes[0], `"active":{"before":true,"after":false}`) ||
			!strings.Contains(changes[1], `"active":{"before":false,"after":true}`) {
			t.Errorf("the audit log's changes of Ann's activity = %q; want deactivated, then reactivated", changes)
		}
	})
}

// TestDeactivatedUserGetsNoNewWork: the customers a deactivated owner has
// stay theirs, and can still be edited, until handed over to someone
// active; but the deactivated owner is given no new work: a misery moment of
// their customer opens a case for the queue, and neither a case, a new
// customer nor a handover can name them.
func TestDeactivatedUserGetsNoNewWork(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		recovery, handovers := sqlstore.NewRecoveryService(s.db), sqlstore.NewHandoverService(s.db)
		olive, bob := s.user(t, "Olive Owner"), s.user(t, "Bob Active")
		ada := s.customer(t, &rapport.Customer{Name: "Ada", OwnerID: olive.ID})
		off := false
		if _, err := s.users.UpdateUser(ctx, olive.ID, rapport.UserUpdate{Active: &off}); err != nil {
			t.Fatal(err)
		}

		s.record(t, s.misery(ada.ID, "complaint"))
		cases := s.cases(t, rapport.CaseFilter{CustomerID: ada.ID})
		if len(cases) != 1 || cases[0].AssigneeID != "" {
			t.Fatalf("the misery moment of a deactivated owner's customer opened %s; want one case, for the queue", show(cases))
		}
		_, err := recovery.UpdateCase(ctx, cases[0].ID, rapport.CaseUpdate{AssigneeID: &olive.ID})
		wantCode(t, "assign a case to a deactivated user", err, rapport.EINVALID)
		if fe := rapport.ErrorFields(err); len(fe) != 1 || fe[0].Field != "assignee_id" || !strings.Contains(fe[0].Message, "deactivated") {
			t.Errorf("the refusal names %v; want assignee_id, saying the user is deactivated", fe)
		}

		err = s.customers.CreateCustomer(ctx, &rapport.Customer{Name: "Grace", OwnerID: olive.ID})
		wantCode(t, "a new customer owned by a deactivated user", err, rapport.EINVALID)
		_, err = importCustomers(t, s, "name,owner_email\nGrace,olive.owner@firm.example\n", rapport.ImportOptions{})
		if got := rowProblems(err); len(got) != 1 || got[0] != "row 2, owner_email" {
			t.Errorf("importing a customer owned by a deactivated user = %v (%v); want row 2's owner_email refused", got, err)
		}
		name := "Ada Lovelace"
		if _, err := s.customers.UpdateCustomer(ctx, ada.ID, rapport.CustomerUpdate{Name: &name}); err != nil {
			t.Errorf("edit a customer a deactivated user still owns = %v; want it saved", err)
		}

		_, err = handovers.HandOver(ctx, rapport.HandoverInput{CustomerIDs: []string{ada.ID}, ToOwner: olive.ID})
		wantCode(t, "a handover to a deactivated user", err, rapport.EINVALID)
		res, err := handovers.HandOver(ctx, rapport.HandoverInput{FromOwner: olive.ID, ToOwner: bob.ID, MoveCases: true})
		if err != nil || len(res.Customers) != 1 {
			t.Fatalf("hand over the deactivated owner's customers = %+v, %v; want Ada moved", res, err)
		}
		if c, _ := s.customers.FindCustomerByID(ctx, ada.ID); c.OwnerID != bob.ID {
			t.Errorf("after the handover Ada is owned by %q; want Bob", c.OwnerID)
		}
	})
}

// TestDeactivatedManagerNotEscalatedTo: an agent and their manager have
// both left. The agent's overdue case escalates to the policy's role, not to
// the deactivated manager, and neither of them is notified of anything.
func TestDeactivatedManagerNotEscalatedTo(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		recovery := sqlstore.NewRecoveryService(s.db)
		boss := s.user(t, "Maya Manager")
		agent := &rapport.User{Name: "Dylan Agent", Email: "dylan@firm.example", Role: rapport.RoleAgent, ManagerID: boss.ID}
		if err := s.users.CreateUser(ctx, agent); err != nil {
			t.Fatal(err)
		}
		owned := s.customer(t, &rapport.Customer{Name: "Ada", OwnerID: agent.ID})
		s.record(t, s.misery(owned.ID, "complaint"))
		notices := func(userID string) int {
			var n int
			if err := s.raw.QueryRow(`SELECT COUNT(*) FROM notifications WHERE user_id = $1`, userID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := notices(agent.ID) + notices(boss.ID)
		off := false
		for _, u := range []*rapport.User{agent, boss} {
			if _, err := s.users.UpdateUser(ctx, u.ID, rapport.UserUpdate{Active: &off}); err != nil {
				t.Fatal(err)
			}
		}
		s.clock.Add(49 * time.Hour)
		if n, err := recovery.Escalate(ctx); err != nil || n != 1 {
			t.Fatalf("Escalate = %d, %v; want the one overdue case", n, err)
		}
		got := s.cases(t, rapport.CaseFilter{CustomerID: owned.ID})
		if len(got) != 1 || got[0].EscalatedTo != "" || got[0].EscalatedRole != rapport.RoleManager {
			t.Errorf("the deactivated agent's overdue case = %s; want escalated to the manager role, not the deactivated manager", show(got))
		}
		if after := notices(agent.ID) + notices(boss.ID); after != before {
			t.Errorf("the deactivated agent and manager have %d notices after the escalation; want %d as before", after, before)
		}
	})
}

// TestAdminsDeactivateEachOtherAtOnce: the firm's two admins deactivate each
// other at the same moment. Exactly one succeeds, so the firm always keeps
// an active admin, on PostgreSQL's concurrent transactions too.
func TestAdminsDeactivateEachOtherAtOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		for round := range 5 {
			var admins [2]*rapport.User
			for i := range admins {
				admins[i] = &rapport.User{Email: fmt.Sprintf("admin%d-%d@firm.example", round, i), Name: fmt.Sprintf("Admin %d", i), Role: rapport.RoleAdmin}
				if err := s.users.CreateUser(ctx, admins[i]); err != nil {
					t.Fatal(err)
				}
			}
			// Only this round's two are active admins.
			if round > 0 {
				if _, err := s.raw.Exec(`UPDATE users SET deactivated_at = 1 WHERE email NOT LIKE $1`, fmt.Sprintf("admin%d-%%", round)); err != nil {
					t.Fatal(err)
				}
			}
			off := false
			errs := make(chan error, 2)
			var start sync.WaitGroup
			start.Add(1)
			for _, a := range admins {
				go func() {
					start.Wait()
					_, err := s.users.UpdateUser(ctx, a.ID, rapport.UserUpdate{Active: &off})
					errs <- err
				}()
			}
			start.Done()
			ok, refused := 0, 0
			for range 2 {
				switch err := <-errs; rapport.ErrorCode(err) {
				case "":
					ok++
				case rapport.ECONFLICT:
					refused++
				default:
					t.Fatalf("round %d: UpdateUser = %v", round, err)
				}
			}
			if ok != 1 || refused != 1 {
				t.Fatalf("round %d: %d deactivations went through and %d were refused; want one of each", round, ok, refused)
			}
		}
	})
}
