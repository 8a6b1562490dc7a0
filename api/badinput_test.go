package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
)

// TestBadInputIsRefused sends what a careless or hostile client might: a NUL
// character in text, NUL or broken UTF-8 in a path id or a filter, a
// garbage cursor, dates out of any sensible range. Each is a clear 4xx on
// both databases, never a 500, and writes nothing.
func TestBadInputIsRefused(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b.Open)
			for _, tc := range []struct {
				method, path, body string
				want               int
			}{
				{"POST", "/api/v1/customers", `{"name": "Ada\u0000Lovelace"}`, http.StatusUnprocessableEntity},
				{"PATCH", "/api/v1/customers/{customer}", `{"notes": "x", "name": "Ada\u0000"}`, http.StatusUnprocessableEntity},
				{"PATCH", "/api/v1/customers/{customer}", `{"attributes": {"region\u0000": "north"}}`, http.StatusUnprocessableEntity},
				{"POST", "/api/v1/moments", `{"customer_id": "{customer}", "touchpoint": "complaint", "channel": "phone",
					"occurred_at": "2026-11-19T10:00:00Z", "notes": "bad\u0000note"}`, http.StatusUnprocessableEntity},
				{"POST", "/api/v1/promises", `{"customer_id": "{customer}", "text": "Call\u0000back", "due_at": "2026-11-25T10:00:00Z"}`, http.StatusUnprocessableEntity},
				{"GET", "/api/v1/customers/a%00b", "", http.StatusBadRequest},
				{"GET", "/api/v1/customers/%ff%fe", "", http.StatusBadRequest},
				{"GET", "/api/v1/moments/%00", "", http.StatusBadRequest},
				{"GET", "/api/v1/customers?q=a%00b", "", http.StatusBadRequest},
				{"GET", "/api/v1/moments?customer_id=%ff", "", http.StatusBadRequest},
				{"GET", "/api/v1/moments?cursor=AAAA", "", http.StatusUnprocessableEntity},
				{"GET", "/api/v1/moments?cursor=" + "MTIzNDU2Nzg5MDox_-8", "", http.StatusUnprocessableEntity},
				{"GET", "/api/v1/reports/outcomes?to=9999-12-31T23:59:59Z", "", http.StatusUnprocessableEntity},
				{"GET", "/api/v1/reports/touchpoints?to=0001-01-01T00:00:00Z", "", http.StatusUnprocessableEntity},
				{"GET", "/api/v1/promises?due_before=0001-01-01", "", http.StatusUnprocessableEntity},
				{"GET", "/api/v1/moments?from=0001-01-01T00:00:00Z", "", http.StatusUnprocessableEntity},
			} {
				status, h, body := f.do(rapport.RoleAdmin, tc.method, tc.path, tc.body)
				if status != tc.want || !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
					t.Errorf("%s %s = %d %s; want %d problem+json\n%s", tc.method, tc.path, status, h.Get("Content-Type"), tc.want, body)
				}
			}
			// A CSV file with a NUL in a cell, or bytes that are not UTF-8.
			for _, file := range []string{"name,email\nAda\x00,ada@example.com\n", "name,email\nAda \xff\xfe,ada@example.com\n"} {
				status, h, body := f.send(rapport.RoleAdmin, "POST", "/api/v1/customers/import", "text/csv", file)
				if status != http.StatusUnprocessableEntity || !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
					t.Errorf("import of %q = %d; want 422 problem+json\n%s", file, status, body)
				}
			}
			// Nothing was written: the fixture's one customer is as it was.
			status, _, body := f.do(rapport.RoleAdmin, "GET", "/api/v1/customers", "")
			if status != http.StatusOK || strings.Count(string(body), `"id"`) != 1 || strings.Contains(string(body), "Lovelace") {
				t.Errorf("after the refusals, GET /customers = %d %s; want the fixture's one customer", status, body)
			}
		})
	}
}
