package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/api"
	"github.com/rapport-crm/rapport/internal/testdb"
)

// TestAuthorizationMatrix calls every route of the route table, so a new
// route is in it the day it is added: without a token and with each role's
// token, then with tokens that are wrong. Which roles may call a route is
// what the OpenAPI document promises (x-rapport-roles), read independently
// of the route table: a role it leaves out gets 403; a role it lists is
// never refused (whatever the answer about the made-up ids and empty bodies
// sent, never 401, 403 or a server error); no token, or a wrong one, gets
// 401 (or 429, once the address has sent too many wrong ones).
func TestAuthorizationMatrix(t *testing.T) {
	f := newFixture(t, testdb.SQLite)
	promised := documentedRoles(t)
	param := regexp.MustCompile(`\{[^}]*\}`)
	type call struct{ method, path, body string }
	var calls []call
	var rules []api.RouteRule
	for _, rt := range api.RouteRules() {
		if rt.Public {
			continue
		}
		path := param.ReplaceAllString(strings.TrimSuffix(rt.Pattern, "{$}"), "matrixnosuch")
		body := ""
		if rt.Method != "GET" && rt.Method != "DELETE" {
			body = "{}"
		}
		calls, rules = append(calls, call{rt.Method, path, body}), append(rules, rt)
	}
	if len(calls) < 50 {
		t.Fatalf("only %d routes need a token; the route table is not being read", len(calls))
	}
	checked := 0
	for i, c := range calls {
		if status, _, body := f.do("", c.method, c.path, c.body); status != http.StatusUnauthorized {
			t.Errorf("%s %s without a token = %d; want 401: %s", c.method, c.path, status, body)
		}
		for _, role := range rapport.Roles {
			status, _, body := f.do(role, c.method, c.path, c.body)
			roles, ok := promised[rules[i].Method+" "+strings.TrimSuffix(rules[i].Pattern, "{$}")]
			if !ok {
				t.Fatalf("%s %s is not in the OpenAPI document", rules[i].Method, rules[i].Pattern)
			}
			allowed := slices.Contains(roles, string(role))
			switch {
			case !allowed && status != http.StatusForbidden:
				t.Errorf("%s %s as %s = %d; want 403: %s", c.method, c.path, role, status, body)
			case allowed && (status == http.StatusUnauthorized || status == http.StatusForbidden || status >= 500):
				t.Errorf("%s %s as %s = %d; the role may do this: %s", c.method, c.path, role, status, body)
			}
			checked++
		}
	}
	// Wrong tokens last: enough of them make the address wait (429).
	for _, c := range calls {
		for _, secret := range []string{"rpt_" + strings.Repeat("z", 32), "not-a-token"} {
			status, _, body := f.doWithSecret(secret, c.method, c.path, c.body)
			if status != http.StatusUnauthorized && status != http.StatusTooManyRequests {
				t.Errorf("%s %s with a wrong token = %d; want 401 or 429: %s", c.method, c.path, status, body)
			}
			checked++
		}
	}
	t.Logf("%d routes × (no token, %d roles, 2 wrong tokens): %d calls checked", len(calls), len(rapport.Roles), checked+len(calls))
}

// documentedRoles reads, for each operation of the OpenAPI document, the
// roles it says may call it, by "METHOD /path".
func documentedRoles(t *testing.T) map[string][]string {
	t.Helper()
	b, err := api.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			if !slices.Contains([]string{"get", "post", "put", "patch", "delete"}, method) {
				continue // the path's parameters, say
			}
			var op struct {
				Roles []string `json:"x-rapport-roles"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			out[strings.ToUpper(method)+" "+path] = op.Roles
		}
	}
	return out
}
