package api_test

import (
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
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
