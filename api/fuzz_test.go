package api_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/api"
	"github.com/rapport-crm/rapport/internal/testdb"
)

// FuzzRecordMoment sends arbitrary bodies to POST /api/v1/moments: whatever
// arrives, the answer is a success or a clear 4xx, never a server error, and
// a refused body writes nothing.
func FuzzRecordMoment(f *testing.F) {
	for _, seed := range []string{
		`{"customer_id": "{customer}", "touchpoint": "greeting", "channel": "phone", "occurred_at": "2026-11-19T10:00:00Z", "rating": 5}`,
		`{"customer_id": "{customer}", "touchpoint": "greeting", "channel": "phone", "occurred_at": "2026-11-19T10:00:00+02:00", "nps": 0, "effort": 7, "revenue": -3.5, "cost": 1e3}`,
		`{"customer_id": "{customer}", "touchpoint": "query", "channel": "web", "occurred_at": "2999-01-01T00:00:00Z"}`,
		`{"external_id": "e1", "customer_id": "{customer}", "touchpoint": "closing", "channel": "email", "occurred_at": "2026-11-19T10:00:00Z", "outcome": "magic"}`,
		`{"rating": 1.5}`, `{"rating": "5"}`, `[]`, `null`, `{}`, `{"notes": "\u0000"}`, `{"occurred_at": 12}`, `{"cost": -1}`,
	} {
		f.Add(seed)
	}
	fx := newFixture(f, testdb.SQLite)
	f.Fuzz(func(t *testing.T, body string) {
		fx.t = t
		before := fx.countMoments()
		status, _, resp := fx.do(rapport.RoleAgent, "POST", "/api/v1/moments", body)
		after := fx.countMoments()
		switch {
		case status == 201:
			if after != before+1 {
				t.Errorf("201 for %q but moments went %d → %d", body, before, after)
			}
		case status == 200, status == 400, status == 413, status == 422:
			if after != before {
				t.Errorf("%d for %q but moments went %d → %d", status, body, before, after)
			}
		default:
			t.Errorf("POST %q = %d; want 200, 201 or a 4xx\n%s", body, status, resp)
		}
		if status >= 400 && !strings.Contains(string(resp), `"detail"`) {
			t.Errorf("POST %q = %d with no problem detail: %s", body, status, resp)
		}
	})
}

// queryNames are the query parameters the API reads, each tried with the
// fuzzed value on every GET route.
var queryNames = []string{"action", "actor", "assignee_id", "channel", "cursor", "customer_id", "due_before",
	"entity_id", "entity_type", "format", "from", "key", "kind", "limit", "open", "outcome", "owner_id", "q",
	"response", "role", "segment", "sort", "staff_id", "stage", "status", "team", "to", "touchpoint", "weeks"}

// FuzzPathAndQuery puts arbitrary text (NUL, broken UTF-8, overlong) in
// every path id of every GET route, and in one query parameter of every GET
// route without an id, on both databases: the answer is never a server
// error.
func FuzzPathAndQuery(f *testing.F) {
	bad := []string{"", "a\x00b", "\xff\xfe", strings.Repeat("9", 400), "0001-01-01", "9999-12-31T23:59:59Z",
		"-1", "1e309", "AAAA", "%00", "../../etc/passwd", "'; DROP TABLE customers; --", "\u202e", "01KAH3M2Q8ZJ6V4T9XW5RNBC7D"}
	for i := range max(len(bad), len(queryNames)) {
		f.Add(uint8(i%len(queryNames)), bad[i%len(bad)])
	}
	var fixtures []*fixture
	for _, b := range testdb.Backends() {
		fixtures = append(fixtures, newFixture(f, b.Open))
	}
	param := regexp.MustCompile(`\{[^}]*\}`)
	var withID, lists []string
	for _, rt := range api.RouteRules() {
		switch pattern := strings.TrimSuffix(rt.Pattern, "{$}"); {
		case rt.Method != "GET" || rt.Public:
		case strings.Contains(pattern, "{"):
			withID = append(withID, pattern)
		default:
			lists = append(lists, pattern)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, v string) {
		name := queryNames[int(which)%len(queryNames)]
		for _, fx := range fixtures {
			check := func(path string) {
				req, err := http.NewRequest("GET", fx.srv.URL+path, nil)
				if err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
				req.Header.Set("Authorization", "Bearer "+fx.tokens[rapport.RoleAdmin])
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					t.Errorf("%s: GET %s = %d\n%s", fx.db.Backend(), path, resp.StatusCode, body)
				}
			}
			for _, pattern := range withID {
				check(param.ReplaceAllLiteralString(pattern, url.PathEscape(v)))
			}
			for _, pattern := range lists {
				check(pattern + "?" + name + "=" + url.QueryEscape(v))
			}
		}
	})
}
