package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/internal/testdb"
)

// TestDatedHistoryThroughTheAPI brings a customer's past in: created with
// the day they joined, then their stage changes from a CSV file, dated; a
// change out of order, in the file or through the stage route, is a 422
// naming changed_at that changes nothing, and a file sent again is skipped.
func TestDatedHistoryThroughTheAPI(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b.Open)
			status, _, body := f.do(rapport.RoleAgent, "POST", "/api/v1/customers",
				`{"name": "Dorothy Vane", "external_id": "pol-9", "created_at": "2024-01-15T09:00:00Z"}`)
			if status != http.StatusCreated || !strings.Contains(string(body), `"created_at":"2024-01-15T09:00:00Z"`) {
				t.Fatalf("create with created_at = %d %s; want 201 keeping the date", status, body)
			}
			var c rapport.Customer
			if err := json.Unmarshal(body, &c); err != nil {
				t.Fatal(err)
			}
			if status, _, body := f.do(rapport.RoleAgent, "POST", "/api/v1/customers", `{"name": "Later", "created_at": "2030-01-01T00:00:00Z"}`); status != 422 ||
				!strings.Contains(string(body), `"field":"created_at"`) {
				t.Errorf("create joining in the future = %d %s; want 422 on created_at", status, body)
			}

			// Out of order in the file: nothing is written.
			bad := "customer_external_id,stage,reason,dissolution_reason,changed_at\n" +
				"pol-9,dissolution,moved to a rival,defected,2025-06-01\n" +
				"pol-9,exploration,first policy,,2024-03-01\n"
			status, _, text := f.send(rapport.RoleAgent, "POST", "/api/v1/stages/import", "text/csv", bad)
			if status != 422 || !strings.Contains(text, `"index":3,"field":"changed_at"`) {
				t.Errorf("import out of order = %d %s; want 422 on row 3, changed_at", status, text)
			}
			if got := stageHistory(t, f, c.ID); len(got) != 1 {
				t.Errorf("after a refused file the history is %v; want only the creation", got)
			}

			good := "customer_external_id,stage,reason,dissolution_reason,changed_at\n" +
				"pol-9,exploration,first policy,,2024-03-01\n" +
				"pol-9,dissolution,moved to a rival,defected,2025-06-01\n"
			status, _, text = f.send(rapport.RoleAgent, "POST", "/api/v1/stages/import", "text/csv", good)
			if s := decodeSummary(t, text); status != http.StatusCreated || s.Created != 2 {
				t.Fatalf("import = %d %s; want 201 with 2 created", status, text)
			}
			want := []string{"awareness@2024-01-15", "exploration@2024-03-01", "dissolution@2025-06-01:defected"}
			if got := stageHistory(t, f, c.ID); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("history = %v; want %v", got, want)
			}
			status, _, text = f.send(rapport.RoleAgent, "POST", "/api/v1/stages/import", "text/csv", good)
			if s := decodeSummary(t, text); status != http.StatusOK || s.Skipped != 2 || s.Created != 0 {
				t.Errorf("the same file again = %d %s; want 200 with both rows skipped", status, text)
			}

			// Through the stage route: before the latest change, and in the future.
			for _, when := range []string{"2025-05-01T00:00:00Z", "2027-01-01T00:00:00Z"} {
				status, _, body := f.do(rapport.RoleAgent, "POST", "/api/v1/customers/"+c.ID+"/stage",
					`{"stage": "exploration", "reason": "came back", "changed_at": "`+when+`"}`)
				if status != 422 || !strings.Contains(string(body), `"field":"changed_at"`) {
					t.Errorf("stage at %s = %d %s; want 422 on changed_at", when, status, body)
				}
			}
			status, _, body = f.do(rapport.RoleAgent, "POST", "/api/v1/customers/"+c.ID+"/stage",
				`{"stage": "exploration", "reason": "came back", "changed_at": "2026-02-01T00:00:00Z"}`)
			if status != http.StatusOK || !strings.Contains(string(body), `"since":"2026-02-01T00:00:00Z"`) {
				t.Errorf("a dated return = %d %s; want 200, in the stage since then", status, body)
			}
			if status, _, _ := f.send(rapport.RoleViewer, "POST", "/api/v1/stages/import", "text/csv", good); status != http.StatusForbidden {
				t.Errorf("a viewer importing stage changes = %d; want 403", status)
			}
		})
	}
}

// stageHistory renders a customer's stage history as stage@date[:reason].
func stageHistory(t *testing.T, f *fixture, id string) []string {
	t.Helper()
	status, _, body := f.do(rapport.RoleViewer, "GET", "/api/v1/customers/"+id+"/stages", "")
	if status != http.StatusOK {
		t.Fatalf("GET stages = %d %s", status, body)
	}
	var page rapport.Page[rapport.StageHistoryEntry]
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range page.Items {
		s := string(e.To) + "@" + e.ChangedAt.Format("2006-01-02")
		if e.DissolutionReason != "" {
			s += ":" + e.DissolutionReason
		}
		out = append(out, s)
	}
	return out
}

// TestRiskRoutes refits the model of the fixture's small firm, which keeps
// the prior with the figures that say why, and reads it back.
func TestRiskRoutes(t *testing.T) {
	f := newFixture(t, testdb.SQLite)
	if status, _, body := f.do(rapport.RoleAgent, "POST", "/api/v1/risk/refit", ""); status != http.StatusForbidden {
		t.Errorf("an agent refitting = %d %s; want 403", status, body)
	}
	status, _, body := f.do(rapport.RoleManager, "POST", "/api/v1/risk/refit", "")
	var tr rapport.TrackRecord
	if err := json.Unmarshal(body, &tr); status != http.StatusOK || err != nil {
		t.Fatalf("refit = %d %s", status, body)
	}
	if tr.Model.Kind != "prior" || !strings.Contains(tr.Model.Note, "a fit needs 500 and 50") || tr.Model.FittedAt == nil {
		t.Errorf("refit on a firm with no history = %+v; want the prior, with the figures that say why", tr.Model)
	}
	status, _, body = f.do(rapport.RoleViewer, "GET", "/api/v1/risk/track-record", "")
	if status != http.StatusOK || !strings.Contains(string(body), `"kind":"prior"`) {
		t.Errorf("track record = %d %s; want the prior", status, body)
	}
}
