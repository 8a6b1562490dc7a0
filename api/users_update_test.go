package api_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
)

// TestUpdateUser changes a user's role and team through the API: only an
// admin may, bad values are refused with the messages a new user gets and
// change nothing, the last admin keeps the role, and each change is in the
// audit log with its before and after.
func TestUpdateUser(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b.Open)
			ana := "/api/v1/users/" + f.staff
			steps := []struct {
				name         string
				role         rapport.Role
				path, body   string
				status       int
				contains     []string
				wantRole     string
				wantTeamText string
			}{
				{"a manager may not", rapport.RoleManager, ana, `{"role": "manager"}`, 403, nil, "agent", ""},
				{"an unknown role", rapport.RoleAdmin, ana, `{"role": "emperor", "team": "claims"}`, 422,
					[]string{`"field":"role"`, "must be one of admin, manager, agent, viewer"}, "agent", ""},
				{"a team too long", rapport.RoleAdmin, ana, `{"team": "` + strings.Repeat("x", 101) + `"}`, 422, []string{`"field":"team"`}, "agent", ""},
				{"a field that cannot change here", rapport.RoleAdmin, ana, `{"email": "x@example.com"}`, 422, []string{`"field":"email"`}, "agent", ""},
				{"no such user", rapport.RoleAdmin, "/api/v1/users/01KNOSUCHUSER0000000000000", `{"role": "viewer"}`, 404, nil, "agent", ""},
				{"into a team, as manager", rapport.RoleAdmin, ana, `{"role": "manager", "team": " claims "}`, 200,
					[]string{`"role":"manager"`, `"team":"claims"`}, "manager", "claims"},
				{"made the only admin", rapport.RoleAdmin, ana, `{"role": "admin"}`, 200, []string{`"role":"admin"`}, "admin", "claims"},
				{"the last admin kept", rapport.RoleAdmin, ana, `{"role": "agent"}`, 409,
					[]string{"Ana Agent is the only admin", `"field":"role"`}, "admin", "claims"},
				{"out of the team", rapport.RoleAdmin, ana, `{"team": ""}`, 200, []string{`"role":"admin"`}, "admin", ""},
			}
			for _, st := range steps {
				status, _, body := f.do(st.role, "PATCH", st.path, st.body)
				if status != st.status {
					t.Fatalf("%s: PATCH %s = %d; want %d\n%s", st.name, st.path, status, st.status, body)
				}
				for _, c := range st.contains {
					if !bytes.Contains(body, []byte(c)) {
						t.Errorf("%s: body lacks %s\n%s", st.name, c, body)
					}
				}
				var u rapport.User
				_, _, got := f.do(rapport.RoleViewer, "GET", ana, "")
				if err := json.Unmarshal(got, &u); err != nil || string(u.Role) != st.wantRole || u.Team != st.wantTeamText {
					t.Errorf("%s: Ana is then %s in team %q (%v); want %s in %q", st.name, u.Role, u.Team, err, st.wantRole, st.wantTeamText)
				}
			}

			// With a second admin, Ana may step down.
			if status, _, body := f.do(rapport.RoleAdmin, "POST", "/api/v1/users", `{"email": "ada@harbour.example", "name": "Ada Admin", "role": "admin"}`); status != 201 {
				t.Fatalf("create a second admin = %d\n%s", status, body)
			}
			if status, _, body := f.do(rapport.RoleAdmin, "PATCH", ana, `{"role": "agent"}`); status != 200 {
				t.Errorf("with another admin, Ana steps down = %d; want 200\n%s", status, body)
			}

			_, _, log := f.do(rapport.RoleAdmin, "GET", "/api/v1/audit?entity_type=user&entity_id="+f.staff, "")
			var entries struct {
				Items []struct {
					Action  string `json:"action"`
					Changes map[string]struct {
						Before any `json:"before"`
						After  any `json:"after"`
					} `json:"changes"`
				} `json:"items"`
			}
			if err := json.Unmarshal(log, &entries); err != nil {
				t.Fatalf("audit log: %v\n%s", err, log)
			}
			updates, promoted := 0, false
			for _, e := range entries.Items {
				if e.Action == rapport.AuditUpdate {
					updates++
				}
				if c, ok := e.Changes["role"]; ok && c.Before == "manager" && c.After == "admin" {
					promoted = true
				}
			}
			if !promoted {
				t.Errorf("the audit log lacks Ana's role going from manager to admin\n%s", log)
			}
			// Four changes went through: manager in claims, admin, out of the team, agent.
			if updates != 4 {
				t.Errorf("the audit log has %d updates of Ana; want 4\n%s", updates, log)
			}
		})
	}
}
