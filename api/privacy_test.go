package api_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
)

// TestErasureAPI checks who may export and erase a customer, what each
// answers, and that an erased customer refuses changes, on both databases.
func TestErasureAPI(t *testing.T) {
	moment := `{"customer_id": "{customer}", "touchpoint": "complaint", "channel": "phone", "occurred_at": "2026-11-19T10:00:00Z",
		"rating": 2, "notes": "Grace was upset"}`
	scenarios := []struct {
		name     string
		role     rapport.Role
		method   string
		path     string
		body     string
		status   int
		contains []string
		lacks    []string
	}{
		{name: "a moment to keep", role: rapport.RoleAgent, method: "POST", path: "/api/v1/moments", body: moment, status: 201},
		{name: "viewer cannot export", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers/{customer}/export", status: 403,
			lacks: []string{"Grace"}},
		{name: "agent cannot export", role: rapport.RoleAgent, method: "GET", path: "/api/v1/customers/{customer}/export", status: 403},
		{name: "manager cannot export", role: rapport.RoleManager, method: "GET", path: "/api/v1/customers/{customer}/export", status: 403},
		{name: "viewer cannot erase", role: rapport.RoleViewer, method: "POST", path: "/api/v1/customers/{customer}/erase", status: 403},
		{name: "agent cannot erase", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers/{customer}/erase", status: 403},
		{name: "manager cannot erase", role: rapport.RoleManager, method: "POST", path: "/api/v1/customers/{customer}/erase", status: 403},
		{name: "no token cannot erase", method: "POST", path: "/api/v1/customers/{customer}/erase", status: 401},
		{name: "refusals changed nothing", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers/{customer}", status: 200,
			contains: []string{`"name":"Grace Hopper"`, "grace@example.com"}},
		{name: "admin exports", role: rapport.RoleAdmin, method: "GET", path: "/api/v1/customers/{customer}/export", status: 200,
			contains: []string{`"name":"Grace Hopper"`, "Grace was upset", `"cases":[{`, `"moments":[{`}},
		{name: "export of no one", role: rapport.RoleAdmin, method: "GET", path: "/api/v1/customers/01NOSUCHCUSTOMER0000000000/export", status: 404},
		{name: "erase no one", role: rapport.RoleAdmin, method: "POST", path: "/api/v1/customers/01NOSUCHCUSTOMER0000000000/erase", status: 404},
		{name: "erase a NUL", role: rapport.RoleAdmin, method: "POST", path: "/api/v1/customers/%00/erase", status: 400},
		{name: "export bad UTF-8", role: rapport.RoleAdmin, method: "GET", path: "/api/v1/customers/%ff%fe/export", status: 400},
		{name: "admin erases", role: rapport.RoleAdmin, method: "POST", path: "/api/v1/customers/{customer}/erase", status: 200,
			contains: []string{`"name":"` + rapport.ErasedNamePrefix, `"erased_at":"`}, lacks: []string{"Grace", "grace"}},
		{name: "erased cannot be edited back", role: rapport.RoleAgent, method: "PATCH", path: "/api/v1/customers/{customer}",
			body: `{"name": "Grace Hopper"}`, status: 409, contains: []string{"erased"}},
		{name: "erased takes no moments", role: rapport.RoleAgent, method: "POST", path: "/api/v1/moments", body: moment, status: 422,
			contains: []string{`"field":"customer_id"`, "erased"}},
		{name: "erasing again", role: rapport.RoleAdmin, method: "POST", path: "/api/v1/customers/{customer}/erase", status: 200},
		{name: "export after erasure", role: rapport.RoleAdmin, method: "GET", path: "/api/v1/customers/{customer}/export", status: 200,
			contains: []string{`"moments":[{`, `"outcome":"misery"`}, lacks: []string{"Grace", "grace", "upset"}},
	}
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b.Open)
			for _, sc := range scenarios {
				status, header, body := f.do(sc.role, sc.method, sc.path, sc.body)
				if status != sc.status {
					t.Fatalf("%s: %s %s = %d; want %d\n%s", sc.name, sc.method, sc.path, status, sc.status, body)
				}
				for _, c := range sc.contains {
					if !bytes.Contains(body, []byte(c)) {
						t.Errorf("%s: body lacks %s\n%s", sc.name, c, body)
					}
				}
				for _, c := range sc.lacks {
					if bytes.Contains(body, []byte(c)) {
						t.Errorf("%s: body holds %s\n%s", sc.name, c, body)
					}
				}
				if status >= 400 && header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s: Content-Type = %q; want application/problem+json", sc.name, header.Get("Content-Type"))
				}
				if strings.HasSuffix(sc.path, "/export") && status == 200 {
					var e rapport.CustomerExport
					if err := json.Unmarshal(body, &e); err != nil || e.Customer == nil || e.Customer.ID != f.customer {
						t.Errorf("%s: the export is not the customer's: %v\n%s", sc.name, err, body)
					}
					if cd := header.Get("Content-Disposition"); cd != `attachment; filename="customer-`+f.customer+`.json"` {
						t.Errorf("%s: Content-Disposition = %q", sc.name, cd)
					}
				}
			}
		})
	}
}
