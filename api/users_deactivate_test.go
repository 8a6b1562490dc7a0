package api_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
)

// TestDeactivateUser deactivates and reactivates a user through the API:
// only an admin may; the user's own token is refused at once and works
// again after reactivation; the users list can be asked for the active or
// the deactivated; the last active admin cannot be deactivated; and each
// change is in the audit log with its before and after.
func TestDeactivateUser(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b.Open)
			ana := "/api/v1/users/" + f.staff
			status, _, body := f.do(rapport.RoleAdmin, "POST", "/api/v1/tokens", `{"name": "ana's phone", "role": "agent", "user_id": "{staff}"}`)
			if status != 201 {
				t.Fatalf("create Ana's token = %d\n%s", status, body)
			}
			var tok struct {
				Secret string `json:"secret"`
			}
			if err := json.Unmarshal(body, &tok); err != nil {
				t.Fatal(err)
			}
			if status, _, body := f.doWithSecret(tok.Secret, "GET", "/api/v1/me", ""); status != 200 {
				t.Fatalf("Ana's token before = %d\n%s", status, body)
			}
			status, _, body = f.do(rapport.RoleAdmin, "POST", "/api/v1/users", `{"email": "ada@harbour.example", "name": "Ada Admin", "role": "admin"}`)
			if status != 201 {
				t.Fatalf("create an admin = %d\n%s", status, body)
			}
			var ada rapport.User
			if err := json.Unmarshal(body, &ada); err != nil || !ada.Active {
				t.Fatalf("the new admin = %s (%v); want active", body, err)
			}

			steps := []struct {
				name       string
				role       rapport.Role
				path, body string
				status     int
				contains   []string
				anaActive  bool
				anaToken   int // status of Ana's own token on /me afterwards
			}{
				{"a manager may not", rapport.RoleManager, ana, `{"active": false}`, 403, nil, true, 200},
				{"not a true or false", rapport.RoleAdmin, ana, `{"active": "no"}`, 422, []string{`"field":"active"`}, true, 200},
				{"deactivated", rapport.RoleAdmin, ana, `{"active": false}`, 200,
					[]string{`"active":false`, `"deactivated_at":"`}, false, 401},
				{"deactivated twice changes nothing", rapport.RoleAdmin, ana, `{"active": false}`, 200, []string{`"active":false`}, false, 401},
				{"the last active admin kept", rapport.RoleAdmin, "/api/v1/users/" + ada.ID, `{"active": false}`, 409,
					[]string{"Ada Admin is the only active admin: make someone else an admin before deactivating them.", `"field":"active"`}, false, 401},
				{"reactivated", rapport.RoleAdmin, ana, `{"active": true}`, 200, []string{`"active":true`}, true, 200},
			}
			for _, st := range steps {
				status, _, body := f.do(st.role, "PATCH", st.path, st.body)
				if status != st.status {
					t.Fatalf("%s: PATCH %s %s = %d; want %d\n%s", st.name, st.path, st.body, status, st.status, body)
				}
				for _, c := range st.contains {
					if !bytes.Contains(body, []byte(c)) {
						t.Errorf("%s: body lacks %s\n%s", st.name, c, body)
					}
				}
				var u rapport.User
				_, _, got := f.do(rapport.RoleViewer, "GET", ana, "")
				if err := json.Unmarshal(got, &u); err != nil || u.Active != st.anaActive {
					t.Errorf("%s: Ana is then active %v (%v); want %v", st.name, u.Active, err, st.anaActive)
				}
				status, _, body = f.doWithSecret(tok.Secret, "GET", "/api/v1/me", "")
				if status != st.anaToken {
					t.Errorf("%s: Ana's own token on /me = %d; want %d\n%s", st.name, status, st.anaToken, body)
				}
				if status == 401 && !bytes.Contains(body, []byte("deactivated")) {
					t.Errorf("%s: the refusal of Ana's token does not say why\n%s", st.name, body)
				}
				if st.name == "deactivated" {
					_, _, list := f.do(rapport.RoleViewer, "GET", "/api/v1/users?active=true", "")
					if bytes.Contains(list, []byte("Ana Agent")) || !bytes.Contains(list, []byte("Ada Admin")) {
						t.Errorf("the active users list Ana, or not Ada:\n%s", list)
					}
					_, _, list = f.do(rapport.RoleViewer, "GET", "/api/v1/users?active=false", "")
					if !bytes.Contains(list, []byte("Ana Agent")) || bytes.Contains(list, []byte("Ada Admin")) {
						t.Errorf("the deactivated users are not just Ana:\n%s", list)
					}
				}
			}
			if status, _, body := f.do(rapport.RoleViewer, "GET", "/api/v1/users?active=maybe", ""); status != 422 || !strings.Contains(string(body), "must be true or false") {
				t.Errorf("GET /users?active=maybe = %d; want 422 saying why\n%s", status, body)
			}

			_, _, log := f.do(rapport.RoleAdmin, "GET", "/api/v1/audit?entity_type=user&entity_id="+f.staff, "")
			var entries struct {
				Items []struct {
					Actor   string `json:"actor"`
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
			// Both changes were made in the same instant of the fixed clock,
			// so their order in the log is not asserted.
			var seen []string
			for _, e := range entries.Items {
				if c, ok := e.Changes["active"]; ok && e.Action == rapport.AuditUpdate {
					if !strings.HasPrefix(e.Actor, "token:") {
						t.Errorf("the change of Ana's activity names %q as who made it; want the admin's token", e.Actor)
					}
					seen = append(seen, jsonText(c.Before)+" to "+jsonText(c.After))
				}
			}
			slices.Sort(seen)
			if got, want := strings.Join(seen, "; "), "false to true; true to false"; got != want {
				t.Errorf("the audit log's changes of Ana's activity = %q; want %q\n%s", got, want, log)
			}
		})
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
