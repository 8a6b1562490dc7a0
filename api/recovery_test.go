package api_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
)

// TestRecoveryScenarios walks through recovery cases, promises, survey
// links and the brief over HTTP, each step depending on the ones before.
func TestRecoveryScenarios(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b.Open)
			ids := map[string]string{"{customer}": f.customer, "{staff}": f.staff}
			_, step := f.scenario(t, ids)
			first := func(page map[string]any, key string) string {
				items, _ := page["items"].([]any)
				if len(items) == 0 {
					t.Fatalf("empty page, no %s", key)
				}
				item, _ := items[0].(map[string]any)
				v, _ := item[key].(string)
				return v
			}
			count := func(page map[string]any) int {
				items, _ := page["items"].([]any)
				return len(items)
			}

			misery := `{"external_id": "call-9", "customer_id": "{customer}", "touchpoint": "complaint", "channel": "phone", "occurred_at": "2026-11-20T10:00:00Z", "rating": 1, "staff_id": "{staff}"}`
			m := step("misery moment", rapport.RoleAgent, "POST", "/api/v1/moments", misery, 201)
			ids["{moment}"], _ = m["id"].(string)
			step("sent again", rapport.RoleAgent, "POST", "/api/v1/moments", misery, 200)
			page := step("open cases", rapport.RoleViewer, "GET", "/api/v1/cases?status=open", "", 200,
				`"moment_id":"{moment}"`, `"queue":"recovery"`, `"due_at":"2026-11-22T12:00:00Z"`)
			if n := count(page); n != 1 {
				t.Fatalf("open cases = %d; want 1 after the moment was sent twice", n)
			}
			ids["{case}"] = first(page, "id")
			step("queue", rapport.RoleViewer, "GET", "/api/v1/cases?assignee=none&overdue=false&escalated=false", "", 200, `"id":"{case}"`)
			step("bad filters", rapport.RoleViewer, "GET", "/api/v1/cases?overdue=maybe&status=closed&assignee=me&limit=0", "", 422,
				`"field":"overdue"`, `"field":"assignee"`, `"field":"limit"`)
			step("bad status", rapport.RoleViewer, "GET", "/api/v1/cases?status=closed", "", 422, `"field":"status"`)
			step("viewer cannot work a case", rapport.RoleViewer, "PATCH", "/api/v1/cases/{case}", `{"note": "x"}`, 403)
			step("note and assign", rapport.RoleAgent, "PATCH", "/api/v1/cases/{case}", `{"note": "Called; no answer", "assignee_id": "{staff}"}`, 200,
				`"assignee_id":"{staff}"`, `"kind":"note"`, `"text":"Called; no answer"`, `"kind":"assigned"`)
			step("resolve without what was done", rapport.RoleAgent, "PATCH", "/api/v1/cases/{case}", `{"status": "resolved"}`, 422, `"field":"resolution"`)
			step("unknown field", rapport.RoleAgent, "PATCH", "/api/v1/cases/{case}", `{"resolved": true}`, 422, `"field":"resolved"`)
			step("resolve", rapport.RoleAgent, "PATCH", "/api/v1/cases/{case}", `{"status": "resolved", "resolution": "Refunded the excess"}`, 200,
				`"status":"resolved"`, `"resolution":"Refunded the excess"`, `"resolved_in_time":true`, `"recovery":"pending"`)
			step("resolve twice", rapport.RoleAgent, "PATCH", "/api/v1/cases/{case}", `{"status": "resolved", "resolution": "again"}`, 409)
			step("get case", rapport.RoleViewer, "GET", "/api/v1/cases/{case}", "", 200, `"kind":"resolved"`, `"customer_name":"Grace Hopper"`)
			step("unknown case", rapport.RoleViewer, "GET", "/api/v1/cases/NOPE", "", 404)
			step("recovery report", rapport.RoleViewer, "GET", "/api/v1/reports/recovery?from=2026-11-01&to=2026-12-01", "", 200,
				`"opened":1`, `"resolved":1`, `"awaiting_next_moment":1`, `"recovered_customers"`)
			step("recovery report bad window", rapport.RoleViewer, "GET", "/api/v1/reports/recovery?from=soon", "", 422, `"field":"from"`)

			step("policy", rapport.RoleViewer, "GET", "/api/v1/recovery/policy", "", 200, `"queue":"recovery"`, `"escalation_role":"manager"`)
			policy := `{"assign_to_owner": false, "queue": "Customer Care", "escalation_role": "admin", "open_within_days": 14}`
			step("agent cannot set policy", rapport.RoleAgent, "PUT", "/api/v1/recovery/policy", policy, 403)
			step("set policy", rapport.RoleManager, "PUT", "/api/v1/recovery/policy", policy, 200, `"queue":"Customer Care"`, `"assign_to_owner":false`)
			step("incomplete policy", rapport.RoleManager, "PUT", "/api/v1/recovery/policy", `{"queue": ""}`, 422,
				`"field":"assign_to_owner"`, `"field":"queue"`, `"field":"escalation_role"`)
			step("service level", rapport.RoleViewer, "GET", "/api/v1/touchpoints/complaint/service-level", "", 200, `"hours":48`)
			step("set service level", rapport.RoleManager, "PUT", "/api/v1/touchpoints/complaint/service-level", `{"hours": 8}`, 200, `"hours":8`)
			step("agent cannot set service level", rapport.RoleAgent, "PUT", "/api/v1/touchpoints/complaint/service-level", `{"hours": 8}`, 403)
			step("service level of no touchpoint", rapport.RoleManager, "PUT", "/api/v1/touchpoints/teleport/service-level", `{"hours": 8}`, 404)
			step("service level out of range", rapport.RoleManager, "PUT", "/api/v1/touchpoints/complaint/service-level", `{"hours": 0}`, 422, `"field":"hours"`)

			promise := `{"customer_id": "{customer}", "staff_id": "{staff}", "moment_id": "{moment}", "text": "Call back with the refund date", "due_at": "2026-11-23T17:00:00Z"}`
			p := step("make a promise", rapport.RoleAgent, "POST", "/api/v1/promises", promise, 201, `"status":"open"`)
			ids["{promise}"], _ = p["id"].(string)
			step("promise in the past", rapport.RoleAgent, "POST", "/api/v1/promises",
				`{"customer_id": "{customer}", "text": "x", "due_at": "2026-11-19T17:00:00Z"}`, 422, `"field":"due_at"`)
			step("unreadable due time", rapport.RoleAgent, "POST", "/api/v1/promises",
				`{"customer_id": "{customer}", "text": "x", "due_at": "friday"}`, 422, `"field":"due_at"`)
			step("viewer cannot promise", rapport.RoleViewer, "POST", "/api/v1/promises", promise, 403)
			step("promises due", rapport.RoleViewer, "GET", "/api/v1/promises?staff_id={staff}&status=open&due_before=2026-11-24", "", 200, `"id":"{promise}"`)
			step("promise", rapport.RoleViewer, "GET", "/api/v1/promises/{promise}", "", 200, `"text":"Call back with the refund date"`)
			step("bad promise filters", rapport.RoleViewer, "GET", "/api/v1/promises?due_before=later&staff_id=me", "", 422,
				`"field":"due_before"`, `"field":"staff_id"`)
			step("keep", rapport.RoleAgent, "PATCH", "/api/v1/promises/{promise}", `{"status": "kept"}`, 200, `"status":"kept"`, `"resolved_at"`)
			step("keep again", rapport.RoleAgent, "PATCH", "/api/v1/promises/{promise}", `{"status": "broken"}`, 409)
			step("promises report", rapport.RoleViewer, "GET", "/api/v1/reports/promises", "", 200, `"name":"Ana Agent"`, `"say_do":1`)

			link := step("survey link", rapport.RoleAgent, "POST", "/api/v1/moments/{moment}/survey", "", 201, `"url":"/s/`)
			if tok, _ := link["token"].(string); len(tok) < 43 {
				t.Errorf("survey token %q; want at least 43 characters (256 bits)", tok)
			}
			step("viewer cannot send surveys", rapport.RoleViewer, "POST", "/api/v1/moments/{moment}/survey", "", 403)
			step("survey of no moment", rapport.RoleAgent, "POST", "/api/v1/moments/NOPE/survey", "", 404)

			step("brief", rapport.RoleViewer, "GET", "/api/v1/customers/{customer}/brief", "", 200,
				`"name":"Grace Hopper"`, `"misery_moments":[{"id":"{moment}"`, `"stage":"awareness"`)
			step("brief of no customer", rapport.RoleViewer, "GET", "/api/v1/customers/NOPE/brief", "", 404)
			step("hand over", rapport.RoleAgent, "PATCH", "/api/v1/customers/{customer}", `{"owner_id": "{staff}"}`, 200)
			step("handovers", rapport.RoleViewer, "GET", "/api/v1/customers/{customer}/handovers", "", 200,
				`"to_id":"{staff}"`, `"brief":"/api/v1/customers/{customer}/brief"`)
			step("timeline", rapport.RoleViewer, "GET", "/api/v1/customers/{customer}/timeline", "", 200,
				`"kind":"case"`, `"kind":"promise"`, `"kind":"moment"`)
		})
	}
}

