package sqlstore_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/csvio"
	"github.com/rapport-crm/rapport/sqlstore"
)

// auditCtx is a request by a signed-in user from an address.
func auditCtx(u *rapport.User) context.Context {
	return rapport.NewContextWithPrincipal(context.Background(),
		&rapport.Principal{UserID: u.ID, Name: u.Name, Role: rapport.RoleAdmin, Address: "192.0.2.7"})
}

// auditEntries returns every entry of the audit log, oldest first.
func auditEntries(t *testing.T, s *store) []*rapport.AuditEntry {
	t.Helper()
	var out []*rapport.AuditEntry
	err := sqlstore.NewAuditService(s.db).ExportAudit(context.Background(), rapport.AuditFilter{}, func(e *rapport.AuditEntry) error {
		out = append([]*rapport.AuditEntry{e}, out...)
		return nil
	})
	if err != nil {
		t.Fatalf("ExportAudit = %v", err)
	}
	return out
}

func chg(before, after any) rapport.AuditChange {
	return rapport.AuditChange{Before: before, After: after}
}

func readCustomers(t *testing.T, file string) *rapport.CustomerFile {
	t.Helper()
	f, err := csvio.ReadCustomers(strings.NewReader(file))
	if err != nil {
		t.Fatalf("ReadCustomers = %v", err)
	}
	return f
}

