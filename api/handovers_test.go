package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
)

// TestHandoverRoutes hands a customer over through the API, as a manager
// may and an agent may not, refuses bad input, and finds the customer among
// the new owner's first contacts with the note.
func TestHandoverRoutes(t *testing.T) {
	f := newFixture(t, testdb.SQLite)
	body := `{"customer_ids": ["{customer}"], "to_owner": "{staff}", "note": "Prefers email."}`
	if status, _, b := f.do(rapport.RoleAgent, "POST", "/api/v1/handovers", body); status != http.StatusForbidden {
		t.Errorf("agent POST /api/v1/handovers = %d: %s; want 403", status, b)
	}
	for _, bad := range []struct{ body, field string }{
		{`{"customer_ids": ["{customer}"], "to_owner": "nosuch"}`, "to_owner"},
		{`{"to_owner": "{staff}"}`, "customer_ids"},
		{`{"customer_ids": ["nosuch"], "to_owner": "{staff}"}`, "customer_ids"},
		{`{"segment": "nosuch", "to_owner": "{staff}"}`, "segment"},
	} {
		status, _, b := f.do(rapport.RoleManager, "POST", "/api/v1/handovers", bad.body)
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(b), `"field":"`+bad.field+`"`) {
			t.Errorf("POST %s = %d: %s; want 422 naming %s", bad.body, status, b, bad.field)
		}
	}
	status, _, b := f.do(rapport.RoleManager, "POST", "/api/v1/handovers", body)
	if status != http.StatusOK || !strings.Contains(string(b), f.customer) {
		t.Fatalf("POST /api/v1/handovers = %d: %s", status, b)
	}
	status, _, b = f.do(rapport.RoleViewer, "GET", "/api/v1/first-contacts?owner={staff}", "")
	if status != http.StatusOK || !strings.Contains(string(b), "Prefers email.") || !strings.Contains(string(b), "Grace Hopper") {
		t.Errorf("GET first contacts = %d: %s; want Grace with the note", status, b)
	}
	status, _, b = f.do(rapport.RoleViewer, "GET", "/api/v1/customers/{customer}/brief", "")
	if status != http.StatusOK || !strings.Contains(string(b), `"note":"Prefers email."`) {
		t.Errorf("the brief = %d: %s; want the note", status, b)
	}
	status, _, b = f.do(rapport.RoleViewer, "GET", "/api/v1/reports/handovers", "")
	if status != http.StatusOK || !strings.Contains(string(b), `"pending":1`) {
		t.Errorf("the handover report = %d: %s; want the handover just made pending", status, b)
	}
	if status, _, b := f.do(rapport.RoleViewer, "GET", "/api/v1/reports/handovers?from=2026-05-01&to=2026-04-01", ""); status != http.StatusUnprocessableEntity {
		t.Errorf("a window ending before it starts = %d: %s; want 422", status, b)
	}
}