// scenario returns, for a test that walks through requests in order, fill
// (which puts the ids saved so far into a path or body) and step (which
// sends a request, checks its status, that the body holds each of contains
// and that errors are problem details, and returns the body decoded). ids
// may gain entries as the walk goes on.
func (f *fixture) scenario(t *testing.T, ids map[string]string) (fill func(string) string,
	step func(name string, role rapport.Role, method, path, body string, status int, contains ...string) map[string]any) {
	fill = func(s string) string {
		for k, v := range ids {
			s = strings.ReplaceAll(s, k, v)
		}
		return s
	}
	step = func(name string, role rapport.Role, method, path, body string, status int, contains ...string) map[string]any {
		t.Helper()
		got, header, resp := f.do(role, method, fill(path), fill(body))
		if got != status {
			t.Fatalf("%s: %s %s = %d; want %d\n%s", name, method, fill(path), got, status, resp)
		}
		for _, c := range contains {
			if !bytes.Contains(resp, []byte(fill(c))) {
				t.Errorf("%s: body lacks %s\n%s", name, fill(c), resp)
			}
		}
		if status >= 400 && header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: Content-Type = %q; want application/problem+json", name, header.Get("Content-Type"))
		}
		var out map[string]any
		json.Unmarshal(resp, &out)
		return out
	}
	return fill, step
}