// TestAuditRecordsEachChange makes each kind of change and finds exactly
// one new entry for it, with who, from where, what and the changed fields,
// and no personal data anywhere in the log.
func TestAuditRecordsEachChange(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		admin := s.user(t, "Audra Admin")
		ctx := auditCtx(admin)
		s.clock.Add(time.Second)
		cust := &rapport.Customer{Name: "Zelda Quixote", Email: "zelda@home.example", Phone: "+44 20 7946 0000",
			Attributes: map[string]any{"region": "north", "segment": "gold", "age": 41.0}}
		var (
			staff   *rapport.User
			token   *rapport.Token
			hook    *rapport.Webhook
			segment *rapport.Segment
			promise *rapport.Promise
		)
		hooks := sqlstore.NewWebhookService(s.db, sqlstore.WebhookOptions{})
		segments := sqlstore.NewSegmentService(s.db)
		promises := sqlstore.NewPromiseService(s.db)
		steps := []struct {
			name, action, entity string
			do                   func() (id string, err error)
			// want are changed fields and what the log keeps of them; each
			// must be in the entry (and the entry may have more).
			want map[string]rapport.AuditChange
		}{
			{"create customer", "create", "customer", func() (string, error) {
				err := s.customers.CreateCustomer(ctx, cust)
				return cust.ID, err
			}, map[string]rapport.AuditChange{
				"name":               chg(nil, rapport.Redacted),
				"email":              chg(nil, rapport.Redacted),
				"phone":              chg(nil, rapport.Redacted),
				"attributes.region":  chg(nil, rapport.Redacted),
				"attributes.segment": chg(nil, rapport.Redacted),
				"attributes.age":     chg(nil, rapport.Redacted),
			}},
			{"update customer", "update", "customer", func() (string, error) {
				_, err := s.customers.UpdateCustomer(ctx, cust.ID, rapport.CustomerUpdate{Name: ptr("Zelda Q. Quixote"), Kind: ptr("organisation")})
				return cust.ID, err
			}, map[string]rapport.AuditChange{"name": chg(rapport.Redacted, rapport.Redacted), "kind": chg("person", "organisation")}},
			{"create user", "create", "user", func() (string, error) {
				staff = &rapport.User{Name: "Sam Staff", Email: "sam@firm.example", Role: rapport.RoleAgent}
				err := s.users.CreateUser(ctx, staff)
				return staff.ID, err
			}, map[string]rapport.AuditChange{"role": chg(nil, "agent"), "email": chg(nil, rapport.Redacted)}},
			{"set password", "update", "user", func() (string, error) {
				return staff.ID, sqlstore.NewPasswordService(s.db).SetPassword(ctx, staff.ID, "correct horse battery staple")
			}, map[string]rapport.AuditChange{"password": chg(rapport.Redacted, rapport.Redacted)}},
			{"create token", "create", "token", func() (string, error) {
				token = &rapport.Token{Name: "nightly export", Role: rapport.RoleViewer}
				_, err := s.tokens.CreateToken(ctx, token)
				return token.ID, err
			}, map[string]rapport.AuditChange{"role": chg(nil, "viewer")}},
			{"revoke token", "revoke", "token", func() (string, error) {
				return token.ID, s.tokens.RevokeToken(ctx, token.ID)
			}, nil},
			{"create webhook", "create", "webhook", func() (string, error) {
				hook = &rapport.Webhook{URL: "https://hooks.example/in", Kinds: []string{rapport.EventMomentMisery}, Active: true}
				_, err := hooks.CreateWebhook(ctx, hook, "")
				return hook.ID, err
			}, map[string]rapport.AuditChange{"secret": chg(nil, rapport.Redacted), "active": chg(nil, true),
				"kinds": chg(nil, []any{rapport.EventMomentMisery})}},
			{"pause webhook", "update", "webhook", func() (string, error) {
				_, err := hooks.UpdateWebhook(ctx, hook.ID, rapport.WebhookUpdate{Active: ptr(false)})
				return hook.ID, err
			}, map[string]rapport.AuditChange{"active": chg(true, false)}},
			{"new webhook secret", "update", "webhook", func() (string, error) {
				_, err := hooks.UpdateWebhook(ctx, hook.ID, rapport.WebhookUpdate{Secret: ptr("whsec_a-new-secret-of-enough-length")})
				return hook.ID, err
			}, map[string]rapport.AuditChange{"secret": chg(rapport.Redacted, rapport.Redacted)}},
			{"delete webhook", "delete", "webhook", func() (string, error) {
				return hook.ID, hooks.DeleteWebhook(ctx, hook.ID)
			}, map[string]rapport.AuditChange{"active": chg(false, nil)}},
			{"stage rules", "update", "stage_rules", func() (string, error) {
				r := rapport.DefaultStageRules()
				r.ExplorationMoments++
				_, err := sqlstore.NewStageService(s.db).SetStageRules(ctx, r)
				return "default", err
			}, map[string]rapport.AuditChange{"exploration_moments": chg(float64(rapport.DefaultStageRules().ExplorationMoments),
				float64(rapport.DefaultStageRules().ExplorationMoments+1))}},
			{"recovery policy", "update", "recovery_policy", func() (string, error) {
				p := rapport.DefaultRecoveryPolicy()
				p.OpenWithinDays++
				_, err := sqlstore.NewRecoveryService(s.db).SetRecoveryPolicy(ctx, p)
				return "default", err
			}, map[string]rapport.AuditChange{"open_within_days": chg(float64(rapport.DefaultRecoveryPolicy().OpenWithinDays),
				float64(rapport.DefaultRecoveryPolicy().OpenWithinDays+1))}},
			{"update touchpoint", "update", "touchpoint", func() (string, error) {
				_, err := s.touchpoints.UpdateTouchpoint(ctx, "query", rapport.TouchpointUpdate{TargetScore: ptr(4.5)})
				return "query", err
			}, map[string]rapport.AuditChange{"target_score": chg(4.0, 4.5)}},
			{"create segment", "create", "segment", func() (string, error) {
				segment = &rapport.Segment{Name: "North", Rule: `stage = "commitment"`}
				err := segments.CreateSegment(ctx, segment)
				return segment.ID, err
			}, map[string]rapport.AuditChange{"rule": chg(nil, rapport.Redacted)}},
			{"delete segment", "delete", "segment", func() (string, error) {
				return segment.ID, segments.DeleteSegment(ctx, segment.ID)
			}, map[string]rapport.AuditChange{"name": chg(rapport.Redacted, nil)}},
			{"make promise", "create", "promise", func() (string, error) {
				promise = &rapport.Promise{CustomerID: cust.ID, StaffID: staff.ID, Text: "Ring Zelda on Friday", DueAt: s.clock.Now().Add(48 * time.Hour)}
				err := promises.CreatePromise(ctx, promise)
				return promise.ID, err
			}, map[string]rapport.AuditChange{"text": chg(nil, rapport.Redacted), "status": chg(nil, "open")}},
			{"keep promise", "update", "promise", func() (string, error) {
				_, err := promises.SetPromiseStatus(ctx, promise.ID, rapport.PromiseKept)
				return promise.ID, err
			}, map[string]rapport.AuditChange{"status": chg("open", "kept")}},
			{"work a case", "update", "case", func() (string, error) {
				// The misery moment that opens the case is not itself an entry.
				m := s.record(t, s.misery(cust.ID, "query"))
				cases := s.cases(t, rapport.CaseFilter{CustomerID: cust.ID})
				if len(cases) != 1 || cases[0].MomentID != m.ID {
					t.Fatalf("cases for the misery moment = %d; want 1", len(cases))
				}
				_, err := sqlstore.NewRecoveryService(s.db).UpdateCase(ctx, cases[0].ID, rapport.CaseUpdate{
					AssigneeID: ptr(staff.ID), Note: ptr("Zelda was upset about the wait")})
				return cases[0].ID, err
			}, map[string]rapport.AuditChange{"note": chg(nil, rapport.Redacted)}},
			{"survey link", "create", "survey_link", func() (string, error) {
				m := s.record(t, s.moment(cust.ID))
				link, err := sqlstore.NewSurveyService(s.db).CreateSurveyLink(ctx, m.ID, 0)
				if err != nil {
					return "", err
				}
				return link.ID, nil
			}, map[string]rapport.AuditChange{"token": chg(nil, rapport.Redacted), "url": chg(nil, rapport.Redacted)}},
			{"import customers", "import", "import", func() (string, error) {
				_, err := sqlstore.NewImportService(s.db).ImportCustomers(ctx, readCustomers(t, "name,email\nIona Import,iona@home.example\nJo Import,\n"), rapport.ImportOptions{})
				return "", err
			}, map[string]rapport.AuditChange{"kind": chg(nil, "customers"), "created": chg(nil, 2.0)}},
			{"erase customer", "erase", "customer", func() (string, error) {
				_, err := sqlstore.NewErasureService(s.db).EraseCustomer(ctx, cust.ID)
				return cust.ID, err
			}, nil},
			{"delete customer", "delete", "customer", func() (string, error) {
				return cust.ID, s.customers.DeleteCustomer(ctx, cust.ID)
			}, map[string]rapport.AuditChange{"kind": chg("organisation", nil)}},
		}
		for _, st := range steps {
			before := len(auditEntries(t, s))
			id, err := st.do()
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			entries := auditEntries(t, s)
			if len(entries) != before+1 {
				t.Fatalf("%s: %d new audit entries; want 1", st.name, len(entries)-before)
			}
			e := entries[len(entries)-1]
			if e.Actor != admin.ID || e.Address != "192.0.2.7" || e.Action != st.action || e.EntityType != st.entity ||
				(st.entity != "import" && e.EntityID != id) || !e.At.Equal(s.clock.Now()) {
				t.Errorf("%s: entry %s by %s from %s: %s %s %s; want %s %s by %s from 192.0.2.7 at %v",
					st.name, e.At, e.Actor, e.Address, e.Action, e.EntityType, e.EntityID, st.action, st.entity, admin.ID, s.clock.Now())
			}
			for field, want := range st.want {
				got, ok := e.Changes[field]
				if !ok || show(got) != show(want) {
					t.Errorf("%s: change of %s = %s; want %s (all: %s)", st.name, field, show(got), show(want), show(e.Changes))
				}
			}
			s.clock.Add(time.Second)
		}
		// The log holds none of the personal data that went through it.
		var all strings.Builder
		for _, e := range auditEntries(t, s) {
			b, _ := json.Marshal(e)
			all.Write(b)
		}
		for _, personal := range []string{"Zelda", "zelda@", "7946", "Ring Zelda", "Sam Staff", "sam@firm", "Iona", "horse", "whsec_", "hooks.example", "commitment", "nightly", "gold", "upset"} {
			if strings.Contains(all.String(), personal) {
				t.Errorf("the audit log holds %q: %s", personal, all.String())
			}
		}
	})
}

