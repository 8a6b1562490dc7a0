package api_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
)

// TestRelationshipScenarios runs the relationship endpoints in order, each
// step able to use the ids earlier steps created ({segment}, {holding}).
func TestRelationshipScenarios(t *testing.T) {
	scenarios := []struct {
		name     string
		role     rapport.Role
		method   string
		path     string
		body     string
		status   int
		contains []string
		save     string // a placeholder to fill with the "id" of the answer
	}{
		{name: "stage of a new customer", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers/{customer}/stage", status: 200,
			contains: []string{`"stage":"awareness"`, `"set_by":"system"`, `"proposal":null`}},
		{name: "viewer cannot set stage", role: rapport.RoleViewer, method: "POST", path: "/api/v1/customers/{customer}/stage",
			body: `{"stage": "exploration", "reason": "x"}`, status: 403},
		{name: "dissolution needs its reason", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers/{customer}/stage",
			body: `{"stage": "dissolution", "reason": "left"}`, status: 422, contains: []string{`"field":"dissolution_reason"`}},
		{name: "unknown stage", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers/{customer}/stage",
			body: `{"stage": "engaged", "reason": "x", "extra": 1}`, status: 422, contains: []string{`"field":"extra"`}},
		{name: "agent sets stage", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers/{customer}/stage",
			body: `{"stage": "exploration", "reason": "asked for quotes"}`, status: 200,
			contains: []string{`"stage":"exploration"`, `"set_by":"manual"`, `"changed_by":"token:`}},
		{name: "stage of unknown customer", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers/NOPE/stage",
			body: `{"stage": "exploration", "reason": "x"}`, status: 404},
		{name: "history", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers/{customer}/stages", status: 200,
			contains: []string{`"to":"awareness"`, `"to":"exploration","reason":"asked for quotes"`, `"changed_by_kind":"token"`}},
		{name: "stage rules", role: rapport.RoleViewer, method: "GET", path: "/api/v1/stage-rules", status: 200,
			contains: []string{`"commitment_products":3`, `"auto_dissolve":false`}},
		{name: "agent cannot change rules", role: rapport.RoleAgent, method: "PUT", path: "/api/v1/stage-rules", body: `{}`, status: 403},
		{name: "bad rules", role: rapport.RoleManager, method: "PUT", path: "/api/v1/stage-rules", body: `{"commitment_products": 1}`,
			status: 422, contains: []string{`"field":"commitment_products"`}},
		{name: "manager changes rules", role: rapport.RoleManager, method: "PUT", path: "/api/v1/stage-rules", body: `{"commitment_products": 4}`,
			status: 200, contains: []string{`"commitment_products":4`, `"expansion_products":2`}},
		{name: "a rule left out keeps its value", role: rapport.RoleManager, method: "PUT", path: "/api/v1/stage-rules", body: `{"expansion_products": 2}`,
			status: 200, contains: []string{`"commitment_products":4`, `"expansion_products":2`}},
		{name: "naming no rule changes nothing", role: rapport.RoleManager, method: "PUT", path: "/api/v1/stage-rules", body: `{}`,
			status: 422, contains: []string{"names no rule"}},
		{name: "rules unchanged by the refused body", role: rapport.RoleViewer, method: "GET", path: "/api/v1/stage-rules", status: 200,
			contains: []string{`"commitment_products":4`, `"expansion_products":2`}},

		{name: "no products yet", role: rapport.RoleViewer, method: "GET", path: "/api/v1/products", status: 200, contains: []string{`{"items":[]}`}},
		{name: "agent cannot add products", role: rapport.RoleAgent, method: "POST", path: "/api/v1/products", body: `{"key": "motor", "name": "Motor"}`, status: 403},
		{name: "manager adds product", role: rapport.RoleManager, method: "POST", path: "/api/v1/products", body: `{"key": "motor", "name": "Motor insurance"}`,
			status: 201, contains: []string{`"key":"motor"`}},
		{name: "manager adds another", role: rapport.RoleManager, method: "POST", path: "/api/v1/products", body: `{"key": "home", "name": "Home insurance"}`, status: 201},
		{name: "duplicate product", role: rapport.RoleManager, method: "POST", path: "/api/v1/products", body: `{"key": "motor", "name": "Again"}`, status: 409},
		{name: "holding of unknown product", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers/{customer}/holdings",
			body: `{"product": "yacht", "started_at": "yesterday"}`, status: 422, contains: []string{`"field":"started_at"`}},
		{name: "add holding", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers/{customer}/holdings",
			body: `{"product": "motor", "started_at": "2025-06-01T00:00:00Z"}`, status: 201, contains: []string{`"product":"motor"`}, save: "holding"},
		{name: "holding twice", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers/{customer}/holdings",
			body: `{"product": "motor"}`, status: 409},
		{name: "holdings", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers/{customer}/holdings", status: 200,
			contains: []string{`"id":"{holding}"`}},
		{name: "manual stage holds; expansion is proposed", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers/{customer}/holdings",
			body: `{"product": "home"}`, status: 201},
		{name: "proposal shown", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers/{customer}/stage", status: 200,
			contains: []string{`"stage":"exploration"`, `"proposal":{"stage":"expansion","reason":"2 products held"`}},
		{name: "viewer cannot dismiss", role: rapport.RoleViewer, method: "POST", path: "/api/v1/customers/{customer}/stage/proposal/dismiss", status: 403},
		{name: "dismiss the proposal", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers/{customer}/stage/proposal/dismiss", status: 200,
			contains: []string{`"stage":"exploration"`, `"set_by":"manual"`, `"proposal":null`}},
		{name: "nothing left to dismiss", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers/{customer}/stage/proposal/dismiss", status: 409},
		{name: "release", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers/{customer}/stage/release", status: 200,
			contains: []string{`"stage":"expansion"`, `"set_by":"inference"`, `"proposal":null`}},
		{name: "end holding", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers/{customer}/holdings/{holding}/end", status: 200,
			contains: []string{`"ended_at":"2026-11-20T12:00:00Z"`}},
		{name: "end holding twice", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers/{customer}/holdings/{holding}/end",
			body: `{"ended_at": "2026-11-01T00:00:00Z"}`, status: 409},
		{name: "end unknown holding", role: rapport.RoleAgent, method: "POST", path: "/api/v1/customers/{customer}/holdings/NOPE/end", status: 404},
		{name: "referrals", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers/{customer}/referrals", status: 200,
			contains: []string{`"referred_by":null`, `"referred":[]`}},
		{name: "cross-sell", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers/{customer}/cross-sell", status: 200,
			contains: []string{`"holds":["home"]`}},
		{name: "record misery", role: rapport.RoleAgent, method: "POST", path: "/api/v1/moments",
			body:   `{"customer_id": "{customer}", "touchpoint": "service", "channel": "phone", "occurred_at": "2026-11-19T10:00:00Z", "rating": 1}`,
			status: 201},
		{name: "health", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers/{customer}/health", status: 200,
			contains: []string{`"misery_90d":1`, `a misery moment at Service visit in 90 days`, `"holdings":1`}},
		{name: "health of unknown customer", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers/NOPE/health", status: 404},

		{name: "segment fields", role: rapport.RoleViewer, method: "GET", path: "/api/v1/segments/fields", status: 200,
			contains: []string{`"name":"rating_90d"`, `"kind":"attribute"`}},
		{name: "rule that cannot be read", role: rapport.RoleManager, method: "POST", path: "/api/v1/segments",
			body: `{"name": "Bad", "rule": "stage = \"commitmnet\""}`, status: 422,
			contains: []string{`"position":9`, `"field":"rule"`, `stage is one of`}},
		{name: "rule with an unclosed parenthesis", role: rapport.RoleManager, method: "POST", path: "/api/v1/segments",
			body: `{"name": "Bad", "rule": "(risk > 5"}`, status: 422, contains: []string{`"position":10`}},
		{name: "segment without a name", role: rapport.RoleManager, method: "POST", path: "/api/v1/segments",
			body: `{"rule": "risk > 5"}`, status: 422, contains: []string{`"field":"name"`}},
		{name: "agent cannot create segments", role: rapport.RoleAgent, method: "POST", path: "/api/v1/segments",
			body: `{"name": "At risk", "rule": "risk > 5"}`, status: 403},
		{name: "create segment", role: rapport.RoleManager, method: "POST", path: "/api/v1/segments",
			body: `{"name": "At risk", "rule": "risk >= 10 and stage in [\"expansion\", \"commitment\"]"}`, status: 201,
			contains: []string{`"name":"At risk"`}, save: "segment"},
		{name: "duplicate segment name", role: rapport.RoleManager, method: "POST", path: "/api/v1/segments",
			body: `{"name": "At risk", "rule": "risk > 5"}`, status: 409},
		{name: "segments", role: rapport.RoleViewer, method: "GET", path: "/api/v1/segments", status: 200, contains: []string{`"id":"{segment}"`}},
		{name: "segment with size", role: rapport.RoleViewer, method: "GET", path: "/api/v1/segments/{segment}", status: 200, contains: []string{`"size":1`}},
		{name: "members", role: rapport.RoleViewer, method: "GET", path: "/api/v1/segments/{segment}/customers?limit=10", status: 200,
			contains: []string{`"id":"{customer}"`, `"name":"Grace Hopper"`, `"risk":`}},
		{name: "touchpoint report of a segment", role: rapport.RoleViewer, method: "GET", path: "/api/v1/reports/touchpoints?segment={segment}",
			status: 200, contains: []string{`"key":"service","name":"Service visit","phase":"post_sales","target_score":4,"volume":1`}},
		{name: "touchpoint report of unknown segment", role: rapport.RoleViewer, method: "GET", path: "/api/v1/reports/touchpoints?segment=NOPE", status: 404},
		{name: "preview", role: rapport.RoleManager, method: "POST", path: "/api/v1/segments/preview", body: `{"rule": "not risk >= 10"}`,
			status: 200, contains: []string{`"size":0`, `"items":[]`}},
		{name: "preview error", role: rapport.RoleManager, method: "POST", path: "/api/v1/segments/preview", body: `{"rule": "risk >"}`,
			status: 422, contains: []string{`"position":7`}},
		{name: "bad patch", role: rapport.RoleManager, method: "PATCH", path: "/api/v1/segments/{segment}", body: `{"rule": "risk ! 3"}`,
			status: 422, contains: []string{`"position":6`}},
		{name: "patch", role: rapport.RoleManager, method: "PATCH", path: "/api/v1/segments/{segment}", body: `{"rule": "risk >= 90"}`,
			status: 200, contains: []string{`"rule":"risk >= 90"`}},
		{name: "smaller now", role: rapport.RoleViewer, method: "GET", path: "/api/v1/segments/{segment}", status: 200, contains: []string{`"size":0`}},
		{name: "outcomes", role: rapport.RoleViewer, method: "GET", path: "/api/v1/reports/outcomes?from=2026-01-01&to=2026-12-01", status: 200,
			contains: []string{`"customers":1`, `"moments":1`, `"segment":null`}},
		{name: "outcomes of a segment", role: rapport.RoleViewer, method: "GET", path: "/api/v1/reports/outcomes?segment={segment}", status: 200,
			contains: []string{`"customers":0`, `"name":"At risk"`}},
		{name: "outcomes measured afresh", role: rapport.RoleViewer, method: "GET", path: "/api/v1/reports/outcomes?fresh=true", status: 200,
			contains: []string{`"measured_at":"2026-11-20T12:00:00Z"`}},
		{name: "outcomes with a bad fresh", role: rapport.RoleViewer, method: "GET", path: "/api/v1/reports/outcomes?fresh=yes", status: 422,
			contains: []string{`"field":"fresh"`}},
		{name: "outcomes of unknown segment", role: rapport.RoleViewer, method: "GET", path: "/api/v1/reports/outcomes?segment=NOPE", status: 404},
		{name: "outcomes by channel", role: rapport.RoleViewer, method: "GET", path: "/api/v1/reports/outcomes?channel=phone&from=x", status: 422,
			contains: []string{`"field":"from"`}},
		{name: "delete segment", role: rapport.RoleManager, method: "DELETE", path: "/api/v1/segments/{segment}", status: 204},
		{name: "deleted segment", role: rapport.RoleViewer, method: "GET", path: "/api/v1/segments/{segment}/customers", status: 404},
		{name: "set dissolution", role: rapport.RoleManager, method: "POST", path: "/api/v1/customers/{customer}/stage",
			body: `{"stage": "dissolution", "reason": "moved abroad", "dissolution_reason": "other"}`, status: 200,
			contains: []string{`"dissolution_reason":"other"`}},
		{name: "timeline shows it", role: rapport.RoleViewer, method: "GET", path: "/api/v1/customers/{customer}/timeline", status: 200,
			contains: []string{`"kind":"stage_change"`, `"to":"dissolution"`}},
	}
	idPattern := regexp.MustCompile(`"id":"([0-9A-Z]{26})"`)
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b.Open)
			saved := map[string]string{}
			fill := func(s string) string {
				for k, v := range saved {
					s = strings.ReplaceAll(s, "{"+k+"}", v)
				}
				return strings.NewReplacer("{customer}", f.customer, "{staff}", f.staff).Replace(s)
			}
			for _, sc := range scenarios {
				status, header, body := f.do(sc.role, sc.method, fill(sc.path), fill(sc.body))
				if status != sc.status {
					t.Fatalf("%s: %s %s = %d; want %d\n%s", sc.name, sc.method, sc.path, status, sc.status, body)
				}
				for _, c := range sc.contains {
					if !bytes.Contains(body, []byte(fill(c))) {
						t.Errorf("%s: body lacks %s\n%s", sc.name, fill(c), body)
					}
				}
				if status >= 400 {
					if ct := header.Get("Content-Type"); ct != "application/problem+json" {
						t.Errorf("%s: Content-Type = %q; want application/problem+json", sc.name, ct)
					}
					var p struct {
						Status int    `json:"status"`
						Detail string `json:"detail"`
					}
					if err := json.Unmarshal(body, &p); err != nil || p.Status != status || p.Detail == "" {
						t.Errorf("%s: problem = %s; want status and detail", sc.name, body)
					}
				}
				if sc.save != "" {
					m := idPattern.FindSubmatch(body)
					if m == nil {
						t.Fatalf("%s: no id in %s", sc.name, body)
					}
					saved[sc.save] = string(m[1])
				}
			}
		})
	}
}
