package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
)

// TestGestureRuleRoutes creates a gesture rule as a manager may and an
// agent may not, refuses bad input without storing anything, reads the
// rule, its list and its report, and ends it.
func TestGestureRuleRoutes(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b.Open)
			refused := []struct{ name, role, body, field string }{
				{"agent", "agent", `{"name": "X", "kind": "gift", "milestone": "anniversary"}`, ""},
				{"unknown milestone", "manager", `{"name": "X", "kind": "gift", "milestone": "birthday"}`, "milestone"},
				{"unknown kind", "manager", `{"name": "X", "kind": "cash", "milestone": "anniversary"}`, "kind"},
				{"count on anniversary", "manager", `{"name": "X", "kind": "gift", "milestone": "anniversary", "count": 5}`, "count"},
				{"unknown product", "manager", `{"name": "X", "kind": "gift", "milestone": "purchase_count", "count": 100, "product": "boat"}`, "product"},
				{"holdout too large", "manager", `{"name": "X", "kind": "gift", "milestone": "anniversary", "holdout_share": 0.9}`, "holdout_share"},
				{"negative seed", "manager", `{"name": "X", "kind": "gift", "milestone": "anniversary", "seed": -1}`, "seed"},
				{"unknown field", "manager", `{"name": "X", "kind": "gift", "milestone": "anniversary", "budget": 4}`, "budget"},
			}
			for _, tt := range refused {
				status, _, body := f.do(rapport.Role(tt.role), "POST", "/api/v1/gesture-rules", tt.body)
				want := http.StatusUnprocessableEntity
				if tt.role == "agent" {
					want = http.StatusForbidden
				}
				if status != want || (tt.field != "" && !strings.Contains(string(body), `"field":"`+tt.field+`"`)) {
					t.Errorf("%s: POST /api/v1/gesture-rules = %d: %s; want %d naming %s", tt.name, status, body, want, tt.field)
				}
			}
			if _, _, body := f.do(rapport.RoleViewer, "GET", "/api/v1/gesture-rules", ""); string(body) != "{\"items\":[]}\n" {
				t.Fatalf("rules after refused input = %s; want none", body)
			}

			status, hdr, body := f.do(rapport.RoleManager, "POST", "/api/v1/gesture-rules",
				`{"name": "Tenth magic", "kind": "upgrade", "milestone": "magic_count", "count": 10, "cost": 8, "holdout_share": 0}`)
			if status != http.StatusCreated {
				t.Fatalf("POST /api/v1/gesture-rules = %d: %s", status, body)
			}
			var g rapport.GestureRule
			json.Unmarshal(body, &g)
			if g.HoldoutShare != 0 || g.Touchpoint != "gesture" || g.Seed == 0 || g.Count != 10 || hdr.Get("Location") != "/api/v1/gesture-rules/"+g.ID {
				t.Fatalf("rule = %s at %q; want no holdout, the gesture touchpoint and a seed", body, hdr.Get("Location"))
			}
			status, _, body = f.do(rapport.RoleManager, "POST", "/api/v1/gesture-rules", `{"name": "Card", "kind": "gift", "milestone": "anniversary"}`)
			var card rapport.GestureRule
			json.Unmarshal(body, &card)
			if status != http.StatusCreated || card.HoldoutShare != rapport.DefaultHoldoutShare {
				t.Errorf("a rule without holdout_share = %d: %s; want the default share", status, body)
			}
			for _, path := range []string{"/api/v1/gesture-rules/" + g.ID, "/api/v1/gesture-rules/" + g.ID + "/gestures?open=true&owner=me",
				"/api/v1/gesture-rules/" + g.ID + "/report"} {
				if status, _, body := f.do(rapport.RoleAgent, "GET", path, ""); status != http.StatusOK {
					t.Errorf("GET %s = %d: %s", path, status, body)
				}
			}
			_, _, body = f.do(rapport.RoleAgent, "GET", "/api/v1/gesture-rules/"+g.ID+"/report", "")
			var rep rapport.GestureReport
			json.Unmarshal(body, &rep)
			if len(rep.Windows) != 2 || rep.Windows[1].Complete || len(rep.Verdicts) != 0 || rep.Rule.ID != g.ID {
				t.Errorf("report of a new rule = %s", body)
			}
			if status, _, _ := f.do(rapport.RoleAgent, "POST", "/api/v1/gesture-rules/"+g.ID+"/end", ""); status != http.StatusForbidden {
				t.Errorf("agent ending a rule = %d; want 403", status)
			}
			status, _, body = f.do(rapport.RoleManager, "POST", "/api/v1/gesture-rules/"+g.ID+"/end", "")
			var ended rapport.GestureRule
			json.Unmarshal(body, &ended)
			if status != http.StatusOK || !ended.EndsAt.Before(g.EndsAt) {
				t.Errorf("end = %d: %s; want the period ended now", status, body)
			}
			if status, _, _ := f.do(rapport.RoleAgent, "GET", "/api/v1/gesture-rules/"+g.ID+"/gestures?open=maybe", ""); status != http.StatusUnprocessableEntity {
				t.Errorf("open=maybe = %d; want 422", status)
			}
			if status, _, _ := f.do(rapport.RoleAgent, "GET", "/api/v1/gesture-rules/nosuch/report", ""); status != http.StatusNotFound {
				t.Errorf("report of an unknown rule = %d; want 404", status)
			}
		})
	}
}