// TestAuditRolledBack finds no entry for a change that failed after its
// entry was written: the entry goes with the transaction.
func TestAuditRolledBack(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := auditCtx(s.user(t, "Audra Admin"))
		s.customer(t, &rapport.Customer{Name: "First", ExternalID: "x-1"})
		second := s.customer(t, &rapport.Customer{Name: "Second", ExternalID: "x-2"})
		before := s.count(t, "audit_log", "")
		// The entry is written before the row, whose external id is taken.
		_, err := s.customers.UpdateCustomer(ctx, second.ID, rapport.CustomerUpdate{ExternalID: ptr("x-1"), Name: ptr("Changed")})
		if rapport.ErrorCode(err) != rapport.ECONFLICT {
			t.Fatalf("UpdateCustomer(taken external id) = %v; want ECONFLICT", err)
		}
		if n := s.count(t, "audit_log", ""); n != before {
			t.Errorf("after a refused change, %d audit entries; want %d", n, before)
		}
	})
}

// TestAuditAppendOnly: the database itself refuses to change an entry or
// delete one within the retention; the retention sweep removes only the
// entries older than it, and a shorter retention is bounded below.
func TestAuditAppendOnly(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		ctx := auditCtx(s.user(t, "Audra Admin"))
		audit := sqlstore.NewAuditService(s.db)
		s.customer(t, &rapport.Customer{Name: "Old"})
		s.clock.Add(300 * 24 * time.Hour)
		s.customer(t, &rapport.Customer{Name: "New"})
		if _, err := s.raw.Exec(`UPDATE audit_log SET actor = 'someone else'`); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("UPDATE audit_log = %v; want the database to refuse it", err)
		}
		if _, err := s.raw.Exec(`DELETE FROM audit_log`); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("DELETE FROM audit_log = %v; want the database to refuse it", err)
		}
		if _, err := audit.SetAuditSettings(ctx, rapport.AuditSettings{RetentionDays: 6}); rapport.ErrorCode(err) != rapport.EINVALID {
			t.Errorf("SetAuditSettings(6 days) = %v; want EINVALID", err)
		}
		if n, err := audit.SweepAudit(context.Background()); err != nil || n != 0 {
			t.Errorf("SweepAudit() within a year = %d, %v; want 0", n, err)
		}
		if _, err := audit.SetAuditSettings(ctx, rapport.AuditSettings{RetentionDays: 200}); err != nil {
			t.Fatalf("SetAuditSettings(200 days) = %v", err)
		}
		entries := len(auditEntries(t, s))
		n, err := audit.SweepAudit(context.Background())
		if err != nil || n != 2 {
			// The admin's and the old customer's creation.
			t.Errorf("SweepAudit() with 200 days' retention = %d, %v; want 2", n, err)
		}
		if got := len(auditEntries(t, s)); got != entries-2 {
			t.Errorf("after the sweep, %d entries; want %d", got, entries-2)
		}
		// Entries the sweep kept are as protected as before.
		if _, err := s.raw.Exec(`DELETE FROM audit_log`); err == nil {
			t.Error("DELETE FROM audit_log after a sweep succeeded; want it refused")
		}
		settings, err := audit.AuditSettings(context.Background())
		if err != nil || settings.RetentionDays != 200 {
			t.Errorf("AuditSettings() = %+v, %v; want 200 days", settings, err)
		}
	})
}

// TestAuditCommandLine: a change from the command line names it and the
// account that ran it; one from a token of no user names the token.
func TestAuditCommandLine(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store) {
		cli := rapport.NewContextWithPrincipal(context.Background(), rapport.CommandLinePrincipal("ops"))
		if err := s.users.CreateUser(cli, &rapport.User{Name: "Ada", Email: "ada@firm.example", Role: rapport.RoleAdmin}); err != nil {
			t.Fatal(err)
		}
		s.clock.Add(time.Millisecond)
		tok := rapport.NewContextWithPrincipal(context.Background(), &rapport.Principal{TokenID: "T1", Role: rapport.RoleAdmin, Address: "198.51.100.1"})
		if err := s.customers.CreateCustomer(tok, &rapport.Customer{Name: "Bo"}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range auditEntries(t, s) {
			got = append(got, e.Actor+" "+e.TokenID+" "+e.Address+" "+e.EntityType)
		}
		want := []string{"cli  cli:ops user", "token:T1 T1 198.51.100.1 customer"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("entries = %q; want %q", got, want)
		}
	})
}
